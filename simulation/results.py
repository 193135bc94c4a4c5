"""A run's results: tidy daily DataFrames, a printed summary, and the run folder on disk.

Tables (one row per day and place / edge / country):
- stocks:    people by place and state at the end of each day (states are exclusive; `arrived`
             and `claimed_asylum` are running totals), so their sum over places and states is
             everyone who has entered so far;
- reception: people present, in a reception place, capacity, and transit pressure
             (present / capacity, with a capacity of 0 counted as 1);
- flows:     departures along each edge (for a border edge: successful crossings);
- events:    by country: entries, border crossings, apprehensions, pushbacks, detentions,
             smuggled crossings, smuggler revenue (EUR, by the smugglers' country), asylum
             claims (in transit and on arrival), arrivals at destinations;
- smuggling: by country (where the smugglers are based): seats, requests, people seated,
             price multiplier, mean fee (EUR) on crossings out of the country, revenue (EUR);
- pathways:  by legal-pathway scheme: slots issued that day and slots left for the year;
- government_actions: one row per response a government started or lifted, with its date;
- transit_times: arrivals at their destination by days since their journey began (whole run);
- daily:     the model-level series collected by Mesa's DataCollector;
- measures:  the headline measures of the run (simulation/measures.py), one row each.

A run folder is written under a temporary name and renamed when complete; `manifest.json`
is written last inside it, so a folder with a manifest is a complete run."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import subprocess
import time
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from . import kernels
from .atomic import swap_in
from .errors import RunWriteError
from .measures import headline_measures
from .model import MigrationModel

TABLES = ("stocks", "reception", "pressure", "flows", "events", "smuggling", "pathways", "government_actions",
          "transit_times", "daily", "measures")
# Stock states of people travelling: not yet at a destination, not at home, not finished.
ON_ROUTE_STATES = ("waiting", "waiting_for_smuggler", "stuck_without_money", "detained", "in_transit",
                   "waiting_at_border", "held_for_return")
DEPENDENCIES = ("numpy", "numba", "llvmlite", "mesa", "networkx", "pandas", "pyarrow", "pydantic", "matplotlib")


class RunResult:
    def __init__(self, model: MigrationModel, wall_seconds: float):
        self.model = model
        self.scenario = model.scenario
        self.seed = model.run_seed
        self.wall_seconds = wall_seconds
        network = model.network
        days = model.n_days
        self.dates = pd.to_datetime([model.date(d) for d in range(days)])
        place_country = [network.countries[c] for c in network.place_country]

        n_places, n_edges, n_countries = network.n_places, network.n_edges, len(network.countries)
        self.stocks = pd.DataFrame({
            "date": np.repeat(self.dates, n_places * kernels.N_STOCKS),
            "place_id": np.tile(np.repeat(network.place_ids, kernels.N_STOCKS), days),
            "country": np.tile(np.repeat(place_country, kernels.N_STOCKS), days),
            "state": np.tile(kernels.STOCK_NAMES, days * n_places),
            "people": model.record_stocks.reshape(-1),
        })
        present, capacity = model.record_present.reshape(-1), model.record_capacity.reshape(-1)
        self.reception = pd.DataFrame({
            "date": np.repeat(self.dates, n_places),
            "place_id": np.tile(network.place_ids, days),
            "country": np.tile(place_country, days),
            "present": present,
            "in_reception": model.record_in_reception.reshape(-1),
            "reception_capacity": capacity,
            # Undefined (NaN) where a place has no reception capacity at all.
            "transit_pressure": np.where(capacity > 0, present / np.maximum(capacity, 1), np.nan),
        })
        self.pressure = _country_pressure(self.reception)
        self.flows = pd.DataFrame({
            "date": np.repeat(self.dates, n_edges),
            "from_place": np.tile([network.place_ids[i] for i in network.edge_from], days),
            "to_place": np.tile([network.place_ids[i] for i in network.edge_to], days),
            "mode": np.tile(network.edge_mode, days),
            "crosses_border": np.tile(network.crosses_border, days),
            "departures": model.record_departures.reshape(-1),
        })
        events = {
            "date": np.repeat(self.dates, n_countries),
            "country": np.tile(network.countries, days),
        }
        for k, name in enumerate(kernels.EVENT_NAMES):
            events[name] = model.record_events[:, :, k].reshape(-1)
        events["smuggler_revenue_eur"] = model.record_revenue.reshape(-1)
        self.events = pd.DataFrame(events)
        market = model.record_smuggling
        self.smuggling = pd.DataFrame({
            "date": np.repeat(self.dates, n_countries),
            "country": np.tile(network.countries, days),
            "seats": market[:, :, 0].reshape(-1).astype(np.int64),
            "requests": market[:, :, 1].reshape(-1).astype(np.int64),
            "seated": market[:, :, 2].reshape(-1).astype(np.int64),
            "price_multiplier": market[:, :, 3].reshape(-1),
            "mean_fee_eur": market[:, :, 4].reshape(-1),
            "revenue_eur": model.record_revenue.reshape(-1),
        })
        pools = model.pathways.levers
        issued_total = model.record_pathways[:, :, 0]
        issued_today = np.diff(issued_total, axis=0, prepend=np.zeros((1, len(pools)), dtype=np.int64))
        self.pathways = pd.DataFrame({
            "date": np.repeat(self.dates, len(pools)),
            "scheme": np.tile([lever.name or f"legal pathway {k + 1}" for k, lever in enumerate(pools)], days),
            "destination": np.tile([lever.destination for lever in pools], days),
            "slots_issued": issued_today.reshape(-1),
            "slots_remaining_this_year": model.record_pathways[:, :, 1].reshape(-1),
        })
        actions = [action for government in model.governments for action in government.actions]
        self.government_actions = pd.DataFrame(
            actions, columns=["date", "country", "rule", "action", "observed", "in_force_from"])
        for column in ("date", "in_force_from"):
            self.government_actions[column] = pd.to_datetime(self.government_actions[column])
        self.government_actions = self.government_actions.sort_values(["date", "country"], kind="stable").reset_index(drop=True)
        transit = model.transit_days_buffer.sum(axis=0)
        self.transit_times = pd.DataFrame({"days_in_transit": np.arange(len(transit)), "arrivals": transit})
        daily = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
        daily.insert(0, "date", self.dates[: len(daily)])
        self.daily = daily
        self.measures = headline_measures(self)

    # ------------------------------------------------------------- summary
    def summary(self) -> pd.DataFrame:
        """Headline measures over the whole run, one row each, for a printed table."""
        events = self.events.groupby("country")[list(kernels.EVENT_NAMES) + ["smuggler_revenue_eur"]].sum()
        final = self.stocks[self.stocks.date == self.stocks.date.max()]
        by_state = final.groupby("state").people.sum()
        rows = [
            ("people entered", int(events.entries.sum())),
            ("arrived at a destination", int(by_state.get("arrived", 0))),
            ("claimed asylum in a transit country", int(by_state.get("claimed_asylum", 0))),
            ("still on the route at the end", int(by_state.reindex(ON_ROUTE_STATES, fill_value=0).sum())),
            ("awaiting an asylum decision at the end", int(by_state.get("awaiting_decision", 0))),
            ("at home after a return, at the end", int(by_state.get("at_home", 0))),
            ("border crossings", int(events.border_crossings.sum())),
            ("apprehensions", int(events.apprehensions.sum())),
            ("pushbacks", int(events.pushbacks.sum())),
            ("smuggled crossings", int(events.smuggled_crossings.sum())),
            ("smuggler revenue (EUR)", round(float(events.smuggler_revenue_eur.sum()))),
        ]
        for label, column in (("legal departures", "legal_departures"), ("returns, voluntary", "returns_voluntary"),
                              ("returns, forced", "returns_forced"), ("repeat departures after a return", "repeat_departures"),
                              ("considered leaving but did not", "did_not_leave")):
            if events[column].sum() > 0:
                rows.append((label, int(events[column].sum())))
        arrivals = events.arrivals[events.arrivals > 0].sort_values(ascending=False)
        rows += [(f"arrivals in {country}", int(n)) for country, n in arrivals.items()]
        crossings = events.border_crossings[events.border_crossings > 0].sort_values(ascending=False)
        rows += [(f"crossings into {country}", int(n)) for country, n in crossings.head(8).items()]
        pressure = self.reception.transit_pressure
        if pressure.notna().any():
            worst = self.reception.loc[pressure.idxmax()]
            rows.append(("highest transit pressure (present / capacity)",
                         f"{worst.transit_pressure:.1f} at {worst.place_id} on {worst.date.date()}"))
        over = self.pressure[self.pressure.places_over_capacity > 0].groupby("country").date.nunique()
        rows += [(f"days with a place over capacity in {country}", int(days))
                 for country, days in over.sort_values(ascending=False).head(5).items()]
        if len(self.government_actions):
            rows.append(("government responses started", int((self.government_actions.action == "started").sum())))
        return pd.DataFrame(rows, columns=["measure", "value"])

    # ----------------------------------------------------------------- plots
    def plot_route_map(self):
        """The network with people per link and each place's highest transit pressure (a Figure)."""
        from .plots import route_map

        return route_map(self)

    def plot_monthly_flows(self, countries=None):
        """Border crossings per month into the busiest countries, levers marked (a Figure)."""
        from .plots import monthly_flows

        return monthly_flows(self, countries=countries)

    def plot_pressure_heatmap(self, max_places: int = 30):
        """Transit pressure by place and week, over-capacity cells marked (a Figure)."""
        from .plots import pressure_heatmap

        return pressure_heatmap(self, max_places=max_places)

    # ------------------------------------------------------------------ disk
    def manifest(self) -> dict:
        return {
            "scenario_name": self.scenario.name,
            "scenario_file": self.scenario.file,
            "scenario": self.scenario.resolved(),
            "input_files": self.scenario.input_files(),  # with "scenario", enough to rerun anywhere
            "seed": self.seed,
            "days": self.model.n_days,
            "start": str(self.scenario.start),
            "package_version": _version("balkansim"),
            "dependencies": {name: _version(name) for name in DEPENDENCIES},
            "python": platform.python_version(),
            "platform": platform.platform(),
            "numba_threads": _numba_threads(),
            "git_commit": _git_commit(),
            "wall_seconds": round(self.wall_seconds, 3),
            "finished_at_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "bytes_of_state_per_agent": self.model.bytes_per_agent,
        }

    def save(self, out_dir: str | Path, tables: tuple[str, ...] = TABLES, manifest_extra: dict | None = None,
             force: bool = False) -> Path:
        """Write the run folder (the named tables as Parquet, then manifest.json); refuses a
        folder that already exists unless `force`. The folder is built under a hidden temporary
        name and renamed when complete, so a folder with this name is always a whole run; with
        `force` the old folder is replaced only once the new one is complete. A write that fails
        (disk full, no permission) leaves nothing behind and raises RunWriteError."""
        out_dir = Path(out_dir)
        if out_dir.exists() and not force:
            raise FileExistsError(f"{out_dir} already exists; choose another --out, or --force to replace it "
                                  "(nothing was written)")
        partial = out_dir.parent / f"{PARTIAL_PREFIX}{out_dir.name}.{os.getpid()}"
        try:
            out_dir.parent.mkdir(parents=True, exist_ok=True)
            if partial.exists():
                shutil.rmtree(partial)
            partial.mkdir()
            self._write(partial, tables, manifest_extra)
            # With --force the old run goes only now that the new one is whole.
            swap_in(partial, out_dir, out_dir.parent / f"{PARTIAL_PREFIX}{out_dir.name}.replaced.{os.getpid()}")
        except OSError as error:
            shutil.rmtree(partial, ignore_errors=True)
            raise RunWriteError(f"could not write the run folder {out_dir}: {error.strerror or error} "
                                f"({type(error).__name__}); nothing half-written was left behind") from error
        return out_dir

    def _write(self, partial: Path, tables: tuple[str, ...], manifest_extra: dict | None) -> None:
        checksums = {}
        for name in tables:
            path = partial / f"{name}.parquet"
            getattr(self, name).to_parquet(path, index=False, engine="pyarrow")
            checksums[path.name] = sha256_of(path)
        manifest = self.manifest() | {"tables": {name: f"{name}.parquet" for name in tables}, "sha256": checksums}
        manifest |= manifest_extra or {}
        temporary = partial / "manifest.json.tmp"
        temporary.write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")
        temporary.rename(partial / "manifest.json")


