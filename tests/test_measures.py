"""Headline measures of a run (simulation/measures.py) against the run's own tables."""

from __future__ import annotations

import numpy as np
import pytest

from simulation import simulate
from simulation.measures import median_from_histogram

from .conftest import tiny_scenario


@pytest.mark.parametrize("counts, median", [([0, 3, 0], 1), ([1, 1, 1, 1], 1), ([5, 0, 0, 1], 0), ([0, 0, 2], 2)])
def test_median_from_histogram(counts, median):
    assert median_from_histogram(np.array(counts)) == median
    values = np.repeat(np.arange(len(counts)), counts)
    assert np.percentile(values, 50, method="lower") == median


def test_median_of_nobody_is_undefined():
    assert np.isnan(median_from_histogram(np.zeros(4, dtype=np.int64)))


def test_measures_agree_with_the_tables():
    result = simulate(tiny_scenario(levers=[{"type": "border_enforcement", "countries": ["BG"],
                                             "detection_probability": 0.5, "pushback_share": 1.0}]))
    measures = result.measures.set_index(["measure", "where"]).value
    flows = result.flows.groupby(["from_place", "to_place"]).departures.sum()
    # The only crossing from outside the EU into it on the tiny network: North Macedonia -> Austria.
    assert measures["irregular_crossings_into_eu", "all"] == flows["north", "goal"] > 0
    assert measures["irregular_crossings_into_eu", "AT"] == flows["north", "goal"]
    events = result.events.groupby("country").sum(numeric_only=True)
    assert measures["arrivals", "AT"] == events.arrivals["AT"] == result.transit_times.arrivals.sum()
    assert measures["pushbacks", "BG"] == events.pushbacks["BG"] > 0
    assert measures["peak_transit_pressure", "GR"] == result.reception.transit_pressure.max()
    over_days = (result.reception.present > result.reception.reception_capacity).groupby(result.reception.date).any()
    assert measures["days_over_capacity", "all"] == over_days.sum()
    # Two days of travel at the least (a one-day leg, two half-day legs), the first of them on
    # the day of entry: arrival is at least one calendar day after entry.
    assert measures["median_days_in_transit", "all"] >= 1
    assert result.transit_times.arrivals[0] == 0


def test_rows_are_the_same_whatever_happens():
    quiet = simulate(tiny_scenario(inflow={"monthly": [{"month": "2020-01", "entry": "start", "people": 1}]}))
    busy = simulate(tiny_scenario())
    assert quiet.measures[["measure", "where"]].equals(busy.measures[["measure", "where"]])
