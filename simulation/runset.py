"""One view of "the runs behind a figure", whether they are a single RunResult in memory or the
replicates of every scenario in a comparison batch folder: the network, the scenarios in order
(baseline first), each scenario's levers (the policy events marked on time axes), the period,
and any run table with `scenario` and `replicate` columns added."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from .network import Network, load_countries, load_network


@dataclass
class PolicyEvent:
    """A lever's time in force, for marking on a time axis."""

    scenario: str
    name: str
    kind: str
    start: dt.date | None
    end: dt.date | None


@dataclass
class RunSet:
    network: Network
    country_names: dict[str, str]
    scenarios: list[str]
    baseline: str
    start: dt.date
    days: int
    replicates: int
    events: list[PolicyEvent]
    scenario_data: dict[str, dict[str, Any]]  # each scenario as resolved (from its first run)
    read_table: Callable[[str], pd.DataFrame]
    _cache: dict[str, pd.DataFrame] = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame:
        """A run table of every run, with `scenario` and `replicate` columns."""
        if name not in self._cache:
            self._cache[name] = self.read_table(name)
        return self._cache[name]

    @property
    def end(self) -> dt.date:
        """The last simulated day."""
        return self.start + dt.timedelta(days=self.days - 1)

    @property
    def period(self) -> str:
        return f"{self.start:%d %b %Y} – {self.end:%d %b %Y}"

    def country_name(self, code: str) -> str:
        return self.country_names.get(code, code)

    def events_of(self, scenario: str) -> list[PolicyEvent]:
        return [e for e in self.events if e.scenario == scenario]


def as_runset(results) -> RunSet:
    """A RunSet from a RunResult, a Comparison with a batch folder, a batch folder path, or a
    RunSet (returned as it is)."""
    from .compare import Comparison
    from .results import RunResult

    if isinstance(results, RunSet):
        return results
    if isinstance(results, RunResult):
        return _from_result(results)
    if isinstance(results, Comparison):
        if results.folder is None:
            raise ValueError("this comparison has no batch folder, so its runs' daily tables cannot be read")
        return from_batch(results.folder)
    if isinstance(results, (str, Path)):
        return from_batch(results)
    raise TypeError(f"expected a RunResult, a Comparison or a batch folder, got {type(results).__name__}")


def _policy_events(scenario: str, levers: list[dict[str, Any]]) -> list[PolicyEvent]:
    def date(value) -> dt.date | None:
        return None if value in (None, "") else (value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)))

    return [PolicyEvent(scenario, lever.get("name") or lever.get("type", "lever").replace("_", " "),
                        lever.get("type", ""), date(lever.get("start")), date(lever.get("end")))
            for lever in levers]


def _from_result(result) -> RunSet:
    scenario = result.scenario
    name = scenario.name

    def read(table: str) -> pd.DataFrame:
        return getattr(result, table).assign(scenario=name, replicate=0)

    return RunSet(
        network=result.model.network,
        country_names={code: c.name for code, c in scenario.countries.items()},
        scenarios=[name], baseline=name, start=scenario.start, days=result.model.n_days, replicates=1,
        events=_policy_events(name, scenario.resolved().get("levers", [])),
        scenario_data={name: scenario.resolved()}, read_table=read)


def from_batch(folder: str | Path) -> RunSet:
    """The complete runs of a comparison batch folder (those with a manifest)."""
    folder = Path(folder)
    description = json.loads((folder / "batch.json").read_text(encoding="utf-8"))
    definition = description["definition"]
    order = [s["name"] for s in definition["scenarios"]]
    manifests = {}
    for run in description["runs"]:
        path = folder / "runs" / run["run_id"] / "manifest.json"
        if path.exists():
            manifests[run["run_id"]] = json.loads(path.read_text(encoding="utf-8")) | {"labels": run["labels"]}
    if not manifests:
        raise FileNotFoundError(f"{folder} has no finished runs")
    first = {}
    for manifest in manifests.values():
        first.setdefault(manifest["labels"]["scenario"], manifest)
    scenarios = [s for s in order if s in first]
    reference = first[scenarios[0]]
    files = reference["scenario"]["network"]
    network = load_network(files["places"], files["edges"])
    names = ({code: c.name for code, c in load_countries(files["countries"], network).items()}
             if files.get("countries") else {})

    def read(table: str) -> pd.DataFrame:
        frames = []
        for run_id, manifest in manifests.items():
            path = folder / "runs" / run_id / f"{table}.parquet"
            if path.exists():
                labels = manifest["labels"]
                frames.append(pd.read_parquet(path).assign(scenario=labels["scenario"], replicate=labels["replicate"]))
        if not frames:
            raise FileNotFoundError(f"no run in {folder} kept the '{table}' table")
        return pd.concat(frames, ignore_index=True)

    return RunSet(
        network=network, country_names=names, scenarios=scenarios, baseline=definition["baseline"],
        start=dt.date.fromisoformat(reference["start"]), days=int(reference["days"]),
        replicates=len({m["labels"]["replicate"] for m in manifests.values()}),
        events=[e for s in scenarios for e in _policy_events(s, first[s]["scenario"].get("levers", []))],
        scenario_data={s: first[s]["scenario"] for s in scenarios}, read_table=read)


def manifests(folder: str | Path) -> list[dict[str, Any]]:
    """The manifests of a batch's complete runs, in the batch's order."""
    folder = Path(folder)
    description = json.loads((folder / "batch.json").read_text(encoding="utf-8"))
    found = []
    for run in description["runs"]:
        path = folder / "runs" / run["run_id"] / "manifest.json"
        if path.exists():
            found.append(json.loads(path.read_text(encoding="utf-8")))
    return found
