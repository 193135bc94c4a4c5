"""The nastiest inputs the reader fuzz (tests/test_fuzz_readers.py) found or was built around,
kept as regular tests: each must stop with an InputError naming a file of the case and the key,
quickly, and never with another exception from deep inside."""

from __future__ import annotations

import time

import pytest

from simulation import InputError

from .test_fuzz_readers import PRISTINE, Case, read_network, read_observed, read_scenario, read_sweep, \
    read_targets, run_case

LONG_NAME = "a" * 5000  # longer than any file name the system accepts (ENAMETOOLONG)
SWEEP = "scenarios/sweeps/serbia_anti_smuggling.toml"
MORRIS = "scenarios/sweeps/sensitivity_morris.toml"
TARGETS = "calibration/targets.toml"
TINY = "tiny/tiny.toml"
MONTHLY = "calibration/data/frontex_detections_monthly.csv"


def _replace(name: str, old: str, new: str) -> bytes:
    text = PRISTINE[name].decode("utf-8")
    assert old in text, f"{old!r} not in {name}"
    return text.replace(old, new, 1).encode("utf-8")


# name: (reader, entry file, {file: (old, new) or bytes or None}, fragments the message must hold)
CORPUS = {
    # found by the fuzz: OverflowError from the period check
    "scenario period ending after the year 9999": (
        read_scenario, TINY, {TINY: ("start = 2020-01-01", "start = 9999-12-31")},
        ["period.days", "before the year 10000"]),
    # found: ValueError 'year 0 is out of range' when the model spread the month over its days
    "scenario inflow in the year 0": (
        read_scenario, TINY, {TINY: ('month = "2020-01"', 'month = "0000-01"')},
        ["inflow.monthly.0.month", "0001"]),
    # found: TypeError 'unhashable type: list' looking the lever type up
    "scenario lever type that is a list": (
        read_scenario, TINY, {TINY: ("border_closed = false", "border_closed = false\n[[levers]]\ntype = [2]\n")},
        ["levers[0].type", "[2]"]),
    "scenario lever type that is a table": (
        read_scenario, TINY, {TINY: ("border_closed = false", "border_closed = false\n[[levers]]\ntype = { a = 1 }\n")},
        ["levers[0].type"]),
    # found: OSError 'File name too long' from Path.is_file
    "scenario network file name too long": (
        read_scenario, TINY, {TINY: ('places = "places.csv"', f'places = "{LONG_NAME}"')},
        ["network.places", "existing regular file"]),
    "scenario extends a file name too long": (
        read_scenario, TINY, {TINY: ('name = "tiny"', f'extends = "{LONG_NAME}"\nname = "tiny"')},
        ["extends", "existing scenario file"]),
    "scenario network file that never ends": (
        read_scenario, TINY, {TINY: ('places = "places.csv"', 'places = "/dev/zero"')},
        ["network.places", "existing regular file"]),
    "scenario extends itself": (
        read_scenario, TINY, {TINY: ('name = "tiny"', 'extends = "tiny.toml"\nname = "tiny"')},
        ["extends", "without a cycle"]),
    "scenario extends a directory": (
        read_scenario, "scenarios/anti_smuggling_serbia.toml",
        {"scenarios/anti_smuggling_serbia.toml": ('extends = "baseline.toml"', 'extends = "network"')},
        ["extends", "existing scenario file"]),
    "scenario NaN probability": (
        read_scenario, TINY, {TINY: ("rest_probability_per_day = 0.0", "rest_probability_per_day = nan")},
        ["behaviour.rest_probability_per_day"]),
    "scenario inflow CSV with non-UTF-8 bytes": (
        read_scenario, "scenarios/baseline.toml",
        {"scenarios/inflows/greece_arrivals_monthly.csv": PRISTINE["scenarios/inflows/greece_arrivals_monthly.csv"][:300]
         + b"\xff\xfe" + PRISTINE["scenarios/inflows/greece_arrivals_monthly.csv"][300:]},
        ["greece_arrivals_monthly.csv", "UTF-8"]),
    "scenario edges file is a directory": (
        read_scenario, TINY, {"tiny/edges.csv": b"\x00<a directory in place of the file>\x00"},
        ["edges.csv", "regular file"]),
    # found: year-0 months passed the targets check and broke pandas later (months())
    "targets fit from the year 0": (
        read_targets, TARGETS, {TARGETS: ('months = ["2015-01", "2016-12"]', 'months = ["0000-01", "2016-12"]')},
        ["fit.months", "0001"]),
    "targets month with a trailing newline": (
        read_targets, TARGETS, {TARGETS: ('months = ["2015-01", "2016-12"]', 'months = ["2015-01\\n", "2016-12"]')},
        ["fit.months"]),
    "targets months out of order": (
        read_targets, TARGETS, {TARGETS: ('months = ["2015-01", "2016-12"]', 'months = ["2016-12", "2015-01"]')},
        ["fit.months", "must not come after"]),
    "targets observed file name too long": (
        read_targets, TARGETS,
        {TARGETS: ('file = "data/frontex_detections_monthly.csv"', f'file = "{LONG_NAME}"')},
        ["targets[0].observed.file"]),
    "targets observed CSV emptied": (
        read_targets, TARGETS, {MONTHLY: b""}, ["frontex_detections_monthly.csv", "empty file"]),
    # found: a grid of 1000 x 1000 x 1000 points ran out of memory (a hang without a limit)
    "sweep grid of a billion points": (
        read_sweep, SWEEP, {SWEEP: ('kind = "sobol"\nsamples = 8',
                                    'kind = "grid"')}, None),  # points added below
    "sweep sobol design of five million points": (
        read_sweep, SWEEP, {SWEEP: ("samples = 8", "samples = 1000000")}, ["design points", "5,000,000"]),
    "sweep morris design of eleven million points": (
        read_sweep, MORRIS, {MORRIS: ("samples = 8", "samples = 1000000")}, ["design points", "11,000,000"]),
    "sweep base file name too long": (
        read_sweep, SWEEP, {SWEEP: ('base = "../anti_smuggling_serbia.toml"', f'base = "{LONG_NAME}"')},
        ["base", "existing scenario file"]),
    # found by the long fuzz: SALib's ValueError 'Bounds are not legal' for min = max
    "sweep morris range of one value": (
        read_sweep, MORRIS, {MORRIS: ("min = 0.1\nmax = 1.0", "min = 1.0\nmax = 1.0")},
        ["parameters.levers[Western Balkan partners together].seat_factor", "min below max"]),
    "sweep sobol range of one value": (
        read_sweep, SWEEP, {SWEEP: ("min = 1.0\nmax = 3.0", "min = 3.0\nmax = 3.0")},
        ["smuggled_detection_multiplier", "min below max"]),
    "sweep NaN range": (
        read_sweep, SWEEP, {SWEEP: ("min = 0.1\nmax = 1.0", "min = nan\nmax = 1.0")}, ["parameters"]),
    "sweep parameter that is not a number in the scenario": (
        read_sweep, SWEEP, {SWEEP: ('[parameters."behaviour.smuggler_use_probability"]',
                                    '[parameters."network.places"]')}, ["parameters.network.places"]),
    "network every path to the destination cut": (
        read_network, "tiny/edges.csv",
        {"tiny/edges.csv": _replace("tiny/edges.csv", "north,goal,road,100,0.5,true,MK-AT,false,,estimate: test network,\n"
                                    "south,goal,road,100,0.5,true,BG-AT,false,,estimate: test network,\n", "")},
        ["edges.csv", "paths from entry 'start'"]),
    # found by the long fuzz: OverflowError building the int64 capacity array
    "network reception capacity beyond int64": (
        read_network, "tiny/edges.csv",
        {"tiny/places.csv": _replace("tiny/places.csv", "transit_town,10,", "transit_town,9.223372036854776e+18,")},
        ["places.csv", "row 3", "reception_capacity", "<= 1000000000"]),
    "network huge distance": (
        read_network, "tiny/edges.csv", {"tiny/edges.csv": _replace("tiny/edges.csv", "start,mid,road,100,", "start,mid,road,1e400,")},
        ["edges.csv", "row 2", "distance_km", "finite"]),
    "network places truncated inside a quoted cell": (
        read_network, "tiny/edges.csv", {"tiny/places.csv": PRISTINE["tiny/places.csv"][:-20] + b'"unfinished'},
        ["places.csv"]),
    "network countries missing a country": (
        read_network, "tiny/edges.csv", {"tiny/countries.csv": _replace("tiny/countries.csv", "GR,Greece,1981-01-01,test network\n", "")},
        ["countries.csv", "no row for GR"]),
    "observed period out of order": (
        read_observed, "calibration/data/frontex_published_crosscheck.csv",
        {"calibration/data/frontex_published_crosscheck.csv": None}, None),  # filled in below
    "observed value NaN": (
        read_observed, MONTHLY, {MONTHLY: _replace(MONTHLY, "Land,2009-01,829,", "Land,2009-01,nan,")},
        ["row 2", "value", "finite number"]),
    "observed month of the year 0": (
        read_observed, MONTHLY, {MONTHLY: _replace(MONTHLY, "Land,2009-01,829,", "Land,0000-01,829,")},
        ["row 2", "period"]),
    "observed value too big for a float": (
        read_observed, MONTHLY, {MONTHLY: _replace(MONTHLY, "Land,2009-01,829,", "Land,2009-01," + "9" * 400 + ",")},
        ["row 2", "value"]),
}

