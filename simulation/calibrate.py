"""Fitting the uncertain behaviour parameters to observed series: a bootstrap ensemble of fits.

The targets file (simulation/targets.py) names the scenario, the observed series and the
simulated output each is compared with, the parameters with their prior ranges, and the
ensemble's size. A fit is an ensemble of `members` independent minimisations (Optuna's TPE
sampler, `trials` model runs each) of the weighted mean normalised absolute error over the fit
months. Member 0 fits the observations as they are; member k > 0 fits a bootstrap resample of
the fit months (months drawn with replacement, the same draw for every target), so the spread of
the members' parameters reflects how much the answer depends on which months were seen, and not
only where the optimiser happened to stop. Each member runs the model with its own seed, the
same for all its trials (common random numbers), so its objective is a deterministic function
of the parameters.

Two fits are made: `full` over the targets file's [fit] months, and `out_of_sample` over
[out_of_sample].fit_months only, which is then judged on test_months it has not seen
(simulation/validation.py). Each fit lives in its own folder with an Optuna SQLite study per
member, so an interrupted calibration resumes where it stopped; a folder holding a calibration
of other targets, data or settings is refused.

Outputs (in the calibration folder, default calibration/fitted/):
    <fit>/optuna.db       every trial, resumable
    <fit>/trials.csv      every completed trial: member, trial, objective, parameter values
    <fit>/ensemble.csv    the ensemble: each member's best trial
    calibrated.toml       the full fit's member-0 parameters as a partial scenario to extend
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import atomic
from .errors import InputError
from .targets import SimulatedSeries, Targets, months_between, simulated_monthly, simulated_totals, total_error

FITS = ("full", "out_of_sample")
FINGERPRINT_FILE = "fingerprint.json"


class CalibrationConflict(FileExistsError):
    """The calibration folder holds a calibration of other targets, data or settings."""


# ----------------------------------------------------------------------------- worker side
def series_task(task: dict[str, Any]) -> dict[str, Any]:
    """Run one scenario (plain data, see tasks.py) and return its simulated monthly series of
    each target. Never raises: an error comes back in the result."""
    import numba

    from .results import simulate
    from .tasks import scenario_from_payload

    started = time.perf_counter()
    outcome = {"run_id": task["run_id"], "run_key": task["run_id"], "ok": False, "error": None}
    try:
        numba.set_num_threads(1)
        scenario = scenario_from_payload(task["scenario"])
        result = simulate(scenario, seed=task["seed"], days=task["days"])
        series = {}
        for name, spec in task["simulated"].items():
            monthly = simulated_monthly(result, SimulatedSeries.model_validate(spec))
            series[name] = {month.strftime("%Y-%m"): float(value) for month, value in monthly.items()}
        totals = {name: simulated_totals(result, SimulatedSeries.model_validate(spec["simulated"]), spec["periods"])
                  for name, spec in task.get("totals", {}).items()}
        outcome.update(ok=True, series=series, totals=totals)
    except Exception as error:  # reported by the caller with the trial's identity
        outcome["error"] = f"{type(error).__name__}: {error}"
        outcome["traceback"] = traceback.format_exc(limit=8)
    outcome["wall_seconds"] = time.perf_counter() - started
    return outcome


# ----------------------------------------------------------------------------- parent side
def scenario_with(targets: Targets, values: dict[str, float]):
    """The targets' scenario with parameter values set at their keys."""
    from .scenario import Scenario
    from .sweep import set_value

    data = targets.scenario.data()
    for key, value in values.items():
        set_value(data, key, float(value))
    return Scenario.from_dict(data, file=targets.scenario.file)


def days_to_cover(targets: Targets, last_month: str) -> int:
    """Days from the scenario's start to the end of `last_month`."""
    end = (pd.Period(last_month, freq="M").end_time.normalize() - pd.Timestamp(targets.scenario.start)).days + 1
    if end > targets.scenario.days or pd.Timestamp(targets.scenario.start) > pd.Period(last_month, "M").start_time:
        raise InputError(targets.file, "months", f"months inside the scenario's period ({targets.scenario.start}, "
                         f"{targets.scenario.days} days)", last_month)
    return end


