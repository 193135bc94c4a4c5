"""Property-based fuzzing of the readers (issue 8, reliability): random and mutated TOML and CSV
files built from the real ones must either load (and then build a model, for scenarios) or stop
with the project's InputError naming a file of the case and a key. Anything else is a bug.

The default run does a short fuzz (FUZZ_EXAMPLES examples per reader, each bounded in time).
The long fuzz: `BALKANSIM_FUZZ=long .venv/bin/python -m pytest -q tests/test_fuzz_readers.py`
(10,000 examples per reader; `BALKANSIM_FUZZ_EXAMPLES=N` sets another count). The nastiest
cases found are kept as regular tests in tests/test_fuzz_corpus.py."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import math
import os
import signal
import tempfile
import tomllib
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulation import InputError, MigrationModel, load_scenario
from simulation.network import load_countries, load_network
from simulation.observed import events_timeline, load_observed, smuggling_fees
from simulation.resources import InsufficientMemory
from simulation.sweep import load_sweep
from simulation.targets import load_targets

pytestmark = pytest.mark.filterwarnings("ignore:The balance properties of Sobol:UserWarning")
REPO = Path(__file__).resolve().parents[1]
LONG = os.environ.get("BALKANSIM_FUZZ", "") == "long"
FUZZ_EXAMPLES = int(os.environ.get("BALKANSIM_FUZZ_EXAMPLES", 10_000 if LONG else 40))
EXAMPLE_SECONDS = 60 if LONG else 20  # a hard limit per example: longer is a hang
FUZZ = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None if LONG else dt.timedelta(seconds=5),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    derandomize=not LONG,  # the CI run is the same every time; the long run explores
    print_blob=True,
)


# ---------------------------------------------------------------------------------------------
# The real files the fuzz starts from, copied into a fresh folder for every example

def _tracked(folder: Path, pattern: str) -> list[Path]:
    return sorted(p for p in folder.glob(pattern) if p.is_file() and "calibrated" not in p.name)


SOURCES: dict[str, Path] = {}
for _path in _tracked(REPO / "scenarios", "*.toml"):
    SOURCES[f"scenarios/{_path.name}"] = _path
for _sub in ("network", "inflows", "sweeps"):
    for _path in _tracked(REPO / "scenarios" / _sub, "*.*"):
        if _path.suffix in (".csv", ".toml"):
            SOURCES[f"scenarios/{_sub}/{_path.name}"] = _path
for _path in _tracked(REPO / "tests" / "data" / "tiny", "*.*"):
    SOURCES[f"tiny/{_path.name}"] = _path
SOURCES["calibration/targets.toml"] = REPO / "calibration" / "targets.toml"
for _path in _tracked(REPO / "calibration" / "data", "*.csv"):
    SOURCES[f"calibration/data/{_path.name}"] = _path
PRISTINE: dict[str, bytes] = {name: path.read_bytes() for name, path in SOURCES.items()}
DIRECTORY = b"\x00<a directory in place of the file>\x00"


@dataclass
class Case:
    """The files of one example: every source file, some of them mutated (or deleted)."""

    entry: str  # the file given to the reader, relative to the case folder
    changed: dict[str, bytes | None] = field(default_factory=dict)
    ops: list[str] = field(default_factory=list)
    option: object = None

    def __repr__(self) -> str:
        return f"Case(entry={self.entry!r}, option={self.option!r}, ops={self.ops!r})"

    def write(self, root: Path) -> None:
        for name, data in PRISTINE.items():
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        for name, data in self.changed.items():
            target = root / name
            if target.exists():
                target.unlink()
            if data == DIRECTORY:
                target.mkdir(parents=True)
            elif data is not None:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)


# ---------------------------------------------------------------------------------------------
# Nasty values

PLACE_IDS = ["start", "mid", "north", "south", "goal", "munich", "vienna", "tirana", "belgrade", "ayvalik",
             "edirne", "atlantis", "Start", "start ", "", "_x", "a" * 300]
NASTY_TEXT = st.one_of(
    st.sampled_from(["", " ", "-1", "-0", "0", "nan", "NaN", "inf", "-inf", "1e400", "1e308", "-1e308", "9" * 40,
                     "9" * 5000, "0x10", "1_000", "1,5", "true", "false", "None", "\x00", "\x1b[2J", "\u2028",
                     "\x85", "\r", "\ufeff", "\"", "\"\"", "'", "\\", "../", "/dev/null", "/dev/zero",
                     "2015-13", "2015-00", "2016-02-30", "0000-01", "9999-12", "2016-01/2015-01", "2015-Q5",
                     "2015-H3", "~", "()", "2015 (", "10000-01", "0000-01", "0000", "RS", "ZZ", "GR-MK",
                     "default", "x" * 5000, "data", "network", "../" * 40 + "etc",
                     *PLACE_IDS]),
    st.text(max_size=12),
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
NASTY_VALUE = st.one_of(
    NASTY_TEXT,
    st.sampled_from([0, -1, 1, 2, -(2**63), 2**63 - 1, 2**63, 2**64, 10**30, 10**100,
                     0.0, -0.0, -1.5, 1e-320, 1e308, -1e308, math.nan, math.inf, -math.inf, True, False,
                     [], {}, [1, 2], ["a"], [[]], {"x": 1}, {"": ""},
                     dt.date(1, 1, 1), dt.date(9999, 12, 31), dt.datetime(2015, 7, 1, 12, 0),
                     dt.time(12, 0)]),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.lists(st.one_of(st.integers(-3, 3), st.text(max_size=3), st.sampled_from(PLACE_IDS)), max_size=3),
    st.dictionaries(st.sampled_from(PLACE_IDS + ["road", "rail", "sea", "walk", "camel"]),
                    st.one_of(st.floats(-2, 2), st.just(math.nan), st.integers(-2, 2), st.text(max_size=2)),
                    max_size=3),
).map(copy.deepcopy)  # a fresh copy: a later mutation must never change the strategy's own values
NASTY_BYTES = st.one_of(
    st.sampled_from([b"\xff", b"\xfe\xff", b"\x00", b"\xc3", b"\xed\xa0\x80", b"\x80", b"\n", b"\r", b"\r\n",
                     b'"', b"'''", b'"""', b",", b"=", b"[", b"]", b"[[", b"{", b"}", b"#", b"\\", b"\xef\xbb\xbf",
                     b"\n[x]\n", b"\n[[levers]]\n", b"\ny = 1\n", b"\nextends = \"baseline.toml\"\n"]),
    st.binary(max_size=8),
)


