"""Same answers: our engine (a) and the idiomatic Mesa model (b) on the peers case, over
replicates, compared on the outputs they share.

    python benchmarks/peers/same_answers.py                       # 8 replicates, 10,000 people, 60 days
    python benchmarks/peers/same_answers.py --rest-shift 0.1      # Mesa rests with 0.45 instead of 0.35: must FAIL

Outputs compared (each a table of counts per run):

- arrivals by destination and day: people reaching their destination, per destination and
  per week of the run (days binned by 7), and per destination over the whole run;
- crossings by border and day: successful border crossings, per border (pair of countries) and
  per week, and per border over the whole run.

Each output is a table of cells (destination x week, destination, border x week, border). For
each cell, the difference between the engines' means over the replicates is divided by its
standard error from the replicates' own spread (pooled over both engines, ra + rb - 2 degrees of
freedom): t. Cells whose mean is below MIN_CELL_MEAN (20) are added together into one cell first.
The tolerance is Bonferroni's over the cells: a view passes when every |t| is within the
t-distribution's 1 - ALPHA / (2 cells) quantile (ALPHA = 0.001), i.e. the chance of a false
FAIL is at most 0.001 per view whatever the correlation between cells. The largest |t|, its cell
and its Bonferroni-adjusted p are printed to show where a failure comes from. Agent-steps per run
(the work each engine does: active agents stepped, summed over days) are one more cell. Entrants
by day must be identical.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

ALPHA = 0.001
WEEK = 7
MIN_CELL_MEAN = 20.0


OUTPUTS = ("arrivals", "crossings", "entrants", "agent_steps")


def _stack(runs: list[dict]) -> dict:
    return {k: np.stack([np.asarray(run[k]) for run in runs]) for k in OUTPUTS}


def engine_replicates(people: int, days: int, replicates: int, seed: int) -> dict:
    """Our engine (a): seeds seed .. seed + replicates - 1. Arrays [replicate, day, where]."""
    import common

    scenario = common.benchmark_scenario(people, days)
    runs = []
    for r in range(replicates):
        t = time.perf_counter()
        runs.append(common.run_engine(people, days, seed=seed + r, scenario=scenario))
        print(f"[same_answers] ours, replicate {r + 1}/{replicates}: {time.perf_counter() - t:.1f} s",
              file=sys.stderr, flush=True)
    return _stack(runs)


def mesa_replicates(case: dict, replicates: int, seed: int, rest_probability: float | None = None) -> dict:
    """The Mesa model (b), on its own seeds (derived from `seed`, distinct from ours)."""
    import mesa_model

    runs = []
    for r in range(replicates):
        t = time.perf_counter()
        model = mesa_model.RouteModel(case, rng=1_000_003 * (seed + r) + 17, rest_probability=rest_probability)
        for _ in range(case["days"]):
            model.step()
        runs.append(model.outputs())
        print(f"[same_answers] Mesa, replicate {r + 1}/{replicates}: {time.perf_counter() - t:.1f} s",
              file=sys.stderr, flush=True)
    return _stack(runs)


def run_replicates(people: int, days: int, replicates: int, seed: int, rest_shift: float = 0.0) -> dict:
    """Outputs of `replicates` runs of each engine, and what the report needs to know."""
    import common

    case = common.case_data(people, days)
    rest = case["rest_probability"] + rest_shift
    return results_of(case, engine_replicates(people, days, replicates, seed),
                      mesa_replicates(case, replicates, seed, rest), seed, rest)


def results_of(case: dict, ours: dict, mesa: dict, seed: int, mesa_rest: float) -> dict:
    return {"case": {k: case[k] for k in ("destinations", "borders", "rest_probability")},
            "mesa_rest_probability": mesa_rest, "people": case["people"], "days": case["days"],
            "replicates": len(ours["agent_steps"]), "seed": seed, "ours": ours, "mesa": mesa}


def by_week(counts: np.ndarray) -> np.ndarray:
    """[replicate, day, where] -> [replicate, where x week] (weeks of 7 days, the last one shorter)."""
    r, days, where = counts.shape
    weeks = (days + WEEK - 1) // WEEK
    padded = np.zeros((r, weeks * WEEK, where), dtype=counts.dtype)
    padded[:, :days] = counts
    return padded.reshape(r, weeks, WEEK, where).sum(axis=2).transpose(0, 2, 1).reshape(r, where * weeks)


def cell_test(a: np.ndarray, b: np.ndarray, labels: list[str]) -> dict:
    """a, b: [replicate, cell] outputs of the two engines. Each cell's difference of means is
    compared with its standard error from the replicates' pooled spread; the tolerance is
    Bonferroni's over the cells: |t| <= t_(ra + rb - 2) quantile at 1 - ALPHA / (2 cells)."""
    from scipy import stats

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    pooled = (a.mean(axis=0) + b.mean(axis=0)) / 2
    sparse = pooled < MIN_CELL_MEAN
    if sparse.any() and a.shape[1] > 1:
        a = np.column_stack([a[:, ~sparse], a[:, sparse].sum(axis=1)])
        b = np.column_stack([b[:, ~sparse], b[:, sparse].sum(axis=1)])
        labels = [lab for lab, s in zip(labels, sparse) if not s] + ["(small cells together)"]
    ra, rb = a.shape[0], b.shape[0]
    df = ra + rb - 2
    diff = a.mean(axis=0) - b.mean(axis=0)
    variance = (((a - a.mean(axis=0)) ** 2).sum(axis=0) + ((b - b.mean(axis=0)) ** 2).sum(axis=0)) / df
    se = np.sqrt(variance * (1 / ra + 1 / rb))
    tested = (se > 0) | (diff != 0)  # a cell that is the same constant in every run says nothing
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(se > 0, diff / np.where(se > 0, se, 1.0), np.inf * np.sign(diff))
    k = int(tested.sum())
    if k == 0:
        return {"cells": 0, "t": 0.0, "tolerance": float("nan"), "p": 1.0, "worst_cell": "-", "df": df}
    t_tested = np.where(tested, np.abs(t), -1.0)
    worst = int(np.argmax(t_tested))
    tolerance = float(stats.t.ppf(1 - ALPHA / (2 * k), df))
    p = float(min(1.0, 2 * k * stats.t.sf(abs(t[worst]), df)))
    return {"cells": k, "t": float(t[worst]), "tolerance": tolerance, "p": p, "worst_cell": labels[worst], "df": df}