def make_series_task(targets: Targets, values: dict[str, float], seed: int, days: int, run_id: str) -> dict[str, Any]:
    from .tasks import scenario_payload

    totals = {t.name: {"simulated": t.simulated.model_dump(),
                       "periods": [[f"{a:%Y-%m-%d}", f"{b:%Y-%m-%d}"] for a, b in
                                   targets.observed_totals[t.name][["period_start", "period_end"]].itertuples(index=False)]}
              for t in targets.spec.totals}
    return {"run_id": run_id, "scenario": scenario_payload(scenario_with(targets, values)), "seed": int(seed),
            "days": int(days), "simulated": {t.name: t.simulated.model_dump() for t in targets.spec.targets},
            "totals": totals}


def fit_months(targets: Targets, fit: str) -> tuple[str, str]:
    if fit == "full":
        return targets.spec.fit.months
    if targets.spec.out_of_sample is None:
        raise InputError(targets.file, "out_of_sample", "an [out_of_sample] table for the out-of-sample fit")
    return targets.spec.out_of_sample.fit_months


def month_weights(months: pd.DatetimeIndex, member: int, seed: int) -> np.ndarray:
    """How often each fit month counts for a member: 1 each for member 0, a bootstrap draw of
    the months (with replacement) for the others."""
    if member == 0:
        return np.ones(len(months))
    generator = np.random.default_rng([seed, member])
    return np.bincount(generator.integers(0, len(months), len(months)), minlength=len(months)).astype(float)


def periods_inside(frame: pd.DataFrame, months: pd.DatetimeIndex) -> np.ndarray:
    """Which of a total's periods (period_start, period_end) lie wholly inside the months."""
    first, last = months.min(), months.max() + pd.offsets.MonthEnd(0)
    return ((frame.period_start >= first) & (frame.period_end <= last)).to_numpy()


def objective(targets: Targets, simulated: dict[str, dict[str, float]], months: pd.DatetimeIndex,
              weights: np.ndarray, totals: dict[str, list[float]] | None = None) -> float:
    """Weighted mean over targets of the (month-weighted) normalised absolute error, and over the
    totals with a weight of their log-ratio error (targets.total_error) over the periods inside
    the fit months."""
    total, weight_sum = 0.0, 0.0
    for target in targets.spec.totals:
        if target.weight == 0:
            continue
        frame = targets.observed_totals[target.name]
        inside = periods_inside(frame, months)
        if not inside.any():
            continue
        total += target.weight * total_error(frame.value.to_numpy()[inside], np.asarray(totals[target.name])[inside])
        weight_sum += target.weight
    for target in targets.spec.targets:
        if target.weight == 0:
            continue
        observed = targets.observed[target.name].set_index("month").value.reindex(months).to_numpy(float)
        values = simulated[target.name]
        model = np.array([values.get(m.strftime("%Y-%m"), 0.0) for m in months])
        seen = ~np.isnan(observed) * weights
        denominator = np.nansum(seen * observed)
        if denominator <= 0:
            continue
        total += target.weight * float(np.nansum(seen * np.abs(model - np.nan_to_num(observed))) / denominator)
        weight_sum += target.weight
    return total / weight_sum if weight_sum else float("nan")


def fingerprint(targets: Targets, settings, fit: str) -> str:
    """A hash of everything a fit depends on: the targets file, the scenario as resolved (its
    files by content), the observed series, the ensemble settings and the fit's months."""
    from .tasks import make_task, scenario_payload

    task = make_task(scenario_payload(targets.scenario), 0, None, ".", "fingerprint", {})
    fitted_totals = [t for t in targets.spec.totals if t.weight > 0]
    identity = {
        # What changes the fit; not the texts (why, description), the acceptance limits, or
        # totals of weight 0 (reported by the validation only).
        "targets": [t.model_dump(mode="json", include={"name", "observed", "simulated", "weight"})
                    for t in targets.spec.targets],
        "parameters": {k: p.model_dump(mode="json", exclude={"why"}) for k, p in targets.spec.parameters.items()},
        "months": fit_months(targets, fit),
        "settings": settings.model_dump(mode="json"),
        "scenario": task["run_key"],
        "observed": {name: frame[["month", "value"]].astype(str).values.tolist()
                     for name, frame in targets.observed.items()},
        "fit": fit,
    }
    if fitted_totals:  # only then, so adding totals of weight 0 keeps an existing fit's fingerprint
        identity["totals"] = [
            {**t.model_dump(mode="json", include={"name", "observed", "simulated", "weight"}),
             "values": targets.observed_totals[t.name][["period", "value"]].astype(str).values.tolist()}
            for t in fitted_totals]
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()


