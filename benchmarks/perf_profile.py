"""Where the day loop's time goes, compiled function by compiled function, with Linux `perf`.

    mkfifo /tmp/perf.ctl /tmp/perf.ack
    perf record -D -1 --control=fifo:/tmp/perf.ctl,/tmp/perf.ack -F 4000 -o /tmp/perf.data \\
        python benchmarks/perf_profile.py --people 100000 --control /tmp/perf.ctl,/tmp/perf.ack
    perf report -i /tmp/perf.data --sort pid,dso,sym --no-children

perf cannot name code that Numba compiles at run time. So this script compiles every kernel in its
own process (into a fresh, temporary Numba cache: kernels loaded from a cache keep no symbol table),
writes /tmp/perf-<pid>.map, the table perf reads for code made at run time (start, size, name; the
name is prefixed with the Python function it belongs to, as parallel loops are separate functions
called `__numba_parfor_gufunc_...`), and then runs the engine_speed.py case `--repeats` times.
With `--control`, perf records only the day loops (`-D -1` starts it paused; the script switches it
on and off through the two FIFOs); without it, compilation is in the profile too. Python, numpy and
OpenMP show under their own libraries (libgomp, whose symbols are stripped: threads waiting at the
end of a parallel loop or for the next one). The map stays in /tmp for `perf report`; the temporary
Numba cache is deleted at exit.
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

# Before numba is imported: compile everything here, so every function's address is known.
os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="balkansim-perf-")
atexit.register(shutil.rmtree, os.environ["NUMBA_CACHE_DIR"], ignore_errors=True)

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine_speed import scenario_for  # noqa: E402

import simulation  # noqa: E402
from simulation import counter_rng, invariants, kernels, routing, smuggling  # noqa: E402


def write_perf_map(path: Path) -> int:
    """Every compiled function of the engine's modules, with its address and size, for perf.
    Reads Numba's internals (a library's `_final_module` and `_linking_libraries`, numba 0.68):
    a profiling aid, not part of the package, so it may need a change with a new Numba."""
    from numba.core.registry import CPUDispatcher

    names: dict[int, str] = {}
    for module in (kernels, counter_rng, routing, invariants, smuggling):
        for owner, dispatcher in vars(module).items():
            if not isinstance(dispatcher, CPUDispatcher):
                continue
            for result in dispatcher.overloads.values():
                for library in [result.library, *getattr(result.library, "_linking_libraries", ())]:
                    for function in library._final_module.functions:
                        if function.is_declaration:
                            continue
                        address = library.get_pointer_to_function(function.name)
                        if address:
                            names.setdefault(address, f"{owner}:{function.name}")
    starts = sorted(names)
    with path.open("w") as out:
        for start, end in zip(starts, starts[1:] + [starts[-1] + 4096]):
            out.write(f"{start:x} {min(end - start, 1 << 16):x} {names[start]}\n")
    return len(starts)


def dump_code(map_path: Path, prefix: str) -> list[str]:
    """The machine code of every function in the map whose name starts with `prefix`, read from this
    process's memory into a file beside the map, so that a sample's address (`perf script -F ip`) can be
    found in its disassembly. Returns the objdump command for each."""
    import ctypes

    commands = []
    for number, line in enumerate(map_path.read_text().splitlines()):
        start, size, name = line.split(" ", 2)
        if not name.startswith(prefix):
            continue
        code = map_path.with_name(f"{map_path.stem}-{number}.bin")
        code.write_bytes(ctypes.string_at(int(start, 16), int(size, 16)))
        commands.append(f"objdump -D -b binary -m i386:x86-64 -M intel --adjust-vma=0x{start} {code}  # {name[:60]}")
    return commands


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=100)
    parser.add_argument("--world", choices=("fixed", "scaled"), default="fixed")
    parser.add_argument("--repeats", type=int, default=10, help="day loops to profile (default 10)")
    parser.add_argument("--control", help="perf's control and ack FIFOs, comma-separated")
    parser.add_argument("--dump-code", metavar="PREFIX",
                        help="also write the machine code of the mapped functions whose names start with PREFIX "
                             "(e.g. decide_day:_ZN13, the parallel loop's body), to read samples by address")
    args = parser.parse_args()
    control = args.control.split(",") if args.control else None

    def tell_perf(command: str) -> None:
        if control:
            Path(control[0]).write_text(command + "\n")
            with open(control[1]) as ack:
                ack.readline()

    base = simulation.load_scenario(simulation.DEFAULT_SCENARIO)
    print("compiling every kernel (a fresh Numba cache) ...", file=sys.stderr, flush=True)
    simulation.MigrationModel(scenario_for(base, 2_000, 30, args.world)).run()
    path = Path(f"/tmp/perf-{os.getpid()}.map")
    print(f"{write_perf_map(path)} compiled functions named in {path}", file=sys.stderr, flush=True)
    if args.dump_code:
        for command in dump_code(path, args.dump_code):
            print(command, file=sys.stderr, flush=True)
    scenario = scenario_for(base, args.people, args.days, args.world)
    for repeat in range(args.repeats):
        model = simulation.MigrationModel(scenario)
        tell_perf("enable")
        start = time.perf_counter()
        model.run()
        seconds = time.perf_counter() - start
        tell_perf("disable")
        print(f"day loop {repeat + 1}/{args.repeats}: {seconds:.2f} s, "
              f"{model.agent_steps / seconds / 1e6:.1f} M agent-steps/s", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
