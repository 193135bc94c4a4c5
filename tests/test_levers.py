"""Levers on the tiny network: each moves its own measure the documented way, from its date."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation import InputError, load_scenario, simulate
from simulation.levers import AntiSmuggling, BorderEnforcement, Lever, LeverParameters, Reception

from .conftest import tiny_scenario

BUSY = {"monthly": [{"month": "2020-01", "entry": "start", "people": 31_000}]}


def _by_country(result, column):
    return result.events.pivot(index="date", columns="country", values=column)


def test_closure_stops_flow_over_that_crossing_from_its_date():
    result = simulate(tiny_scenario(levers=[{"type": "border_enforcement", "countries": ["BG"], "closed": True,
                                             "start": "2020-01-05"}]))
    into_bulgaria = _by_country(result, "border_crossings")["BG"]
    assert into_bulgaria[:"2020-01-04"].iloc[1:].gt(0).all()   # open before its date
    assert into_bulgaria["2020-01-05":].eq(0).all()            # closed from it
    into_austria = _by_country(result, "arrivals")["AT"]
    assert into_austria["2020-01-05":].eq(100).all()           # everyone goes round by the north


def test_closing_an_edge_inside_a_country_holds_people_before_it():
    # start -> mid is inside Greece (like an island ferry): closed from the 5th, the people at
    # start from then on have no way on and wait there.
    result = simulate(tiny_scenario(levers=[{"type": "border_enforcement", "crossings": ["start->mid"],
                                             "closed": True, "start": "2020-01-05"}]))
    departures = result.flows[(result.flows.from_place == "start") & (result.flows.to_place == "mid")]
    assert departures.set_index("date").departures["2020-01-05":].eq(0).all()
    final = result.stocks[result.stocks.date == result.stocks.date.max()].set_index(["place_id", "state"]).people
    assert final["start", "waiting"] == 600  # entrants of the 5th to the 10th


def test_holding_an_edge_inside_a_country_stops_people_at_it_who_then_give_up_there():
    # Held (EU-Turkey Statement on the islands): people keep coming to start, are stopped at
    # start -> mid and, with a daily chance to give up, claim asylum in Greece where they are.
    def run(give_up):
        return simulate(tiny_scenario(
            behaviour={"give_up_probability_per_day_when_stranded": give_up},
            levers=[{"type": "border_enforcement", "crossings": ["start->mid"], "held": True, "start": "2020-01-05"}]))

    held = run(0.0)
    departures = held.flows[(held.flows.from_place == "start") & (held.flows.to_place == "mid")]
    assert departures.set_index("date").departures["2020-01-05":].eq(0).all()
    final = held.stocks[held.stocks.date == held.stocks.date.max()].set_index(["place_id", "state"]).people
    assert final["start", "waiting"] == 600  # entrants of the 5th to the 10th, all stopped and retrying
    assert _by_country(held, "asylum_claims")["GR"].sum() == 0

    giving_up = run(1.0)
    # Each is stopped on entry and gives up at the next day's decision (those of the 10th: too late).
    assert _by_country(giving_up, "asylum_claims")["GR"].sum() == 500


def test_a_held_crossing_still_draws_route_choice_where_a_closed_one_is_avoided():
    def north_departures(setting):
        levers = [{"type": "border_enforcement", "crossings": ["mid->north"], **setting}] if setting else []
        result = simulate(tiny_scenario(inflow=BUSY, behaviour={"route_choice_sharpness_per_eur": 0.0},
                                        levers=levers))
        return int(result.flows.groupby("to_place").departures.sum().get("north", 0))

    open_ = north_departures(None)
    assert open_ > 0
    assert north_departures({"closed": True}) == 0
    held = simulate(tiny_scenario(inflow=BUSY, behaviour={"route_choice_sharpness_per_eur": 0.0},
                                  levers=[{"type": "border_enforcement", "crossings": ["mid->north"], "held": True}]))
    events = held.events.groupby("country")[["border_crossings", "pushbacks"]].sum()
    assert events.loc["MK", "border_crossings"] == 0  # nobody through
    assert events.loc["MK", "pushbacks"] > 0          # but people keep trying it: counted as turned back


def test_held_is_given_alone():
    with pytest.raises(InputError, match="held alone"):
        tiny_scenario(levers=[{"type": "border_enforcement", "crossings": ["start->mid"], "held": True,
                               "closed": True}])
    with pytest.raises(InputError, match="closed or held"):
        tiny_scenario(levers=[{"type": "border_enforcement", "crossings": ["start->mid"],
                               "detection_probability": 0.5}])


def test_lever_window_ends():
    result = simulate(tiny_scenario(levers=[{"type": "border_enforcement", "countries": ["BG", "MK"], "closed": True,
                                             "start": "2020-01-03", "end": "2020-01-06"}]))
    crossings = _by_country(result, "border_crossings")[["BG", "MK"]].sum(axis=1)
    assert crossings["2020-01-03":"2020-01-05"].eq(0).all()
    # Reopened on the 6th: the 100 who reached mid on the 2nd cross that day; the 300 who entered
    # during the closure waited at the entry (no way on), walk to mid on the 6th with that day's
    # 100, and all 400 cross on the 7th.
    assert crossings["2020-01-06"] == 100
    assert crossings["2020-01-07"] == 400


def test_enforcement_on_one_named_crossing_pushes_people_back():
    result = simulate(tiny_scenario(
        inflow=BUSY, behaviour={"route_choice_sharpness_per_eur": 0.0},
        levers=[{"type": "border_enforcement", "crossings": ["mid->south"], "detection_probability": 1.0,
                 "pushback_share": 1.0}]))
    events = result.events.groupby("country")[["border_crossings", "pushbacks", "apprehensions"]].sum()
    assert events.loc["BG", "border_crossings"] == 0
    assert events.loc["BG", "pushbacks"] == events.loc["BG", "apprehensions"] > 0
    assert events.loc["MK", "pushbacks"] == 0


def test_stronger_enforcement_moves_more_people_to_the_other_route():
    # Route choice sees the expected cost of being stopped: the more Bulgaria pushes back,
    # the larger the north route's share. Five seeds each; the bands must not overlap.
    def north_share(pushback, seed):
        result = simulate(tiny_scenario(
            inflow=BUSY, seed=seed, behaviour={"route_choice_sharpness_per_eur": 0.004, "detection_cost_eur": 1000.0},
            levers=[{"type": "border_enforcement", "countries": ["BG"], "detection_probability": 0.5,
                     "pushback_share": pushback}]))
        departures = result.flows.groupby("to_place").departures.sum()
        return departures["north"] / (departures["north"] + departures["south"])

    weak = [north_share(0.2, seed) for seed in range(5)]
    strong = [north_share(0.8, seed) for seed in range(5)]
    assert max(weak) < min(strong)


def test_reception_lever_adds_places_and_conditions_push_people_on():
    calm = {"rest_probability_per_day": 1.0, "rough_sleeping_rest_factor": 0.0}
    base = simulate(tiny_scenario(behaviour=calm))
    more = simulate(tiny_scenario(behaviour=calm, levers=[{"type": "reception", "places": ["mid"], "extra_places": 40}]))
    mid = lambda r: r.reception[r.reception.place_id == "mid"].set_index("date")
    assert mid(base).in_reception.max() == 10 and mid(more).in_reception.max() == 50
    assert mid(more).reception_capacity.eq(50).all()
    poor = simulate(tiny_scenario(behaviour=calm, levers=[{"type": "reception", "places": ["mid"],
                                                            "conditions_rest_factor": 0.0}]))
    # With conditions that push everyone on, the 10 who held places no longer stay: at the end of
    # each day only that day's 100 arrivals are at mid (against 110 when the 10 stay).
    assert mid(base).present.iloc[1:].eq(110).all()
    assert mid(poor).present.eq(100).all()


def test_one_country_anti_smuggling_shifts_demand_to_the_other_route(tiny_copy: Path):
    # Both onward crossings into Austria have smugglers (300 EUR), one set based in North
    # Macedonia (north -> goal), one in Bulgaria (south -> goal). People who can pay use them.
    edges = tiny_copy / "edges.csv"
    text = edges.read_text()
    text = text.replace("north,goal,road,100,0.5,true,MK-AT,false,,", "north,goal,road,100,0.5,true,MK-AT,false,300,")
    text = text.replace("south,goal,road,100,0.5,true,BG-AT,false,,", "south,goal,road,100,0.5,true,BG-AT,false,300,")
    edges.write_text(text)
    base = load_scenario(tiny_copy / "tiny.toml")

    def south_share(levers, seed):
        scenario = base.with_changes(**{"seed": seed, "inflow": BUSY,
                                        "behaviour.smuggler_use_probability": 0.8,
                                        "behaviour.route_choice_sharpness_per_eur": 0.005,
                                        "countries.default.smuggler_seats_per_day": 500})
        result = simulate(scenario.with_levers(levers))
        departures = result.flows.groupby("to_place").departures.sum()
        return departures["south"] / (departures["north"] + departures["south"])

    serbia_like = [AntiSmuggling(countries=["MK"], price_factor=3.0, seat_factor=0.2)]
    alone = [south_share([], seed) for seed in range(5)]
    with_lever = [south_share(serbia_like, seed) for seed in range(5)]
    assert max(alone) < min(with_lever)


def test_a_users_own_lever_has_the_same_interface():
    class HalveCapacityEverywhere(Lever):
        kind = "test_halve_capacity"

        class Parameters(LeverParameters):
            factor: float = 0.5

        def bind(self, network):
            self.n_places = network.n_places

        def apply(self, policy, model):
            policy.reception_capacity[:] = (policy.reception_capacity * self.factor).astype(np.int64)

    scenario = tiny_scenario().with_levers([HalveCapacityEverywhere(start="2020-01-03")])
    result = simulate(scenario)
    capacity = result.reception[result.reception.place_id == "mid"].set_index("date").reception_capacity
    assert capacity[:"2020-01-02"].eq(10).all() and capacity["2020-01-03":].eq(5).all()
    assert scenario.resolved()["levers"][0]["type"] == "test_halve_capacity"


@pytest.mark.parametrize("block,fragments", [
    ({"type": "border_wall"}, ["levers[0].type", "border_enforcement", "border_wall"]),
    ({"type": "border_enforcement", "countries": ["XX"], "closed": True}, ["levers[0]", "unknown countries XX"]),
    ({"type": "border_enforcement", "crossings": ["mid-south"]}, ["levers[0]", "from_place->to_place"]),
    ({"type": "border_enforcement", "crossings": ["start->mid"]}, ["levers[0]", "not a border crossing"]),
    ({"type": "border_enforcement", "crossings": ["start->mid"], "closed": True, "detection_probability": 0.5},
     ["levers[0]", "not a border crossing", "only be closed"]),
    ({"type": "border_enforcement", "crossings": ["start->goal"], "closed": True}, ["levers[0]", "not an edge"]),
    ({"type": "border_enforcement", "countries": ["BG"], "detection": 0.5}, ["levers[0].detection", "no such key"]),
    ({"type": "border_enforcement", "countries": ["BG"], "pushback_share": 1.5}, ["levers[0].pushback_share", "less than or equal to 1"]),
    ({"type": "border_enforcement", "countries": ["BG"], "start": "2020-02-01", "end": "2020-01-01"}, ["levers[0]", "must come after"]),
    ({"type": "reception", "places": ["atlantis"]}, ["levers[0]", "unknown places atlantis"]),
    ({"type": "anti_smuggling", "countries": []}, ["levers[0].countries", "at least 1"]),
])
def test_bad_lever_blocks_name_the_key(block, fragments):
    with pytest.raises(InputError) as caught:
        tiny_scenario(levers=[block])
    for fragment in fragments:
        assert fragment in str(caught.value), str(caught.value)


def test_information_on_risks_moves_people_off_the_risky_route():
    def north_share(levers, seed):
        result = simulate(tiny_scenario(
            inflow=BUSY, seed=seed, behaviour={"route_choice_sharpness_per_eur": 0.004, "detection_cost_eur": 1000.0},
            countries={"BG": {"border_detection_probability": 0.5, "pushback_share": 0.5}}, levers=levers))
        departures = result.flows.groupby("to_place").departures.sum()
        return departures["north"] / (departures["north"] + departures["south"])

    campaign = [{"type": "information", "countries": ["BG"], "risk_awareness_factor": 3.0}]
    before = [north_share([], seed) for seed in range(4)]
    after = [north_share(campaign, seed) for seed in range(4)]
    assert max(before) < min(after)


def test_information_on_return_offers_raises_uptake():
    closed = [{"type": "border_enforcement", "countries": ["BG", "MK"], "closed": True},
              {"type": "return_reintegration", "countries": ["GR"], "assisted_return_uptake_per_day": 0.05,
               "assisted_return_full_after_days": 3}]
    told = closed + [{"type": "information", "countries": ["GR"], "return_offer_awareness_factor": 4.0}]
    returns = lambda levers: simulate(tiny_scenario(levers=levers)).events.returns_voluntary.sum()
    assert returns(told) > 2 * returns(closed)


def test_daily_admissions_cap_lets_through_that_many_a_day():
    # Bulgaria closed: everyone goes north, where North Macedonia admits 60 a day; the rest
    # queue at the border, and the queue grows by 40 a day.
    result = simulate(tiny_scenario(levers=[
        {"type": "border_enforcement", "countries": ["BG"], "closed": True},
        {"type": "border_enforcement", "countries": ["MK"], "daily_admissions": 60}]))
    into_mk = result.events[result.events.country == "MK"].set_index("date").border_crossings
    assert into_mk.tolist() == [0] + [60] * 9
    queue = result.stocks[(result.stocks.state == "waiting_at_border") & (result.stocks.place_id == "mid")]
    assert queue.people.tolist() == [0] + [40 * d for d in range(1, 10)]


def test_refusing_one_group_turns_only_that_group_back():
    groups = {"only": {"share": 0.5},
              "filtered": {"share": 0.5, "protection_need": 0.5, "budget": {"median_eur": 1000.0, "log_sd": 0.0},
                           "destinations": {"goal": 1.0}}}
    result = simulate(tiny_scenario(groups=groups, levers=[
        {"type": "border_enforcement", "countries": ["BG", "MK"], "groups": ["filtered"], "closed": True}]))
    population = result.model.population
    on_route = population.active("group")[population.active("entry_day") < 9]
    # Of those who entered before the last day, only the filtered group is left on the route.
    assert len(on_route) > 400 and (on_route == 1).all()
    assert result.events.pushbacks.sum() > 0
    arrived = result.stocks[result.stocks.state == "arrived"].groupby("date").people.sum().iloc[-1]
    assert abs(arrived / 900 - 0.5) < 0.1


def test_groups_only_with_closed():
    with pytest.raises(InputError, match="with groups, give only closed"):
        tiny_scenario(levers=[{"type": "border_enforcement", "countries": ["BG"], "groups": ["only"],
                               "detection_probability": 0.5}])


def test_the_day_policy_is_reused_only_for_pure_levers_and_only_while_the_same_ones_are_active():
    from simulation import MigrationModel

    calls = {"pure": 0, "reads_the_model": 0}

    class Counting(Lever):
        def __init__(self, label, pure, **values):
            super().__init__(**values)
            self.label, self.pure = label, pure

        def apply(self, policy, model):
            calls[self.label] += 1
            policy.rest_factor[:] = 0.5

    model = MigrationModel(tiny_scenario())
    model.levers = [Counting("pure", True, start="2020-01-04", end="2020-01-07"),
                    Counting("reads_the_model", False, start="2020-01-08")]
    for _ in range(10):
        model.step()
        assert model.policy.rest_factor.max() == (0.5 if model.day - 1 in (3, 4, 5, 7, 8, 9) else 1.0)
    assert calls == {"pure": 1, "reads_the_model": 3}  # the pure one once for its three days