def _derived(original: object) -> st.SearchStrategy:
    """Values close to the original one: its negative, huge multiples, its text, NaN of the same kind."""
    options: list[object] = []
    if isinstance(original, bool):
        options += [not original, int(original), str(original).lower()]
    elif isinstance(original, int):
        options += [-original - 1, original * 10**12, original + 0.5, str(original), float(original), math.nan]
    elif isinstance(original, float):
        options += [-original - 1.0, original * 1e12, math.nan, math.inf, str(original),
                    int(original) if math.isfinite(original) else 0]
    elif isinstance(original, str):
        options += [original + "x", original.upper(), original[:-1], original + "\x00", original * 3, [original],
                    "0000" + original[4:], "9999" + original[4:], original + "\n", "a" * 5000]
    elif isinstance(original, dt.date):
        options += [original.replace(year=1), original.replace(year=9999), dt.date.min, dt.date.max,
                    str(original)]
    elif isinstance(original, list) and len(original) >= 2:
        options += [list(reversed(original)), original[:1], original + original, original * 100]
    elif isinstance(original, list):
        options += [original * 2, []]
    if not options:
        return NASTY_VALUE
    return st.one_of(st.sampled_from(options).map(copy.deepcopy), NASTY_VALUE)


# ---------------------------------------------------------------------------------------------
# Mutating TOML, CSV and bytes

def _toml_paths(data: object, prefix: tuple = ()) -> list[tuple]:
    paths = []
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else []
    for key, value in items:
        path = (*prefix, key)
        paths.append(path)
        paths += _toml_paths(value, path)
    return paths


def _parent(data: object, path: tuple) -> object:
    for part in path[:-1]:
        data = data[part]
    return data


