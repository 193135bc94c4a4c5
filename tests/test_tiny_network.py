"""Outcomes on the five-place network of tests/data/tiny that can be worked out by hand.

    start (GR, entry) --road 1.0 d--> mid (GR, 10 places) --walk 0.5 d, GR-MK--> north (MK) --road 0.5 d, MK-AT--> goal (AT)
                                                          --walk 0.5 d, GR-BG--> south (BG) --road 0.5 d, BG-AT--> goal

100 people enter at start each day of January 2020 (3,100 in the month). With no resting,
no detection and no fares, someone entering on day d spends day d walking to mid (1.0 day,
the whole day) and on day d+1 crosses to north or south and on to goal (0.5 + 0.5 days)."""

import math

import numpy as np
import pandas as pd
import pytest

from simulation import load_scenario, simulate

from .conftest import tiny_scenario


def _events(result, country):
    return result.events[result.events.country == country].set_index("date")


def _departures(result, origin, target):
    flows = result.flows
    return flows[(flows.from_place == origin) & (flows.to_place == target)].set_index("date").departures


def test_everyone_arrives_the_day_after_entering():
    result = simulate(tiny_scenario())
    austria = _events(result, "AT")
    assert austria.arrivals.tolist() == [0] + [100] * 9
    assert austria.border_crossings.tolist() == [0] + [100] * 9
    assert (_events(result, "MK").border_crossings + _events(result, "BG").border_crossings).tolist() == [0] + [100] * 9
    assert _departures(result, "start", "mid").tolist() == [100] * 10


def test_route_split_follows_the_softmax_on_expected_cost():
    # Bulgaria detects half of the people crossing and pushes all of them back: the south route
    # costs 0.5 x 1.0 x 1,000 = 500 EUR more, so P(north) = 1 / (1 + exp(-0.004 x 500)) = 0.881.
    result = simulate(tiny_scenario(
        inflow={"monthly": [{"month": "2020-01", "entry": "start", "people": 310_000}]},
        behaviour={"route_choice_sharpness_per_eur": 0.004, "detection_cost_eur": 1000.0},
        countries={"BG": {"border_detection_probability": 0.5, "pushback_share": 1.0}},
        period={"days": 2}))
    day1 = pd.Timestamp("2020-01-02")
    north = _departures(result, "mid", "north")[day1]
    south_attempts = _departures(result, "mid", "south")[day1] + _events(result, "BG").pushbacks[day1]
    attempts = north + south_attempts
    assert attempts == 10_000
    expected = 1.0 / (1.0 + math.exp(-0.004 * 500.0))
    sd = math.sqrt(expected * (1 - expected) / attempts)
    assert abs(north / attempts - expected) < 5 * sd
    # and about half of the south attempts were pushed back
    pushbacks = _events(result, "BG").pushbacks[day1]
    assert abs(pushbacks / south_attempts - 0.5) < 5 * math.sqrt(0.25 / south_attempts)


@pytest.mark.parametrize("retry", [0.5, 0.1])
def test_people_turned_back_try_again_with_the_retry_chance(retry):
    # The northern route is closed and Bulgaria pushes back everyone it detects (half of those
    # crossing): a pushed-back person tries again on a later day with the retry chance, so
    # each day's attempts by the turned-back are about retry x those still waiting.
    def run(retry_probability):
        return simulate(tiny_scenario(
            inflow={"monthly": [{"month": "2020-01", "entry": "start", "people": 31_000}]},
            behaviour={"retry_probability_per_day_after_turned_back": retry_probability},
            countries={"MK": {"border_closed": True},
                       "BG": {"border_detection_probability": 0.5, "pushback_share": 1.0}},
            period={"days": 10}))

    eager, patient = run(1.0), run(retry)
    assert _events(patient, "BG").pushbacks.sum() < _events(eager, "BG").pushbacks.sum()
    # Day 1: only the first day's 1,000 people try (half are pushed back). Day 2: day 2's
    # newcomers try, and of the 500 turned back about `retry` x 500 try again.
    attempts = _events(patient, "BG").apprehensions / 0.5  # detected = half of those trying
    day2 = pd.Timestamp("2020-01-03")
    first_tries = 1_000
    expected = first_tries + retry * 500
    assert abs(attempts[day2] - expected) < 5 * math.sqrt(expected) * 2
    # Nobody is lost: everyone has arrived, is on the route or waits turned back.
    stocks = patient.stocks[patient.stocks.date == patient.stocks.date.max()].people.sum()
    assert stocks == 10_000


