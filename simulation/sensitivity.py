"""Which parameters the answers depend on: Morris screening or Sobol indices (SALib) of the
headline measures, computed from a sweep run through the sweep machinery (simulation/sweep.py).

A sensitivity file is a sweep file whose design is "morris" (N trajectories, N x (D + 1) runs:
elementary effects, a cheap screening) or "sobol" (Saltelli's scheme without second-order
terms, N x (D + 2) runs: first-order S1 and total ST variance shares). Replicates of a design
point are averaged before the analysis, so the indices describe the model's mean response.

    balkansim sensitivity scenarios/sweeps/sensitivity_morris.toml

writes `sensitivity.parquet` in the sweep's batch folder, one row per parameter, output and
index: columns parameter, output (measure / where), index (mu_star, sigma, mu_star_conf for
Morris; S1, ST for Sobol), value, confidence (the 95 % bootstrap half-width, where SALib gives
one)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from . import atomic
from .errors import InputError

DEFAULT_OUTPUTS = (("irregular_crossings_into_eu", "all"), ("arrivals", "all"), ("peak_transit_pressure", "all"),
                   ("days_over_capacity", "all"), ("smuggler_revenue_eur", "all"), ("returns", "all"),
                   ("median_days_in_transit", "all"))


def analyse(sweep, measures: pd.DataFrame, outputs: Sequence[tuple[str, str]] = DEFAULT_OUTPUTS,
            seed: int = 0) -> pd.DataFrame:
    """The indices of every output from a finished sweep's measures (one row per run and measure)."""
    kind = sweep.spec.design.kind
    if kind not in ("morris", "sobol"):
        raise InputError(sweep.file, "design.kind", "'morris' or 'sobol' for a sensitivity analysis", kind)
    problem = sweep.salib_problem()
    design = sweep.design[sweep.keys].to_numpy(float)
    rows = []
    for measure, where in outputs:
        chosen = measures[(measures.measure == measure) & (measures["where"] == where)]
        if chosen.empty:
            continue
        # Mean over replicates of each design point, in design order.
        by_point = chosen.groupby(chosen.point.astype(int)).value.mean().reindex(range(len(design)))
        if by_point.isna().any():
            missing = int(by_point.isna().sum())
            raise ValueError(f"{missing} design points have no finished run: finish the sweep first (re-run it)")
        values = by_point.to_numpy(float)
        output = f"{measure} / {where}"
        if np.ptp(values) == 0:
            for key in sweep.keys:  # the output does not move at all: every index is 0
                rows += [(key, output, index, 0.0, 0.0) for index in _indices(kind)]
            continue
        rows += _morris(problem, design, values, sweep.spec.design.levels, output, seed) if kind == "morris" \
            else _sobol(problem, values, output, seed)
    return pd.DataFrame(rows, columns=["parameter", "output", "index", "value", "confidence"])


def _indices(kind: str) -> tuple[str, ...]:
    return ("mu_star", "sigma") if kind == "morris" else ("S1", "ST")


def _morris(problem, design, values, levels, output, seed) -> list[tuple]:
    from SALib.analyze import morris

    result = morris.analyze(problem, design, values, num_levels=levels, seed=seed)
    rows = []
    for k, name in enumerate(problem["names"]):
        rows.append((name, output, "mu_star", float(result["mu_star"][k]), float(result["mu_star_conf"][k])))
        rows.append((name, output, "sigma", float(result["sigma"][k]), float("nan")))
    return rows


def _sobol(problem, values, output, seed) -> list[tuple]:
    from SALib.analyze import sobol

    result = sobol.analyze(problem, values, calc_second_order=False, seed=seed)
    rows = []
    for k, name in enumerate(problem["names"]):
        rows.append((name, output, "S1", float(result["S1"][k]), float(result["S1_conf"][k])))
        rows.append((name, output, "ST", float(result["ST"][k]), float(result["ST_conf"][k])))
    return rows


def run_sensitivity(file: str | Path, out: str | Path | None = None, workers: int | None = None,
                    scheduler: str | None = None, progress: bool = True, days: int | None = None):
    """Run (or resume) the sweep of a sensitivity file and analyse it; returns (table, batch, outcome)."""
    from .sweep import load_sweep

    sweep = load_sweep(file)
    if sweep.spec.design.kind not in ("morris", "sobol"):
        raise InputError(sweep.file, "design.kind", "'morris' or 'sobol' for a sensitivity analysis",
                         sweep.spec.design.kind)
    batch = sweep.batch(out=out, days=days)
    outcome = batch.run(workers=workers, scheduler=scheduler, progress=progress)
    if not outcome.ok:
        return None, batch, outcome
    table = analyse(sweep, batch.measures())
    with atomic.replacing(batch.folder / "sensitivity.parquet") as temporary:
        table.to_parquet(temporary, index=False)
    return table, batch, outcome


def ranking_text(table: pd.DataFrame) -> str:
    """Per output, the parameters ranked by mu_star (Morris) or ST (Sobol)."""
    lines = []
    for output, group in table.groupby("output", sort=False):
        main = "mu_star" if (group["index"] == "mu_star").any() else "ST"
        ranked = group[group["index"] == main].sort_values("value", ascending=False)
        lines.append(f"{output} ({main}):")
        for row in ranked.itertuples():
            confidence = "" if np.isnan(row.confidence) else f" ± {row.confidence:.3g}"
            lines.append(f"    {row.value:12.4g}{confidence:>14}  {row.parameter}")
    return "\n".join(lines)