@st.composite
def toml_mutation(draw, text: bytes, siblings: list[str]) -> tuple[bytes | None, list[str]]:
    data = tomllib.loads(text.decode("utf-8"))
    ops = []
    for _ in range(draw(st.integers(1, 3))):
        paths = _toml_paths(data)
        op = draw(st.sampled_from(["delete", "replace", "replace", "replace", "rename", "unknown", "extends",
                                   "duplicate", "swap", "design"]))
        if op == "design" and isinstance(data.get("design"), dict):
            # a sweep's design made big: a grid of many points, or many samples
            data["design"]["kind"] = kind = draw(st.sampled_from(["grid", "random", "sobol", "morris"]))
            parameters = data.get("parameters")
            for parameter in parameters.values() if isinstance(parameters, dict) else []:
                if isinstance(parameter, dict) and kind == "grid":
                    parameter["points"] = draw(st.integers(2, 1000))
            if kind != "grid":
                data["design"]["samples"] = draw(st.integers(1, 1_000_000))
            ops.append(f"design {data['design']!r}")
            continue
        if op == "design":
            op = "replace"
        if op == "extends":
            value = draw(st.one_of(st.sampled_from(siblings + ["missing.toml", "", ".", "network", "/dev/null",
                                                               "/dev/zero", "network/places.csv"]),
                                   st.lists(st.sampled_from(siblings + ["missing.toml", ""]), max_size=3),
                                   NASTY_VALUE))
            data["extends"] = value
            ops.append(f"extends = {value!r}")
            continue
        if not paths:
            data[draw(st.text(min_size=1, max_size=8))] = draw(NASTY_VALUE)
            ops.append("add to an empty file")
            continue
        path = draw(st.sampled_from(paths))
        parent, key = _parent(data, path), path[-1]
        if op == "delete":
            del parent[key]
        elif op == "replace":
            parent[key] = draw(_derived(parent[key]))
        elif op == "rename" and isinstance(parent, dict):
            new = draw(st.one_of(st.sampled_from([key + "s", key[:-1], key.upper(), "", " ", "default", "ZZ"]),
                                 st.text(max_size=6)))
            parent[new] = parent.pop(key)
            ops.append(f"rename {'.'.join(map(str, path))} -> {new!r}")
            continue
        elif op == "unknown" and isinstance(parent[key], dict):
            new = draw(st.one_of(st.sampled_from(["unknown", "typo", "extends", "levers", "name"]), st.text(max_size=6)))
            parent[key][new] = draw(NASTY_VALUE)
        elif op == "duplicate" and isinstance(parent, list):
            parent.insert(key, parent[key])
        elif op == "swap":
            other = draw(st.sampled_from(paths))
            other_parent = _parent(data, other)
            try:
                parent[key], other_parent[other[-1]] = other_parent[other[-1]], parent[key]
            except (KeyError, IndexError):
                pass
            ops.append(f"swap {'.'.join(map(str, path))} <-> {'.'.join(map(str, other))}")
            continue
        else:
            parent[key] = draw(NASTY_VALUE)
            op = "replace"
        shown = parent.get(key, "(deleted)") if isinstance(parent, dict) else "..."
        ops.append(f"{op} {'.'.join(map(str, path))}: {shown!r}"[:200])
    try:
        out = tomli_w.dumps(data).encode("utf-8", "surrogatepass")
    except (TypeError, ValueError) as error:  # something TOML cannot say: keep the file as it was
        ops.append(f"(not writable as TOML: {error})")
        return text, ops
    return out, ops


def _csv_rows(text: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.decode("utf-8-sig"), newline="")))