def compare(results: dict) -> list[dict]:
    """One row per output and view: PASS / FAIL."""
    ours, mesa = results["ours"], results["mesa"]
    days = results["days"]
    weeks = (days + WEEK - 1) // WEEK
    rows = []
    for output, key, wheres in (("arrivals by destination and day", "arrivals", results["case"]["destinations"]),
                                ("crossings by border and day", "crossings", results["case"]["borders"])):
        a, b = ours[key], mesa[key]
        week_labels = [f"{w} week {i + 1}" for w in wheres for i in range(weeks)]
        for view, test in ((f"by week ({len(wheres)} x {weeks} cells)", cell_test(by_week(a), by_week(b), week_labels)),
                           (f"whole run ({len(wheres)} cells)", cell_test(a.sum(axis=1), b.sum(axis=1), list(wheres)))):
            rows.append({"output": output, "view": view, **test,
                         "ours_total": float(a.sum(axis=(1, 2)).mean()), "mesa_total": float(b.sum(axis=(1, 2)).mean()),
                         "result": "PASS" if test["p"] >= ALPHA else "FAIL"})
    steps = cell_test(ours["agent_steps"][:, None], mesa["agent_steps"][:, None], ["agent-steps"])
    rows.append({"output": "agent-steps per run", "view": "one cell", **steps,
                 "ours_total": float(ours["agent_steps"].mean()), "mesa_total": float(mesa["agent_steps"].mean()),
                 "result": "PASS" if steps["p"] >= ALPHA else "FAIL"})
    same_entrants = bool(np.array_equal(ours["entrants"], mesa["entrants"]))
    rows.append({"output": "entrants by day", "view": "identical in every replicate", "cells": days, "t": 0.0,
                 "tolerance": 0.0, "p": float("nan"), "worst_cell": "-", "df": 0,
                 "ours_total": float(ours["entrants"].sum(axis=1).mean()),
                 "mesa_total": float(mesa["entrants"].sum(axis=1).mean()),
                 "result": "PASS" if same_entrants else "FAIL"})
    return rows


def report(results: dict, rows: list[dict]) -> str:
    sys.path.insert(0, str(HERE.parent))
    from engine_speed import table

    lines = [
        f"Same answers: ours (a) vs idiomatic Mesa (b), {results['replicates']} replicates each, "
        f"{results['people']:,} people, {results['days']} days (ours seeds {results['seed']}..{results['seed'] + results['replicates'] - 1}; "
        f"Mesa rest probability {results['mesa_rest_probability']:.2f}, ours {results['case']['rest_probability']:.2f})",
        f"each cell: difference of the engines' means over its standard error from the replicates' pooled spread (t); "
        f"PASS when every |t| is within the tolerance, Bonferroni over the cells at {ALPHA} (p: Bonferroni-adjusted, of the largest |t|)",
    ]
    body = []
    for row in rows:
        p = "-" if np.isnan(row["p"]) else (f"{row['p']:.3f}" if row["p"] >= 1e-3 else f"{row['p']:.1e}")
        tolerance = "-" if not np.isfinite(row["tolerance"]) or row["tolerance"] == 0 else f"{row['tolerance']:.1f}"
        worst = "-" if row["worst_cell"] == "-" else f"{row['worst_cell']} ({row['t']:+.1f})"
        body.append([row["output"], row["view"], f"{row['ours_total']:,.0f}", f"{row['mesa_total']:,.0f}",
                     worst, tolerance, p, row["result"]])
    lines.append(table(["output", "view", "ours mean", "Mesa mean", "largest |t| (cell, t)", "tolerance |t| <=", "p",
                        "result"], body, right={2, 3, 5, 6}))
    return "\n".join(lines)


def check(people: int, days: int, replicates: int, seed: int, rest_shift: float = 0.0) -> tuple[bool, str, list[dict]]:
    results = run_replicates(people, days, replicates, seed, rest_shift)
    rows = compare(results)
    return all(r["result"] == "PASS" for r in rows), report(results, rows), rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--replicates", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rest-shift", type=float, default=0.0,
                        help="add this to the Mesa model's rest probability (a deliberately changed rule: the check must FAIL)")
    parser.add_argument("--json", action="store_true", help="print the rows as one JSON line at the end (for run.py)")
    args = parser.parse_args()
    if args.replicates < 2:
        parser.error("at least 2 replicates (the tolerance comes from their spread)")
    ok, text, rows = check(args.people, args.days, args.replicates, args.seed, args.rest_shift)
    print(text)
    if args.json:
        print(json.dumps({"ok": ok, "text": text, "rows": rows}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
