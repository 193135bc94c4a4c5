"""Scale benchmark for balkansim: agent-steps per second and memory from 10^4 to 5*10^6 people,
and one replicate of the whole 2015-2016 crisis at one agent per person, cold and warm.

    python benchmarks/scaling.py                    # 10^4, 10^5, 10^6, 5*10^6 people, scaled world; the history
    python benchmarks/scaling.py --world fixed      # the same sizes in the baseline's own world
    python benchmarks/scaling.py --sizes 100000,1000000 --repeats 1 --no-history

Each timed run is a fresh child process (engine_speed.py's size case), so its peak memory is its
own. The runs go in rounds, every size once a round (--repeats rounds), so that a drift in the
machine's speed hits every size alike. All children share one fresh Numba cache directory
(NUMBA_CACHE_DIR), deleted at the end.
Progress goes to stderr and the tables to stdout. See README.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import engine_speed  # noqa: E402  (the size case, child runner and table helpers)
from engine_speed import child_env, machine_info, mib, parse_sizes, run_child, table, verdict  # noqa: E402

REPO = engine_speed.REPO
HISTORY = REPO / "scenarios" / "history_2015_2016.toml"
DEFAULT_SIZES = (10_000, 100_000, 1_000_000, 5_000_000)
FLAT_FROM, FLAT_TO = 100_000, 5_000_000  # the sizes over which the rate must be flat
TARGET_FLAT = 0.20  # slowest rate at least 80 % of the fastest
TARGET_HISTORY_WARM_S = 20.0

# In-process timing of one history replicate: the day loop alone, and its agent-steps.
HISTORY_CHILD = """\
import json, resource, sys, time
import simulation
scenario = simulation.load_scenario(sys.argv[1])
model = simulation.MigrationModel(scenario)
peak = 0
t = time.perf_counter()
for _ in range(model.n_days):
    model.step()
    peak = max(peak, model.population.n_on_route)