@st.composite
def csv_mutation(draw, text: bytes, network_places: bytes | None = None) -> tuple[bytes, list[str]]:
    rows = [row for row in _csv_rows(text) if row] or [[]]
    ops = []
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["cell", "cell", "cell", "cell", "delete_row", "duplicate_row", "swap_rows",
                                   "delete_column", "header_cell", "add_column", "ragged", "edge", "cut",
                                   "no_rows"]))
        body = len(rows) - 1
        if op == "cell" and body > 0:
            r = draw(st.integers(1, body))
            if not rows[r]:
                rows[r].append("")
            c = draw(st.integers(0, len(rows[r]) - 1))
            rows[r][c] = draw(st.one_of(NASTY_TEXT, st.sampled_from([cell for row in rows[1:4] for cell in row])))
            ops.append(f"row {r + 1} column {rows[0][c] if c < len(rows[0]) else c} = {rows[r][c]!r}"[:200])
        elif op == "delete_row" and body > 0:
            r = draw(st.integers(1, body))
            del rows[r]
            ops.append(f"delete row {r + 1}")
        elif op == "duplicate_row" and body > 0:
            r = draw(st.integers(1, body))
            rows.insert(r, list(rows[r]))
            ops.append(f"duplicate row {r + 1}")
        elif op == "swap_rows" and body > 1:
            a, b = draw(st.integers(0, body)), draw(st.integers(0, body))
            rows[a], rows[b] = rows[b], rows[a]
            ops.append(f"swap rows {a + 1} and {b + 1}")
        elif op == "delete_column" and rows[0]:
            c = draw(st.integers(0, len(rows[0]) - 1))
            header_only = draw(st.booleans())
            ops.append(f"delete column {rows[0][c]}{' (header only)' if header_only else ''}")
            for row in rows[:1] if header_only else rows:
                if c < len(row):
                    del row[c]
        elif op == "header_cell" and rows[0]:
            c = draw(st.integers(0, len(rows[0]) - 1))
            rows[0][c] = draw(st.one_of(st.sampled_from([h for h in rows[0]] + [rows[0][c].upper(), " ", ""]),
                                        NASTY_TEXT))
            ops.append(f"header cell {c} = {rows[0][c]!r}")
        elif op == "add_column":
            name = draw(st.sampled_from(["extra", "notes", "country", "route", "border_type", "nationality", ""]))
            rows[0].append(name)
            for row in rows[1:]:
                row.append(draw(NASTY_TEXT) if draw(st.booleans()) else "")
            ops.append(f"add column {name!r}")
        elif op == "ragged" and body > 0:
            r = draw(st.integers(1, body))
            rows[r] = rows[r][: draw(st.integers(0, len(rows[r])))] + draw(st.lists(NASTY_TEXT, max_size=2))
            ops.append(f"ragged row {r + 1}")
        elif op == "edge" and rows and "from_place" in rows[0] and network_places is not None:
            places = [row[0] for row in _csv_rows(network_places)[1:] if row]
            template = dict(zip(rows[0], rows[min(1, body)]))
            template["from_place"] = draw(st.sampled_from(places))
            template["to_place"] = draw(st.sampled_from(places))
            rows.append([template.get(h, "") for h in rows[0]])
            ops.append(f"add edge {template['from_place']}->{template['to_place']}")
        elif op == "cut" and rows and "to_place" in rows[0]:
            # cut every path to the destinations: drop the edges into any place some edge leaves
            # last (a crude guess at the destinations, enough to make reachability fail often)
            targets = {row[1] for row in rows[1:] if len(row) > 1}
            origins = {row[0] for row in rows[1:] if row}
            sinks = targets - origins
            rows = [rows[0]] + [row for row in rows[1:] if len(row) < 2 or row[1] not in sinks]
            ops.append(f"cut every edge into {sorted(sinks)}")
        elif op == "cut" and rows and "kind" in rows[0]:
            k = rows[0].index("kind")
            kind = draw(st.sampled_from(["destination", "entry"]))
            for row in rows[1:]:
                if len(row) > k and row[k] == kind:
                    row[k] = "transit_town"
            ops.append(f"no place of kind {kind}")
        elif op == "no_rows":
            rows = rows[:1]
            ops.append("header only")
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))).writerows(rows)
    return out.getvalue().encode("utf-8", "surrogatepass"), ops


@st.composite
def byte_mutation(draw, data: bytes) -> tuple[bytes | None, list[str]]:
    op = draw(st.sampled_from(["truncate", "insert", "insert", "delete", "empty", "missing", "bom", "whitespace",
                               "line_dup", "directory"]))
    n = len(data)
    if op == "truncate":
        at = draw(st.integers(0, n))
        return data[:at], [f"truncate at byte {at}"]
    if op == "insert":
        at, extra = draw(st.integers(0, n)), draw(NASTY_BYTES)
        return data[:at] + extra + data[at:], [f"insert {extra!r} at byte {at}"]
    if op == "delete":
        at = draw(st.integers(0, n))
        length = draw(st.integers(1, 64))
        return data[:at] + data[at + length:], [f"delete {length} bytes at {at}"]
    if op == "empty":
        return b"", ["empty file"]
    if op == "missing":
        return None, ["file missing"]
    if op == "bom":
        return b"\xef\xbb\xbf" + data, ["UTF-8 byte order mark"]
    if op == "whitespace":
        return draw(st.sampled_from([b" ", b"\n\n", b"\t\r\n", b"\x00"])), ["whitespace only"]
    if op == "directory":
        return DIRECTORY, ["a directory in place of the file"]
    lines = data.split(b"\n")
    i = draw(st.integers(0, max(len(lines) - 1, 0)))
    lines.insert(i, lines[i] if lines else b"")
    return b"\n".join(lines), [f"duplicate line {i + 1}"]


