"""Adaptive governments: response rules fire on the day their condition first holds, act from
the next day, lift after quiet days, and one closure can set off the next."""

import pandas as pd
import pytest

from simulation import InputError, simulate

from .conftest import tiny_scenario

BULGARIA_CLOSED = [{"type": "border_enforcement", "countries": ["BG"], "closed": True}]


def test_rule_fires_on_the_day_its_condition_first_holds_and_lifts_after_quiet_days():
    # Everyone goes north (Bulgaria closed): 100 a day enter North Macedonia from the 2nd.
    rule = {"country": "MK", "name": "close after two busy days", "when": "entries_above", "threshold": 50,
            "for_days": 2, "closed": True, "relax_after_quiet_days": 3}
    result = simulate(tiny_scenario(levers=BULGARIA_CLOSED, responses=[rule]))
    actions = result.government_actions
    assert actions[["date", "country", "action"]].values.tolist() == [
        [pd.Timestamp("2020-01-03"), "MK", "started"],   # second day over 50: the 2nd and the 3rd
        [pd.Timestamp("2020-01-06"), "MK", "lifted"],    # quiet on the 4th, 5th and 6th
        [pd.Timestamp("2020-01-08"), "MK", "started"],   # open from the 7th: busy on the 7th and 8th
    ]
    assert actions.in_force_from.iloc[0] == pd.Timestamp("2020-01-04")
    into_mk = result.events[result.events.country == "MK"].set_index("date").border_crossings
    assert into_mk["2020-01-02":"2020-01-03"].eq(100).all()
    assert into_mk["2020-01-04":"2020-01-06"].eq(0).all()
    # Reopened on the 7th: the 100 who reached mid on the 3rd cross; those who entered during the
    # closure waited at the entry (no way on), walk to mid on the 7th and cross on the 8th.
    assert into_mk["2020-01-07"] == 100
    assert into_mk["2020-01-08"] == 400
    assert into_mk["2020-01-10"] == 0


def test_one_closure_sets_off_the_next():
    # Routes split about evenly; North Macedonia closes when more than 30 a day come in. Then
    # everyone goes south, and Bulgaria, which closes above 80 a day, follows the next day.
    responses = [
        {"country": "MK", "when": "entries_above", "threshold": 30, "closed": True},
        {"country": "BG", "when": "entries_above", "threshold": 80, "closed": True},
    ]
    result = simulate(tiny_scenario(behaviour={"route_choice_sharpness_per_eur": 0.0}, responses=responses))
    actions = result.government_actions.set_index("country")
    assert actions.loc["MK", "date"] == pd.Timestamp("2020-01-02")
    assert actions.loc["BG", "date"] == pd.Timestamp("2020-01-03")
    assert result.events[result.events.date >= "2020-01-04"].arrivals.sum() == 0


def test_pressure_rule_reads_the_worst_place():
    # mid holds 10; 100 arrive a day, so its pressure is 10 from the first evening.
    rule = {"country": "GR", "when": "pressure_above", "threshold": 5, "countries": ["GR"], "closed": True}
    result = simulate(tiny_scenario(responses=[rule]))
    assert result.government_actions.date.tolist() == [pd.Timestamp("2020-01-01")]
    assert result.government_actions.observed.iloc[0] == pytest.approx(10.0)


@pytest.mark.parametrize("rule,fragment", [
    ({"country": "ZZ", "when": "entries_above", "threshold": 1, "closed": True}, "responses[0].country"),
    ({"country": "MK", "when": "sunspots", "threshold": 1, "closed": True}, "responses.0.when"),
    ({"country": "MK", "when": "entries_above", "threshold": -1, "closed": True}, "responses.0.threshold"),
    ({"country": "MK", "when": "entries_above", "threshold": 1, "from_countries": ["QQ"]}, "unknown countries QQ"),
])
def test_bad_rules_name_the_key(rule, fragment):
    with pytest.raises(InputError, match=None) as caught:
        tiny_scenario(responses=[rule])
    assert fragment in str(caught.value)


def test_a_government_setting_changed_mid_run_applies_from_the_next_day():
    # The day's policy is rebuilt only when a government's settings change: closing Bulgaria's
    # border through its government on day 4 must still send everyone north from day 5.
    from simulation import MigrationModel

    model = MigrationModel(tiny_scenario())
    bulgaria = next(g for g in model.governments if g.country == "BG")
    assert bulgaria.border_closed is False and isinstance(bulgaria.smuggler_seats_per_day, int)
    for _ in range(4):
        model.step()
    bulgaria.border_closed = True
    model.step()
    assert model.policy.open[model.edge_entered_country == model.network.countries.index("BG")].max() == 0
    bulgaria.border_closed = False
    model.step()
    assert model.policy.open.min() == 1


def test_governments_observe_their_own_places_and_entries():
    from simulation import MigrationModel

    model = MigrationModel(tiny_scenario(levers=BULGARIA_CLOSED))
    model.step()
    model.step()
    north_macedonia = next(g for g in model.governments if g.country == "MK")
    assert north_macedonia.entries_today == 100
    greece = next(g for g in model.governments if g.country == "GR")
    assert greece.worst_pressure == float(model.transit_pressure()[model.network.index["mid"]])
