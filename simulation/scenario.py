"""Scenario files (TOML): period, seed, network files, inflow schedule, nationality groups,
behaviour parameters and each country's border and reception settings.

A file may say `extends = "other.toml"`: the other file is loaded first and this file's keys
override it (tables merge key by key, everything else is replaced, except that [[levers]] and
[[responses]] are added after the other file's). `extends = ["a.toml", "b.toml"]` loads them in
that order, each over the one before (e.g. a scenario and then a partial file of fitted values). Paths in a file are
relative to that file. Every key is checked: unknown keys, wrong types and out-of-range values
raise InputError naming the file, the key, what was expected and what was found."""

from __future__ import annotations

import copy
import difflib
import datetime as dt
import math
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import InputError
from .network import MODES, Country, Network, load_countries, load_network
from .government import ResponseRule
from .levers import ReturnSettings
from .smuggling import MarketSettings
from .tables import is_regular_file, read_text

PATH_KEYS = (("network", "places"), ("network", "edges"), ("network", "countries"))
ADDITIVE_KEYS = ("levers", "responses")
Probability = Field(ge=0.0, le=1.0)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)


class Period(_Strict):
    start: dt.date
    days: int = Field(gt=0, le=3660, description="length of the run in days")


class NetworkFiles(_Strict):
    places: str
    edges: str
    countries: str | None = None  # names and EU membership (used by the headline measures)


class MonthlyInflow(_Strict):
    """People entering at one entry place in one month; all of one group if `group` is given,
    otherwise each person's group is drawn by the groups' shares."""

    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")
    entry: str
    people: int = Field(ge=0, le=100_000_000)
    group: str | None = None

    @field_validator("month")
    @classmethod
    def _a_real_year(cls, value: str) -> str:
        if int(value[:4]) < 1:
            raise ValueError("a month of the year 0001 or later")
        return value


class InflowSeries(_Strict):
    """National monthly totals read from a CSV (columns month, people, source, notes), split
    over entry places by `entry_shares`; `entry_shares_source` says where the split comes from."""

    csv: str
    entry_shares: dict[str, float] = Field(min_length=1)
    entry_shares_source: str = Field(min_length=1)
    group: str | None = None  # all of one group; otherwise drawn by the groups' shares

    @field_validator("entry_shares")
    @classmethod
    def _shares(cls, value: dict[str, float]) -> dict[str, float]:
        _check_shares(value, "entry_shares")
        return value


class Inflow(_Strict):
    """People entering the region: monthly counts by entry place given inline (`monthly`),
    and/or monthly series read from CSV files (`series`). Both add up."""

    monthly: list[MonthlyInflow] = []
    series: list[InflowSeries] = []


class Budget(_Strict):
    """Money a person carries on entry, log-normal: `median_eur` and `log_sd` (sd of log EUR)."""

    median_eur: float = Field(gt=0, le=1e6)
    log_sd: float = Field(ge=0, le=5)
    source: str = ""


class Group(_Strict):
    """A nationality group. `population = "transit"`: third-country nationals entering the region
    at its entry places. `population = "western_balkan"`: nationals of a Western Balkan country
    who enter (consider leaving) at their `origin` place; their claims at the destination are
    decided after `asylum_decision_days`, and rejected claimants may be returned home, from where
    they may leave again (`redeparture_probability_per_day`)."""

    population: Literal["transit", "western_balkan"] = "transit"
    origin: str | None = None
    irregular_departure_probability: float = Field(default=1.0, ge=0, le=1, description=(
        "chance that someone who considers leaving sets off irregularly when no legal pathway is taken"))
    redeparture_probability_per_day: float = Field(default=0.0, ge=0, le=1)
    visa_free_travel: bool = Field(default=False, description=(
        "crosses borders at official crossings with a passport: never detected, refused or smuggled"))
    visa_free_travel_source: str = ""
    asylum_decision_days: int = Field(default=0, ge=0, le=3650)
    share: float = Probability
    share_source: str = ""
    protection_need: float = Field(ge=0.0, le=1.0, description="recognition rate: share with a protection need")
    protection_need_source: str = ""
    budget: Budget
    destinations: dict[str, float]
    destinations_source: str = ""

    @field_validator("destinations")
    @classmethod
    def _shares(cls, value: dict[str, float]) -> dict[str, float]:
        _check_shares(value, "destinations")
        return value

    @model_validator(mode="after")
    def _western_balkan_needs_origin(self) -> "Group":
        if self.population == "western_balkan" and (self.origin is None or self.asylum_decision_days < 1):
            raise ValueError("a western_balkan group needs an origin place and asylum_decision_days of at least 1")
        if self.population == "transit" and self.origin is not None:
            raise ValueError("origin is only for western_balkan groups (transit groups enter at entry places)")
        if self.population == "transit" and self.asylum_decision_days > 0:
            # The model follows a decision only for people it can return home (a Western Balkan
            # origin): a transit migrant's claim at the destination ends their journey.
            raise ValueError("asylum_decision_days of 0 for a transit group (the model decides claims only for "
                             "western_balkan groups, whom it can return home)")
        return self