def test_detention_holds_people_for_the_detention_days():
    # Only the north route (Bulgaria closed); North Macedonia detains everyone it detects for
    # 2 days: detained on day 1, held on days 2 and 3, released on day 3, on to goal on day 4.
    result = simulate(tiny_scenario(countries={
        "BG": {"border_closed": True},
        "MK": {"border_detection_probability": 1.0, "detention_share": 1.0}}))
    assert _events(result, "AT").arrivals.tolist() == [0, 0, 0, 0] + [100] * 6
    assert _events(result, "MK").detentions.tolist() == [0] + [100] * 9
    assert _departures(result, "mid", "south").sum() == 0


def test_closing_both_borders_strands_everyone_where_they_learn_it():
    # With no open way to the destination, cost-to-go is infinite everywhere before the border:
    # people do not walk into the dead end, they wait where they are (here: at the entry).
    result = simulate(tiny_scenario(countries={"BG": {"border_closed": True}, "MK": {"border_closed": True}}))
    assert result.events.arrivals.sum() == 0
    assert result.events.border_crossings.sum() == 0
    final = result.stocks[result.stocks.date == result.stocks.date.max()].set_index(["place_id", "state"]).people
    assert final["start", "waiting"] == 1000
    assert final.sum() == 1000


def test_stranded_people_give_up_and_claim_asylum_where_they_are():
    # Both borders closed: nobody has a way on, so each day everyone at start gives up with
    # the give-up chance and claims asylum in Greece. Day d's entrants decide on days d..9.
    give_up = 0.3
    result = simulate(tiny_scenario(
        behaviour={"give_up_probability_per_day_when_stranded": give_up},
        countries={"BG": {"border_closed": True}, "MK": {"border_closed": True}}))
    final = result.stocks[result.stocks.date == result.stocks.date.max()].set_index(["place_id", "state"]).people
    claimed = final["start", "claimed_asylum"]
    chances = [1 - (1 - give_up) ** (10 - d) for d in range(10)]
    expected = sum(100 * p for p in chances)
    sd = math.sqrt(sum(100 * p * (1 - p) for p in chances))
    assert abs(claimed - expected) < 5 * sd
    assert claimed + final["start", "waiting"] == 1000
    assert _events(result, "GR").asylum_claims.sum() == claimed


def test_people_turned_back_who_give_up_stop_trying():
    # North Macedonia closed; Bulgaria detects and pushes back everyone. Without giving up the
    # turned-back try again every day; with a give-up chance of 1 they claim asylum in Greece
    # the day after their one attempt, so Bulgaria sees each person once.
    def run(give_up):
        return simulate(tiny_scenario(
            behaviour={"give_up_probability_per_day_when_stranded": give_up},
            countries={"MK": {"border_closed": True},
                       "BG": {"border_detection_probability": 1.0, "pushback_share": 1.0}}))

    stubborn, resigned = run(0.0), run(1.0)
    assert _events(stubborn, "GR").asylum_claims.sum() == 0
    assert _events(stubborn, "BG").pushbacks.sum() > 2 * 900
    assert _events(resigned, "BG").pushbacks.sum() == 900  # everyone who reached mid by day 9, once
    assert _events(resigned, "GR").asylum_claims.sum() == 800  # the day after (day 9's are still waiting)


def test_visa_free_travellers_are_never_stopped_at_borders():
    # Every crossing detects and pushes back everyone; a visa-free group crosses with its passports.
    closed_to_irregular = {"BG": {"border_detection_probability": 1.0, "pushback_share": 1.0},
                           "MK": {"border_detection_probability": 1.0, "pushback_share": 1.0},
                           "AT": {"border_detection_probability": 1.0, "pushback_share": 1.0}}
    irregular = simulate(tiny_scenario(countries=closed_to_irregular))
    visa_free = simulate(tiny_scenario(countries=closed_to_irregular, groups={"only": {"visa_free_travel": True}}))
    assert irregular.events.arrivals.sum() == 0
    assert visa_free.events.apprehensions.sum() == 0
    assert _events(visa_free, "AT").arrivals.tolist() == [0] + [100] * 9