loop_s = time.perf_counter() - t
print(json.dumps({"loop_s": loop_s, "agent_steps": int(model.agent_steps), "entered": int(model.entered_total),
                  "days": model.n_days, "peak_active": peak,
                  "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def log(message: str) -> None:
    print(f"[scaling {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def balkansim_command() -> list[str]:
    cli = shutil.which("balkansim")
    return [cli] if cli else [sys.executable, "-m", "simulation.cli"]


def run_history(env: dict, work: Path, warm_repeats: int) -> dict:
    """`balkansim run` on the history scenario as a whole process: once with the empty cache
    (cold: every kernel compiled), then `warm_repeats` times with it filled; then the day loop
    alone, in process."""
    command = balkansim_command()
    walls = {"cold": [], "warm": []}
    for label, times in (("cold", 1), ("warm", warm_repeats)):
        for r in range(times):
            out = work / f"history_{label}_{r}"
            log(f"history_2015_2016, one replicate, {label} cache, run {r + 1}/{times}: balkansim run ...")
            _, wall, _ = run_child([*command, "run", str(HISTORY), "--quiet", "--out", str(out)], env, work)
            manifest = json.loads((out / "manifest.json").read_text())
            walls[label].append(wall)
            log(f"  {wall:.1f} s whole process (the run's own wall_seconds: {manifest.get('wall_seconds', '?')})")
            shutil.rmtree(out, ignore_errors=True)
    log("history_2015_2016, day loop in process (warm) ...")
    loop, _, _ = run_child([sys.executable, "-c", HISTORY_CHILD, str(HISTORY)], env, work)
    log(f"  day loop {loop['loop_s']:.1f} s, {loop['agent_steps']:,} agent-steps, {loop['entered']:,} people")
    return {"walls": walls, "loop": loop}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(str(n) for n in DEFAULT_SIZES),
                        help="people per case, comma-separated (default 10^4, 10^5, 10^6, 5*10^6)")
    parser.add_argument("--days", type=int, default=100, help="days to run each case (default 100)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="rounds: each round times every size in a fresh process (once, or up to 5 times "
                             "below 10^6 people; median of all reported); interleaved, as the flatness verdict "
                             "compares sizes and one run can be 10 %% off on this VM")
    parser.add_argument("--world", choices=("scaled", "fixed"), default="scaled",
                        help="scaled: smuggler seats and reception grow with the people (same work per person); "
                             "fixed: the baseline's capacities at every size")
    parser.add_argument("--no-history", action="store_true", help="skip the 2015-2016 history runs")
    parser.add_argument("--history-repeats", type=int, default=3, help="warm history runs (median reported)")
    args = parser.parse_args()
    sizes = parse_sizes(args.sizes)
    if args.days < 1 or args.repeats < 1 or any(n < 1 for n in sizes):
        parser.error("sizes, days and repeats must be at least 1")

    started = time.perf_counter()
    info = machine_info()
    work = Path(tempfile.mkdtemp(prefix="balkansim-scaling-"))
    env = child_env(work)
    log(f"{info['nproc']} CPUs ({info['cpu']}); fresh Numba cache in {env['NUMBA_CACHE_DIR']}")
    try:
        history = None if args.no_history else run_history(env, work, args.history_repeats)
        if history is None:
            # The history's cold run fills the Numba cache; without it a small untimed case does,
            # so that no size case compiles in its own process (that case ran 5-20 % slower).
            log("warming the Numba cache with an untimed small case ...")
            run_child([sys.executable, str(Path(engine_speed.__file__).resolve()), "--size-case", "10000",
                       "--days", str(engine_speed.INFLOW_DAYS), "--repeats", "1", "--world", args.world], env, work)
        # Rounds of every size, each size in a fresh process a round: the machine's speed drifts
        # over minutes on this VM, and the flatness verdict compares sizes, so each size gets runs
        # in every stretch of time instead of all its runs in one stretch.
        runs_of: dict[int, list[dict]] = {people: [] for people in sizes}
        for round_number in range(1, args.repeats + 1):
            for people in sizes:
                runs = runs_per_round(people)
                log(f"round {round_number}/{args.repeats}: {people:,} people ({args.world} world), {args.days} days, "
                    f"{runs} timed run(s) ...")
                data, wall, _ = run_child(
                    [sys.executable, str(Path(engine_speed.__file__).resolve()), "--size-case", str(people),
                     "--days", str(args.days), "--repeats", str(runs), "--world", args.world], env, work)
                runs_of[people].append(data)
                log(f"  done in {wall:.1f} s")
        cases = [merge_rounds(runs_of[people]) for people in sizes]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(report(info, args, sizes, cases, history, time.perf_counter() - started))
    return 0


def runs_per_round(people: int) -> int:
    """Timed runs of one size in one round. Below a million people a day loop takes a tenth of a
    second or so, and a moment's noise on this VM moves one run by 10-40 %, so the small sizes
    get up to five runs a round (a few seconds); the median is over all of a size's runs."""
    return max(1, min(5, 500_000 // people))


def merge_rounds(children: list[dict]) -> dict:
    """One size's case from its rounds: every timed run, and the memory of the process that peaked
    highest (its own RSS before the model, so the growth is one process's)."""
    peak = max(children, key=lambda child: child["peak_rss_kb"])
    runs = [run for child in children for run in child["runs"]]
    if len({run["agent_steps"] for run in runs}) != 1:
        raise SystemExit(f"{peak['people']:,} people: agent_steps differ between rounds of the same seed")
    return {**peak, "runs": runs}


def rate_of(case: dict) -> float:
    runs = case["runs"]
    return runs[0]["agent_steps"] / statistics.median(r["loop_s"] for r in runs)


def report(info, args, sizes, cases, history, total_s) -> str:
    world = ("scaled world: every country's smuggler seats and reception capacity x people / "
             f"{engine_speed.SCALED_WORLD_PEOPLE:,}, so each person meets the same congestion"
             if args.world == "scaled" else "fixed world: the baseline's capacities at every size")
    out = [
        "balkansim scaling (benchmarks/scaling.py)",
        f"machine: {info['nproc']} CPUs (nproc), {info['cpu']}; Python {info['python']}, numba {info['numba']}, "
        f"numpy {info['numpy']}; {info['platform']}",
        f"cases: bundled network and behaviour (scenarios/baseline.toml), N people entering over "
        f"{engine_speed.INFLOW_MONTH} at the sea entry places, {args.days} days; {world}",
        "",
        "Scaling (day loop; median of the timed runs, taken in rounds of every size, each size a fresh process "
        "a round)",
    ]
    rows = []
    for case in cases:
        runs = case["runs"]
        loop = statistics.median(r["loop_s"] for r in runs)
        median_run = sorted(runs, key=lambda r: r["loop_s"])[(len(runs) - 1) // 2]
        grown_kb = case["peak_rss_kb"] - case["rss_before_model_kb"]
        rows.append([
            f"{case['people']:,}", str(len(runs)), f"{loop:.2f}", f"{runs[0]['agent_steps']:,}",
            f"{rate_of(case) / 1e6:.1f} M", f"{1e9 * loop / runs[0]['agent_steps']:.0f}",
            f"{median_run['cpu_s'] / median_run['loop_s']:.2f}", f"{runs[0]['peak_active']:,}",
            str(case["bytes_per_agent"]), f"{1024 * grown_kb / case['people']:.0f}",
            mib(case["peak_rss_kb"] * 1024), mib(case["rss_before_model_kb"] * 1024),
        ])
    out.append(table(["people", "runs", "loop s", "agent-steps", "steps/s", "ns/step", "CPU/wall", "peak active",
                      "state bytes/agent", "RSS growth bytes/person", "peak RSS MiB", "RSS pre-model MiB"], rows))
    out.append("state bytes/agent: the agent arrays; RSS growth bytes/person: (peak RSS - RSS before the model) / "
               "people, which adds the daily records, route tables and allocator slack")

    if history:
        loop = history["loop"]
        cold = history["walls"]["cold"][0]
        warm = statistics.median(history["walls"]["warm"])
        out += ["", "history_2015_2016, one replicate at one agent per person (balkansim run, whole process)"]
        out.append(table(["case", "wall s", "people entered", "days", "agent-steps", "day loop s", "steps/s",
                          "peak active", "peak RSS MiB"], [
            ["cold Numba cache", f"{cold:.1f}", f"{loop['entered']:,}", str(loop["days"]), "", "", "", "", ""],
            [f"warm (median of {len(history['walls']['warm'])})", f"{warm:.1f}", f"{loop['entered']:,}",
             str(loop["days"]), f"{loop['agent_steps']:,}", f"{loop['loop_s']:.1f}",
             f"{loop['agent_steps'] / loop['loop_s'] / 1e6:.1f} M", f"{loop['peak_active']:,}",
             mib(loop["peak_rss_kb"] * 1024)],
        ]))

    out += ["", "Targets"]
    trows = []
    flat = [c for c in cases if FLAT_FROM <= c["people"] <= FLAT_TO]
    if len(flat) >= 2:
        rates = [rate_of(c) for c in flat]
        spread = 1 - min(rates) / max(rates)
        trows.append([f"steps/s within 20 % from {FLAT_FROM:,} to {FLAT_TO:,} people",
                      f"slowest {100 * (1 - spread):.1f} % of fastest", verdict(spread <= TARGET_FLAT)])
    for case in cases:
        # two decimals, so a rate just under the target never reads as "20.0 M"
        trows.append([f"agent-steps/s >= 20 M ({case['people']:,} people)", f"{rate_of(case) / 1e6:.2f} M",
                      verdict(rate_of(case) >= engine_speed.TARGET_STEPS_PER_S)])
    if cases:
        bpa = cases[0]["bytes_per_agent"]
        trows.append(["bytes of state per agent <= 64", str(bpa), verdict(bpa <= engine_speed.TARGET_BYTES_PER_AGENT)])
    if history:
        warm = statistics.median(history["walls"]["warm"])
        trows.append(["history_2015_2016, one replicate, warm <= 20 s", f"{warm:.1f} s",
                      verdict(warm <= TARGET_HISTORY_WARM_S)])
    out.append(table(["target", "measured", "result"], trows, right={1}))
    out += ["", f"benchmark wall time {total_s:.0f} s"]
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