class Behaviour(_Strict):
    """Behaviour parameters, the same for every group; units are in the names."""

    route_choice_sharpness_per_eur: float = Field(ge=0, le=10)
    value_of_time_eur_per_day: float = Field(ge=0, le=1e5)
    fare_eur_per_km: dict[str, float]
    rest_probability_per_day: float = Probability
    rough_sleeping_rest_factor: float = Field(ge=0, le=1, description="rest probability multiplier without a reception place")
    transit_asylum_claim_probability_per_day: float = Probability
    smuggler_use_probability: float = Probability
    smuggled_detection_factor: float = Field(ge=0, le=1, description="detection probability multiplier with a smuggler")
    detection_cost_eur: float = Field(ge=0, le=1e6, description="route-choice cost of a certain pushback or detention")
    crowding_cost_eur: float = Field(ge=0, le=1e6, description="route-choice cost per unit of transit pressure above 1")
    informal_earnings_eur_per_day: float = Field(ge=0, le=1e4)
    detention_days: int = Field(ge=0, le=365)
    retry_probability_per_day_after_turned_back: float = Field(default=1.0, ge=0, le=1, description=(
        "daily chance that someone pushed back or refused at a border tries to move on again (1: at once)"))
    give_up_probability_per_day_when_stranded: float = Field(default=0.0, ge=0, le=1, description=(
        "daily chance that someone turned back at a border, or with no open way on, stops trying: "
        "claims asylum where they are (Western Balkan nationals go home instead)"))
    reintegration_eur_halving_redeparture: float = Field(default=2000.0, gt=0, le=1e6, description=(
        "reintegration support (EUR per person) that halves a returnee's chance of leaving again"))
    unfamiliar_crossing_cost_eur: float = Field(default=0.0, ge=0, le=1e6, description=(
        "route-choice cost of a border crossing nobody has yet been seen to cross (0: every route is known); "
        "it fades as people cross there, and is 0 on the route_knowledge.known_borders"))
    crossers_to_learn_a_crossing: float = Field(default=1000.0, gt=0, le=1e9, description=(
        "people who have crossed at a crossing by the time its unfamiliarity cost has fallen to 1/e (37 %)"))

    @field_validator("fare_eur_per_km")
    @classmethod
    def _modes(cls, value: dict[str, float]) -> dict[str, float]:
        missing = [m for m in MODES if m not in value]
        unknown = [m for m in value if m not in MODES]
        if missing or unknown:
            raise ValueError(f"one fare for each mode {', '.join(MODES)} (missing {missing}, unknown {unknown})")
        for mode, fare in value.items():
            if not (math.isfinite(fare) and 0 <= fare <= 100):
                raise ValueError(f"fare for {mode} between 0 and 100 EUR per km, got {fare}")
        return value