def test_smuggler_seats_limit_crossings_and_earn_fees():
    # Everyone wants a smuggler (fee 500, budget exactly 1,000); Greek smugglers have 30 seats a day.
    result = simulate(tiny_scenario(behaviour={"smuggler_use_probability": 1.0},
                                    countries={"GR": {"smuggler_seats_per_day": 30}}))
    greece = _events(result, "GR")
    crossed = _events(result, "MK").smuggled_crossings + _events(result, "BG").smuggled_crossings
    assert crossed.tolist() == [0] + [30] * 9
    assert greece.smuggler_revenue_eur.tolist() == [0.0] + [15_000.0] * 9
    final = result.stocks[(result.stocks.date == result.stocks.date.max()) & (result.stocks.place_id == "mid")]
    assert final.set_index("state").people["waiting_for_smuggler"] == 900 - 9 * 30


def test_people_without_money_wait_and_earn_until_they_can_pay():
    # The bus start -> mid costs 2 EUR/km x 100 km = 200 EUR; people carry 100 EUR and earn
    # 10 EUR a day while stuck, so the day-0 entrants can first pay on day 10.
    result = simulate(tiny_scenario(
        groups={"only": {"budget": {"median_eur": 100.0, "log_sd": 0.0}}},
        behaviour={"fare_eur_per_km": {"road": 2.0, "rail": 0.0, "sea": 0.0, "walk": 0.0}},
        period={"days": 12}))
    departures = _departures(result, "start", "mid")
    assert departures.tolist() == [0] * 10 + [100, 100]
    stuck = result.stocks[(result.stocks.state == "stuck_without_money") & (result.stocks.place_id == "start")]
    assert stuck.people.tolist()[:10] == [100 * (d + 1) for d in range(10)]


def test_a_multi_day_edge_takes_its_days(tiny_copy):
    # start -> mid takes 2.5 days: leave day 0, arrive in the middle of day 2, walk on to north
    # (0.5 d, the rest of day 2), reach goal on day 3.
    edges = tiny_copy / "edges.csv"
    edges.write_text(edges.read_text().replace("start,mid,road,100,1.0,", "start,mid,road,100,2.5,"))
    result = simulate(load_scenario(tiny_copy / "tiny.toml"))
    assert _events(result, "AT").arrivals.tolist() == [0, 0, 0] + [100] * 7
    in_transit = result.stocks[(result.stocks.state == "in_transit") & (result.stocks.place_id == "start")]
    assert in_transit.people.tolist()[:3] == [100, 200, 200]


def test_reception_places_are_a_hard_limit_kept_by_their_holders():
    # Sheltered people always rest; people outside reception never do. mid has 10 places:
    # the first 10 to arrive keep them, everyone else moves on.
    result = simulate(tiny_scenario(behaviour={"rest_probability_per_day": 1.0, "rough_sleeping_rest_factor": 0.0}))
    mid = result.reception[result.reception.place_id == "mid"]
    assert mid.in_reception.tolist() == [10] * 10
    assert mid.present.tolist() == [100] + [110] * 9
    assert np.allclose(mid.transit_pressure, mid.present / 10)
    assert _events(result, "AT").arrivals.tolist() == [0, 90] + [100] * 8


def test_inflow_rows_can_name_their_group():
    # Group b has share 0, so only rows that name it can bring its people in.
    from simulation import MigrationModel

    groups = {"only": {"share": 1.0},
              "b": {"share": 0.0, "protection_need": 0.9, "budget": {"median_eur": 50.0, "log_sd": 0.0},
                    "destinations": {"goal": 1.0}}}
    inflow = {"monthly": [{"month": "2020-01", "entry": "start", "people": 310},
                          {"month": "2020-01", "entry": "start", "people": 62, "group": "b"}]}
    model = MigrationModel(tiny_scenario(groups=groups, inflow=inflow, period={"days": 1}))
    model.step()
    groups_today = model.population.active("group")
    assert (groups_today == 0).sum() == 10 and (groups_today == 1).sum() == 2
    assert np.allclose(model.population.active("budget_eur")[groups_today == 1], 50.0)


