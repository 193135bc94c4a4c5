"""How well the fitted model reproduces the record, series by series.

For each fit (`full`, and `out_of_sample` when the targets file has one), every ensemble member
is run `replicates` times with fresh seeds (not the seeds it was fitted with) over the fit months
(and, out of sample, on through the test months it has not seen). Per target and month the
simulated median and 5-95 % band are over members x replicates: this model band holds the spread
of the fitted parameters and the model's own randomness only. The predictive band adds an
observation error: a log-normal error whose sd is that of log(observed / simulated median) over
the fitted months of that series and fit, so months outside the fit are judged with an error
estimated without them. (Over the fitted months the predictive band would cover about 90 % if
the log residuals were normal, less when they have heavy tails; its coverage out of sample is the
real test.) Written to the calibration folder:

    validation.parquet        fit, series, month, observed, simulated_median, simulated_low,
                              simulated_high, predictive_low, predictive_high, observation_log_sd,
                              fitted (month inside the fit window), source, simulated_as (the
                              model output compared, in words)
    validation_metrics.csv    fit, series, window (fitted / out_of_sample), normalised absolute
                              error, correlation, coverage of the 90 % model and predictive bands, months
    validation_totals.csv     fit, total, period, window (fitted / out_of_sample / not judged),
                              observed, simulated median and 5-95 % band, simulated / observed,
                              source: the published counts over periods (targets' [[totals]])
    parameters.csv            fit, parameter, prior min / max, ensemble min / median / max
    report.md                 the same in words and tables, with each target's limits as PASS / MISS
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import atomic
from .calibrate import (FITS, days_to_cover, fit_months, make_series_task, periods_inside, read_ensemble, series_task,
                        write_csv)
from .targets import Targets, error_measures, months_between, total_error

PREDICTION_SEED_OFFSET = 10_000  # prediction runs use seeds the fits never saw
Z_90 = 1.6448536269514722  # the standard normal's 95 % quantile: a central 90 % band


def evaluation_months(targets: Targets, fit: str) -> tuple[str, str]:
    window = fit_months(targets, fit)
    if fit == "out_of_sample":
        return window[0], targets.spec.out_of_sample.test_months[1]
    return window


def validate_fit(targets: Targets, folder: Path, quick: bool = False, workers: int | None = None,
                 scheduler: str | None = None, progress: bool = True) -> pd.DataFrame:
    from tqdm import tqdm

    from .batch import task_results

    folder = Path(folder)
    settings = targets.spec.quick if quick else targets.spec.ensemble
    fits = [f for f in FITS if f == "full" or targets.spec.out_of_sample is not None]
    tasks, ensembles = [], {}
    for fit in fits:
        ensembles[fit] = read_ensemble(folder, fit)
        last = evaluation_months(targets, fit)[1]
        for member in ensembles[fit].to_dict("records"):
            values = {key: member[key] for key in targets.keys}
            for replicate in range(settings.replicates):
                tasks.append(make_series_task(targets, values,
                                              targets.scenario.seed + PREDICTION_SEED_OFFSET + replicate,
                                              days_to_cover(targets, last), f"{fit}|{member['member']}|{replicate}"))
    simulated: dict[str, list[dict]] = {fit: [] for fit in fits}
    failures = []
    with tqdm(total=len(tasks), desc="validation runs", unit="run", disable=not progress) as bar:
        for result in task_results(tasks, workers=workers, scheduler=scheduler, function=series_task):
            if result["ok"]:
                simulated[result["run_id"].split("|")[0]].append(result)
            else:
                failures.append(result)
                bar.write(f"validation run {result['run_id']} failed: {result['error']}")
            bar.update(1)
    if failures:
        raise RuntimeError(f"{len(failures)} validation runs failed; first: {failures[0]['error']}")

    table = pd.concat([_validation_rows(targets, fit, [run["series"] for run in simulated[fit]]) for fit in fits],
                      ignore_index=True)
    totals = pd.concat([_totals_rows(targets, fit, [run.get("totals", {}) for run in simulated[fit]])
                        for fit in fits], ignore_index=True)
    metrics = _metrics(targets, table)
    parameters = _parameter_table(targets, ensembles)
    with atomic.replacing(folder / "validation.parquet") as temporary:
        table.to_parquet(temporary, index=False)
    write_csv(metrics, folder / "validation_metrics.csv")
    write_csv(totals, folder / "validation_totals.csv")
    write_csv(parameters, folder / "parameters.csv")
    atomic.write_text(folder / "report.md", report_text(targets, metrics, parameters, settings, quick, totals))
    return table


TOTALS_COLUMNS = ["fit", "total", "period", "window", "observed", "simulated_median", "simulated_low",
                  "simulated_high", "simulated_over_observed", "log_ratio_error", "weight", "simulated_as", "source"]


def _totals_rows(targets: Targets, fit: str, runs: list[dict[str, list[float]]]) -> pd.DataFrame:
    """Each total's periods that the fit's runs cover: observed against the simulated median and
    band, judged as fitted (inside the fit months), out of sample (inside the test months) or not
    judged (covered by the runs but in neither window)."""
    fitted_months = months_between(fit_months(targets, fit))
    tested_months = months_between(targets.spec.out_of_sample.test_months) if fit == "out_of_sample" else None
    rows = []
    for total in targets.spec.totals:
        frame = targets.observed_totals[total.name]
        values = np.array([run[total.name] for run in runs], dtype=float).reshape(len(runs), len(frame))
        covered = ~np.isnan(values).any(axis=0)
        fitted = periods_inside(frame, fitted_months)
        tested = periods_inside(frame, tested_months) if tested_months is not None else np.zeros(len(frame), bool)
        for k, row in frame.iterrows():
            if not covered[k]:
                continue
            low, median, high = np.quantile(values[:, k], [0.05, 0.5, 0.95])
            rows.append({"fit": fit, "total": total.name, "period": row.period,
                         "window": "fitted" if fitted[k] else "out_of_sample" if tested[k] else "not judged",
                         "observed": row.value, "simulated_median": median, "simulated_low": low,
                         "simulated_high": high,
                         "simulated_over_observed": median / row.value if row.value > 0 else np.nan,
                         "log_ratio_error": total_error([row.value], [median]), "weight": total.weight,
                         "simulated_as": _describe(total.simulated), "source": row.source})
    return pd.DataFrame(rows, columns=TOTALS_COLUMNS)


def _validation_rows(targets: Targets, fit: str, runs: list[dict[str, dict[str, float]]]) -> pd.DataFrame:
    first, last = evaluation_months(targets, fit)
    months = months_between((first, last))
    fitted = set(months_between(fit_months(targets, fit)))
    frames = []
    for target in targets.spec.targets:
        values = np.array([[run[target.name].get(m.strftime("%Y-%m"), 0.0) for m in months] for run in runs])
        low, median, high = np.quantile(values, [0.05, 0.5, 0.95], axis=0)
        observed = targets.observed[target.name].set_index("month")
        observed_values = observed.value.reindex(months).to_numpy(float)
        in_fit = np.array([m in fitted for m in months])
        log_sd = observation_log_sd(observed_values[in_fit], median[in_fit])
        frames.append(pd.DataFrame({
            "fit": fit, "series": target.name, "month": months,
            "observed": observed.value.reindex(months).to_numpy(float),
            "simulated_median": median, "simulated_low": low, "simulated_high": high,
            "predictive_low": low * np.exp(-Z_90 * log_sd), "predictive_high": high * np.exp(Z_90 * log_sd),
            "observation_log_sd": log_sd,
            "fitted": in_fit,
            "source": observed.source.reindex(months).fillna("").to_numpy(),
            "simulated_as": _describe(target.simulated),
            "runs": len(runs),
        }))
    return pd.concat(frames, ignore_index=True)


def observation_log_sd(observed: np.ndarray, simulated: np.ndarray) -> float:
    """The sd of log(observed / simulated) over months where both are positive (0 if fewer than 2)."""
    usable = (observed > 0) & (simulated > 0) & np.isfinite(observed)
    if usable.sum() < 2:
        return 0.0
    return float(np.std(np.log(observed[usable] / simulated[usable]), ddof=1))


def _metrics(targets: Targets, table: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (fit, series), group in table.groupby(["fit", "series"], sort=False):
        for window, part in (("fitted", group[group.fitted]), ("out_of_sample", group[~group.fitted])):
            part = part.dropna(subset=["observed"])
            if part.empty:
                continue
            measures = error_measures(part.observed, part.simulated_median, part.simulated_low, part.simulated_high)
            predictive = error_measures(part.observed, part.simulated_median, part.predictive_low,
                                        part.predictive_high)["coverage_90"]
            rows.append({"fit": fit, "series": series, "window": window,
                         "first_month": part.month.min().strftime("%Y-%m"),
                         "last_month": part.month.max().strftime("%Y-%m"), **measures,
                         "predictive_coverage_90": predictive,
                         "observation_log_sd": float(part.observation_log_sd.iloc[0])})
    return pd.DataFrame(rows)


def _parameter_table(targets: Targets, ensembles: dict[str, pd.DataFrame]) -> pd.DataFrame:
    rows = []
    for fit, ensemble in ensembles.items():
        for key, prior in targets.spec.parameters.items():
            member0 = ensemble.loc[ensemble.member == 0, key]
            rows.append({"fit": fit, "parameter": key, "prior_min": prior.min, "prior_max": prior.max,
                         "member_0": float(member0.iloc[0]) if len(member0) else np.nan,
                         "ensemble_min": ensemble[key].min(), "ensemble_median": ensemble[key].median(),
                         "ensemble_max": ensemble[key].max(), "members": len(ensemble)})
    return pd.DataFrame(rows)


def limit_checks(targets: Targets, metrics: pd.DataFrame) -> list[dict[str, Any]]:
    """Each target's limits against the full fit (error, coverage) and the out-of-sample test."""
    checks = []
    for target in targets.spec.targets:
        limits = target.limits
        if limits is None:
            continue
        fitted = metrics[(metrics.fit == "full") & (metrics.series == target.name) & (metrics.window == "fitted")]
        tested = metrics[(metrics.fit == "out_of_sample") & (metrics.series == target.name)
                         & (metrics.window == "out_of_sample")]
        for label, frame, column, limit, at_most in (
                ("normalised absolute error, fitted months", fitted, "normalised_absolute_error",
                 limits.normalised_absolute_error, True),
                ("coverage of the 90 % predictive band, fitted months", fitted, "predictive_coverage_90",
                 limits.coverage_90, False),
                ("coverage of the 90 % predictive band, out of sample", tested, "predictive_coverage_90",
                 limits.coverage_90, False),
                ("normalised absolute error, out of sample", tested, "normalised_absolute_error",
                 limits.out_of_sample_error, True)):
            if limit is None:
                continue
            value = float(frame[column].iloc[0]) if len(frame) else float("nan")
            ok = (value <= limit) if at_most else (value >= limit)
            checks.append({"series": target.name, "check": label, "limit": f"{'<=' if at_most else '>='} {limit}",
                           "value": value, "result": "PASS" if ok else "MISS"})
    return checks