PARTIAL_PREFIX = ".partial-"  # a run folder being written: never complete, safe to remove


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _country_pressure(reception: pd.DataFrame) -> pd.DataFrame:
    """Transit pressure of a country per day: its worst place (among places with reception
    capacity), how many of its places are over capacity, and its people present and capacity."""
    with_capacity = reception[reception.reception_capacity > 0]
    worst = with_capacity.loc[with_capacity.groupby(["date", "country"]).transit_pressure.idxmax()]
    worst = worst.set_index(["date", "country"])[["place_id", "transit_pressure"]]
    worst.columns = ["worst_place", "worst_pressure"]
    over = (reception.present > reception.reception_capacity) & (reception.reception_capacity > 0)
    totals = reception.assign(over_capacity=over).groupby(
        ["date", "country"]).agg(places_over_capacity=("over_capacity", "sum"), present=("present", "sum"),
                                 reception_capacity=("reception_capacity", "sum"))
    table = totals.join(worst, how="left").reset_index()
    table["places_over_capacity"] = table.places_over_capacity.astype(np.int64)
    return table[["date", "country", "worst_place", "worst_pressure", "places_over_capacity", "present",
                  "reception_capacity"]]


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _numba_threads() -> int:
    import numba

    return int(numba.get_num_threads())


def _git_commit() -> str | None:
    repo = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, timeout=10)
        if commit.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo,
                               capture_output=True, text=True, timeout=10)
        return commit.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def simulate(scenario, seed: int | None = None, days: int | None = None, progress: bool = False) -> RunResult:
    """Run a scenario once and return its result."""
    started = time.perf_counter()
    model = MigrationModel(scenario, seed=seed, days=days)
    model.run(progress=progress)
    return RunResult(model, time.perf_counter() - started)


