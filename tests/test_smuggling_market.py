"""The smuggling market: price follows demand against seats and the risk of detection."""

import numpy as np

from simulation import simulate

from .conftest import tiny_scenario

QUEUE = {"behaviour": {"smuggler_use_probability": 1.0},
         "countries": {"GR": {"smuggler_seats_per_day": 30, "border_detection_probability": 0.5}}}


def _greece(result):
    return result.smuggling[result.smuggling.country == "GR"].set_index("date")


def test_fixed_prices_without_elasticities():
    greece = _greece(simulate(tiny_scenario(**QUEUE)))
    assert greece.price_multiplier.eq(1.0).all()
    assert greece.mean_fee_eur.eq(500.0).all()
    assert greece.seated.tolist() == [0] + [30] * 9
    assert (greece.requests >= greece.seated).all()
    assert np.allclose(greece.revenue_eur, greece.seated * 500.0)


def test_demand_above_seats_raises_the_price():
    market = {"demand_price_elasticity": 0.5, "price_adjustment_per_day": 0.5}
    greece = _greece(simulate(tiny_scenario(**QUEUE, smuggling_market=market)))
    multiplier = greece.price_multiplier
    assert multiplier.iloc[0] == 1.0                      # no demand seen yet on the first day
    # It rises, then swings: above about 2x the fee (1,000 EUR) is more than people carry, so
    # demand falls away until the price comes back down.
    assert (multiplier.iloc[2:] > 1.5).all() and multiplier.max() > 2.0
    # with plenty of seats for everyone, the price stays put
    roomy = dict(QUEUE, countries={"GR": {"smuggler_seats_per_day": 100_000}})
    assert _greece(simulate(tiny_scenario(**roomy, smuggling_market=market))).price_multiplier.eq(1.0).all()


def test_enforcement_raises_the_price_from_its_date():
    market = {"risk_price_elasticity": 1.0, "price_adjustment_per_day": 1.0}
    lever = {"type": "anti_smuggling", "countries": ["GR"], "smuggled_detection_multiplier": 2.0, "start": "2020-01-05"}
    # Crossings out of Greece lead into North Macedonia and Bulgaria: their detection is the risk.
    roomy = dict(QUEUE, countries={"GR": {"smuggler_seats_per_day": 100_000},
                                   "default": {"border_detection_probability": 0.5}})
    greece = _greece(simulate(tiny_scenario(**roomy, smuggling_market=market, levers=[lever])))
    assert greece.price_multiplier[:"2020-01-04"].eq(1.0).all()
    assert np.allclose(greece.price_multiplier["2020-01-05":], 2.0)  # risk doubled, elasticity 1
