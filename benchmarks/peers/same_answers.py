"""Same answers: our engine (a) and the idiomatic Mesa model (b) on the peers case, over
replicates, compared on the outputs they share.

    python benchmarks/peers/same_answers.py                       # 5 replicates, 10,000 people, 60 days
    python benchmarks/peers/same_answers.py --rest-shift 0.1      # Mesa rests with 0.45 instead of 0.35: must FAIL

Outputs compared (each a table of counts, summed over the replicates of one engine):

- arrivals by destination and day: people reaching their destination, per destination and
  per week of the run (days binned by 7), and per destination over the whole run;
- crossings by border and day: successful border crossings, per border (pair of countries) and
  per week, and per border over the whole run.

The test is a quasi-Poisson comparison of means whose tolerance comes from the replicates'
own spread. For each cell (destination x week, ...) with R replicates of each engine, the
variance of a count is taken as phi x its mean, where the dispersion phi is estimated from the
replicates of both engines together (sum of squared deviations from each engine's cell mean
over (R - 1) x the sum of the means; phi < 1 for person counts, which are multinomial, and may
be > 1 for crossings, where one person may cross the same border twice). Then

    z(cell) = (mean_a - mean_b) / sqrt(phi x (mean_a + mean_b) / R)

and X = sum of z^2 over the cells, which under "same distribution" is about phi-scaled
chi-square with k cells: X / k is compared with F(k, df_phi) (df_phi = 2 (R - 1) k). Cells whose
pooled mean is below 5 are merged into one cell first. An output passes when both its profile
(where x week) and its totals (where) have p >= ALPHA (0.001); the largest |z| and its cell are
printed to show where a failure comes from. Agent-steps per run (active agents stepped, summed
over days: the work each engine does) are compared with a Welch t-test over the replicates,
same ALPHA. Entrants by day must be identical.
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
MIN_CELL_MEAN = 5.0


def run_replicates(people: int, days: int, replicates: int, seed: int, rest_shift: float = 0.0,
                   case_path: Path | None = None) -> dict:
    """Outputs of `replicates` runs of each engine: arrays [replicate, day, where]."""
    import tempfile

    import common
    import mesa_model

    if case_path is None:
        case_path = Path(tempfile.mkdtemp(prefix="balkansim-peers-")) / "case.json"
        common.write_case(people, days, case_path)
    case = mesa_model.load_case(case_path)
    rest = case["rest_probability"] + rest_shift
    ours, mesa = [], []
    for r in range(replicates):
        t = time.perf_counter()
        ours.append(common.run_engine(people, days, seed=seed + r))
        t_ours = time.perf_counter() - t
        t = time.perf_counter()
        model = mesa_model.RouteModel(case, rng=1_000_003 * (seed + r) + 17, rest_probability=rest)
        for _ in range(days):
            model.step()
        mesa.append({k: np.asarray(v) for k, v in model.outputs().items()})
        print(f"[same_answers] replicate {r + 1}/{replicates}: ours {t_ours:.1f} s, Mesa {time.perf_counter() - t:.1f} s",
              file=sys.stderr, flush=True)
    stack = lambda runs, key: np.stack([np.asarray(run[key]) for run in runs])  # noqa: E731
    return {
        "case": {k: case[k] for k in ("destinations", "borders", "rest_probability")},
        "mesa_rest_probability": rest,
        "people": people, "days": days, "replicates": replicates, "seed": seed,
        "ours": {k: stack(ours, k) for k in ("arrivals", "crossings", "entrants", "agent_steps")},
        "mesa": {k: stack(mesa, k) for k in ("arrivals", "crossings", "entrants", "agent_steps")},
    }


def by_week(counts: np.ndarray) -> np.ndarray:
    """[replicate, day, where] -> [replicate, where x week] (weeks of 7 days, the last one shorter)."""
    r, days, where = counts.shape
    weeks = (days + WEEK - 1) // WEEK
    padded = np.zeros((r, weeks * WEEK, where), dtype=counts.dtype)
    padded[:, :days] = counts
    return padded.reshape(r, weeks, WEEK, where).sum(axis=2).transpose(0, 2, 1).reshape(r, where * weeks)


def quasi_poisson_test(a: np.ndarray, b: np.ndarray, labels: list[str]) -> dict:
    """a, b: [replicate, cell] counts of the two engines. Returns the statistic, p-value, the
    dispersion and the worst cell."""
    from scipy import stats

    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    pooled = (mean_a + mean_b) / 2
    sparse = pooled < MIN_CELL_MEAN
    if sparse.any():
        a = np.column_stack([a[:, ~sparse], a[:, sparse].sum(axis=1)])
        b = np.column_stack([b[:, ~sparse], b[:, sparse].sum(axis=1)])
        labels = [lab for lab, s in zip(labels, sparse) if not s] + ["(sparse cells merged)"]
        mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    keep = (mean_a + mean_b) > 0
    a, b, mean_a, mean_b = a[:, keep], b[:, keep], mean_a[keep], mean_b[keep]
    labels = [lab for lab, k in zip(labels, keep) if k]
    ra, rb = a.shape[0], b.shape[0]
    k = a.shape[1]
    if k == 0:
        return {"cells": 0, "p": 1.0, "phi": float("nan"), "statistic": 0.0, "worst_cell": "-", "worst_z": 0.0}
    squares = ((a - mean_a) ** 2).sum() + ((b - mean_b) ** 2).sum()
    df_phi = (ra - 1) * k + (rb - 1) * k
    phi = squares / ((ra - 1) * mean_a.sum() + (rb - 1) * mean_b.sum())
    phi = max(phi, 1e-3)
    # Under "same distribution" both cells have the pooled mean m: Var(mean_a - mean_b) = phi m (1/ra + 1/rb).
    m = (mean_a * ra + mean_b * rb) / (ra + rb)
    variance = phi * m * (1 / ra + 1 / rb)
    z = (mean_a - mean_b) / np.sqrt(np.maximum(variance, 1e-12))
    statistic = float((z ** 2).sum())
    p = float(stats.f.sf(statistic / k, k, df_phi))
    worst = int(np.argmax(np.abs(z)))
    return {"cells": int(k), "statistic": statistic, "p": p, "phi": float(phi), "df_phi": int(df_phi),
            "worst_cell": labels[worst], "worst_z": float(z[worst])}


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
        profile = quasi_poisson_test(by_week(a), by_week(b), week_labels)
        totals = quasi_poisson_test(a.sum(axis=1), b.sum(axis=1), list(wheres))
        for view, test, what in (("by week", profile, f"{len(wheres)} x {weeks} weeks"),
                                 ("whole run", totals, f"{len(wheres)}")):
            rows.append({"output": output, "view": f"{view} ({what} cells)", **test,
                         "ours_total": float(a.sum(axis=(1, 2)).mean()), "mesa_total": float(b.sum(axis=(1, 2)).mean()),
                         "result": "PASS" if test["p"] >= ALPHA else "FAIL"})
    from scipy import stats

    a_steps, b_steps = ours["agent_steps"].astype(float), mesa["agent_steps"].astype(float)
    if a_steps.std() == 0 and b_steps.std() == 0:
        p_steps, t_steps = (1.0 if a_steps.mean() == b_steps.mean() else 0.0), 0.0
    else:
        t_steps, p_steps = stats.ttest_ind(a_steps, b_steps, equal_var=False)
    rows.append({"output": "agent-steps per run", "view": "Welch t-test over replicates", "cells": 1,
                 "statistic": float(t_steps), "p": float(p_steps), "phi": float("nan"), "worst_cell": "-",
                 "worst_z": 0.0, "ours_total": float(a_steps.mean()), "mesa_total": float(b_steps.mean()),
                 "result": "PASS" if p_steps >= ALPHA else "FAIL"})
    same_entrants = bool(np.array_equal(ours["entrants"], mesa["entrants"]))
    rows.append({"output": "entrants by day", "view": "identical in every replicate", "cells": days, "statistic": 0.0,
                 "p": float("nan"), "phi": float("nan"), "worst_cell": "-", "worst_z": 0.0,
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
        f"quasi-Poisson test of equal means, dispersion phi from the replicates' spread; PASS when p >= {ALPHA}",
    ]
    body = []
    for row in rows:
        p = "-" if np.isnan(row["p"]) else (f"{row['p']:.3f}" if row["p"] >= 1e-3 else f"{row['p']:.1e}")
        phi = "-" if np.isnan(row["phi"]) else f"{row['phi']:.2f}"
        worst = "-" if row["worst_cell"] == "-" else f"{row['worst_cell']} ({row['worst_z']:+.1f})"
        body.append([row["output"], row["view"], f"{row['ours_total']:,.0f}", f"{row['mesa_total']:,.0f}",
                     phi, f"{row['statistic']:.1f}", p, worst, row["result"]])
    lines.append(table(["output", "view", "ours mean", "Mesa mean", "phi", "X or t", "p", "largest |z| (cell, z)", "result"],
                       body, right={2, 3, 4, 5, 6}))
    return "\n".join(lines)


def check(people: int, days: int, replicates: int, seed: int, rest_shift: float = 0.0) -> tuple[bool, str, list[dict]]:
    results = run_replicates(people, days, replicates, seed, rest_shift)
    rows = compare(results)
    return all(r["result"] == "PASS" for r in rows), report(results, rows), rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--replicates", type=int, default=5)
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
