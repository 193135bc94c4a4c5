"""Calibration targets: which model output is compared with which observed series, over which
months, with which error measure, and why the pairing is fair (calibration/targets.toml).

    scenario = "../scenarios/history_2015_2016.toml"    # relative to the targets file

    [fit]                       # the fit reported against the issue's targets
    months = ["2015-01", "2016-12"]
    [out_of_sample]             # fit on these months only, then judge the model on the others
    fit_months = ["2015-01", "2015-12"]
    test_months = ["2016-01", "2016-06"]

    [[targets]]                 # a monthly series
    name = "western_balkan_route_detections"
    observed = { file = "data/frontex_detections_monthly.csv", series = "frontex_ibc_detections_monthly",
                 where = "Western Balkan Route" }          # border_type = "Land" to pick one
    simulated = { event = "apprehensions", countries = ["HU", "HR"] }
    # or: simulated = { crossings_from = ["RS"], crossings_into = ["HU", "HR"] }
    weight = 1.0
    why = "..."

    [[totals]]                  # figures over periods: a count from one date to another
    name = "hungary_detections"
    observed = { file = "data/country_entries_2015_2016.csv", series = "hungary_police_illegal_border_crossers",
                 where = "Hungary" }
    simulated = { event = "apprehensions", countries = ["HU"] }
    weight = 0.0                # 0: reported by the validation, not fitted
    why = "..."

    [parameters."behaviour.rest_probability_per_day"]   # a scenario key, as in sweep files
    min = 0.05
    max = 0.7
    log = false
    why = "..."

    [ensemble]                  # see simulation/calibrate.py
    members = 4
    trials = 40
    replicates = 3
    seed = 1

The error measures of one series over a set of months (`error_measures`):
- normalised absolute error: sum |simulated - observed| / sum observed (Flee's averaged relative
  difference, for one series);
- correlation: Pearson's r of simulated and observed months;
- coverage: the share of observed months inside the simulated 5-95 % band.

A total is one published count over a period (say 1 Jan to 23 Jun 2015), compared with the
model's sum over the same days. Such figures span orders of magnitude (Hungary's 391,384 in 2015,
Bosnia's hundred in 2016), so a total's error is the log ratio |ln((simulated + 1) / (observed +
1))|, averaged over the target's periods inside the fit window (`total_error`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from . import kernels
from .errors import InputError

MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
EVENTS = (*kernels.EVENT_NAMES, "smuggler_revenue_eur")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MonthRange(_Strict):
    months: tuple[str, str]

    @field_validator("months")
    @classmethod
    def _ordered(cls, value: tuple[str, str]) -> tuple[str, str]:
        return _month_pair(value)


def _month_pair(value: tuple[str, str]) -> tuple[str, str]:
    import re

    for month in value:
        if not re.fullmatch(MONTH, month) or month < "0001":
            raise ValueError(f"months as 'YYYY-MM' from the year 0001 on, got {month!r}")
    if value[0] > value[1]:
        raise ValueError(f"the first month must not come after the last ({value[0]} > {value[1]})")
    return value


class OutOfSample(_Strict):
    fit_months: tuple[str, str]
    test_months: tuple[str, str]

    @model_validator(mode="after")
    def _apart(self) -> "OutOfSample":
        _month_pair(self.fit_months)
        _month_pair(self.test_months)
        if self.test_months[0] <= self.fit_months[1]:
            raise ValueError("test_months must all come after fit_months")
        return self


class ObservedSeries(_Strict):
    file: str
    series: str
    where: str
    border_type: str | None = None  # None: the sum over border types (land and sea)


class SimulatedSeries(_Strict):
    """Either an event summed over countries (events table), or successful crossings on border
    edges from some countries into others (flows table)."""

    event: str | None = None
    countries: list[str] | None = Field(default=None, min_length=1)
    crossings_from: list[str] | None = Field(default=None, min_length=1)
    crossings_into: list[str] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_kind(self) -> "SimulatedSeries":
        is_event = self.event is not None or self.countries is not None
        is_crossing = self.crossings_from is not None or self.crossings_into is not None
        if is_event == is_crossing:
            raise ValueError("give event and countries, or crossings_from and crossings_into")
        if is_event and (self.event is None or self.countries is None):
            raise ValueError("an event series needs both event and countries")
        if is_event and self.event not in EVENTS:
            raise ValueError(f"event must be one of {', '.join(EVENTS)}; got {self.event!r}")
        if is_crossing and (self.crossings_from is None or self.crossings_into is None):
            raise ValueError("a crossings series needs both crossings_from and crossings_into")
        return self

    def countries_named(self) -> list[str]:
        return [*(self.countries or []), *(self.crossings_from or []), *(self.crossings_into or [])]


class Limits(_Strict):
    """Acceptance limits a fit is judged against in the validation report."""

    normalised_absolute_error: float | None = Field(default=None, gt=0)  # at most, over the fit months
    coverage_90: float | None = Field(default=None, ge=0, le=1)  # at least, over the fit months
    out_of_sample_error: float | None = Field(default=None, gt=0)  # at most, over the test months


class _Pairing(_Strict):
    """An observed series paired with a model output, and why the pairing is fair."""

    name: str = Field(pattern=r"^[a-z0-9_]+$")
    observed: ObservedSeries
    simulated: SimulatedSeries
    why: str = Field(min_length=20, description="why this pairing is fair")


class Target(_Pairing):
    """A monthly series."""

    weight: float = Field(default=1.0, ge=0, le=1000)
    limits: Limits | None = None  # optional acceptance limits, reported as PASS / MISS


class Total(_Pairing):
    """Published counts over periods (rows with a `period` such as 2015-01-01/2015-06-23)."""

    weight: float = Field(default=0.0, ge=0, le=1000)  # 0: reported by the validation, not fitted


class Prior(_Strict):
    min: float
    max: float
    log: bool = False
    why: str = Field(min_length=5, description="where the range comes from")

    @model_validator(mode="after")
    def _range(self) -> "Prior":
        if not (np.isfinite(self.min) and np.isfinite(self.max)) or self.min >= self.max:
            raise ValueError(f"min must be a finite number below max (got {self.min}, {self.max})")
        if self.log and self.min <= 0:
            raise ValueError("a log-scale range needs min > 0")
        return self


class EnsembleSettings(_Strict):
    members: int = Field(default=4, ge=1, le=1000)
    trials: int = Field(default=40, ge=2, le=100_000)
    replicates: int = Field(default=3, ge=1, le=1000)
    seed: int = Field(default=1, ge=0, lt=2**32)


class TargetsSpec(_Strict):
    description: str = ""
    scenario: str
    fit: MonthRange
    out_of_sample: OutOfSample | None = None
    targets: list[Target] = Field(min_length=1)
    totals: list[Total] = []
    parameters: dict[str, Prior] = Field(min_length=1)
    ensemble: EnsembleSettings = EnsembleSettings()
    quick: EnsembleSettings = EnsembleSettings(members=2, trials=4, replicates=1)

    @model_validator(mode="after")
    def _unique(self) -> "TargetsSpec":
        names = [t.name for t in (*self.targets, *self.totals)]
        if len(set(names)) != len(names):
            raise ValueError("target and total names must differ")
        return self


class Targets:
    """A validated targets file with its scenario and observed series."""

    def __init__(self, spec: TargetsSpec, file: Path, scenario, observed: dict[str, pd.DataFrame],
                 observed_totals: dict[str, pd.DataFrame] | None = None):
        self.spec, self.file, self.scenario, self.observed = spec, file, scenario, observed
        self.observed_totals = observed_totals or {}

    @classmethod
    def load(cls, path: str | Path) -> "Targets":
        from .scenario import load_scenario_named_in, load_toml_spec
        from .sweep import ParameterRange, _check_parameter

        path = Path(path)
        spec = load_toml_spec(path, TargetsSpec)
        scenario = load_scenario_named_in(path, "scenario", spec.scenario)
        for key, prior in spec.parameters.items():
            _check_parameter(path, scenario, key, ParameterRange(min=prior.min, max=prior.max))
        countries = set(scenario.network.countries)
        observed, observed_totals = {}, {}
        for kind, entries in (("targets", spec.targets), ("totals", spec.totals)):
            for i, target in enumerate(entries):
                unknown = [c for c in target.simulated.countries_named() if c not in countries]
                if unknown:
                    raise InputError(path, f"{kind}[{i}].simulated", "countries of the scenario's network",
                                     ", ".join(unknown))
                if kind == "targets":
                    observed[target.name] = observed_series(path, i, target)
                else:
                    observed_totals[target.name] = observed_totals_of(path, i, target, scenario)
        return cls(spec, path, scenario, observed, observed_totals)

    @property
    def keys(self) -> list[str]:
        return list(self.spec.parameters)

    def months(self) -> pd.DatetimeIndex:
        """Every month any comparison needs (fit, out-of-sample fit and test)."""
        ranges = [self.spec.fit.months]
        if self.spec.out_of_sample:
            ranges += [self.spec.out_of_sample.fit_months, self.spec.out_of_sample.test_months]
        first, last = min(r[0] for r in ranges), max(r[1] for r in ranges)
        return pd.period_range(first, last, freq="M").to_timestamp()


def observed_series(path: Path, index: int, target: Target) -> pd.DataFrame:
    """The observed monthly series of a target: month, value, source (first source of the month)."""
    chosen = _observed_rows(path, f"targets[{index}].observed", target.observed, monthly=True)
    series = chosen.groupby("month").agg(value=("value", "sum"), source=("source", "first")).reset_index()
    return series


def observed_totals_of(path: Path, index: int, total: Total, scenario) -> pd.DataFrame:
    """A total's published counts: period, period_start, period_end (days), value, source. Every
    period must lie inside the scenario's period."""
    key = f"totals[{index}].observed"
    chosen = _observed_rows(path, key, total.observed, monthly=False)
    first, last = pd.Timestamp(scenario.start), pd.Timestamp(scenario.start) + pd.Timedelta(days=scenario.days - 1)
    outside = chosen[(chosen.period_start < first) | (chosen.period_end > last)]
    if len(outside):
        raise InputError(path, key, f"periods inside the scenario's period ({first:%Y-%m-%d} to {last:%Y-%m-%d})",
                         outside.period.iloc[0])
    return chosen[["period", "period_start", "period_end", "value", "source"]].reset_index(drop=True)