class CountrySettings(_Strict, ReturnSettings):
    """One government's border and reception settings (for entries into that country), and
    its return settings (optional; defaults in RETURN_DEFAULTS)."""

    border_detection_probability: float | None = Field(default=None, ge=0, le=1)
    pushback_share: float | None = Field(default=None, ge=0, le=1)
    detention_share: float | None = Field(default=None, ge=0, le=1)
    reception_capacity_factor: float | None = Field(default=None, ge=0, le=100)
    asylum_claim_factor: float | None = Field(default=None, ge=0, le=100)
    smuggler_seats_per_day: int | None = Field(default=None, ge=0, le=10_000_000)
    border_closed: bool | None = None

    @model_validator(mode="after")
    def _shares(self) -> "CountrySettings":
        if (self.pushback_share or 0) + (self.detention_share or 0) > 1 + 1e-9:
            raise ValueError("pushback_share + detention_share must be at most 1")
        return self


class RouteKnowledge(_Strict):
    """Borders whose crossings people know from the start: the established route when the run
    begins. Any other crossing carries behaviour.unfamiliar_crossing_cost_eur in route choice
    until people have crossed there (docs/model.md)."""

    known_borders: list[str] = Field(default=[], description="borders as in edges.csv's border column, e.g. 'RS-HU'")
    source: str = ""


class ScenarioSpec(_Strict):
    name: str = Field(min_length=1, max_length=120)
    description: str = ""
    seed: int = Field(ge=0, lt=2**63)
    replicates: int = Field(default=1, ge=1, le=100_000)
    period: Period
    network: NetworkFiles
    inflow: Inflow
    groups: dict[str, Group] = Field(min_length=1)
    behaviour: Behaviour
    countries: dict[str, CountrySettings]
    levers: list[dict[str, Any]] = []  # checked by each lever's own parameters (simulation/levers.py)
    smuggling_market: MarketSettings = MarketSettings()
    responses: list[ResponseRule] = []
    route_knowledge: RouteKnowledge = RouteKnowledge()

    @field_validator("groups")
    @classmethod
    def _group_shares(cls, value: dict[str, Group]) -> dict[str, Group]:
        _check_shares({k: g.share for k, g in value.items()}, "group shares")
        if len(value) > 100:
            raise ValueError("at most 100 groups")
        return value

    @field_validator("countries")
    @classmethod
    def _default_complete(cls, value: dict[str, CountrySettings]) -> dict[str, CountrySettings]:
        default = value.get("default")
        if default is None:
            raise ValueError("a [countries.default] table with every setting")
        missing = [k for k, v in default.model_dump().items() if v is None and k not in RETURN_DEFAULTS]
        if missing:
            raise ValueError(f"[countries.default] must set every setting; missing {', '.join(missing)}")
        return value


# Return settings a country has unless the scenario says otherwise: no readmission, no assisted
# return offer, no reintegration support.
RETURN_DEFAULTS = {
    "readmission_share": 0.0, "readmission_to_origin_share": 0.0, "takes_back_own_nationals_share": 0.0,
    "readmission_days": 0,
    "rejected_taking_assisted_return_share": 0.0,
    "assisted_return_uptake_per_day": 0.0,
    "assisted_return_full_after_days": 30, "reintegration_support_eur": 0.0,
}


def _check_shares(shares: dict[str, float], what: str) -> None:
    if not shares:
        return
    if any(not math.isfinite(s) or s < 0 for s in shares.values()):
        raise ValueError(f"{what}: every share must be a number >= 0")
    total = sum(shares.values())
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"{what} must add up to 1, they add up to {total:.6g}")