_grid = PRISTINE[SWEEP].decode().replace('kind = "sobol"\nsamples = 8', 'kind = "grid"')
for _end in ("max = 1.0\n", "max = 3.0\n", "max = 0.9\n"):
    _grid = _grid.replace(_end, _end + "points = 1000\n")
CORPUS["sweep grid of a billion points"] = (read_sweep, SWEEP, {SWEEP: _grid.encode()},
                                            ["design points", "1,000,000,000"])
_published = "calibration/data/frontex_published_crosscheck.csv"
_rows = PRISTINE[_published].decode().splitlines(keepends=True)
_header = _rows[0].split(",")
_cells = _rows[1].split(",")
_cells[_header.index("period")] = "2016-01/2015-01"
CORPUS["observed period out of order"] = (read_observed, _published,
                                          {_published: (_rows[0] + ",".join(_cells) + "".join(_rows[2:])).encode()},
                                          ["row 2", "period"])


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_case_stops_with_a_clear_error(name: str):
    reader, entry, changes, fragments = CORPUS[name]
    changed = {}
    for file, change in changes.items():
        changed[file] = _replace(file, *change) if isinstance(change, tuple) else change
    started = time.monotonic()
    result = run_case(Case(entry=entry, changed=changed, ops=[name]), reader)
    assert isinstance(result, InputError), f"{name}: loaded without an error"
    assert time.monotonic() - started < 10, f"{name}: took {time.monotonic() - started:.1f} s"
    message = str(result)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from: {message}"
