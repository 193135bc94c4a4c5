"""Sweep throughput benchmark for balkansim: runs per minute with 1 and 2 local worker processes
and on a two-worker Dask LocalCluster, for one-year runs of 100,000 people.

    python benchmarks/sweep_throughput.py               # a 200-run sweep on each executor (about 8 min here)
    python benchmarks/sweep_throughput.py --runs 40     # quicker; the 200-run time is then projected
    python benchmarks/sweep_throughput.py --people 250000 --days 180

What is timed is the real command an analyst types, `balkansim sweep FILE --workers K` (and
`--scheduler ADDRESS` for Dask), as a whole process: reading the files, starting the worker
processes, every run (load the scenario from the task data, simulate, write measures, verify), and
writing the Parquet dataset. The Dask cluster is started by this script before its command and
is not timed (a cluster is long-lived; its workers import balkansim on their first task, which is
timed). All commands share one Numba cache directory, made fresh here and warmed by one short run
first, so no executor pays for compilation. See README.md for the scenario and the targets.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from engine_speed import split_largest_remainder, table  # noqa: E402  (same folder, not a package)

# Targets (issue 4).
TARGET_SCALING_EFFICIENCY = 0.80  # 1 -> 2 local workers
TARGET_DASK_OVERHEAD = 0.05  # of a run's own time

# docs/batches.md's recommended Dask settings for balkansim's workers: the runs are CPU-bound
# single-threaded tasks of under a second, so the workers' statistical profiler (a stack sample
# every 10 ms), memory monitoring and work stealing cost CPU and buy nothing; and the environment
# Dask's nannies give their workers by default (MALLOC_TRIM_THRESHOLD_=65536, OMP_NUM_THREADS=1)
# made each run about 4 % slower here (one worker, 10 runs each way).
WORKER_SETTINGS = {
    "distributed.nanny.pre-spawn-environ": {},
    "distributed.worker.profile.enabled": False,
    "distributed.worker.memory.target": False,
    "distributed.worker.memory.spill": False,
    "distributed.worker.memory.pause": False,
    "distributed.worker.memory.terminate": False,
    "distributed.scheduler.work-stealing": False,
    # The event loops' 20 ms tick and 0.5 s system monitor wake the scheduler and workers on cores
    # the runs use; the active memory manager has nothing to manage (results are tiny).
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.scheduler.active-memory-manager.start": False,
}
TARGET_200_RUNS_MINUTES = 30.0
START = "2015-07-01"


def log(message: str) -> None:
    print(f"[sweep_throughput {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def write_inputs(folder: Path, people: int, days: int, runs: int) -> Path:
    """A scenario file (the baseline with its inflow replaced by `people` transit migrants
    spread evenly over the months of the period at the sea entry places) and a sweep file over
    two behaviour parameters, random design with `runs` points, one replicate each."""
    import simulation

    base = simulation.load_scenario(simulation.DEFAULT_SCENARIO)
    shares = dict(base.spec.inflow.series[0].entry_shares)
    months = sorted({(base.start + __import__("datetime").timedelta(days=d)).strftime("%Y-%m") for d in range(days)})
    per_month = split_largest_remainder(people, {m: 1 / len(months) for m in months})
    lines = [f'extends = "{simulation.DEFAULT_SCENARIO}"', 'name = "sweep_benchmark"',
             f"[period]\nstart = {START}\ndays = {days}", "[inflow]\nseries = []"]
    for month in months:
        for place, n in split_largest_remainder(per_month[month], shares).items():
            lines.append(f'[[inflow.monthly]]\nmonth = "{month}"\nentry = "{place}"\npeople = {n}')
    scenario = folder / "scenario.toml"
    scenario.write_text("\n".join(lines) + "\n")
    sweep = folder / "sweep.toml"
    sweep.write_text(f"""name = "throughput"
base = "scenario.toml"
replicates = 1
[design]
kind = "random"
samples = {runs}
seed = 7
[parameters."behaviour.smuggler_use_probability"]
min = 0.1
max = 0.6
[parameters."behaviour.rest_probability_per_day"]
min = 0.2
max = 0.5
""")
    return sweep


def balkansim(*args: str) -> list[str]:
    return [sys.executable, "-m", "simulation.cli", *args]


def timed_command(command: list[str]) -> float:
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({completed.returncode}):\n{completed.stderr[-3000:]}")
    return seconds


def run_seconds(batch: Path) -> list[float]:
    """Each run's own simulation time (manifest wall_seconds: build, day loop, tables)."""
    return [json.loads(p.read_text())["wall_seconds"] for p in sorted(batch.glob("runs/*/manifest.json"))]


