"""The route network: places and directed edges read from two CSV files, validated, and
offered both as a networkx graph (for analysis and plots) and as compact arrays in CSR order
(for the Numba kernels: the out-edges of place i are edges out_start[i]:out_start[i+1])."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import numpy as np

from .errors import InputError
from .tables import read_csv_strict

PLACE_KINDS = ("entry", "transit_town", "border_crossing_point", "reception_centre", "destination")
MODES = ("sea", "walk", "road", "rail")
PLACE_COLUMNS = (
    "place_id", "name", "country", "latitude", "longitude", "kind",
    "reception_capacity", "capacity_source", "notes",
)
EDGE_COLUMNS = (
    "from_place", "to_place", "mode", "distance_km", "travel_days", "crosses_border", "border",
    "smuggler_required", "smuggling_fee_eur", "source", "notes",
)
_PLACE_ID = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_RECEPTION_CAPACITY = 1_000_000_000  # persons; far above any country's system, and x 100 still fits int64
_COUNTRY = re.compile(r"^[A-Z]{2}$")


@dataclass
class Network:
    """Places and edges as arrays; edges are sorted by origin place (CSR order)."""

    places_file: str
    edges_file: str
    place_ids: list[str]
    place_names: list[str]
    place_country: np.ndarray  # int16 index into `countries`, one per place
    countries: list[str]  # ISO 3166-1 alpha-2, sorted
    latitude: np.ndarray
    longitude: np.ndarray
    place_kind: list[str]
    reception_capacity: np.ndarray  # int64 people
    capacity_source: list[str]
    edge_from: np.ndarray  # int16
    edge_to: np.ndarray  # int16
    edge_mode: list[str]
    distance_km: np.ndarray  # float64
    travel_days: np.ndarray  # float64
    crosses_border: np.ndarray  # bool
    smuggler_required: np.ndarray  # bool
    smuggling_fee_eur: np.ndarray  # float64, NaN where the file gives none
    edge_source: list[str]
    out_start: np.ndarray  # int32, len = places + 1
    index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.index = {place: i for i, place in enumerate(self.place_ids)}
        # The edges into each place (edges in_edges[in_start[i]:in_start[i+1]] lead to place i), for
        # the cost-to-go search, which walks the edges backwards from each destination.
        self.in_edges = np.argsort(self.edge_to, kind="stable").astype(np.int64)
        self.in_start = np.searchsorted(self.edge_to[self.in_edges], np.arange(self.n_places + 1)).astype(np.int64)
        # The country a border edge leads into (-1 inside a country): whose border rules apply.
        self.edge_entered_country = np.where(
            self.crosses_border, self.place_country[self.edge_to], -1).astype(np.int16)
        # Each edge's border as in edges.csv ("RS-HU": from Serbia into Hungary; "" inside a country).
        codes = np.asarray(self.countries, dtype=object)
        self.edge_border = np.where(self.crosses_border, codes[self.place_country[self.edge_from]] + "-"
                                    + codes[self.place_country[self.edge_to]], "")

    @property
    def n_places(self) -> int:
        return len(self.place_ids)

    @property
    def n_edges(self) -> int:
        return len(self.edge_from)

    def places_of_kind(self, kind: str) -> list[str]:
        return [p for p, k in zip(self.place_ids, self.place_kind) if k == kind]

    @property
    def entries(self) -> list[str]:
        return self.places_of_kind("entry")

    @property
    def destinations(self) -> list[str]:
        return self.places_of_kind("destination")

    def country_of(self, place_id: str) -> str:
        return self.countries[self.place_country[self.index[place_id]]]

    def edge_label(self, edge: int) -> str:
        return f"{self.place_ids[self.edge_from[edge]]}->{self.place_ids[self.edge_to[edge]]} ({self.edge_mode[edge]})"

    def graph(self) -> nx.MultiDiGraph:
        """A networkx view for analysis: nodes carry place attributes, edges their attributes."""
        graph = nx.MultiDiGraph()
        for i, place in enumerate(self.place_ids):
            graph.add_node(
                place, name=self.place_names[i], country=self.countries[self.place_country[i]],
                latitude=float(self.latitude[i]), longitude=float(self.longitude[i]),
                kind=self.place_kind[i], reception_capacity=int(self.reception_capacity[i]),
            )
        for e in range(self.n_edges):
            graph.add_edge(
                self.place_ids[self.edge_from[e]], self.place_ids[self.edge_to[e]], key=self.edge_mode[e],
                edge_index=e, mode=self.edge_mode[e], distance_km=float(self.distance_km[e]),
                travel_days=float(self.travel_days[e]), crosses_border=bool(self.crosses_border[e]),
            )
        return graph


def load_network(places_file: str | Path, edges_file: str | Path) -> Network:
    """Read and validate both files; any problem raises InputError naming file, row and column."""
    places_file, edges_file = Path(places_file), Path(edges_file)
    place_rows = read_csv_strict(places_file, PLACE_COLUMNS)
    edge_rows = read_csv_strict(edges_file, EDGE_COLUMNS)
    places = _parse_places(places_file, place_rows)
    edges = _parse_edges(edges_file, edge_rows, places)
    network = _assemble(places_file, edges_file, places, edges)
    check_reachability(network)
    return network


def _cell(file: Path, row_number: int, column: str) -> str:
    return f"row {row_number}, column '{column}'"


def _number(file, row_number, column, text, *, minimum=None, above=None, maximum=None, integer=False, allow_empty=False):
    key = _cell(file, row_number, column)
    if text == "":
        if allow_empty:
            return math.nan
        raise InputError(file, key, "a value (the cell is empty)", text)
    try:
        value = float(text)
    except ValueError:
        raise InputError(file, key, "a number", text) from None
    if not math.isfinite(value):
        raise InputError(file, key, "a finite number", text)
    if integer and value != int(value):
        raise InputError(file, key, "a whole number", text)
    if minimum is not None and value < minimum:
        raise InputError(file, key, f"a number >= {minimum}", text)
    if above is not None and value <= above:
        raise InputError(file, key, f"a number > {above}", text)
    if maximum is not None and value > maximum:
        raise InputError(file, key, f"a number <= {maximum}", text)
    return int(value) if integer else value


def _boolean(file, row_number, column, text) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise InputError(file, _cell(file, row_number, column), "true or false", text)


def _parse_places(file: Path, rows: list[tuple[int, dict[str, str]]]) -> list[dict]:
    if not rows:
        raise InputError(file, "rows", "at least one place", "no rows")
    seen: dict[str, int] = {}
    places = []
    for row_number, row in rows:
        place_id = row["place_id"]
        if not _PLACE_ID.match(place_id):
            raise InputError(file, _cell(file, row_number, "place_id"),
                             "a lowercase id of letters, digits and '_' starting with a letter", place_id)
        if place_id in seen:
            raise InputError(file, _cell(file, row_number, "place_id"),
                             f"a unique place id (already used on row {seen[place_id]})", place_id)
        seen[place_id] = row_number
        if not row["name"]:
            raise InputError(file, _cell(file, row_number, "name"), "the place's name", "")
        if not _COUNTRY.match(row["country"]):
            raise InputError(file, _cell(file, row_number, "country"), "an ISO 3166-1 alpha-2 code such as RS", row["country"])
        if row["kind"] not in PLACE_KINDS:
            raise InputError(file, _cell(file, row_number, "kind"), f"one of {', '.join(PLACE_KINDS)}", row["kind"])
        if not row["capacity_source"]:
            raise InputError(file, _cell(file, row_number, "capacity_source"),
                             "the capacity's source, or 'estimate: ...' for an estimate", "")
        places.append(dict(
            place_id=place_id, name=row["name"], country=row["country"], kind=row["kind"],
            latitude=_number(file, row_number, "latitude", row["latitude"], minimum=-90, maximum=90),
            longitude=_number(file, row_number, "longitude", row["longitude"], minimum=-180, maximum=180),
            reception_capacity=_number(file, row_number, "reception_capacity", row["reception_capacity"], minimum=0,
                                       maximum=MAX_RECEPTION_CAPACITY, integer=True),
            capacity_source=row["capacity_source"],
        ))
    return places


def _parse_edges(file: Path, rows: list[tuple[int, dict[str, str]]], places: list[dict]) -> list[dict]:
    if not rows:
        raise InputError(file, "rows", "at least one edge", "no rows")
    country = {p["place_id"]: p["country"] for p in places}
    seen: dict[tuple[str, str, str], int] = {}
    edges = []
    for row_number, row in rows:
        for column in ("from_place", "to_place"):
            if row[column] not in country:
                raise InputError(file, _cell(file, row_number, column), "a place_id from the places file", row[column])
        origin, target = row["from_place"], row["to_place"]
        if origin == target:
            raise InputError(file, _cell(file, row_number, "to_place"), "a place other than from_place", target)
        if row["mode"] not in MODES:
            raise InputError(file, _cell(file, row_number, "mode"), f"one of {', '.join(MODES)}", row["mode"])
        identity = (origin, target, row["mode"])
        if identity in seen:
            raise InputError(file, _cell(file, row_number, "to_place"),
                             f"one edge per origin, target and mode (same as row {seen[identity]})", f"{origin}->{target}")
        seen[identity] = row_number
        crosses = _boolean(file, row_number, "crosses_border", row["crosses_border"])
        expected_border = f"{country[origin]}-{country[target]}"
        if country[origin] != country[target]:
            if not crosses:
                raise InputError(file, _cell(file, row_number, "crosses_border"),
                                 f"true: {origin} and {target} are in different countries", row["crosses_border"])
        elif crosses:
            raise InputError(file, _cell(file, row_number, "crosses_border"),
                             f"false: {origin} and {target} are both in {country[origin]}", row["crosses_border"])
        if crosses and row["border"] != expected_border:
            raise InputError(file, _cell(file, row_number, "border"), f"'{expected_border}'", row["border"])
        if not crosses and row["border"]:
            raise InputError(file, _cell(file, row_number, "border"), "an empty cell on an edge inside one country", row["border"])
        smuggler_required = _boolean(file, row_number, "smuggler_required", row["smuggler_required"])
        fee = _number(file, row_number, "smuggling_fee_eur", row["smuggling_fee_eur"], minimum=0, allow_empty=True)
        if smuggler_required and not crosses:
            raise InputError(file, _cell(file, row_number, "smuggler_required"), "false on an edge that crosses no border", "true")
        if smuggler_required and math.isnan(fee):
            raise InputError(file, _cell(file, row_number, "smuggling_fee_eur"), "a fee where a smuggler is required", "")
        if not row["source"]:
            raise InputError(file, _cell(file, row_number, "source"), "the source of distance and time, or 'estimate: ...'", "")
        edges.append(dict(
            from_place=origin, to_place=target, mode=row["mode"], crosses_border=crosses,
            smuggler_required=smuggler_required, smuggling_fee_eur=fee, source=row["source"],
            distance_km=_number(file, row_number, "distance_km", row["distance_km"], above=0, maximum=5000),
            travel_days=_number(file, row_number, "travel_days", row["travel_days"], above=0, maximum=365),
        ))
    return edges


def _assemble(places_file: Path, edges_file: Path, places: list[dict], edges: list[dict]) -> Network:
    if len(places) > np.iinfo(np.int16).max or len(edges) > np.iinfo(np.int16).max:
        raise InputError(places_file, "rows", "fewer than 32,767 places and edges (the kernel stores them as int16)", len(places))
    index = {p["place_id"]: i for i, p in enumerate(places)}
    countries = sorted({p["country"] for p in places})
    country_index = {c: i for i, c in enumerate(countries)}
    # CSR order: stable sort of edges by origin place keeps the file's order within a place.
    order = sorted(range(len(edges)), key=lambda e: index[edges[e]["from_place"]])
    edges = [edges[e] for e in order]
    edge_from = np.array([index[e["from_place"]] for e in edges], dtype=np.int16)
    out_start = np.zeros(len(places) + 1, dtype=np.int32)
    np.add.at(out_start, edge_from.astype(np.int64) + 1, 1)
    out_start = np.cumsum(out_start).astype(np.int32)
    return Network(
        places_file=str(places_file), edges_file=str(edges_file),
        place_ids=[p["place_id"] for p in places], place_names=[p["name"] for p in places],
        place_country=np.array([country_index[p["country"]] for p in places], dtype=np.int16),
        countries=countries,
        latitude=np.array([p["latitude"] for p in places]), longitude=np.array([p["longitude"] for p in places]),
        place_kind=[p["kind"] for p in places],
        reception_capacity=np.array([p["reception_capacity"] for p in places], dtype=np.int64),
        capacity_source=[p["capacity_source"] for p in places],
        edge_from=edge_from, edge_to=np.array([index[e["to_place"]] for e in edges], dtype=np.int16),
        edge_mode=[e["mode"] for e in edges],
        distance_km=np.array([e["distance_km"] for e in edges]), travel_days=np.array([e["travel_days"] for e in edges]),
        crosses_border=np.array([e["crosses_border"] for e in edges], dtype=bool),
        smuggler_required=np.array([e["smuggler_required"] for e in edges], dtype=bool),
        smuggling_fee_eur=np.array([e["smuggling_fee_eur"] for e in edges], dtype=np.float64),
        edge_source=[e["source"] for e in edges], out_start=out_start,
    )


def check_reachability(network: Network) -> None:
    """Every destination must be reachable from some entry, and every entry must reach some
    destination: otherwise people would enter a network they can never leave."""
    entries, destinations = network.entries, network.destinations
    if not entries:
        raise InputError(network.places_file, "column 'kind'", "at least one place of kind 'entry'", "none")
    if not destinations:
        raise InputError(network.places_file, "column 'kind'", "at least one place of kind 'destination'", "none")
    graph = nx.DiGraph()
    graph.add_nodes_from(network.place_ids)
    graph.add_edges_from(
        (network.place_ids[a], network.place_ids[b]) for a, b in zip(network.edge_from, network.edge_to)
    )
    reached_from_entries: set[str] = set()
    for entry in entries:
        reachable = nx.descendants(graph, entry)
        if not reachable.intersection(destinations):
            raise InputError(network.edges_file, f"paths from entry '{entry}'",
                             "a path along the edges to at least one destination", "no path to any destination")
        reached_from_entries |= reachable
    for destination in destinations:
        if destination not in reached_from_entries:
            raise InputError(network.edges_file, f"paths to destination '{destination}'",
                             "a path from at least one entry", "unreachable from every entry")


COUNTRY_COLUMNS = ("country", "name", "eu_member_since", "source")


@dataclass(frozen=True)
class Country:
    code: str
    name: str
    eu_member_since: dt.date | None  # None: not an EU member
    source: str

    def in_eu_on(self, date: dt.date) -> bool:
        return self.eu_member_since is not None and self.eu_member_since <= date


def load_countries(file: str | Path, network: Network) -> dict[str, Country]:
    """The network's countries with their names and EU membership (countries.csv); every
    country of the network must have a row, each with its source."""
    file = Path(file)
    countries: dict[str, Country] = {}
    for row_number, row in read_csv_strict(file, COUNTRY_COLUMNS):
        code = row["country"]
        if code in countries:
            raise InputError(file, _cell(file, row_number, "country"), "each country once", code)
        since = None
        if row["eu_member_since"]:
            try:
                since = dt.date.fromisoformat(row["eu_member_since"])
            except ValueError:
                raise InputError(file, _cell(file, row_number, "eu_member_since"),
                                 "a date YYYY-MM-DD, or empty for a country outside the EU", row["eu_member_since"]) from None
        if not row["source"]:
            raise InputError(file, _cell(file, row_number, "source"), "where the membership date comes from", "an empty cell")
        countries[code] = Country(code, row["name"] or code, since, row["source"])
    missing = [c for c in network.countries if c not in countries]
    if missing:
        raise InputError(file, "country", "a row for every country of the network", f"no row for {', '.join(missing)}")
    return countries
