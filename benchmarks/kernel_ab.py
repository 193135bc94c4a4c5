"""Time one kernel of two versions of the code on the same saved days, in turns, in one process.

    python benchmarks/kernel_ab.py HEAD~1                       # decide_day: HEAD~1's against the working tree's
    python benchmarks/kernel_ab.py 796793f --kernel seat_smugglers --people 1000000 --world fixed
    NUMBA_NUM_THREADS=1 python benchmarks/kernel_ab.py HEAD~1   # one thread: steadier still

Whole-run timings on this 2-vCPU VM move 5-10 % between processes, more than most changes to a kernel.
This runs the working tree's model once (engine_speed.py's case: `--people` entering over 30 days, 100
days) and saves the kernel's arguments every fourth day. Then it times the kernel of the given git
revision (its `simulation/`, taken with `git archive` into a temporary package by loop_ab.py's
`package_of`) against the working tree's (copied into a second temporary package, so both are compiled
alike in this process; timing a copy against the installed package's kernel, loaded from Numba's cache,
showed the same code 1-3 % apart) on copies of the same saved days,
in turns: per round and saved day, three runs of the old version and three of the new, the best of each. It reports
the sum over the days for each round, and whether the two versions leave every argument identical (so a
change meant to keep results can be checked at the same time). It resolves about 2 % here.
The older version must take the same arguments as the working tree's.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engine_speed import scenario_for  # noqa: E402
from loop_ab import package_of  # noqa: E402


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
        old = getattr(package_of(args.revision, Path(where), "simulation_old").kernels, args.kernel)
        new = getattr(package_of(None, Path(where), "simulation_new").kernels, args.kernel)
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
