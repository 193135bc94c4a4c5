"""Time whole day loops of two versions of the code in turns, in one process, and check their results.

    python benchmarks/loop_ab.py HEAD~1                          # HEAD~1's simulation/ against the working tree's
    python benchmarks/loop_ab.py 5544811 --people 100000 --world fixed --rounds 12
    python benchmarks/loop_ab.py HEAD --scenario peers           # benchmarks/peers' case (levers off)
    python benchmarks/loop_ab.py HEAD --no-phases                # whole loops only, no timer per kernel

kernel_ab.py compares one kernel on saved days, which needs the same arguments in both versions. This
compares whole runs: any change, to any kernel's arguments or to the Python between them, in the case
engine_speed.py times (`--people` entering over 30 days, 100 days) or in the peers' case. It copies
`simulation/` of the given git revision (`git archive`) and of the working tree into a temporary folder
as two packages, compiles both in this process (a warm-up run each), then runs the two in turns,
`--rounds` runs each, alternating which goes first. It prints each version's median and best day-loop
time, the median time of the main kernels (timed by a Python wrapper around each, unless `--no-phases`:
a version that calls them from compiled code cannot have them wrapped), and whether the two versions'
daily records (every `record_*` array of the model) are identical. On this VM a single run moves
10-30 %; the medians of 12 runs in turns resolve about 2-3 % (the same code against itself: +2.2 %).
"""

from __future__ import annotations

import argparse
import importlib
import io
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "peers"))
from engine_speed import scenario_for  # noqa: E402

PHASES = ("add_entrants", "decide_day", "seat_smugglers", "allocate_reception", "compact")


def package_of(revision: str | None, where: Path, name: str):
    """`simulation/` of `revision` (None: the working tree) imported as package `name`."""
    target = where / name
    if revision is None:
        shutil.copytree(REPO / "simulation", target, ignore=shutil.ignore_patterns("__pycache__"))
    else:
        archive = subprocess.run(["git", "archive", revision, "simulation"], cwd=REPO, check=True,
                                 capture_output=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(where / f"{name}_archive", filter="data")
        shutil.move(where / f"{name}_archive" / "simulation", target)
    if str(where) not in sys.path:
        sys.path.insert(0, str(where))
    return importlib.import_module(name)


def case_of(base, scenario: str, people: int, world: str):
    """The run's scenario, made from `base` (the baseline as the version's own loader reads it), and
    the seed to run it with."""
    if scenario == "peers":
        import common  # benchmarks/peers/common.py

        return common.benchmark_scenario(people, 100, base=base), 1
    return scenario_for(base, people, 100, world), None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("revision", help="the git revision to compare the working tree with (e.g. HEAD~1)")
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--world", choices=("scaled", "fixed"), default="fixed")
    parser.add_argument("--scenario", choices=("engine", "peers"), default="engine",
                        help="engine_speed.py's case (default) or benchmarks/peers' case")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--no-phases", action="store_true",
                        help="time whole loops only, without a timer around each kernel (for a version whose "
                             "kernels are not called from Python)")
    args = parser.parse_args()
    timed_phases = () if args.no_phases else PHASES

    with tempfile.TemporaryDirectory(prefix="balkansim-loop-ab-") as folder:
        where = Path(folder)
        versions = {"old": package_of(args.revision, where, "simulation_old"),
                    "new": package_of(None, where, "simulation_new")}
        phase_times: dict[str, dict[str, float]] = {label: {} for label in versions}
        for label, package in versions.items():
            for phase in timed_phases:
                kernel = getattr(package.kernels, phase)

                def timed(*arguments, kernel=kernel, phase=phase, label=label):
                    start = time.perf_counter()
                    result = kernel(*arguments)
                    phase_times[label][phase] = phase_times[label].get(phase, 0.0) + time.perf_counter() - start
                    return result

                setattr(package.kernels, phase, timed)  # the model calls kernels.<name>(...)
        bases = {label: package.load_scenario(REPO / "scenarios" / "baseline.toml")
                 for label, package in versions.items()}
        cases = {label: case_of(bases[label], args.scenario, args.people, args.world) for label in versions}
        for label, package in versions.items():
            print(f"compiling {label} ...", file=sys.stderr, flush=True)
            package.MigrationModel(scenario_for(bases[label], 2_000, 30, "fixed")).run()
        loops = {label: [] for label in versions}
        phases = {label: [] for label in versions}
        last = {}
        for round_number in range(args.rounds):
            order = ("old", "new") if round_number % 2 == 0 else ("new", "old")
            for label in order:
                scenario, seed = cases[label]
                model = versions[label].MigrationModel(scenario, seed=seed)
                phase_times[label].clear()
                start = time.perf_counter()
                model.run()
                loops[label].append(time.perf_counter() - start)
                phases[label].append(dict(phase_times[label]))
                last[label] = model
            print(f"round {round_number + 1}/{args.rounds}: old {1e3 * loops['old'][-1]:.1f} ms, "
                  f"new {1e3 * loops['new'][-1]:.1f} ms", file=sys.stderr, flush=True)
    records = sorted(name for name in vars(last["old"]) if name.startswith("record_"))
    identical = all(np.array_equal(getattr(last["old"], name), getattr(last["new"], name), equal_nan=True)
                    for name in records)
    steps = last["new"].agent_steps
    case = (f"peers' case, {args.people:,} people" if args.scenario == "peers"
            else f"{args.people:,} people, {args.world} world")
    print(f"whole day loops, {case}, 100 days, {args.rounds} runs of each in turns:")
    for label, revision in (("old", args.revision), ("new", "working tree")):
        median = statistics.median(loops[label])
        kernels = ", ".join(f"{phase} {1e3 * statistics.median(p.get(phase, 0.0) for p in phases[label]):.1f}"
                            for phase in timed_phases)
        print(f"  {revision:>14}: median {1e3 * median:.1f} ms ({steps / median / 1e6:.2f} M agent-steps/s), "
              f"best {1e3 * min(loops[label]):.1f} ms" + (f"; kernels (median ms): {kernels}" if kernels else ""))
    change = statistics.median(loops["new"]) / statistics.median(loops["old"]) - 1
    print(f"  change of the median: {100 * change:+.1f} %; daily records identical ({len(records)} arrays): "
          f"{identical}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
