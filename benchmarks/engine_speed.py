"""Engine speed benchmark for balkansim: day-loop throughput, memory and time to first day.

    python benchmarks/engine_speed.py                 # 100,000 and 1,000,000 people, 100 days
    python benchmarks/engine_speed.py --quick         # 10,000 and 100,000 people, 30 days
    python benchmarks/engine_speed.py --sizes 250000 --days 60 --repeats 1

Everything runs on the bundled network and behaviour (scenarios/baseline.toml). Each measured
case runs in its own fresh child process (`sys.executable`), so its peak RSS is that case's
alone. All children share one Numba cache directory, created fresh for this benchmark
(NUMBA_CACHE_DIR), so nothing is written into the package and the first start-up child really
is cold. Progress goes to stderr; the table is printed to stdout at the end. See README.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Targets (see README.md).
TARGET_STEPS_PER_S = 20e6
TARGET_BYTES_PER_AGENT = 64
TARGET_RSS_1M_BYTES = 1 << 30  # 1 GiB, for the 1,000,000-people case
TARGET_WARM_START_S = 3.0

# Inflow for the throughput cases: N people over one 30-day month (June 2015), split over the
# baseline's sea entry places by its sea series' entry_shares. The period starts on 2015-06-01,
# so the people enter evenly over the first 30 days of the run.
INFLOW_MONTH = "2015-06"
PERIOD_START = "2015-06-01"
INFLOW_DAYS = 30

WARMUP_PEOPLE = 2_000
# Long enough for finished people to be compacted away, so `compact` is loaded before timing too
# (with 5 days it was not, and the first timed run paid about 5 ms to load it).
WARMUP_DAYS = 30

PHASES = ("routes", "add_entrants", "decide_day", "admit_at_capped_crossings", "grant_pathway_slots",
          "seat_smugglers", "allocate_reception", "compact")

# The start-up child: as a user would start a run. Timed from the very top of the script.
STARTUP_CHILD = """\
import time
_t0 = time.perf_counter()
import json, resource
import simulation
_t_import = time.perf_counter()
scenario = simulation.load_scenario(simulation.DEFAULT_SCENARIO)
_t_load = time.perf_counter()
model = simulation.MigrationModel(scenario)
_t_build = time.perf_counter()
model.step()
_t_step = time.perf_counter()
print(json.dumps({
    "to_first_day_s": _t_step - _t0,
    "import_s": _t_import - _t0,
    "load_s": _t_load - _t_import,
    "build_s": _t_build - _t_load,
    "first_step_s": _t_step - _t_build,
    "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
}))
"""


def log(message: str) -> None:
    print(f"[engine_speed {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- child: one size
def split_largest_remainder(total: int, shares: dict[str, float]) -> dict[str, int]:
    """Whole people per place, adding up to exactly `total`."""
    places = sorted(shares)
    raw = {p: total * shares[p] for p in places}
    whole = {p: int(raw[p]) for p in places}
    left = total - sum(whole.values())
    for p in sorted(places, key=lambda q: -(raw[q] - whole[q]))[:left]:
        whole[p] += 1
    return whole


# The "scaled world" (benchmarks/scaling.py): capacities grow with the people, so each person
# meets the same congestion at every size. At SCALED_WORLD_PEOPLE people it is the baseline's world.
SCALED_WORLD_PEOPLE = 100_000


def scenario_for(base, people: int, days: int, world: str = "fixed"):
    """The baseline with its inflow replaced: `people` enter over June 2015 (30 days) at the
    sea entry places, split by the baseline's sea-series entry_shares.

    world "fixed": the baseline's capacities, so more people means more queueing (at 1,000,000
    most of them wait for a smuggler on the Turkish coast). world "scaled": every country's
    smuggler seats and reception capacity multiplied by people / SCALED_WORLD_PEOPLE, so the
    work per person stays the same and the rate shows how the engine itself scales."""
    shares = dict(base.spec.inflow.series[0].entry_shares)
    rows = [{"month": INFLOW_MONTH, "entry": place, "people": n}
            for place, n in split_largest_remainder(people, shares).items()]
    changes = {"inflow": {"monthly": rows}, "period.start": PERIOD_START, "period.days": days}
    if world == "scaled":
        factor = people / SCALED_WORLD_PEOPLE
        for code, settings in base.spec.countries.items():
            seats = settings.smuggler_seats_per_day
            if seats is not None:
                changes[f"countries.{code}.smuggler_seats_per_day"] = max(1, round(seats * factor))
            capacity = settings.reception_capacity_factor
            if capacity is not None:
                changes[f"countries.{code}.reception_capacity_factor"] = capacity * factor
    elif world != "fixed":
        raise ValueError(f"world must be 'fixed' or 'scaled', got {world!r}")
    return base.with_changes(**changes)


def parse_sizes(text: str) -> list[int]:
    """People per case from a comma-separated list ("100000,1_000_000")."""
    return [int(s.replace("_", "")) for s in text.split(",") if s.strip()]


def child_env(work: Path) -> dict:
    """The environment of every timed child: a Numba cache of its own in `work` (fresh, so the
    first child really is cold), Numba's JIT on, and the tests' full daily checks off."""
    env = dict(os.environ)
    env["NUMBA_CACHE_DIR"] = str(work / "numba_cache")
    env.pop("NUMBA_DISABLE_JIT", None)
    env.pop("BALKANSIM_CHECKS", None)
    return env


def vm_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def run_size_case(people: int, days: int, repeats: int, world: str = "fixed") -> dict:
    """Runs in a fresh child process. Prints one JSON line on stdout."""
    import numba
    import numpy as np  # noqa: F401  (imported by simulation anyway)

    import simulation
    from simulation import kernels
    from simulation.population import BYTES_PER_AGENT

    base = simulation.load_scenario(simulation.DEFAULT_SCENARIO)

    # Warm-up: compile (or load from the Numba cache) every kernel before timing.
    t = time.perf_counter()
    simulation.MigrationModel(scenario_for(base, WARMUP_PEOPLE, WARMUP_DAYS)).run()
    warmup_s = time.perf_counter() - t
    rss_before_model_kb = vm_kb("VmRSS")

    # Phase timers: wrap the kernels the model calls through the `kernels` module (model.py
    # calls `kernels.decide_day(...)` etc.), and the route update on the instance. This only
    # patches attributes in this child process; nothing in simulation/ is changed. Overhead is a
    # few perf_counter calls per day.
    phase_s = dict.fromkeys(PHASES, 0.0)

    def timed(name, function):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                phase_s[name] += time.perf_counter() - start
        return wrapper

    for name in PHASES[1:]:
        setattr(kernels, name, timed(name, getattr(kernels, name)))

    scenario = scenario_for(base, people, days, world)
    runs = []
    for r in range(repeats):
        for name in phase_s:
            phase_s[name] = 0.0
        t = time.perf_counter()
        model = simulation.MigrationModel(scenario)
        setup_s = time.perf_counter() - t
        entered = int(model.arrivals.sum())
        if entered != people:
            raise SystemExit(f"scenario lets {entered} people enter, expected {people}")
        model._update_routes = timed("routes", model._update_routes)
        peak_active = 0
        t, cpu = time.perf_counter(), time.process_time()
        for _ in range(days):
            model.step()
            if model.population.n_on_route > peak_active:
                peak_active = model.population.n_on_route
        loop_s = time.perf_counter() - t
        cpu_s = time.process_time() - cpu
        runs.append({
            "setup_s": setup_s,
            "loop_s": loop_s,
            "cpu_s": cpu_s,
            "agent_steps": int(model.agent_steps),
            "peak_active": peak_active,
            "active_at_end": int(model.population.n_on_route),
            "phase_s": dict(phase_s),
        })
        print(f"[engine_speed] {people:,} people, run {r + 1}/{repeats}: day loop {loop_s:.2f} s, "
              f"{model.agent_steps:,} agent-steps, {model.agent_steps / loop_s / 1e6:.1f} M/s",
              file=sys.stderr, flush=True)
        del model
        gc.collect()  # the model is in reference cycles (Mesa's agents, the timed method): free it before the next

    if len({run["agent_steps"] for run in runs}) != 1:
        raise SystemExit("agent_steps differ between repeats of the same seed: the run is not deterministic")
    return {
        "people": people,
        "world": world,
        "days": days,
        "warmup_s": warmup_s,
        "runs": runs,
        "bytes_per_agent": int(BYTES_PER_AGENT),
        "rss_before_model_kb": rss_before_model_kb,
        "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "vm_hwm_kb": vm_kb("VmHWM"),
        "numba_threads": numba.config.NUMBA_NUM_THREADS,
        "threading_layer": _threading_layer(),
    }


def _threading_layer() -> str:
    import numba
    try:
        return numba.threading_layer()
    except ValueError:
        return "not initialised"


# ----------------------------------------------------------------------------- parent
def run_child(argv: list[str], env: dict, cwd: Path) -> tuple[dict | None, float, str]:
    """Run a child, return (its last stdout JSON line or None, whole-process wall s, stdout)."""
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"child failed (exit {proc.returncode}): {' '.join(argv)}")
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    data = None
    if lines:
        try:
            data = json.loads(lines[-1])
        except json.JSONDecodeError:
            data = None
    return data, wall, proc.stdout


def machine_info() -> dict:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import numba
    import numpy
    return {
        "nproc": os.cpu_count() if not hasattr(os, "sched_getaffinity") else len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "python": platform.python_version(),
        "numba": numba.__version__,
        "numpy": numpy.__version__,
        "platform": platform.platform(),
    }


def table(headers: list[str], rows: list[list[str]], right: set[int] | None = None) -> str:
    right = set(range(1, len(headers))) if right is None else right
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]

    def fmt(row):
        cells = [str(c).rjust(w) if i in right else str(c).ljust(w) for i, (c, w) in enumerate(zip(row, widths))]
        return "  ".join(cells).rstrip()
    return "\n".join([fmt(headers), "  ".join("-" * w for w in widths), *[fmt(r) for r in rows]])


def mib(n_bytes: float) -> str:
    return f"{n_bytes / 2**20:,.1f}"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=None, help="people per case, comma-separated (default 100000,1000000)")
    parser.add_argument("--days", type=int, default=None, help="days to run each case (default 100)")
    parser.add_argument("--repeats", type=int, default=5,
                        help="timed runs per case, in the same child; the median is reported (default 5)")
    parser.add_argument("--quick", action="store_true", help="fast check: 10,000 and 100,000 people, 30 days")
    parser.add_argument("--size-case", type=int, help=argparse.SUPPRESS)  # internal: run one case as a child
    parser.add_argument("--world", default="fixed", help=argparse.SUPPRESS)  # internal, for scaling.py
    args = parser.parse_args()

    if args.size_case is not None:
        result = run_size_case(args.size_case, args.days, args.repeats, args.world)
        print(json.dumps(result))
        return 0

    sizes_text = args.sizes or ("10000,100000" if args.quick else "100000,1000000")
    sizes = parse_sizes(sizes_text)
    days = args.days or (30 if args.quick else 100)
    if days < 1 or args.repeats < 1 or any(n < 1 for n in sizes):
        parser.error("sizes, days and repeats must be at least 1")

    started = time.perf_counter()
    info = machine_info()
    work = Path(tempfile.mkdtemp(prefix="balkansim-bench-"))
    env = child_env(work)
    log(f"{info['nproc']} CPUs ({info['cpu']}), Python {info['python']}, numba {info['numba']}; "
        f"fresh Numba cache in {env['NUMBA_CACHE_DIR']}")
    try:
        # 1. Time to first simulated day. Cold first (the cache dir is new), then warm.
        startup = {}
        for label in ("cold", "warm"):
            log(f"start-up, {label} Numba cache: import, load baseline, build model, one step ...")
            data, wall, _ = run_child([sys.executable, "-c", STARTUP_CHILD], env, work)
            startup[label] = (data, wall)
            log(f"  {label}: {data['to_first_day_s']:.2f} s in the child, {wall:.2f} s whole process")
        cli = shutil.which("balkansim")
        cli_argv = [cli] if cli else [sys.executable, "-m", "simulation.cli"]
        log(f"start-up, real CLI warm: {' '.join(cli_argv)} run --days 1 --quiet --out ... ")
        _, cli_wall, _ = run_child([*cli_argv, "run", "--days", "1", "--quiet", "--out", str(work / "cli_run")],
                                   env, work)
        log(f"  CLI: {cli_wall:.2f} s whole process")

        # 2. Throughput and memory, one fresh child per size.
        cases = []
        for people in sizes:
            log(f"case {people:,} people, {days} days, {args.repeats} timed run(s), in a fresh child ...")
            data, wall, _ = run_child(
                [sys.executable, str(Path(__file__).resolve()), "--size-case", str(people),
                 "--days", str(days), "--repeats", str(args.repeats)], env, work)
            data["child_wall_s"] = wall
            cases.append(data)
            log(f"  done in {wall:.1f} s, peak RSS {data['peak_rss_kb'] / 1024:,.0f} MiB")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(report(info, sizes, days, args.repeats, startup, cli_wall, cases, time.perf_counter() - started))
    return 0


def report(info, sizes, days, repeats, startup, cli_wall, cases, total_s) -> str:
    threads = cases[0]["numba_threads"] if cases else "?"
    layer = cases[0]["threading_layer"] if cases else "?"
    out = [
        "balkansim engine speed (benchmarks/engine_speed.py)",
        f"machine: {info['nproc']} CPUs (nproc), {info['cpu']}; Python {info['python']}, numba {info['numba']} "
        f"({threads} threads, {layer} layer), numpy {info['numpy']}; {info['platform']}",
        f"cases: bundled network and behaviour (scenarios/baseline.toml), inflow replaced by N people over "
        f"{INFLOW_MONTH} ({INFLOW_DAYS} days, sea entry places, baseline sea entry_shares), {days} days run, "
        f"seed from the scenario; day-loop time is the median of {repeats} run(s) after a warm-up run",
        "",
        "Throughput and memory",
    ]
    rows, phase_rows = [], []
    for case in cases:
        runs = case["runs"]
        loops = sorted(r["loop_s"] for r in runs)
        median_run = sorted(runs, key=lambda r: r["loop_s"])[(len(runs) - 1) // 2]
        loop = statistics.median(loops)
        steps = runs[0]["agent_steps"]
        spread = f"{loops[0]:.2f}-{loops[-1]:.2f}" if len(loops) > 1 else "-"
        rows.append([
            f"{case['people']:,}", str(case["days"]), f"{loop:.2f}", spread, f"{steps:,}",
            f"{steps / loop / 1e6:.1f} M", f"{median_run['cpu_s'] / median_run['loop_s']:.2f}",
            f"{runs[0]['peak_active']:,}",
            mib(case["peak_rss_kb"] * 1024), mib(case["rss_before_model_kb"] * 1024),
            str(case["bytes_per_agent"]), mib(case["bytes_per_agent"] * case["people"]),
        ])
        run = median_run
        total = run["loop_s"]
        parts = [run["phase_s"][p] for p in PHASES]
        # In milliseconds: at 100,000 people most phases are a few ms of a 0.1 s loop.
        phase_rows.append([f"{case['people']:,}", f"{1e3 * total:.1f}"]
                          + [f"{1e3 * s:.1f} ({100 * s / total:.0f}%)" for s in parts]
                          + [f"{1e3 * (total - sum(parts)):.1f} ({100 * (total - sum(parts)) / total:.0f}%)"])
    out.append(table(
        ["people", "days", "loop s", "range s", "agent-steps", "steps/s", "CPU/wall", "peak active", "peak RSS MiB",
         "RSS pre-model MiB", "bytes/agent", "agent state MiB"], rows))
    out += ["", "Where the day loop goes (the median run, milliseconds and share of its loop time)"]
    out.append(table(["people", "loop ms", *PHASES, "other (records, Mesa, Python)"], phase_rows))

    cold, cold_wall = startup["cold"]
    warm, warm_wall = startup["warm"]
    out += ["", "Time to first simulated day (import simulation, load baseline, build model, one step)"]
    srows = []
    for label, d, wall in (("cold Numba cache", cold, cold_wall), ("warm Numba cache", warm, warm_wall)):
        srows.append([label, f"{d['to_first_day_s']:.2f}", f"{wall:.2f}", f"{d['import_s']:.2f}", f"{d['load_s']:.2f}",
                      f"{d['build_s']:.2f}", f"{d['first_step_s']:.2f}", mib(d["peak_rss_kb"] * 1024)])
    srows.append(["CLI run --days 1 --quiet, warm", "-", f"{cli_wall:.2f}", "-", "-", "-", "-", "-"])
    out.append(table(["case", "in child s", "whole process s", "import s", "load s", "build s",
                      "step 1 s", "peak RSS MiB"], srows))

    out += ["", "Targets"]
    trows = []
    for case in cases:
        runs = case["runs"]
        rate = runs[0]["agent_steps"] / statistics.median(r["loop_s"] for r in runs)
        # two decimals, so a rate just under the target never reads as "20.0 M"
        trows.append([f"agent-steps/s >= 20 M ({case['people']:,} people)", f"{rate / 1e6:.2f} M",
                      verdict(rate >= TARGET_STEPS_PER_S)])
    bpa = cases[0]["bytes_per_agent"] if cases else None
    if bpa is not None:
        trows.append(["bytes of state per agent <= 64", str(bpa), verdict(bpa <= TARGET_BYTES_PER_AGENT)])
    million = [c for c in cases if c["people"] == 1_000_000]
    if million:
        rss = million[0]["peak_rss_kb"] * 1024
        trows.append(["1,000,000 people: peak RSS < 1 GiB", f"{rss / 2**30:.2f} GiB ({mib(rss)} MiB)",
                      verdict(rss < TARGET_RSS_1M_BYTES)])
    else:
        trows.append(["1,000,000 people: peak RSS < 1 GiB", "not run", "n/a"])
    trows.append(["warm start to first day < 3 s (whole process)", f"{warm_wall:.2f} s",
                  verdict(warm_wall < TARGET_WARM_START_S)])
    trows.append(["warm CLI run --days 1 < 3 s (whole process)", f"{cli_wall:.2f} s",
                  verdict(cli_wall < TARGET_WARM_START_S)])
    out.append(table(["target", "measured", "result"], trows, right={1}))
    out += ["", f"benchmark wall time {total_s:.0f} s"]
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