def same_measures(a: Path, b: Path) -> bool:
    import pandas as pd

    def load(folder: Path) -> pd.DataFrame:
        frame = pd.read_parquet(folder / "measures")
        frame["point"] = frame.point.astype(int)
        return frame.sort_values(["run_id", "measure", "where"]).reset_index(drop=True)

    return load(a).equals(load(b))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200, help="runs in the sweep (default 200, the target's size)")
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    started = time.perf_counter()

    work = Path(tempfile.mkdtemp(prefix="balkansim-sweep-bench-"))
    os.environ["NUMBA_CACHE_DIR"] = str(work / "numba-cache")  # inherited by every command and Dask worker
    try:
        sweep = write_inputs(work, args.people, args.days, args.runs)
        log(f"warming the Numba cache (one 5-day run) in {work}")
        timed_command(balkansim("run", str(work / "scenario.toml"), "--days", "5", "--quiet", "--out",
                                str(work / "warmup")))
        results = {}
        for name, workers in (("local, 1 worker", 1), ("local, 2 workers", 2)):
            log(f"{args.runs} runs on {name} ...")
            out = work / f"workers{workers}"
            seconds = timed_command(balkansim("sweep", str(sweep), "--workers", str(workers), "--quiet",
                                              "--out", str(out)))
            results[name] = {"workers": workers, "wall_s": seconds, "out": out}
            log(f"  {seconds:.1f} s")

        import dask
        from dask.distributed import LocalCluster

        log("starting a Dask LocalCluster (2 worker processes, 1 thread each, the worker settings "
            "recommended in docs/batches.md; not timed)")
        with dask.config.set(WORKER_SETTINGS), LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                                            dashboard_address=None) as cluster:
            log(f"{args.runs} runs on the Dask LocalCluster at {cluster.scheduler_address} ...")
            out = work / "dask"
            seconds = timed_command(balkansim("sweep", str(sweep), "--scheduler", cluster.scheduler_address,
                                              "--quiet", "--out", str(out)))
            results["Dask LocalCluster, 2 workers"] = {"workers": 2, "wall_s": seconds, "out": out}
            log(f"  {seconds:.1f} s")

        print(report(args, results, time.perf_counter() - started))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def report(args, results: dict, total_s: float) -> str:
    import dask
    import numba

    one = results["local, 1 worker"]
    two = results["local, 2 workers"]
    dask_run = results["Dask LocalCluster, 2 workers"]
    # A run's own time: what one run costs a single local worker, everything included
    # (load from the task data, simulate, write, verify), from the 1-worker sweep.
    own_s = one["wall_s"] / args.runs
    rows = []
    for name, r in results.items():
        per_run = r["wall_s"] * r["workers"] / args.runs
        simulated = run_seconds(r["out"])
        rows.append([name, f"{r['wall_s']:.1f}", f"{args.runs / r['wall_s'] * 60:.1f}", f"{per_run:.2f}",
                     f"{statistics.median(simulated):.2f}", str(len(simulated))])
    efficiency = (one["wall_s"] / two["wall_s"]) / 2
    dask_overhead = (dask_run["wall_s"] - two["wall_s"]) * 2 / args.runs / own_s
    minutes_200 = 200 * two["wall_s"] / args.runs / 60
    identical = same_measures(one["out"], two["out"]) and same_measures(one["out"], dask_run["out"])

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "MISS"

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    out = [
        "balkansim sweep throughput (benchmarks/sweep_throughput.py)",
        f"machine: {os.cpu_count()} CPUs, {cpu}; Python {platform.python_version()}, numba {numba.__version__}, "
        f"dask {dask.__version__}; {platform.platform()}",
        f"sweep: {args.runs} runs (random design over 2 behaviour parameters, 1 replicate), each {args.people:,} "
        f"people over {args.days} days from {START} (the baseline network and behaviour); measures only kept",
        "",
        table(["executor", "wall s", "runs/min", "s per run per worker", "median run s (simulate)", "runs done"], rows,
              right={1, 2, 3, 4, 5}),
        "",
        f"run's own time (1-worker wall / runs, everything included): {own_s:.2f} s",
        f"measures identical on the three executors: {'yes' if identical else 'NO'}",
        "",
        table(["target", "measured", "result"], [
            ["scaling 1 -> 2 local workers >= 80 %", f"{efficiency:.0%}", verdict(efficiency >= TARGET_SCALING_EFFICIENCY)],
            ["Dask overhead per run < 5 % of its own time", f"{dask_overhead:+.1%}",
             verdict(dask_overhead < TARGET_DASK_OVERHEAD)],
            [f"200-run sweep <= 30 min (2 local workers{'' if args.runs == 200 else ', projected'})",
             f"{minutes_200:.1f} min", verdict(minutes_200 <= TARGET_200_RUNS_MINUTES)],
        ], right={1}),
        "",
        "Dask overhead = (Dask wall - local 2-worker wall) x 2 workers / runs, over the run's own time.",
        f"benchmark wall time {total_s:.0f} s",
    ]
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