class Scenario:
    """A validated scenario with its network. Build with `Scenario.load(path)` or
    `Scenario.from_dict(data)`; `resolved()` gives the plain data the run used."""

    def __init__(self, spec: ScenarioSpec, data: dict[str, Any], file: str | None):
        self.spec = spec
        self.file = file
        self._data = data
        self.network: Network = load_network(spec.network.places, spec.network.edges)
        self.countries: dict[str, Country] = (
            load_countries(spec.network.countries, self.network) if spec.network.countries else {})
        _check_against_network(self, file)
        self.levers()  # every lever block is checked now, before any run
        self._check_responses()

    @classmethod
    def load(cls, path: str | Path) -> "Scenario":
        path = Path(path)
        data = _load_with_extends(path, chain=())
        return cls.from_dict(data, file=path)

    @classmethod
    def from_dict(cls, data: dict[str, Any], file: str | Path | None = None, base_dir: str | Path | None = None) -> "Scenario":
        """Validate plain data; relative paths are taken from base_dir (default: the cwd)."""
        data = copy.deepcopy(data)
        if base_dir is not None:
            _absolutise_paths(data, Path(base_dir), file)
        try:
            spec = ScenarioSpec.model_validate(data)
        except ValidationError as error:
            raise _as_input_error(error, file) from None
        return cls(spec, data, str(file) if file is not None else None)

    def data(self) -> dict[str, Any]:
        """A copy of the scenario's data as read (after extends, paths absolute), for building
        variants: change it and pass it to `Scenario.from_dict`."""
        return copy.deepcopy(self._data)

    def with_changes(self, **changes: Any) -> "Scenario":
        """A copy with top-level or dotted keys replaced, e.g. with_changes(**{"period.days": 30})."""
        data = copy.deepcopy(self._data)
        for dotted, value in changes.items():
            target = data
            *parents, last = dotted.split(".")
            for part in parents:
                target = target.setdefault(part, {})
            target[last] = value
        return Scenario.from_dict(data, file=self.file)

    def levers(self) -> list:
        """Fresh lever objects from the [[levers]] blocks, checked against the network."""
        from .levers import lever_from_dict

        levers = []
        for i, block in enumerate(self.spec.levers):
            try:
                lever = lever_from_dict(block)
            except ValidationError as error:
                raise _as_input_error(error, self.file, prefix=f"levers[{i}]") from None
            except ValueError as error:
                raise InputError(self.file, f"levers[{i}].type", str(error).split(", got")[0].replace("type must be ", ""),
                                 block.get("type")) from None
            try:
                lever.bind(self.network)
                if hasattr(lever, "bind_groups"):
                    lever.bind_groups(list(self.spec.groups), [
                        self.network.country_of(g.origin) if g.origin in self.network.index else None
                        for g in self.spec.groups.values()])
            except ValueError as error:
                # The whole message as what was expected: a repr of it would be cut short.
                raise InputError(self.file, f"levers[{i}]", f"places, edges and countries of the network ({error})") from None
            levers.append(lever)
        return levers

    def responses_of(self, country: str) -> list[ResponseRule]:
        return [rule for rule in self.spec.responses if rule.country == country]

    def _check_responses(self) -> None:
        for i, rule in enumerate(self.spec.responses):
            if rule.country not in self.network.countries:
                raise InputError(self.file, f"responses[{i}].country",
                                 f"a country of the network ({', '.join(self.network.countries)})", rule.country)
            try:
                response = rule.as_lever()
                response.bind(self.network)
                response.bind_groups(list(self.spec.groups), [None] * len(self.spec.groups))
            except ValueError as error:
                raise InputError(self.file, f"responses[{i}]", "names of the network", str(error)) from None

    def with_levers(self, levers: list) -> "Scenario":
        """A copy with these levers added after the file's own (lever objects or tables)."""
        blocks = [lever.to_dict() if hasattr(lever, "to_dict") else dict(lever) for lever in levers]
        data = copy.deepcopy(self._data)
        data["levers"] = list(data.get("levers", [])) + blocks
        return Scenario.from_dict(data, file=self.file)

    def resolved(self) -> dict[str, Any]:
        """The scenario as plain JSON-able data, after extends and with absolute paths."""
        return self.spec.model_dump(mode="json")

    def input_files(self) -> dict[str, str]:
        """The text of every file the scenario reads (network and inflow CSVs), by its path: with
        `resolved()`, everything a run depends on, as data."""
        data = self.resolved()
        network = data.get("network", {})
        paths = [network.get("places"), network.get("edges"), network.get("countries")]
        paths += [series.get("csv") for series in data.get("inflow", {}).get("series", [])]
        return {path: Path(path).read_text(encoding="utf-8-sig") for path in paths if path}

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def seed(self) -> int:
        return self.spec.seed

    @property
    def start(self) -> dt.date:
        return self.spec.period.start

    @property
    def days(self) -> int:
        return self.spec.period.days

    def country_settings(self, country: str) -> dict[str, Any]:
        """The default settings overlaid with the country's own."""
        settings = dict(RETURN_DEFAULTS)
        settings.update({k: v for k, v in self.spec.countries["default"].model_dump().items() if v is not None})
        own = self.spec.countries.get(country)
        if own is not None:
            settings.update({k: v for k, v in own.model_dump().items() if v is not None})
        return settings


