"""Speed and scale against the peers, side by side in one run: our engine (a), an idiomatic Mesa 3
model (b) and Flee 3.1 (c) on the same network, inflow and movement rules with the levers off
(benchmarks/peers/common.py), plus the same-answers check of (a) against (b).

    python benchmarks/peers/run.py                 # 10,000 and 100,000 people, 100 days, then the check
    python benchmarks/peers/run.py --quick         # 10,000 people, 30 days, 1 run each; a small check
    python benchmarks/peers/run.py --sizes 100000 --days 100 --repeats 3 --flee-repeats 1
    python benchmarks/peers/run.py --engines ours,mesa --no-check

Every timed run is a fresh child process (`sys.executable`), and a size's runs go in rounds, each
engine at most once a round (`rounds_of`), so that a drift in the machine's speed meets the engines
alike. A child's peak RSS (VmHWM, see `main`) is that run's alone: our engine's child loads the
benchmark scenario, runs a small warm-up model (the Numba kernels compile or load from a Numba cache
made fresh for this benchmark) and then times the day loop; the Mesa and Flee children import only
their framework and numpy, read the case file (route tables and inflow computed once by the parent
with our code) and time their day loop (entrants included in all three). agent-steps are the active
agents stepped, summed over days (ours: `model.agent_steps`; Mesa: len(model.agents) each day; Flee:
len(ecosystem.agents) each day, since Flee keeps and steps every agent, arrived or not). Progress
goes to stderr, the tables to stdout. Flee needs the `peers` extra (pip install -e '.[peers]');
without it, its rows say why it did not run. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from engine_speed import machine_info, mib, table, vm_kb  # noqa: E402  (benchmarks/, not a package)

TARGET_X_FLEE = 500.0
TARGET_X_MESA = 50.0
TARGET_SIZE = 100_000
ENGINES = ("ours", "mesa", "flee")
NAMES = {"ours": "ours (balkansim)", "mesa": "Mesa 3, idiomatic", "flee": "Flee 3.1"}
# 30 days: long enough for finished people to be compacted away, so every kernel is loaded before
# the timed loop (with 5 days `compact` was not, and the timed loop paid about 5 ms to load it).
WARMUP_PEOPLE, WARMUP_DAYS = 2_000, 30


def log(message: str) -> None:
    print(f"[peers {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def rss_kb() -> int:
    return vm_kb("VmRSS")


# ----------------------------------------------------------------------------- children
def child_ours(people: int, days: int) -> dict:
    import simulation
    import common

    simulation.MigrationModel(common.benchmark_scenario(WARMUP_PEOPLE, WARMUP_DAYS)).run()
    scenario = common.benchmark_scenario(people, days)
    pre_model = rss_kb()
    model = simulation.MigrationModel(scenario)
    t, cpu = time.perf_counter(), time.process_time()
    for _ in range(days):
        model.step()
    loop_s, cpu_s = time.perf_counter() - t, time.process_time() - cpu
    out = common.engine_outputs(model)
    return {"loop_s": loop_s, "cpu_s": cpu_s, "agent_steps": int(model.agent_steps), "rss_pre_model_kb": pre_model,
            "entered": int(out["entrants"].sum()), "at_destinations": int(out["arrivals"].sum()),
            "version": f"balkansim (numba {__import__('numba').__version__})"}


def child_mesa(case_path: str, days: int, seed: int) -> dict:
    import mesa

    import mesa_model

    case = mesa_model.load_case(case_path)
    pre_model = rss_kb()
    model = mesa_model.RouteModel(case, rng=seed)
    t, cpu = time.perf_counter(), time.process_time()
    for _ in range(days):
        model.step()
    loop_s, cpu_s = time.perf_counter() - t, time.process_time() - cpu
    return {"loop_s": loop_s, "cpu_s": cpu_s, "agent_steps": int(model.agent_steps), "rss_pre_model_kb": pre_model,
            "entered": sum(model.entered), "at_destinations": sum(map(sum, model.arrivals)),
            "version": f"mesa {mesa.__version__}"}


def child_flee(case_path: str, days: int, seed: int) -> dict:
    from importlib.metadata import version

    from importlib import import_module

    import flee_run

    for module in ("flee.flee", "flee.InputGeography"):  # imported before the pre-model RSS is read
        import_module(module)

    with open(case_path) as f:
        case = json.load(f)
    folder = Path(tempfile.mkdtemp(prefix="balkansim-flee-"))
    try:
        flee_run.write_inputs(case, folder)
        pre_model = rss_kb()
        run = flee_run.FleeRun(case, folder, seed)
        t, cpu = time.perf_counter(), time.process_time()
        for _ in range(days):
            run.step()
        loop_s, cpu_s = time.perf_counter() - t, time.process_time() - cpu
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {"loop_s": loop_s, "cpu_s": cpu_s, "agent_steps": int(run.agent_steps), "rss_pre_model_kb": pre_model,
            "entered": len(run.e.agents), "at_destinations": int(run.at_destinations()),
            "version": f"flee {version('flee')}"}


def flee_unavailable() -> str | None:
    """Why Flee cannot run here, or None."""
    proc = subprocess.run([sys.executable, "-c", "import flee.flee, flee.InputGeography"], capture_output=True,
                          text=True)
    if proc.returncode == 0:
        return None
    last = (proc.stderr.strip().splitlines() or ["import failed"])[-1]
    return f"not runnable here: {last} (install the extra: pip install -e '.[peers]')"


# ----------------------------------------------------------------------------- parent
def run_child(argv: list[str]) -> tuple[dict, float]:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=REPO, stdout=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"child failed (exit {proc.returncode}): {' '.join(argv)}")
    return json.loads(proc.stdout.strip().splitlines()[-1]), wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=None, help="people per case, comma-separated (default 10000,100000)")
    parser.add_argument("--days", type=int, default=None, help="days to run each case (default 100)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed runs of ours and Mesa per size, each a fresh process; the median is reported (default 3)")
    parser.add_argument("--flee-repeats", type=int, default=None, help="timed runs of Flee per size (default 1: it is slow)")
    parser.add_argument("--peer-days", type=int, default=None,
                        help="run Mesa and Flee for only this many days (agent-steps/s is a rate; the table says so)")
    parser.add_argument("--engines", default=",".join(ENGINES), help="which to run (default ours,mesa,flee)")
    parser.add_argument("--quick", action="store_true",
                        help="10,000 people, 30 days, 1 run each; check with 5 replicates of 5,000 people, 30 days")
    parser.add_argument("--no-check", action="store_true", help="skip the same-answers check")
    parser.add_argument("--check-people", type=int, default=None, help="people in each check replicate (default 10000)")
    parser.add_argument("--check-days", type=int, default=None, help="days of each check replicate (default 60)")
    parser.add_argument("--check-replicates", type=int, default=None, help="replicates of each engine (default 8)")
    parser.add_argument("--rest-shift", type=float, default=0.0,
                        help="change the Mesa model's rest probability by this in the check (to show it can fail)")
    parser.add_argument("--child", choices=ENGINES, help=argparse.SUPPRESS)
    parser.add_argument("--people", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        days = args.days
        if args.child == "ours":
            result = child_ours(args.people, days)
        elif args.child == "mesa":
            result = child_mesa(args.case, days, args.seed)
        else:
            result = child_flee(args.case, days, args.seed)
        # Peak RSS of this process: VmHWM, the high-water mark of its own address space. Not
        # ru_maxrss: on Linux a child started by fork + exec reports at least its parent's peak
        # there (the kernel carries the pre-exec high-water mark over), and this parent holds the
        # scenario and route tables.
        result["peak_rss_kb"] = vm_kb("VmHWM")
        result["ru_maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps(result))
        return 0

    sizes = [int(s.replace("_", "")) for s in (args.sizes or ("10000" if args.quick else "10000,100000")).split(",")
             if s.strip()]
    days = args.days or (30 if args.quick else 100)
    repeats = args.repeats or (1 if args.quick else 3)
    flee_repeats = args.flee_repeats or 1
    check_people = args.check_people or (5_000 if args.quick else 10_000)
    check_days = args.check_days or (30 if args.quick else 60)
    check_replicates = args.check_replicates or (5 if args.quick else 8)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if any(e not in ENGINES for e in engines) or "ours" not in engines:
        parser.error(f"--engines: a list from {', '.join(ENGINES)} that includes ours")
    if days < 1 or repeats < 1 or flee_repeats < 1 or any(n < 1 for n in sizes):
        parser.error("sizes, days and repeats must be at least 1")
    peer_days = min(args.peer_days or days, days)

    started = time.perf_counter()
    info = machine_info()
    work = Path(tempfile.mkdtemp(prefix="balkansim-peers-"))
    os.environ["NUMBA_CACHE_DIR"] = str(work / "numba_cache")  # inherited by every child
    os.environ.pop("NUMBA_DISABLE_JIT", None)
    log(f"{info['nproc']} CPUs ({info['cpu']}), Python {info['python']}; work folder {work}")
    skipped = {}
    if "flee" in engines:
        reason = flee_unavailable()
        if reason:
            skipped["flee"] = reason
            log(f"Flee {reason}")
    script = str(Path(__file__).resolve())
    results: dict[tuple[str, int], dict] = {}
    check = None
    try:
        import common

        # Compile our kernels into the fresh Numba cache once, in a child of its own, so that no
        # measured child pays for compilation (time or memory: LLVM takes about 200 MiB).
        log("warming the Numba cache (our engine, one small run in its own process) ...")
        run_child([sys.executable, script, "--child", "ours", "--people", str(WARMUP_PEOPLE), "--days",
                   str(WARMUP_DAYS)])
        for people in sizes:
            case_path = work / f"case_{people}_{peer_days}.json"
            common.write_case(people, peer_days, case_path)
            running = [e for e in engines if e not in skipped]
            n_runs = {e: flee_repeats if e == "flee" else repeats for e in running}
            rounds = max(n_runs.values())
            schedule = {e: rounds_of(n_runs[e], rounds) for e in running}
            for engine in running:
                results[(engine, people)] = {"days": days if engine == "ours" else peer_days, "runs": []}
            # The runs go in rounds, each engine at most once a round, so that a drift in the machine's
            # speed (10-30 % here over minutes) meets all three alike; an engine with fewer runs than
            # rounds (Flee: one, by default) runs in the middle rounds, between runs of the others.
            for r in range(rounds):
                for engine in running:
                    if r not in schedule[engine]:
                        continue
                    runs = results[(engine, people)]["runs"]
                    engine_days = results[(engine, people)]["days"]
                    log(f"{NAMES[engine]}: {people:,} people, {engine_days} days, run {len(runs) + 1}/{n_runs[engine]}"
                        f" (round {r + 1}/{rounds}, fresh process) ...")
                    argv = [sys.executable, script, "--child", engine, "--people", str(people), "--days",
                            str(engine_days), "--case", str(case_path), "--seed", str(len(runs) + 1)]
                    data, wall = run_child(argv)
                    data["process_wall_s"] = wall
                    runs.append(data)
                    log(f"  day loop {data['loop_s']:.2f} s, {data['agent_steps']:,} agent-steps, "
                        f"{data['agent_steps'] / data['loop_s'] / 1e6:.3f} M/s, peak RSS {data['peak_rss_kb'] / 1024:,.0f} MiB")
        if not args.no_check:
            log(f"same answers: {check_replicates} replicates x {check_people:,} people x {check_days} days of ours and Mesa ...")
            argv = [sys.executable, str(HERE / "same_answers.py"), "--people", str(check_people), "--days",
                    str(check_days), "--replicates", str(check_replicates), "--rest-shift", str(args.rest_shift), "--json"]
            proc = subprocess.run(argv, cwd=REPO, stdout=subprocess.PIPE, text=True)
            check = json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(report(info, sizes, days, peer_days, repeats, flee_repeats, engines, skipped, results, check,
                 time.perf_counter() - started))
    return 0 if check is None or check["ok"] else 1


def rounds_of(n_runs: int, rounds: int) -> set[int]:
    """The rounds (0-based) an engine with n_runs runs takes among `rounds`: spread evenly, centred
    (1 of 3: the middle round; 2 of 3: the first and the last)."""
    return {min(rounds - 1, int((k + 0.5) * rounds / n_runs)) for k in range(n_runs)}


def summary(result: dict) -> dict:
    runs = result["runs"]
    loops = sorted(r["loop_s"] for r in runs)
    median = statistics.median(loops)
    median_run = sorted(runs, key=lambda r: r["loop_s"])[(len(runs) - 1) // 2]
    steps = statistics.median(r["agent_steps"] for r in runs)
    return {"loop_s": median, "range": (loops[0], loops[-1]), "steps": steps, "rate": steps / median,
            "cpu_wall": median_run["cpu_s"] / median_run["loop_s"],
            "peak_rss_kb": max(r["peak_rss_kb"] for r in runs),
            "rss_pre_model_kb": statistics.median(r["rss_pre_model_kb"] for r in runs),
            "at_destinations": statistics.median(r["at_destinations"] for r in runs),
            "entered": runs[0]["entered"], "version": runs[0]["version"], "n": len(runs),
            "process_wall_s": statistics.median(r["process_wall_s"] for r in runs)}


def report(info, sizes, days, peer_days, repeats, flee_repeats, engines, skipped, results, check, total_s) -> str:
    import mesa
    import numba
    import numpy

    out = [
        "balkansim against its peers (benchmarks/peers/run.py)",
        f"machine: {info['nproc']} CPUs (nproc), {info['cpu']}; Python {info['python']}, numba {numba.__version__}, "
        f"numpy {numpy.__version__}, mesa {mesa.__version__}; {info['platform']}",
        "case: bundled network (scenarios/network), baseline transit groups, inflow N people over 2015-06 (30 days, sea "
        "entry places, baseline sea entry_shares), movement rules with the levers off (benchmarks/peers/common.py); "
        f"ours {days} days, Mesa and Flee {peer_days} days; median of {repeats} run(s) for ours and Mesa, "
        f"{flee_repeats} for Flee, each run a fresh process, the engines in turn in rounds",
        "",
        "Speed and memory (day loop, entrants included)",
    ]
    rows = []
    for people in sizes:
        ours = summary(results[("ours", people)])
        for engine in engines:
            if engine in skipped:
                rows.append([NAMES[engine], f"{people:,}", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-"])
                continue
            s = summary(results[(engine, people)])
            spread = f"{s['range'][0]:.2f}-{s['range'][1]:.2f}" if s["n"] > 1 else "-"
            rows.append([
                NAMES[engine], f"{people:,}", str(results[(engine, people)]["days"]), f"{s['loop_s']:.2f}", spread,
                f"{s['steps']:,.0f}", _rate(s["rate"]),
                "1" if engine == "ours" else _times(ours["rate"] / s["rate"]),
                f"{s['cpu_wall']:.2f}", mib(s["peak_rss_kb"] * 1024), mib(s["rss_pre_model_kb"] * 1024),
                f"{s['peak_rss_kb'] / ours['peak_rss_kb']:.2f}",
                f"{s['at_destinations']:,.0f} ({s['at_destinations'] / max(s['entered'], 1):.0%})",
            ])
    out.append(table(["engine", "people", "days", "loop s", "range s", "agent-steps", "steps/s", "ours is x faster",
                      "CPU/wall", "peak RSS MiB", "RSS pre-model MiB", "RSS vs ours", "at destination at end"],
                     rows, right=set(range(1, 13))))
    for engine, reason in skipped.items():
        out.append(f"{NAMES[engine]}: {reason}")
    versions = sorted({summary(r)["version"] for r in results.values()})
    out.append("versions: " + "; ".join(versions))
    out.append("steps/s = agent-steps / day-loop seconds; 'ours is x faster' = our steps/s over this engine's at the "
               "same size. Flee keeps every agent (also those in camps) and steps it daily: its agent-steps are agents "
               "present x days.")

    if check is not None:
        out += ["", check["text"]]

    out += ["", "Targets"]
    trows = []
    if TARGET_SIZE in sizes:
        ours = summary(results[("ours", TARGET_SIZE)])
        for engine, target in (("flee", TARGET_X_FLEE), ("mesa", TARGET_X_MESA)):
            label = f"agent-steps/s >= {target:.0f} x {NAMES[engine]}'s ({TARGET_SIZE:,} people, same run)"
            if engine not in engines:
                trows.append([label, "not run", "n/a"])
            elif engine in skipped:
                trows.append([label, "not runnable here", "n/a"])
            else:
                ratio = ours["rate"] / summary(results[(engine, TARGET_SIZE)])["rate"]
                # one decimal, so a ratio just under the target never reads as "500 x"
                trows.append([label, f"{ratio:,.1f} x", "PASS" if ratio >= target else "MISS"])
    else:
        trows.append([f"speed targets ({TARGET_SIZE:,} people)", "size not run", "n/a"])
    if check is not None:
        trows.append(["same answers, ours vs Mesa (every output)", "all pass" if check["ok"] else "some fail",
                      "PASS" if check["ok"] else "FAIL"])
    out.append(table(["target", "measured", "result"], trows, right={1}))
    out += ["", f"benchmark wall time {total_s:.0f} s"]
    return "\n".join(out)


def _times(x: float) -> str:
    return f"{x:,.1f}" if x < 10 else f"{x:,.0f}"


def _rate(rate: float) -> str:
    return f"{rate / 1e6:.2f} M" if rate >= 1e5 else f"{rate / 1e3:.1f} k"


if __name__ == "__main__":
    sys.exit(main())