def test_an_unfamiliar_crossing_costs_extra_until_people_have_crossed_there():
    # Only the north route (GR-MK, MK-AT) is known. The south one carries EUR 500 at each of its two
    # crossings: P(north) = 1 / (1 + exp(-0.004 x 1,000)) = 0.982 on the first crossing day. People
    # crossing south make it known: with 100 crossers to learn, its cost fades and the share grows.
    def run(crossers_to_learn):
        return simulate(tiny_scenario(
            inflow={"monthly": [{"month": "2020-01", "entry": "start", "people": 310_000}]},
            behaviour={"route_choice_sharpness_per_eur": 0.004, "unfamiliar_crossing_cost_eur": 500.0,
                       "crossers_to_learn_a_crossing": crossers_to_learn},
            route_knowledge={"known_borders": ["GR-MK", "MK-AT"]}, period={"days": 6}))

    def south_share(result):
        north, south = _departures(result, "mid", "north"), _departures(result, "mid", "south")
        return (south / (north + south)).iloc[1:]

    never_learnt, learnt = run(1e9), run(100.0)
    expected = 1.0 / (1.0 + math.exp(0.004 * 1000.0))
    sd = math.sqrt(expected * (1 - expected) / 10_000)
    assert abs(south_share(never_learnt).iloc[0] - expected) < 5 * sd
    assert south_share(learnt).iloc[0] == south_share(never_learnt).iloc[0]  # nobody has crossed yet
    assert south_share(learnt).iloc[-1] > 0.4 > 5 * south_share(never_learnt).iloc[-1]
    # Everyone who crossed taught the crossing: the count is the departures on the south edges.
    model = learnt.model
    south_edges = [e for e in range(model.network.n_edges) if model.network.edge_border[e] in ("GR-BG", "BG-AT")]
    flows = learnt.flows
    assert model.crossed_so_far[south_edges].sum() == flows[flows.to_place.isin(["south", "goal"])
                                                           & flows.from_place.isin(["mid", "south"])].departures.sum()


def test_visa_free_travellers_show_nobody_a_crossing():
    result = simulate(tiny_scenario(behaviour={"unfamiliar_crossing_cost_eur": 500.0},
                                    groups={"only": {"visa_free_travel": True}}))
    assert result.events.border_crossings.sum() > 0 and result.model.crossed_so_far.sum() == 0


def test_without_the_unfamiliarity_cost_route_knowledge_changes_nothing():
    plain = simulate(tiny_scenario())
    known = simulate(tiny_scenario(route_knowledge={"known_borders": ["GR-MK"]}))
    pd.testing.assert_frame_equal(plain.flows, known.flows)


@pytest.mark.parametrize("log_sd", [0.0, 0.8])
def test_entrants_budgets_are_log_normal_with_the_groups_median_and_spread(log_sd):
    # Budgets are drawn on entry (before anyone pays a fare: there are none here). Without spread
    # every budget is the median (the kernel then skips the draws); with it, log budgets have the
    # group's log median and sd (10,000 people: the sd of the median of logs is 1.2533 x 0.008).
    from simulation import MigrationModel

    groups = {"only": {"budget": {"median_eur": 1200.0, "log_sd": log_sd}}}
    inflow = {"monthly": [{"month": "2020-01", "entry": "start", "people": 310_000}]}
    model = MigrationModel(tiny_scenario(groups=groups, inflow=inflow, period={"days": 1}))
    model.step()
    budgets = model.population.active("budget_eur")
    assert budgets.size == 10_000
    if log_sd == 0.0:
        assert np.all(budgets == np.float32(1200.0))
    else:
        logs = np.log(budgets.astype(np.float64))
        assert abs(np.median(logs) - math.log(1200.0)) < 5 * 1.2533 * log_sd / math.sqrt(budgets.size)
        assert abs(logs.std() - log_sd) < 5 * log_sd / math.sqrt(2 * budgets.size)
