"""Every kind of bad network or scenario input stops before any run with an InputError that
names the file, the row or key, and what was expected."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from simulation import InputError, load_network, load_scenario
from simulation.cli import main


def _replace_line(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def _load_network(folder: Path):
    return load_network(folder / "places.csv", folder / "edges.csv")


NETWORK_CASES = {
    "duplicate place id": ("places.csv", "mid,Middle", "start,Middle", ["places.csv", "row 3", "place_id", "unique"]),
    "negative capacity": ("places.csv", "transit_town,10,", "transit_town,-5,", ["places.csv", "row 3", "reception_capacity", ">= 0"]),
    "missing capacity": ("places.csv", "transit_town,10,", "transit_town,,", ["places.csv", "row 3", "reception_capacity", "empty"]),
    "fractional capacity": ("places.csv", "transit_town,10,", "transit_town,2.5,", ["places.csv", "reception_capacity", "whole number"]),
    "latitude out of range": ("places.csv", "mid,Middle,GR,41.0", "mid,Middle,GR,141.0", ["places.csv", "row 3", "latitude", "<= 90"]),
    "longitude not a number": ("places.csv", "41.0,22.0,transit", "41.0,east,transit", ["places.csv", "longitude", "a number"]),
    "unknown kind": ("places.csv", "transit_town", "village", ["places.csv", "kind", "one of"]),
    "bad country code": ("places.csv", "mid,Middle,GR", "mid,Middle,Greece", ["places.csv", "country", "ISO 3166"]),
    "edge to unknown place": ("edges.csv", "start,mid,road", "start,midd,road", ["edges.csv", "row 2", "to_place", "place_id"]),
    "edge from unknown place": ("edges.csv", "start,mid,road", "nowhere,mid,road", ["edges.csv", "row 2", "from_place"]),
    "unknown mode": ("edges.csv", "start,mid,road", "start,mid,camel", ["edges.csv", "mode", "one of"]),
    "negative distance": ("edges.csv", "start,mid,road,100", "start,mid,road,-100", ["edges.csv", "distance_km", "> 0"]),
    "border missing": ("edges.csv", "true,GR-MK,", "false,,", ["edges.csv", "row 3", "crosses_border", "different countries"]),
    "wrong border code": ("edges.csv", "true,GR-MK,", "true,GR-RS,", ["edges.csv", "border", "'GR-MK'"]),
    "unknown column": ("places.csv", ",notes\n", ",notes,extra\n", ["places.csv", "header", "unknown column"]),
    "missing column": ("edges.csv", ",source,notes\n", ",notes\n", ["edges.csv", "header", "source"]),
    "ragged row": ("edges.csv", "start,mid,road,100,1.0,false,,false,,estimate: test network,", "start,mid,road,100", ["edges.csv", "row 2", "cells"]),
}


@pytest.mark.parametrize("case", sorted(NETWORK_CASES))
def test_bad_network_file(tiny_copy: Path, case: str):
    file, old, new, expected = NETWORK_CASES[case]
    _replace_line(tiny_copy / file, old, new)
    with pytest.raises(InputError) as caught:
        _load_network(tiny_copy)
    for fragment in expected:
        assert fragment in str(caught.value), f"{fragment!r} missing from: {caught.value}"


def test_destination_no_entry_can_reach(tiny_copy: Path):
    edges = tiny_copy / "edges.csv"
    lines = [line for line in edges.read_text().splitlines() if not line.startswith(("north,goal", "south,goal"))]
    edges.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as caught:
        _load_network(tiny_copy)
    message = str(caught.value)
    assert "edges.csv" in message and "destination" in message and "start" in message


def test_a_second_destination_unreachable(tiny_copy: Path):
    with (tiny_copy / "places.csv").open("a") as f:
        f.write("island,Island,AT,47.0,15.0,destination,10,estimate: test,\n")
    with (tiny_copy / "edges.csv").open("a") as f:
        f.write("island,goal,road,10,0.5,false,,false,,estimate: test,\n")
    with pytest.raises(InputError, match=r"edges.csv: paths to destination 'island'.*from at least one entry"):
        _load_network(tiny_copy)


def test_empty_and_non_utf8_files(tiny_copy: Path):
    (tiny_copy / "places.csv").write_text("")
    with pytest.raises(InputError, match=r"places.csv: header: .*empty file"):
        _load_network(tiny_copy)
    (tiny_copy / "places.csv").write_bytes(b"place_id,name\n\xff\xfe,bad\n")
    with pytest.raises(InputError, match=r"places.csv: file: expected UTF-8"):
        _load_network(tiny_copy)


def test_missing_network_file(tiny_copy: Path):
    (tiny_copy / "edges.csv").unlink()
    with pytest.raises(InputError, match=r"edges.csv: file: expected an existing file"):
        _load_network(tiny_copy)


SCENARIO_CASES = {
    "unknown key": ("rest_probability_per_day = 0.0", "rest_probability_per_dy = 0.0",
                    ["behaviour.rest_probability_per_dy", "no such key"]),
    "missing key": ("rest_probability_per_day = 0.0\n", "\n", ["behaviour.rest_probability_per_day", "present"]),
    "negative probability": ("rest_probability_per_day = 0.0", "rest_probability_per_day = -0.2",
                             ["behaviour.rest_probability_per_day", "greater than or equal to 0", "-0.2"]),
    "wrong type": ("days = 10", 'days = "ten"', ["period.days", "integer", "ten"]),
    "zero days": ("days = 10", "days = 0", ["period.days", "greater than 0"]),
    "bad date": ("start = 2020-01-01", 'start = "first of January"', ["period.start", "date"]),
    "negative inflow": ("people = 3100", "people = -5", ["inflow.monthly.0.people", "greater than or equal to 0"]),
    "bad month": ('month = "2020-01"', 'month = "2020-13"', ["inflow.monthly.0.month", "pattern"]),
    "unknown entry place": ('entry = "start"', 'entry = "atlantis"', ["inflow.monthly[0].entry", "entry place", "atlantis"]),
    "unknown group in inflow": ('people = 3100', 'people = 3100\ngroup = "martians"', ["inflow.monthly[0].group", "a group of this scenario", "martians"]),
    "entry that is not an entry": ('entry = "start"', 'entry = "mid"', ["inflow.monthly[0].entry", "entry place", "mid"]),
    "decision days for a transit group": ("share = 1.0", "share = 1.0\nasylum_decision_days = 30",
                                          ["groups.only", "asylum_decision_days", "western_balkan"]),
    "unknown destination": ("destinations = { goal = 1.0 }", "destinations = { berlin = 1.0 }", ["groups.only.destinations.berlin", "destination place"]),
    "shares not adding to one": ("share = 1.0", "share = 0.7", ["groups", "add up to 1"]),
    "unknown country": ("[countries.default]", "[countries.ZZ]\nborder_closed = true\n[countries.default]", ["countries.ZZ", "country of the network"]),
    "pushback and detention above one": ("border_closed = false", "border_closed = false\n[countries.MK]\npushback_share = 0.6\ndetention_share = 0.6", ["countries.MK", "at most 1"]),
    "incomplete default country": ("border_closed = false", "", ["countries", "missing border_closed"]),
    "unknown fare mode": ("walk = 0.0 }", "walk = 0.0, camel = 1.0 }", ["behaviour.fare_eur_per_km", "camel"]),
    "malformed toml": ("[behaviour]", "[behaviour", ["TOML syntax", "valid TOML"]),
    "missing network file": ('places = "places.csv"', 'places = "nowhere.csv"', ["network.places", "existing regular file", "nowhere.csv"]),
    "negative seed": ("seed = 1", "seed = -1", ["seed", "greater than or equal to 0"]),
    "huge quota of people": ("people = 3100", "people = 1000000000000", ["inflow.monthly.0.people", "less than or equal"]),
    "unknown known border": ("[countries.default]", '[route_knowledge]\nknown_borders = ["GR-MK", "GR-TR"]\n[countries.default]',
                             ["route_knowledge.known_borders[1]", "a border of the network", "GR-TR"]),
    "negative unfamiliarity cost": ("detention_days = 2", "detention_days = 2\nunfamiliar_crossing_cost_eur = -1",
                                    ["behaviour.unfamiliar_crossing_cost_eur", "greater than or equal to 0"]),
}


@pytest.mark.parametrize("case", sorted(SCENARIO_CASES))
def test_bad_scenario_file(tiny_copy: Path, case: str):
    old, new, expected = SCENARIO_CASES[case]
    scenario = tiny_copy / "tiny.toml"
    _replace_line(scenario, old, new)
    with pytest.raises(InputError) as caught:
        load_scenario(scenario)
    message = str(caught.value)
    assert message.startswith(str(scenario)), message
    for fragment in expected:
        assert fragment in message, f"{fragment!r} missing from: {message}"


def test_extends_inherits_and_overrides(tiny_copy: Path):
    child = tiny_copy / "child.toml"
    child.write_text('extends = "tiny.toml"\nname = "child"\n[period]\ndays = 3\n')
    scenario = load_scenario(child)
    assert scenario.name == "child" and scenario.days == 3
    assert scenario.spec.behaviour.detention_days == 2  # inherited
    assert str(scenario.start) == "2020-01-01"  # inherited inside an overridden table


def test_extends_relative_paths_follow_their_file(tiny_copy: Path):
    sub = tiny_copy / "variants"
    sub.mkdir()
    (sub / "variant.toml").write_text('extends = "../tiny.toml"\nname = "variant"\n')
    assert load_scenario(sub / "variant.toml").network.n_places == 5


def test_extends_errors(tiny_copy: Path):
    child = tiny_copy / "child.toml"
    child.write_text('extends = "missing.toml"\n')
    with pytest.raises(InputError, match=r"child.toml: extends: expected an existing scenario file"):
        load_scenario(child)
    a, b = tiny_copy / "a.toml", tiny_copy / "b.toml"
    a.write_text('extends = "b.toml"\n')
    b.write_text('extends = "a.toml"\n')
    with pytest.raises(InputError, match=r"extends: expected a chain of files without a cycle"):
        load_scenario(a)


def test_missing_scenario_file(tmp_path: Path):
    with pytest.raises(InputError, match=r"nope.toml: file: expected an existing file"):
        load_scenario(tmp_path / "nope.toml")


def test_cli_reports_bad_file_and_writes_nothing(tiny_copy: Path, tmp_path: Path, capsys):
    _replace_line(tiny_copy / "tiny.toml", "days = 10", "days = -3")
    out = tmp_path / "run"
    assert main(["run", str(tiny_copy / "tiny.toml"), "--out", str(out), "--quiet"]) == 2
    error = capsys.readouterr().err
    assert "tiny.toml: period.days: expected" in error and "Traceback" not in error
    assert not out.exists()
    assert main(["validate", str(tiny_copy / "tiny.toml")]) == 2


def test_cli_validate_good_files(capsys):
    from simulation import DEFAULT_SCENARIO, SCENARIO_DIR

    assert main(["validate", str(DEFAULT_SCENARIO)]) == 0
    assert main(["validate", str(SCENARIO_DIR / "network" / "edges.csv")]) == 0
    assert main(["validate", str(SCENARIO_DIR / "network" / "places.csv")]) == 0
    assert capsys.readouterr().out.count("OK:") == 3


def test_cli_entry_point_error_has_no_traceback(tmp_path: Path):
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n")
    completed = subprocess.run([sys.executable, "-m", "simulation.cli", "validate", str(bad)],
                               capture_output=True, text=True)
    assert completed.returncode == 2
    assert "bad.toml: TOML syntax" in completed.stderr and "Traceback" not in completed.stderr


def test_cli_days_beyond_the_period(tmp_path: Path, capsys):
    from simulation import DEFAULT_SCENARIO

    assert main(["run", str(DEFAULT_SCENARIO), "--days", "400", "--out", str(tmp_path / "r"), "--quiet"]) == 2
    assert "period.days (184), got 400" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_levers_add_up_through_extends(tiny_copy: Path):
    (tiny_copy / "tiny.toml").write_text((tiny_copy / "tiny.toml").read_text() +
                                         '\n[[levers]]\ntype = "reception"\nplaces = ["mid"]\nextra_places = 5\n')
    child = tiny_copy / "child.toml"
    child.write_text('extends = "tiny.toml"\nname = "child"\n[[levers]]\ntype = "border_enforcement"\n'
                     'countries = ["BG"]\nclosed = true\n')
    kinds = [lever.kind for lever in load_scenario(child).levers()]
    assert kinds == ["reception", "border_enforcement"]


def test_a_run_that_would_not_fit_in_memory_is_refused_before_it_starts(monkeypatch):
    from simulation import MigrationModel, resources

    from .conftest import tiny_scenario

    scenario = tiny_scenario()
    needed = MigrationModel(scenario).estimated_bytes
    assert needed > resources.INTERPRETER_BYTES
    monkeypatch.setattr(resources, "available_bytes", lambda: needed - 1)
    with pytest.raises(resources.InsufficientMemory, match=r"GiB of memory needed .* nothing was started"):
        MigrationModel(scenario)
    # More people need more: the estimate grows with the population.
    bigger = tiny_scenario(inflow={"monthly": [{"month": "2020-01", "entry": "start", "people": 10_000_000}]})
    monkeypatch.setattr(resources, "available_bytes", lambda: None)  # unknown: no refusal
    assert resources.estimated_run_bytes(10_000_000, 10, 5, 5, 4, 16) > needed
    assert MigrationModel(bigger, days=1).estimated_bytes > needed