def report_text(targets: Targets, metrics: pd.DataFrame, parameters: pd.DataFrame, settings, quick: bool,
                totals: pd.DataFrame | None = None) -> str:
    checks = pd.DataFrame(limit_checks(targets, metrics))
    lines = [
        "# Calibration and validation report",
        "",
        f"Targets: `{targets.file.name}`; scenario `{targets.scenario.name}`. Ensemble: {settings.members} members x "
        f"{settings.trials} trials (bootstrap resamples of the fit months; member 0 fits the months as observed); "
        f"validation: each member x {settings.replicates} replicate(s) with fresh seeds."
        + (" **Quick mode: too few runs for conclusions.**" if quick else ""),
        "",
        "Measures: normalised absolute error = sum |simulated median - observed| / sum observed over the months; "
        "correlation = Pearson's r; coverage = share of observed months inside a 90 % band. The model band "
        "(coverage_90) is the 5-95 % range over ensemble members x replicates: parameter spread and the model's "
        "randomness only. The predictive band (predictive_coverage_90) widens it by a log-normal observation "
        "error with the sd of log(observed / simulated) over the fit's own fitted months "
        "(observation_log_sd): over those months it would cover about 90 % if the log residuals were normal "
        "(less when they have heavy tails), so the informative "
        "coverage is out of sample, where the error was estimated without the months judged.",
        "",
        "## Limits",
        "",
        checks.to_markdown(index=False, floatfmt=".3f") if not checks.empty else "(no limits in the targets file)",
        "",
        "## Every series",
        "",
        metrics.to_markdown(index=False, floatfmt=".3f"),
        "",
    ]
    if totals is not None and not totals.empty:
        lines += [
            "## Totals over periods",
            "",
            "Published counts over periods (a police or ministry total from one date to another) against the "
            "model's sum over the same days: simulated median and 5-95 % band over members x replicates. "
            "log_ratio_error = |ln((simulated + 1) / (observed + 1))|. A total of weight 0 is reported here "
            "and not fitted.",
            "",
            # Counts as whole numbers with separators, the ratios to three figures.
            totals.drop(columns=["source"]).to_markdown(
                index=False, floatfmt=("", "", "", "", ",.0f", ",.0f", ",.0f", ",.0f", ".3g", ".3g", ".3g", "")),
            "",
        ]
    lines += [
        "## Fitted parameters",
        "",
        parameters.to_markdown(index=False, floatfmt=".4g"),
        "",
        "## The pairings and why they are fair",
        "",
    ]
    for target in targets.spec.targets:
        lines += [f"- **{target.name}** (weight {target.weight}): observed `{target.observed.series}` "
                  f"({target.observed.where}) from `{target.observed.file}`; simulated "
                  f"{_describe(target.simulated)}. {target.why}"]
    for total in targets.spec.totals:
        lines += [f"- **{total.name}** (total over periods, weight {total.weight}): observed "
                  f"`{total.observed.series}` ({total.observed.where}) from `{total.observed.file}`; simulated "
                  f"{_describe(total.simulated)}. {total.why}"]
    return "\n".join(lines) + "\n"


def _describe(simulated) -> str:
    if simulated.event is not None:
        return f"{simulated.event.replace('_', ' ')} in {', '.join(simulated.countries)}"
    return f"crossings from {', '.join(simulated.crossings_from)} into {', '.join(simulated.crossings_into)}"