@st.composite
def mutated_file(draw, name: str, current: bytes | None = None) -> tuple[bytes | None, list[str]]:
    data = PRISTINE[name] if current is None else current
    kind = draw(st.sampled_from(["structured", "structured", "structured", "bytes", "both"]))
    ops: list[str] = []
    if kind in ("structured", "both"):
        try:
            if name.endswith(".toml"):
                siblings = [Path(n).name for n in PRISTINE if n.endswith(".toml")
                            and Path(n).parent == Path(name).parent]
                data, ops = draw(toml_mutation(data, siblings))
            else:
                places = None
                if name.endswith("edges.csv"):
                    places = PRISTINE[str(Path(name).parent / "places.csv")]
                data, ops = draw(csv_mutation(data, places))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, csv.Error):
            pass  # already broken by an earlier mutation: bytes only from here on
    if kind in ("bytes", "both") and data is not None:
        data, more = draw(byte_mutation(data))
        ops += more
    return data, [f"{name}: {op}" for op in ops]


@st.composite
def cases(draw, entries: list[str], companions: dict[str, list[str]], option=st.none()) -> Case:
    """One case: an entry file of the reader and 1-2 mutated files among it and its companions."""
    entry = draw(st.sampled_from(entries))
    choices = [entry] * 3 + companions.get(entry, [])
    case = Case(entry=entry, option=draw(option))
    for _ in range(draw(st.integers(1, 2))):
        name = draw(st.sampled_from(choices))
        current = case.changed.get(name)
        if name in case.changed and current in (None, DIRECTORY):
            continue
        data, ops = draw(mutated_file(name, current))
        case.changed[name] = data
        case.ops += ops
    return case


# ---------------------------------------------------------------------------------------------
# The property

class Hang(Exception):
    pass


