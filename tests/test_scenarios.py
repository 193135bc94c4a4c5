"""The bundled scenarios load, and the dated events of the history scenario take effect."""

import pandas as pd
import pytest

from simulation import SCENARIO_DIR, load_scenario, simulate

SCENARIOS = sorted(SCENARIO_DIR.glob("*.toml"))


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_bundled_scenario_loads(path):
    scenario = load_scenario(path)
    assert scenario.name == path.stem
    assert scenario.levers() is not None


def test_history_closes_hungary_to_serbia_from_15_september_2015():
    scenario = load_scenario(SCENARIO_DIR / "history_2015_2016.toml")
    result = simulate(scenario, days=300)
    flows = result.flows
    network = scenario.network
    serbia_to_hungary = flows[flows.from_place.map(network.country_of).eq("RS") & flows.to_place.map(network.country_of).eq("HU")]
    daily = serbia_to_hungary.groupby("date").departures.sum()
    assert daily[:"2015-09-14"].sum() > 0
    assert daily["2015-09-15":].sum() == 0
    croatia_to_hungary = flows[flows.from_place.map(network.country_of).eq("HR") & flows.to_place.map(network.country_of).eq("HU")]
    assert croatia_to_hungary.set_index("date").departures["2015-10-17":].sum() == 0


def test_extends_a_list_in_order_with_levers_adding_up(tmp_path):
    (tmp_path / "fitted.toml").write_text("[behaviour]\nrest_probability_per_day = 0.123\n")
    (tmp_path / "more.toml").write_text('extends = "' + str(SCENARIO_DIR / "anti_smuggling_serbia.toml") + '"\n'
                                        "[behaviour]\nrest_probability_per_day = 0.5\n")
    (tmp_path / "both.toml").write_text('extends = ["more.toml", "fitted.toml"]\nname = "both"\n'
                                        '[[levers]]\ntype = "reception"\ncountries = ["RS"]\ncapacity_factor = 2.0\n')
    both = load_scenario(tmp_path / "both.toml")
    assert both.spec.behaviour.rest_probability_per_day == 0.123  # the later file wins
    serbia = load_scenario(SCENARIO_DIR / "anti_smuggling_serbia.toml")
    assert len(both.levers()) == len(serbia.levers()) + 1  # the file's own lever comes after
    assert both.spec.behaviour.smuggler_use_probability == serbia.spec.behaviour.smuggler_use_probability
