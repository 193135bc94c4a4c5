"""Scenario comparison over replicates with common random numbers.

Replicate i of every scenario runs with the same seed (the root seed + i), so the counter-based
random draws of each person are the same in every scenario and the differences between
scenarios come from the policy. For each headline measure (measures.py) the comparison gives,
per scenario, the median and the 5-95 % band over replicates, and the difference from the
baseline, paired replicate by replicate, with its own median and band.

    from simulation.compare import compare
    comparison = compare(["scenarios/baseline.toml", "scenarios/anti_smuggling_serbia.toml"], replicates=10)
    comparison.summary()            # one row per scenario, measure and place
    comparison.to_parquet("c.parquet")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from . import atomic
from .batch import Batch, BatchOutcome
from .scenario import Scenario, load_scenario
from .tasks import make_task, scenario_payload

BAND = (0.05, 0.95)
MEASURE_LABELS = {
    "irregular_crossings_into_eu": "irregular crossings into the EU",
    "smuggler_revenue_eur": "smuggler revenue",
    "median_days_in_transit": "median days in transit",
}
KEYS = ["measure", "where", "unit"]


def default_scenarios() -> list[Path]:
    """The bundled baseline and partnership scenarios, baseline first."""
    from . import SCENARIO_DIR

    names = ["baseline", "anti_smuggling_serbia", "anti_smuggling_regional", "return_reintegration",
             "legal_pathways", "partnership_package"]
    return [SCENARIO_DIR / f"{name}.toml" for name in names]


def comparison_batch(scenarios: Sequence[Scenario | str | Path], replicates: int | None = None,
                     out: str | Path | None = None, seed: int | None = None, days: int | None = None,
                     keep_tables: bool = True) -> Batch:
    """The batch of a comparison: every scenario times every replicate."""
    loaded = [s if isinstance(s, Scenario) else load_scenario(s) for s in scenarios]
    if not loaded:
        raise ValueError("a comparison needs at least one scenario")
    names = [s.name for s in loaded]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"scenario names must differ within a comparison: {', '.join(duplicates)} appear twice")
    replicates = replicates or max(s.spec.replicates for s in loaded)
    root_seed = loaded[0].seed if seed is None else seed
    tasks = []
    definition = {"scenarios": [{"name": s.name, "file": s.file} for s in loaded], "baseline": names[0],
                  "replicates": replicates, "root_seed": root_seed, "days": days}
    payloads = [scenario_payload(scenario) for scenario in loaded]
    for replicate in range(replicates):
        for scenario, payload in zip(loaded, payloads):
            run_id = f"{scenario.name}-r{replicate:03d}"
            tasks.append(make_task(payload, root_seed + replicate, days, Path("."), run_id,
                                   {"scenario": scenario.name, "replicate": replicate}, keep_tables=keep_tables))
    batch = Batch.in_folder(out, "compare", "compare", definition, tasks)
    return batch


def compare(scenarios: Sequence[Scenario | str | Path] | None = None, replicates: int | None = None,
            workers: int | None = None, scheduler: str | None = None, out: str | Path | None = None,
            seed: int | None = None, days: int | None = None, progress: bool = True) -> "Comparison":
    """Run (or resume) a comparison batch and return its Comparison."""
    batch = comparison_batch(scenarios or default_scenarios(), replicates, out, seed, days)
    outcome = batch.run(workers=workers, scheduler=scheduler, progress=progress)
    comparison = Comparison(batch.measures(), batch.definition["baseline"], folder=batch.folder, outcome=outcome)
    if not comparison.measures.empty:
        comparison.to_parquet(batch.folder / "comparison.parquet")
    return comparison


class Comparison:
    """Measures of every run of a comparison (one row per run, measure and place) and their
    summary against the baseline scenario."""

    def __init__(self, measures: pd.DataFrame, baseline: str, folder: Path | None = None,
                 outcome: BatchOutcome | None = None):
        self.measures = measures
        self.baseline = baseline
        self.folder = folder
        self.outcome = outcome
        self.scenarios = list(dict.fromkeys(measures.scenario)) if not measures.empty else []

    @classmethod
    def from_folder(cls, folder: str | Path) -> "Comparison":
        """The comparison of a batch folder written by `compare` (complete runs only)."""
        import json

        folder = Path(folder)
        description = json.loads((folder / "batch.json").read_text(encoding="utf-8"))
        measures = pd.read_parquet(folder / "measures")
        measures["scenario"] = measures.scenario.astype(str)
        order = {s["name"]: i for i, s in enumerate(description["definition"]["scenarios"])}
        measures = measures.sort_values(["scenario", "replicate"], key=lambda c: c.map(order) if c.name == "scenario" else c,
                                        kind="stable").reset_index(drop=True)
        return cls(measures, description["definition"]["baseline"], folder=folder)

    def summary(self) -> pd.DataFrame:
        """Per scenario, measure and place: replicates, median, 5 % and 95 % quantiles over
        replicates, and the paired difference from the baseline (median, 5 %, 95 %)."""
        if self.measures.empty:
            return pd.DataFrame()
        # Rows in the runs' own order (measures.py); one column per scenario and replicate.
        table = self.measures.set_index(KEYS + ["scenario", "replicate"]).value.unstack(["scenario", "replicate"])
        order = self.measures.drop_duplicates(KEYS).set_index(KEYS).index
        table = table.reindex(order)
        if self.baseline not in table.columns.get_level_values(0):
            raise ValueError(f"the baseline scenario '{self.baseline}' has no finished runs")
        base = table[self.baseline]
        rows = []
        for scenario in self.scenarios:
            values = table[scenario]
            shared = [r for r in values.columns if r in base.columns]
            difference = values[shared].to_numpy() - base[shared].to_numpy()
            stats = _band(values.to_numpy())
            diff_stats = _band(difference)
            frame = pd.DataFrame({
                "scenario": scenario,
                "replicates": np.sum(~np.isnan(values.to_numpy()), axis=1),
                "median": stats[1], "low": stats[0], "high": stats[2],
                "difference_median": diff_stats[1], "difference_low": diff_stats[0], "difference_high": diff_stats[2],
            }, index=values.index)
            rows.append(frame.reset_index())
        summary = pd.concat(rows, ignore_index=True)
        return summary[["scenario", *KEYS, "replicates", "median", "low", "high", "difference_median",
                        "difference_low", "difference_high"]]

    def headline(self) -> pd.DataFrame:
        """The rows worth printing: whole-network totals, arrivals by destination, and the
        transit pressure and days over capacity of countries where any scenario exceeds 1."""
        summary = self.summary()
        if summary.empty:
            return summary
        over = summary[(summary.measure == "peak_transit_pressure") & (summary.high > 1)]["where"].unique()
        keep = ((summary["where"] == "all")
                | summary.measure.isin(["arrivals", "irregular_crossings_into_eu"])
                | (summary.measure.isin(["peak_transit_pressure", "days_over_capacity"]) & summary["where"].isin(over)))
        return summary[keep].reset_index(drop=True)

    def table_text(self) -> str:
        """The headline table as text: per measure and scenario the median and 5-95 % band over
        replicates, and the paired difference from the baseline with its band."""
        headline = self.headline()
        if headline.empty:
            return "(no finished runs)"
        rows = []
        for (measure, where, unit), group in headline.groupby(KEYS, sort=False):
            label = MEASURE_LABELS.get(measure, measure.replace("_", " ")) + ("" if where == "all" else f", {where}")
            label += f" ({unit})"
            for k, row in enumerate(group.itertuples()):
                is_baseline = row.scenario == self.baseline
                rows.append({
                    "measure": label if k == 0 else "",
                    "scenario": row.scenario,
                    "median": _number(row.median),
                    "5-95 %": f"{_number(row.low)} to {_number(row.high)}",
                    "vs baseline": "" if is_baseline else _number(row.difference_median, signed=True),
                    "its 5-95 %": "" if is_baseline else (f"{_number(row.difference_low, signed=True)} to "
                                                         f"{_number(row.difference_high, signed=True)}"),
                })
        return _aligned(pd.DataFrame(rows), left=("measure", "scenario"))

    def to_parquet(self, path: str | Path) -> Path:
        """The summary table as one Parquet file (written aside, then renamed)."""
        path = Path(path)
        with atomic.replacing(path) as temporary:
            self.summary().to_parquet(temporary, index=False)
        return path

    def plot(self, measures: Sequence[tuple[str, str]] | None = None):
        """Each measure's difference from the baseline with its 5-95 % band, one panel per
        measure (plots.comparison_chart); returns the matplotlib Figure."""
        from .plots import comparison_chart

        return comparison_chart(self, measures=measures)


def _band(values: np.ndarray) -> np.ndarray:
    """5 %, 50 % and 95 % quantiles along the replicates (NaN where every value is NaN)."""
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanquantile(values, [BAND[0], 0.5, BAND[1]], axis=1)


def _aligned(table: pd.DataFrame, left: tuple[str, ...]) -> str:
    widths = {c: max(len(c), *(len(str(v)) for v in table[c])) for c in table.columns}

    def line(cells: dict) -> str:
        return "  ".join(str(cells[c]).ljust(widths[c]) if c in left else str(cells[c]).rjust(widths[c])
                         for c in table.columns).rstrip()

    return "\n".join([line({c: c for c in table.columns})] + [line(row) for row in table.to_dict("records")])


def _number(value: float, signed: bool = False) -> str:
    if value is None or np.isnan(value):
        return "n/a"
    sign = "+" if signed and value > 0 else ""
    if abs(value) >= 100 or float(value).is_integer():
        return f"{sign}{value:,.0f}"
    return f"{sign}{value:.2f}"


def describe_outcome(outcome: BatchOutcome, total: int) -> str:
    parts = [f"{len(outcome.completed)} runs done now", f"{len(outcome.reused)} reused"]
    if outcome.failures:
        parts.append(f"{len(outcome.failures)} failed")
    if outcome.interrupted:
        parts.append("interrupted")
    return f"{total} runs: " + ", ".join(parts) + f" ({outcome.wall_seconds:.0f} s)"


__all__: list[Any] = ["Comparison", "compare", "comparison_batch", "default_scenarios"]