@contextmanager
def time_limit(seconds: float):
    def _raise(signum, frame):
        raise Hang(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_case(case: Case, reader) -> object:
    """Write the case's files into a fresh folder and call the reader on its entry file; an
    InputError must name a file of the case (the case folder is in its message) and a key."""
    with tempfile.TemporaryDirectory(prefix="fuzz-") as folder:
        root = Path(folder).resolve()
        case.write(root)
        with time_limit(EXAMPLE_SECONDS):
            try:
                result = reader(root / case.entry, case.option)
            except InputError as error:
                assert str(root) in error.file, f"the error names no file of the case: {error}"
                assert str(error).startswith(error.file) and error.key, str(error)
                return error
            except InsufficientMemory:
                return None  # the size guard's own refusal, before anything is allocated
        return result


def _finite_floats(value: object, where: str = "") -> None:
    if isinstance(value, float):
        assert math.isfinite(value), f"{where} = {value}: a non-finite number was accepted"
    elif isinstance(value, dict):
        for key, item in value.items():
            _finite_floats(item, f"{where}.{key}")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _finite_floats(item, f"{where}[{i}]")


# ---------------------------------------------------------------------------------------------
# The readers

def read_scenario(path: Path, option) -> object:
    scenario = load_scenario(path)
    _finite_floats(scenario.resolved())
    network = scenario.network
    for array in (network.latitude, network.longitude, network.distance_km, network.travel_days):
        assert np.isfinite(array).all()
    model = MigrationModel(scenario, days=1)
    assert model.arrivals.min() >= 0
    return scenario


def read_network(path: Path, option) -> object:
    network = load_network(path.parent / "places.csv", path.parent / "edges.csv")
    load_countries(path.parent / "countries.csv", network)
    assert network.entries and network.destinations
    assert np.isfinite(network.distance_km).all() and (network.travel_days > 0).all()
    return network


def read_sweep(path: Path, option) -> object:
    sweep = load_sweep(path)
    assert 0 < len(sweep.design) <= 10_000_000
    assert np.isfinite(sweep.design.to_numpy(dtype=float)).all()
    try:
        sweep.scenario_at(0)
    except InputError as error:
        assert str(path.parent.parent) in error.file, str(error)
    return sweep


def read_targets(path: Path, option) -> object:
    targets = load_targets(path)
    assert len(targets.months()) > 0
    for frame in targets.observed.values():
        assert np.isfinite(frame.value).all() and (frame.value >= 0).all()
    return targets


OBSERVED_SERIES = [n for n in PRISTINE if n.startswith("calibration/data/")
                   and not n.endswith(("smuggling_fees.csv", "events_timeline.csv"))]


def read_observed(path: Path, option) -> object:
    if path.name == "smuggling_fees.csv":
        frame = smuggling_fees(path)
        values = frame[["price_low", "price_high"]].to_numpy(dtype=float)
    elif path.name == "events_timeline.csv":
        frame = events_timeline(path)
        values = frame.figure.dropna().to_numpy(dtype=float)
    else:
        frame = load_observed(path, calendar_periods=bool(option))
        values = frame.value.to_numpy(dtype=float)
        assert (frame.period_start <= frame.period_end).all()
    assert np.isfinite(values).all() and (values >= 0).all()
    return frame


TINY = ["tiny/places.csv", "tiny/edges.csv", "tiny/countries.csv"]
NETWORK = ["scenarios/network/places.csv", "scenarios/network/edges.csv", "scenarios/network/countries.csv"]
INFLOWS = [n for n in PRISTINE if n.startswith("scenarios/inflows/")]
SCENARIO_COMPANIONS = {
    "tiny/tiny.toml": TINY,
    "scenarios/baseline.toml": NETWORK + INFLOWS[:3],
    "scenarios/anti_smuggling_serbia.toml": ["scenarios/baseline.toml"],
    "scenarios/partnership_package.toml": ["scenarios/baseline.toml"],
    "scenarios/history_2015_2016.toml": ["scenarios/baseline.toml"] + INFLOWS[:1],
    "scenarios/return_reintegration.toml": ["scenarios/baseline.toml"],
    "scenarios/legal_pathways.toml": ["scenarios/baseline.toml"],
}
# the tiny scenario is much faster to load and build: most examples use it
SCENARIO_ENTRIES = ["tiny/tiny.toml"] * 6 + sorted(SCENARIO_COMPANIONS)
SWEEPS = [n for n in PRISTINE if n.startswith("scenarios/sweeps/")]

READERS = {
    "scenario": (read_scenario, cases(SCENARIO_ENTRIES, SCENARIO_COMPANIONS)),
    "network": (read_network, cases(["tiny/edges.csv", "scenarios/network/edges.csv"],
                                    {"tiny/edges.csv": TINY, "scenarios/network/edges.csv": NETWORK})),
    "sweep": (read_sweep, cases(SWEEPS, {
        "scenarios/sweeps/serbia_anti_smuggling.toml": ["scenarios/anti_smuggling_serbia.toml"],
        "scenarios/sweeps/sensitivity_morris.toml": ["scenarios/partnership_package.toml"]})),
    "targets": (read_targets, cases(["calibration/targets.toml"], {"calibration/targets.toml": [
        "calibration/data/frontex_detections_monthly.csv", "scenarios/history_2015_2016.toml"]})),
    "observed": (read_observed, cases([n for n in PRISTINE if n.startswith("calibration/data/")], {},
                                      option=st.booleans())),
}


def _fuzz_test(name: str):
    reader, strategy = READERS[name]

    @FUZZ
    @given(case=strategy)
    def test(case: Case) -> None:
        run_case(case, reader)

    test.__name__ = f"test_fuzz_{name}_reader"
    test.__doc__ = f"Mutated {name} files: a clear InputError naming file and key, or a valid load."
    return test


test_fuzz_scenario_reader = _fuzz_test("scenario")
test_fuzz_network_reader = _fuzz_test("network")
test_fuzz_sweep_reader = _fuzz_test("sweep")
test_fuzz_targets_reader = _fuzz_test("targets")
test_fuzz_observed_reader = _fuzz_test("observed")


@pytest.mark.parametrize("name", sorted(READERS))
def test_the_real_files_load(name: str):
    """The fuzz starts from files that load: an unmutated case passes the property."""
    reader, _ = READERS[name]
    entry = {"scenario": "tiny/tiny.toml", "network": "tiny/edges.csv", "sweep": SWEEPS[0],
             "targets": "calibration/targets.toml", "observed": OBSERVED_SERIES[0]}[name]
    result = run_case(Case(entry=entry), reader)
    assert not isinstance(result, InputError), result
