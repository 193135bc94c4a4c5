"""Western Balkan nationals, legal pathways, return and reintegration, on the tiny network.

A group `wb` has its origin at `mid` (Greece stands in for a Western Balkan origin here): 100
people a day in January consider leaving; half set off irregularly to `goal` (Austria), where
their claims are decided after 5 days (10 % recognised); rejected claimants may be returned
home, from where they may leave again."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation import MigrationModel, simulate

from .conftest import check_day_by_day, tiny_scenario

WB_GROUP = {"wb": {"population": "western_balkan", "origin": "mid", "share": 0.0, "protection_need": 0.1,
                   "irregular_departure_probability": 0.5, "redeparture_probability_per_day": 0.05,
                   "asylum_decision_days": 5, "budget": {"median_eur": 1000.0, "log_sd": 0.0},
                   "destinations": {"goal": 1.0}}}
WB_INFLOW = {"monthly": [{"month": "2020-01", "entry": "mid", "group": "wb", "people": 3100}]}


def wb_scenario(levers=(), days=40, seed=1, countries=None, **changes):
    return tiny_scenario(groups=WB_GROUP, inflow=WB_INFLOW, period={"days": days}, seed=seed,
                         levers=list(levers), countries=countries or {}, **changes)


def totals(result):
    return result.events.groupby("country").sum(numeric_only=True)


def test_departures_decisions_and_returns_add_up():
    result = simulate(wb_scenario(countries={"GR": {"takes_back_own_nationals_share": 0.5}}))
    events = totals(result)
    # Everyone who considered leaving decided, once per consideration; returnees who decide to
    # leave again on the last day decide the next day, after the run.
    last_day = result.events[(result.events.date == result.events.date.max()) & (result.events.country == "GR")]
    assert events.loc["GR", "irregular_departures"] + events.loc["GR", "did_not_leave"] == 3100 + events.loc[
        "GR", "repeat_departures"] - int(last_day.repeat_departures.iloc[0])
    assert abs(events.loc["GR", "irregular_departures"] / (3100 + events.loc["GR", "repeat_departures"]) - 0.5) < 0.05
    decided = events.loc["AT", "asylum_granted"] + events.loc["AT", "asylum_rejected"]
    assert 0 < events.loc["AT", "asylum_granted"] < 0.2 * decided
    assert events.loc["AT", "returns_forced"] > 0 and events.loc["AT", "returns_voluntary"] == 0
    final = result.stocks[result.stocks.date == result.stocks.date.max()].groupby("state").people.sum()
    assert final.sum() == 3100
    assert final["at_home"] > 0 and final["did_not_leave"] > 0


def _band(make, measure, seeds=range(4)):
    return [measure(totals(simulate(make(seed)))) for seed in seeds]


def test_stronger_readmission_more_forced_returns():
    weak = _band(lambda s: wb_scenario(seed=s, levers=[{"type": "return_reintegration", "countries": ["GR"],
                                                         "takes_back_own_nationals_share": 0.2}]),
                 lambda e: e.returns_forced.sum())
    strong = _band(lambda s: wb_scenario(seed=s, levers=[{"type": "return_reintegration", "countries": ["GR"],
                                                           "takes_back_own_nationals_share": 0.8}]),
                   lambda e: e.returns_forced.sum())
    assert max(weak) < min(strong)


def test_larger_reintegration_package_fewer_repeat_departures():
    levers = lambda support: [{"type": "return_reintegration", "countries": ["GR"], "takes_back_own_nationals_share": 0.9,
                               "reintegration_support_eur": support}]
    none = _band(lambda s: wb_scenario(seed=s, levers=levers(0.0)), lambda e: e.repeat_departures.sum())
    large = _band(lambda s: wb_scenario(seed=s, levers=levers(6000.0)), lambda e: e.repeat_departures.sum())
    assert max(large) < min(none)


def test_assisted_return_offer_at_the_destination():
    result = simulate(wb_scenario(levers=[{"type": "return_reintegration", "countries": ["AT"],
                                           "rejected_taking_assisted_return_share": 0.6}]))
    events = totals(result)
    rejected = events.loc["AT", "asylum_rejected"]
    assert abs(events.loc["AT", "returns_voluntary"] / rejected - 0.6) < 0.1


def test_larger_quota_fewer_irregular_departures_of_the_eligible_group():
    def pathway(quota):
        return [{"type": "legal_pathways", "groups": ["wb"], "destination": "goal", "quota_per_year": quota,
                 "eligible_share": 0.6, "awareness": 0.8, "deterrence": 0.3, "processing_days": 10}]

    small = _band(lambda s: wb_scenario(seed=s, levers=pathway(200)), lambda e: e.irregular_departures.sum())
    large = _band(lambda s: wb_scenario(seed=s, levers=pathway(2000)), lambda e: e.irregular_departures.sum())
    assert max(large) < min(small)
    result = simulate(wb_scenario(levers=pathway(2000)))
    events = totals(result)
    assert 0 < events.loc["AT", "legal_departures"] <= 2000
    schemes = result.pathways
    assert schemes.slots_issued.sum() <= 2000
    assert (schemes.slots_remaining_this_year + schemes.slots_issued.cumsum()).eq(2000).all()


def test_knowing_of_a_pathway_lowers_irregular_departure_even_without_slots():
    closed = [{"type": "legal_pathways", "groups": ["wb"], "destination": "goal", "quota_per_year": 0,
               "eligible_share": 0.0, "awareness": 1.0, "deterrence": 0.5}]
    base = totals(simulate(wb_scenario())).irregular_departures.sum()
    told = totals(simulate(wb_scenario(levers=closed))).irregular_departures.sum()
    assert told < 0.75 * base


@settings(max_examples=20, deadline=None)
@given(quota=st.integers(0, 400), people=st.integers(0, 3000), eligible=st.floats(0, 1), seed=st.integers(0, 2**32))
def test_quota_slots_are_never_over_issued(quota, people, eligible, seed):
    scenario = wb_scenario(seed=seed, days=31, levers=[{
        "type": "legal_pathways", "groups": ["wb"], "destination": "goal", "quota_per_year": quota,
        "eligible_share": eligible, "awareness": 1.0}]).with_changes(
        **{"inflow.monthly": [{"month": "2020-01", "entry": "mid", "group": "wb", "people": people}]})
    model = MigrationModel(scenario)
    model.run()
    assert model.pathways.issued[0] <= quota
    assert model.record_events[:, :, 10].sum() <= model.pathways.issued[0]  # legal departures


def test_readmission_at_a_border_returns_people_without_protection_need():
    # Bulgaria detects everyone and readmits 100 % of those without protection need (half of
    # this group): about half of those it apprehends go back to Greece.
    result = simulate(tiny_scenario(
        behaviour={"route_choice_sharpness_per_eur": 0.0},
        countries={"BG": {"border_detection_probability": 1.0, "readmission_share": 1.0}}))
    bulgaria = totals(result).loc["BG"]
    assert abs(bulgaria.returns_forced / bulgaria.apprehensions - 0.5) < 0.1
    assert bulgaria.border_crossings == bulgaria.apprehensions - bulgaria.returns_forced


def test_people_stranded_take_up_assisted_return():
    closed = [{"type": "border_enforcement", "countries": ["BG", "MK"], "closed": True}]
    offer = {"type": "return_reintegration", "countries": ["GR"], "assisted_return_uptake_per_day": 0.2,
             "assisted_return_full_after_days": 3}
    without = simulate(tiny_scenario(levers=closed))
    with_offer = simulate(tiny_scenario(levers=closed + [offer]))
    assert totals(without).returns_voluntary.sum() == 0
    returned = with_offer.stocks[with_offer.stocks.state == "returned"].groupby("date").people.sum()
    assert returned.iloc[-1] == totals(with_offer).loc["GR", "returns_voluntary"] > 50


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**63 - 1), irregular=st.floats(0, 1), redeparture=st.floats(0, 0.5),
       takes_back=st.floats(0, 1), avr=st.floats(0, 1), quota=st.integers(0, 500), support=st.floats(0, 10000),
       readmission=st.floats(0, 1), decision_days=st.integers(1, 10), days=st.integers(1, 30))
def test_conservation_with_western_balkan_nationals_and_returns(seed, irregular, redeparture, takes_back, avr, quota,
                                                                 support, readmission, decision_days, days):
    groups = {"wb": dict(WB_GROUP["wb"], irregular_departure_probability=irregular,
                         redeparture_probability_per_day=redeparture, asylum_decision_days=decision_days)}
    inflow = {"monthly": WB_INFLOW["monthly"] + [{"month": "2020-01", "entry": "start", "people": 1550}]}
    scenario = tiny_scenario(seed=seed, groups=groups, inflow=inflow, period={"days": days}, levers=[
        {"type": "return_reintegration", "countries": ["GR", "AT", "BG"], "takes_back_own_nationals_share": takes_back,
         "rejected_taking_assisted_return_share": avr, "assisted_return_uptake_per_day": avr / 4,
         "readmission_share": readmission, "reintegration_support_eur": support,
         "readmission_days": decision_days - 1, "readmission_to_origin_share": 0.5},
        {"type": "border_enforcement", "countries": ["MK"], "daily_admissions": 30},
        {"type": "border_enforcement", "countries": ["BG"], "groups": ["wb"], "closed": True},
        {"type": "legal_pathways", "groups": ["wb", "only"], "destination": "goal", "quota_per_year": quota,
         "eligible_share": 0.5, "awareness": 0.5, "deterrence": 0.5, "processing_days": 3},
    ], countries={"default": {"border_detection_probability": 0.5}})
    check_day_by_day(MigrationModel(scenario))


def test_information_on_a_pathway_brings_more_applicants_to_it():
    pathway = {"type": "legal_pathways", "groups": ["wb"], "destination": "goal", "quota_per_year": 100_000,
               "eligible_share": 1.0, "awareness": 0.1, "processing_days": 2}
    campaign = {"type": "information", "countries": ["GR"], "pathway_awareness": 0.9}
    quiet = totals(simulate(wb_scenario(levers=[pathway]))).legal_departures.sum()
    told = totals(simulate(wb_scenario(levers=[pathway, campaign]))).legal_departures.sum()
    assert told > 5 * quiet > 0


def test_readmission_days_hold_people_before_the_return():
    # Bulgaria readmits everyone it detects (protection need 0) after holding them 3 days:
    # a cohort entering on day k tries on day k+1, is held, is returned to Greece on day k+4 and
    # tries again on day k+5.
    result = simulate(tiny_scenario(
        groups={"only": {"protection_need": 0.0}},
        countries={"BG": {"border_detection_probability": 1.0, "readmission_share": 1.0, "readmission_days": 3},
                   "MK": {"border_closed": True}}))
    bulgaria = result.events[result.events.country == "BG"].set_index("date")
    assert bulgaria.apprehensions.tolist() == [0, 100, 100, 100, 100, 200, 200, 200, 200, 300]
    assert bulgaria.returns_forced.tolist() == [0, 0, 0, 0, 100, 100, 100, 100, 200, 200]
    held = result.stocks[(result.stocks.state == "held_for_return")].groupby("date").people.sum()
    assert held.iloc[1] == 100 and (held.iloc[4:] > 0).all()