def _observed_rows(path: Path, key: str, observed: ObservedSeries, monthly: bool) -> pd.DataFrame:
    """The rows of the file named by `observed` (relative to the targets file at `path`) with its
    series, where and border type (only whole months when `monthly`); errors name `key`."""
    from .observed import load_observed
    from .tables import is_regular_file

    file = path.parent / observed.file
    if not is_regular_file(file):
        raise InputError(path, f"{key}.file", "an existing CSV file (relative to this file)", observed.file)
    table = load_observed(file)
    chosen = table[(table.series == observed.series) & (table["where"] == observed.where)]
    if monthly:
        chosen = chosen[chosen.month.notna()]
    if observed.border_type is not None:
        if "border_type" not in table.columns:
            raise InputError(path, f"{key}.border_type", "a file with a border_type column", observed.file)
        chosen = chosen[chosen.border_type == observed.border_type]
    if chosen.empty:
        raise InputError(path, key, f"{'monthly rows' if monthly else 'rows'} of series '{observed.series}' for "
                         f"'{observed.where}' in {observed.file}", "none")
    return chosen


def total_error(observed: np.ndarray, simulated: np.ndarray) -> float:
    """Mean log ratio |ln((simulated + 1) / (observed + 1))| over a total's periods."""
    observed, simulated = np.asarray(observed, float), np.asarray(simulated, float)
    return float(np.mean(np.abs(np.log((simulated + 1.0) / (observed + 1.0))))) if len(observed) else float("nan")


