"""Time one kernel of two versions of the code on the same saved days, in turns, in one process.

    python benchmarks/kernel_ab.py HEAD~1                       # decide_day: HEAD~1's against the working tree's
    python benchmarks/kernel_ab.py 796793f --kernel seat_smugglers --people 1000000 --world fixed
    NUMBA_NUM_THREADS=1 python benchmarks/kernel_ab.py HEAD~1   # one thread: steadier still

Whole-run timings on this 2-vCPU VM move 5-10 % between processes, more than most changes to a kernel.
This runs the working tree's model once (engine_speed.py's case: `--people` entering over 30 days, 100
days) and saves the kernel's arguments every fourth day. Then it times the kernel of the given git
revision (`simulation/kernels.py` with the `counter_rng.py` and `population.py` it imports, taken with
`git show` into a temporary package) against the working tree's (the same three files, copied into a
second temporary package, so both are compiled alike in this process) on copies of the same saved days,
in turns: per round and saved day, three runs of the old version and three of the new, the best of each. It reports
the sum over the days for each round, and whether the two versions leave every argument identical (so a
change meant to keep results can be checked at the same time). It resolves about 2 % here.
The older version must take the same arguments as the working tree's.
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engine_speed import scenario_for  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
KERNEL_FILES = ("kernels.py", "counter_rng.py", "population.py")


def kernels_of(revision: str | None, where: Path, package_name: str):
    """The `kernels` module of `revision` (None: the working tree), imported as a package of its own
    (its relative imports resolve to the same version's files). Both versions are copies compiled in
    this process: timing a copy against the installed package's kernel (loaded from Numba's cache)
    showed the same code 1-3 % apart."""
    package = where / package_name
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name in KERNEL_FILES:
        if revision is None:
            text = (REPO / "simulation" / name).read_text()
        else:
            text = subprocess.run(["git", "show", f"{revision}:simulation/{name}"], cwd=REPO, check=True,
                                  capture_output=True, text=True).stdout
        (package / name).write_text(text)
    if str(where) not in sys.path:
        sys.path.insert(0, str(where))
    return importlib.import_module(f"{package_name}.kernels")


def copies(arguments: tuple) -> tuple:
    return tuple(a.copy() if isinstance(a, np.ndarray) else a for a in arguments)


def same(first: tuple, second: tuple) -> bool:
    return all(np.array_equal(a, b, equal_nan=a.dtype.kind == "f") if isinstance(a, np.ndarray) else a == b
               for a, b in zip(first, second))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("revision", help="the git revision to compare the working tree with (e.g. HEAD~1)")
    parser.add_argument("--kernel", default="decide_day", help="a function of simulation/kernels.py")
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--world", choices=("scaled", "fixed"), default="scaled")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()

    import simulation
    from simulation import kernels

    with tempfile.TemporaryDirectory(prefix="balkansim-kernel-ab-") as where:
        old = getattr(kernels_of(args.revision, Path(where), "kernels_old"), args.kernel)
        new = getattr(kernels_of(None, Path(where), "kernels_new"), args.kernel)
        installed = getattr(kernels, args.kernel)
        base = simulation.load_scenario(simulation.DEFAULT_SCENARIO)
        model = simulation.MigrationModel(scenario_for(base, args.people, 100, args.world))
        saved = []

        def saving(*arguments):
            if model.day % 4 == 0:
                saved.append(copies(arguments))
            return installed(*arguments)

        setattr(kernels, args.kernel, saving)  # the model calls kernels.<name>(...)
        print(f"running the model ({args.people:,} people, {args.world} world) to save {args.kernel}'s days ...",
              file=sys.stderr, flush=True)
        model.run()
        setattr(kernels, args.kernel, installed)

        def timed(function, arguments) -> tuple[float, tuple]:
            mine = copies(arguments)
            start = time.perf_counter()
            function(*mine)
            return time.perf_counter() - start, mine

        identical = all(same(timed(old, a)[1], timed(new, a)[1]) for a in saved)  # also compiles both
        totals = {"old": [], "new": []}
        for _ in range(args.rounds):
            round_totals = {"old": 0.0, "new": 0.0}
            for arguments in saved:  # the two versions in turns on each day, so both meet the same moment
                for label, function in (("old", old), ("new", new)):
                    round_totals[label] += min(timed(function, arguments)[0] for _ in range(3))
            for label in totals:
                totals[label].append(round_totals[label])
    print(f"{args.kernel}, {args.people:,} people, {args.world} world, {len(saved)} saved days, "
          f"{args.rounds} rounds (sum over the days of the best of 3, ms):")
    for label, revision in (("old", args.revision), ("new", "working tree")):
        rounds = " ".join(f"{1e3 * t:.1f}" for t in totals[label])
        print(f"  {revision:>14}: best round {1e3 * min(totals[label]):.2f}  (rounds: {rounds})")
    change = min(totals["new"]) / min(totals["old"]) - 1
    print(f"  change: {100 * change:+.1f} %; every argument identical after the kernel: {identical}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