def load_toml_spec(path: Path, model: type[BaseModel]) -> Any:
    """A TOML file (sweep, targets) read as data and validated by a pydantic model; every
    problem becomes an InputError naming the file and the key."""
    try:
        data = tomllib.loads(read_text(path))
    except tomllib.TOMLDecodeError as error:
        raise InputError(path, "TOML syntax", "valid TOML", str(error)) from None
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise _as_input_error(error, path) from None


def load_scenario_named_in(path: Path, key: str, relative: str) -> "Scenario":
    """The scenario a file names at `key`, relative to that file's folder."""
    scenario_path = path.parent / relative
    if not is_regular_file(scenario_path):
        raise InputError(path, key, "an existing scenario file (relative to this file)", relative)
    return load_scenario(scenario_path)


def load_scenario(path: str | Path) -> Scenario:
    return Scenario.load(path)


def _load_with_extends(path: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
    resolved = path.resolve()
    if resolved in chain:
        cycle = " -> ".join(str(p) for p in (*chain, resolved))
        raise InputError(path, "extends", "a chain of files without a cycle", cycle)
    text = read_text(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InputError(path, "TOML syntax", "valid TOML", str(error)) from None
    _absolutise_paths(data, path.parent, path)
    parents = data.pop("extends", None)
    if parents is None:
        return data
    if isinstance(parents, str):
        parents = [parents]
    if not isinstance(parents, list) or not parents or not all(isinstance(p, str) and p for p in parents):
        raise InputError(path, "extends", "the path of another scenario file, or a list of them, as strings", parents)
    base: dict[str, Any] | None = None
    for parent in parents:
        parent_path = path.parent / parent
        if not is_regular_file(parent_path):
            raise InputError(path, "extends", "an existing scenario file (relative to this file)", parent)
        loaded = _load_with_extends(parent_path, (*chain, resolved))
        base = loaded if base is None else _overlay(base, loaded)
    return _overlay(base, data)


def _overlay(base: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """`data` over `base`; interventions add up: [[levers]] and [[responses]] come after base's."""
    data = dict(data)
    for key in ADDITIVE_KEYS:
        if isinstance(base.get(key), list) and isinstance(data.get(key), list):
            data[key] = base[key] + data[key]
    return merge_tables(base, data)


def merge_tables(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """`override` on top of `base`: tables merge key by key, other values replace."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_tables(merged[key], value)
        else:
            merged[key] = value
    return merged


def _absolutise_paths(data: dict[str, Any], base_dir: Path, file: str | Path | None) -> None:
    """Make the file paths in one file's data absolute, relative to that file's folder."""
    places = [(data.get(table), key, f"{table}.{key}") for table, key in PATH_KEYS]
    inflow = data.get("inflow")
    if isinstance(inflow, dict) and isinstance(inflow.get("series"), list):
        places += [(item, "csv", f"inflow.series[{i}].csv") for i, item in enumerate(inflow["series"])]
    for section, key, dotted in places:
        if isinstance(section, dict) and key in section:
            value = section[key]
            if not isinstance(value, str) or not value:
                raise InputError(file, dotted, "a file path as a string", value)
            target = Path(value) if Path(value).is_absolute() else (base_dir / value)
            if not is_regular_file(target):
                raise InputError(file, dotted, "an existing regular file (relative to the scenario file)", value)
            section[key] = str(target.resolve())


def _as_input_error(error: ValidationError, file: str | Path | None, prefix: str = "") -> InputError:
    errors = error.errors()
    # A misspelt key is both unknown and missing: report the unknown one, with a suggestion.
    unknown = [e for e in errors if e["type"] == "extra_forbidden"]
    first = unknown[0] if unknown else errors[0]
    key = ".".join([prefix] * bool(prefix) + [str(part) for part in first["loc"]]) or "(top level)"
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        parent = first["loc"][:-1]
        missing = [str(e["loc"][-1]) for e in errors if e["type"] == "missing" and e["loc"][:-1] == parent]
        close = difflib.get_close_matches(str(first["loc"][-1]), missing, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else " (check its spelling in docs/scenarios.md)"
        message = "no such key" + hint
    elif first["type"] == "missing":
        message = "this key to be present"
    elif message.startswith("Value error, "):
        message = message[len("Value error, "):]
    got = first.get("input") if first["type"] not in ("missing",) else None
    if isinstance(got, dict):
        got = "a table"
    return InputError(file, key, message, got)


def _check_against_network(scenario: Scenario, file: str | None) -> None:
    """Names in the scenario must be places and countries of its network, of the right kind."""
    spec, network = scenario.spec, scenario.network
    borders = set(network.edge_border[network.crosses_border])
    for i, border in enumerate(spec.route_knowledge.known_borders):
        if border not in borders:
            raise InputError(file, f"route_knowledge.known_borders[{i}]",
                             f"a border of the network's edges ({', '.join(sorted(borders))})", border)
    entries, destinations = set(network.entries), set(network.destinations)
    groups = set(spec.groups)
    for name, group in spec.groups.items():
        if group.origin is not None and group.origin not in network.index:
            raise InputError(file, f"groups.{name}.origin", "a place of the network", group.origin)
    for i, row in enumerate(spec.inflow.monthly):
        if row.group is not None and row.group not in groups:
            raise InputError(file, f"inflow.monthly[{i}].group", f"a group of this scenario ({', '.join(sorted(groups))})", row.group)
        group = spec.groups[row.group] if row.group is not None else None
        if group is not None and group.population == "western_balkan":
            if row.entry != group.origin:
                raise InputError(file, f"inflow.monthly[{i}].entry", f"the group's origin '{group.origin}'", row.entry)
        elif row.entry not in entries:
            raise InputError(file, f"inflow.monthly[{i}].entry", f"an entry place of the network ({', '.join(sorted(entries))})", row.entry)
    if any(g.population == "western_balkan" and g.share > 0 for g in spec.groups.values()):
        raise InputError(file, "groups", "share 0 for western_balkan groups (they enter only by inflow rows naming them)",
                         [n for n, g in spec.groups.items() if g.population == "western_balkan" and g.share > 0])
    for i, series in enumerate(spec.inflow.series):
        if series.group is not None and series.group not in groups:
            raise InputError(file, f"inflow.series[{i}].group", f"a group of this scenario ({', '.join(sorted(groups))})", series.group)
        group = spec.groups[series.group] if series.group is not None else None
        if group is not None and group.population == "western_balkan":
            if set(series.entry_shares) != {group.origin}:
                raise InputError(file, f"inflow.series[{i}].entry_shares", f"only the group's origin '{group.origin}'",
                                 sorted(series.entry_shares))
            continue
        for place in series.entry_shares:
            if place not in entries:
                raise InputError(file, f"inflow.series[{i}].entry_shares.{place}",
                                 f"an entry place of the network ({', '.join(sorted(entries))})", place)
    for name, group in spec.groups.items():
        for place in group.destinations:
            if place not in destinations:
                raise InputError(file, f"groups.{name}.destinations.{place}",
                                 f"a destination place of the network ({', '.join(sorted(destinations))})", place)
    for country in spec.countries:
        if country != "default" and country not in network.countries:
            raise InputError(file, f"countries.{country}", f"'default' or a country of the network ({', '.join(network.countries)})", country)
    if (dt.date.max - spec.period.start).days < spec.period.days:  # it would end after 9999-12-31
        raise InputError(file, "period.days", "a period that ends before the year 10000", spec.period.days)