def simulated_totals(result, simulated: SimulatedSeries, periods: list[tuple[str, str]]) -> list[float]:
    """A run's sums of a simulated series over each period (first and last day, ISO dates); NaN
    for a period the run does not cover to its last day."""
    daily = simulated_daily(result, simulated)
    last_day = daily.index.max()
    sums = []
    for first, last in periods:
        first, last = pd.Timestamp(first), pd.Timestamp(last)
        sums.append(float(daily[(daily.index >= first) & (daily.index <= last)].sum()) if last <= last_day
                    else float("nan"))
    return sums


def simulated_monthly(result, simulated: SimulatedSeries) -> pd.Series:
    """A run's monthly totals of a target's simulated series, indexed by month start."""
    daily = simulated_daily(result, simulated)
    return daily.groupby(daily.index.to_period("M").to_timestamp()).sum().astype(float)


def simulated_daily(result, simulated: SimulatedSeries) -> pd.Series:
    """A run's daily values of a target's simulated series, indexed by date."""
    network = result.model.network
    if simulated.event is not None:
        events = result.events[result.events.country.isin(simulated.countries)]
        daily = events.groupby("date")[simulated.event].sum()
    else:
        countries = np.asarray(network.countries)
        from_country = countries[network.place_country[network.edge_from]]
        to_country = countries[network.place_country[network.edge_to]]
        chosen = (network.crosses_border & np.isin(from_country, simulated.crossings_from)
                  & np.isin(to_country, simulated.crossings_into))
        per_day = result.flows.departures.to_numpy().reshape(-1, network.n_edges)[:, chosen].sum(axis=1)
        daily = pd.Series(per_day, index=result.dates)
    daily.index = pd.DatetimeIndex(daily.index)
    return daily.astype(float)


def error_measures(observed: np.ndarray, median: np.ndarray, low: np.ndarray | None = None,
                   high: np.ndarray | None = None) -> dict[str, float]:
    """Normalised absolute error, correlation and (with a band) coverage over the given months."""
    observed, median = np.asarray(observed, float), np.asarray(median, float)
    total = observed.sum()
    measures = {
        "normalised_absolute_error": float(np.abs(median - observed).sum() / total) if total > 0 else float("nan"),
        "correlation": float(np.corrcoef(observed, median)[0, 1])
        if len(observed) > 2 and observed.std() > 0 and median.std() > 0 else float("nan"),
        "months": int(len(observed)),
    }
    if low is not None and high is not None:
        inside = (observed >= np.asarray(low) - 1e-9) & (observed <= np.asarray(high) + 1e-9)
        measures["coverage_90"] = float(inside.mean()) if len(observed) else float("nan")
    return measures


def months_between(months: tuple[str, str]) -> pd.DatetimeIndex:
    return pd.period_range(months[0], months[1], freq="M").to_timestamp()


def load_targets(path: str | Path) -> Targets:
    return Targets.load(path)


__all__: list[Any] = ["Targets", "load_targets", "error_measures", "simulated_monthly", "simulated_totals",
                      "total_error", "months_between"]