def prepare_folder(folder: Path, key: str) -> None:
    stamp = folder / FINGERPRINT_FILE
    if stamp.is_file():
        if json.loads(stamp.read_text(encoding="utf-8")).get("fingerprint") != key:
            raise CalibrationConflict(
                f"{folder} holds a calibration of other targets, data or settings; remove it or choose another "
                "--out (nothing was changed)")
        return
    if folder.exists() and any(folder.iterdir()):
        raise CalibrationConflict(f"{folder} exists and is not a calibration folder; choose another --out")
    folder.mkdir(parents=True, exist_ok=True)
    atomic.write_text(stamp, json.dumps({"fingerprint": key}) + "\n")


def run_fit(targets: Targets, folder: Path, fit: str, quick: bool = False, workers: int | None = None,
            scheduler: str | None = None, progress: bool = True) -> pd.DataFrame:
    """Fit one ensemble (resuming its studies if the folder holds them); returns the ensemble."""
    import optuna
    from tqdm import tqdm

    from .batch import result_of, task_executor

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    settings = targets.spec.quick if quick else targets.spec.ensemble
    folder = Path(folder) / fit
    prepare_folder(folder, fingerprint(targets, settings, fit))
    window = fit_months(targets, fit)
    months = months_between(window)
    days = days_to_cover(targets, window[1])
    storage = optuna.storages.RDBStorage(f"sqlite:///{(folder / 'optuna.db').resolve()}")
    studies, weights = [], []
    for member in range(settings.members):
        sampler = optuna.samplers.TPESampler(seed=settings.seed * 1000 + member, constant_liar=True,
                                             n_startup_trials=max(2, settings.trials // 4))
        study = optuna.create_study(study_name=f"member-{member}", storage=storage, direction="minimize",
                                    sampler=sampler, load_if_exists=True)
        for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
            study.tell(trial.number, state=optuna.trial.TrialState.FAIL)  # cut off by an interruption
        studies.append(study)
        weights.append(month_weights(months, member, settings.seed))

    # Completed trials per member: read from the studies once (a resumed fit), counted from then on.
    completed = [len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)))
                 for study in studies]
    total = settings.members * settings.trials
    done = sum(min(count, settings.trials) for count in completed)
    failures = 0
    bar = tqdm(total=total, initial=done, desc=f"calibrating ({fit})", unit="run", disable=not progress)
    capacity = max(1, workers or os.cpu_count() or 1)  # runs in flight (with Dask too: --workers)
    in_flight: dict[concurrent.futures.Future, tuple[int, Any, dict[str, Any]]] = {}
    running = [0] * settings.members
    try:
        with task_executor(workers, scheduler) as executor:
            while True:
                while len(in_flight) < capacity:
                    open_members = [m for m in range(settings.members) if completed[m] + running[m] < settings.trials]
                    if not open_members:
                        break
                    member = min(open_members, key=lambda m: completed[m] + running[m])
                    trial = studies[member].ask()
                    values = {key: trial.suggest_float(key, prior.min, prior.max, log=prior.log)
                              for key, prior in targets.spec.parameters.items()}
                    task = make_series_task(targets, values, targets.scenario.seed + member, days,
                                            f"{fit}-member{member}-trial{trial.number}")
                    in_flight[executor.submit(series_task, task)] = (member, trial, task)
                    running[member] += 1
                if not in_flight:
                    break
                finished, _ = concurrent.futures.wait(list(in_flight), return_when=concurrent.futures.FIRST_COMPLETED)
                for future in finished:
                    member, trial, task = in_flight.pop(future)
                    running[member] -= 1
                    result = result_of(future, task)
                    if result["ok"]:
                        studies[member].tell(trial, objective(targets, result["series"], months, weights[member],
                                                              result.get("totals")))
                        completed[member] += 1
                        bar.update(1)
                    else:
                        studies[member].tell(trial, state=optuna.trial.TrialState.FAIL)
                        failures += 1
                        bar.write(f"trial {trial.number} of member {member} failed ({trial.params}): "
                                  f"{result['error']}", file=sys.stderr)
                        if failures > total or (failures >= 3 and bar.n == done):  # nothing works
                            raise RuntimeError(f"more failed runs than planned runs ({failures}); last error: "
                                               f"{result['error']}")
                    bar.set_postfix(failed=failures, refresh=False)
    finally:
        bar.close()
    return write_ensemble(targets, folder, studies)


