"""Invariants that must hold for any valid scenario: people are conserved every day, nobody is
counted twice, counts are never negative, reception places are a hard limit, budgets never go
negative; and the agent arrays shrink as people finish."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulation import DEFAULT_SCENARIO, MigrationModel, load_scenario, simulate
from simulation import kernels

from .conftest import check_day_by_day, tiny_scenario

probability = st.floats(0.0, 1.0)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**63 - 1),
    rest=probability, rough=probability, claim=st.floats(0.0, 0.2), smuggler_use=probability,
    detection=probability, pushback=st.floats(0.0, 0.5), detention=st.floats(0.0, 0.5),
    seats=st.integers(0, 200), capacity_factor=st.floats(0.0, 3.0), budget=st.floats(1.0, 5000.0),
    fare=st.floats(0.0, 5.0), sharpness=st.floats(0.0, 0.1), detention_days=st.integers(0, 5),
    days=st.integers(1, 20), closed=st.booleans(), retry=probability, give_up=probability,
    visa_free=st.booleans(),
)
def test_conservation_and_limits_hold_every_day(seed, rest, rough, claim, smuggler_use, detection, pushback,
                                                detention, seats, capacity_factor, budget, fare, sharpness,
                                                detention_days, days, closed, retry, give_up, visa_free):
    scenario = tiny_scenario(
        seed=seed, period={"days": days},
        groups={"only": {"budget": {"median_eur": budget, "log_sd": 0.5}, "visa_free_travel": visa_free}},
        behaviour={
            "rest_probability_per_day": rest, "rough_sleeping_rest_factor": rough,
            "transit_asylum_claim_probability_per_day": claim, "smuggler_use_probability": smuggler_use,
            "route_choice_sharpness_per_eur": sharpness, "detention_days": detention_days,
            "retry_probability_per_day_after_turned_back": retry,
            "give_up_probability_per_day_when_stranded": give_up,
            "fare_eur_per_km": {"road": fare, "rail": fare, "sea": fare, "walk": 0.0},
        },
        countries={
            "default": {"border_detection_probability": detection, "pushback_share": pushback,
                        "detention_share": detention, "smuggler_seats_per_day": seats,
                        "reception_capacity_factor": capacity_factor},
            "BG": {"border_closed": closed},
        })
    check_day_by_day(MigrationModel(scenario))


def test_conservation_on_the_bundled_network():
    scenario = load_scenario(DEFAULT_SCENARIO)
    check_day_by_day(MigrationModel(scenario, days=45))


def test_tables_agree_with_each_other():
    result = simulate(load_scenario(DEFAULT_SCENARIO), days=40)
    final = result.stocks[result.stocks.date == result.stocks.date.max()]
    by_state = final.groupby("state").people.sum()
    # Arrivals of groups whose claims are decided at the destination finish only when recognised.
    assert by_state["arrived"] == (result.events.arrivals.sum() - by_state["awaiting_decision"]
                                   - result.events.asylum_rejected.sum())
    assert by_state.sum() == result.events.entries.sum()
    border_flows = result.flows[result.flows.crosses_border].departures.sum()
    assert border_flows == result.events.border_crossings.sum()
    assert (result.events.pushbacks <= result.events.apprehensions).all()
    assert (result.events.smuggled_crossings.sum() > 0) and (result.events.smuggler_revenue_eur.sum() > 0)


def test_the_daily_checks_are_on_in_tests_and_catch_a_broken_invariant():
    import pytest

    from simulation.invariants import InvariantViolation, check_day

    model = MigrationModel(tiny_scenario())
    assert model.check_level == "full"
    model.step()
    model.step()
    check_day(model, "full")  # a correct day passes
    model.stocks[1, 0] += 1  # one person counted twice
    with pytest.raises(InvariantViolation, match="day 2: people are not conserved"):
        check_day(model, "light")
    model.stocks[1, 0] -= 1
    model.population.budget_eur[0] = -5.0
    check_day(model, "light")  # the light checks do not scan the agents
    with pytest.raises(InvariantViolation, match="budget is negative"):
        check_day(model, "full")


def test_every_state_a_day_can_end_in_has_one_stock_column():
    """allocate_reception counts each person through kernels.STOCK_OF_STATE: every state a person can
    end a day in has a column (APPLYING is resolved within the day; GONE was counted when it finished),
    and the finished states map in order onto the running-total columns."""
    from simulation import population

    states = {name: value for name, value in vars(population).items()
              if name.isupper() and isinstance(value, int) and name not in ("FINISHED", "BYTES_PER_AGENT")}
    for name, state in states.items():
        column = kernels.STOCK_OF_STATE[state]
        if name in ("APPLYING", "GONE"):
            assert column == -1, name
        else:
            assert 0 <= column < kernels.N_STOCKS, name
    finished = [kernels.STOCK_OF_STATE[s] for s in range(population.FINISHED, population.GONE)]
    assert finished == list(range(kernels.ST_ARRIVED, kernels.N_STOCKS))