def write_ensemble(targets: Targets, folder: Path, studies) -> pd.DataFrame:
    import optuna

    rows = []
    for member, study in enumerate(studies):
        for trial in study.get_trials(deepcopy=True, states=(optuna.trial.TrialState.COMPLETE,)):
            rows.append({"member": member, "trial": trial.number, "objective": trial.value, **trial.params})
    trials = pd.DataFrame(rows)
    write_csv(trials, folder / "trials.csv")
    ensemble = trials.loc[trials.groupby("member").objective.idxmin()].reset_index(drop=True)
    write_csv(ensemble, folder / "ensemble.csv")
    return ensemble


def read_ensemble(folder: Path, fit: str) -> pd.DataFrame:
    path = Path(folder) / fit / "ensemble.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: run `balkansim calibrate` first")
    return pd.read_csv(path)


def write_calibrated_scenario(targets: Targets, ensemble: pd.DataFrame, path: Path) -> Path:
    """Member 0's parameters (the fit to the observations as they are) as a partial scenario: a
    scenario file may `extends` it, or copy its tables."""
    import tomli_w

    best = ensemble[ensemble.member == 0].iloc[0]
    nested: dict[str, Any] = {}
    for key in targets.keys:
        parts = key.split(".")
        table = nested
        for part in parts[:-1]:
            table = table.setdefault(part, {})
        table[parts[-1]] = round(float(best[key]), 6)
    spread = {key: (float(ensemble[key].min()), float(ensemble[key].max())) for key in targets.keys}
    header = ["# Fitted by `balkansim calibrate` (simulation/calibrate.py) against " + targets.file.name + ":",
              f"# member 0 of the full fit, objective {best.objective:.4f} (weighted mean of the series' normalised "
              "absolute errors and the totals' log-ratio errors).",
              "# The ensemble's range of each parameter (see full/ensemble.csv):"]
    header += [f"#   {key}: {low:.4g} .. {high:.4g}" for key, (low, high) in spread.items()]
    header.append("# A partial scenario: not runnable alone; a scenario file may extend it.")
    atomic.write_text(path, "\n".join(header) + "\n\n" + tomli_w.dumps(nested))
    return path


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    with atomic.replacing(path) as temporary:
        frame.to_csv(temporary, index=False)


def calibrate(targets: Targets, folder: Path, quick: bool = False, workers: int | None = None,
              scheduler: str | None = None, progress: bool = True) -> dict[str, pd.DataFrame]:
    """Both fits, the calibrated scenario, and the validation report (simulation/validation.py)."""
    from .validation import validate_fit

    ensembles = {}
    for fit in FITS:
        if fit == "out_of_sample" and targets.spec.out_of_sample is None:
            continue
        ensembles[fit] = run_fit(targets, folder, fit, quick, workers, scheduler, progress)
    write_calibrated_scenario(targets, ensembles["full"], Path(folder) / "calibrated.toml")
    validate_fit(targets, folder, quick=quick, workers=workers, scheduler=scheduler, progress=progress)
    return ensembles
