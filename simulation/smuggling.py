"""The smuggling market, one per country (smugglers are counted where they are based: the
departure side of a crossing).

Each day a country's smugglers offer their seats (the policy's `smuggler_seats_per_day`); the
people who ask for one are the demand. The price on the crossings out of the country is the
edge's base fee times a price multiplier that moves a share `price_adjustment_per_day` of the
way to its target each day:

    target = (1 + demand_price_elasticity x max(0, requests / seats - 1))
             x (risk / risk at the start) ** risk_price_elasticity

where risk is the mean chance that a smuggled crossing out of the country is detected. So
prices rise when demand outruns seats and when enforcement makes the work riskier, and fall
back when either eases. With both elasticities 0 (the default) prices stay at the base fees."""

from __future__ import annotations

import numpy as np
from numba import njit
from pydantic import BaseModel, ConfigDict, Field

from .network import Network
from .policy import DailyPolicy


class MarketSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    demand_price_elasticity: float = Field(default=0.0, ge=0, le=100)
    risk_price_elasticity: float = Field(default=0.0, ge=0, le=100)
    price_adjustment_per_day: float = Field(default=0.1, ge=0, le=1)
    max_price_multiplier: float = Field(default=10.0, ge=1, le=1000)


class SmugglingMarket:
    def __init__(self, network: Network, settings: MarketSettings):
        self.network = network
        self.settings = settings
        self.n_countries = len(network.countries)
        self.origin_country = network.place_country[network.edge_from].astype(np.int64)
        self.crossing = network.crosses_border
        self.price_multiplier = np.ones(self.n_countries)
        self.requests = np.zeros(self.n_countries, dtype=np.int64)  # yesterday's
        self.seats = np.zeros(self.n_countries, dtype=np.int64)
        self.reference_risk: np.ndarray | None = None
        # With both elasticities 0 the target multiplier is always 1: prices never move.
        self.moves_prices = settings.demand_price_elasticity != 0 or settings.risk_price_elasticity != 0
        self._mean_fee_of: tuple | None = None  # (fees array, their means by country), for mean_fee

    def risk(self, policy: DailyPolicy) -> np.ndarray:
        """Mean detection chance of a smuggled crossing out of each country (0 without smugglers)."""
        return _risk(policy.detection, policy.smuggled_detection, policy.smuggling_fee_eur, self.crossing,
                     self.origin_country, self.n_countries)

    def mean_fee(self, policy: DailyPolicy) -> np.ndarray:
        """Mean smuggling fee over each country's outgoing crossings with smugglers (NaN: none).
        Without price moves the model reuses one policy, and its fees, day after day: so are the means."""
        fees = policy.smuggling_fee_eur
        if self.moves_prices or self._mean_fee_of is None or self._mean_fee_of[0] is not fees:
            self._mean_fee_of = (fees, _mean_by_origin(fees, fees, self.crossing, self.origin_country,
                                                       self.n_countries))
        return self._mean_fee_of[1]

    def price(self, policy: DailyPolicy) -> None:
        """Move today's price multipliers towards their targets and apply them to the fees."""
        s = self.settings
        if not self.moves_prices:
            return  # the multipliers stay 1 and fees at their base: skip the work
        if self.reference_risk is None:
            self.reference_risk = self.risk(policy)
        _price(self.price_multiplier, self.reference_risk, policy.detection, policy.smuggled_detection,
               policy.smuggling_fee_eur, self.crossing, self.origin_country, self.n_countries, self.seats,
               self.requests, s.demand_price_elasticity, s.risk_price_elasticity, s.price_adjustment_per_day,
               s.max_price_multiplier)

    def observe(self, requests: np.ndarray, seats: np.ndarray) -> None:
        """Keep the day's requests and seats (by country, int64) for tomorrow's prices."""
        np.copyto(self.requests, requests, casting="no")  # into its own arrays: no new ones a day
        np.copyto(self.seats, seats, casting="no")


# The day's market arithmetic over a few dozen crossings: compiled, since as numpy expressions
# it cost more Python per day than the rest of the policy.

@njit(cache=True)
def _mean_by_origin(values, fees, crossing, origin_country, n_countries):
    """Mean of `values` over each country's outgoing crossings that have smugglers (NaN: none)."""
    totals = np.zeros(n_countries)
    counts = np.zeros(n_countries, dtype=np.int64)
    for e in range(values.shape[0]):
        if crossing[e] and np.isfinite(fees[e]):
            totals[origin_country[e]] += values[e]
            counts[origin_country[e]] += 1
    means = np.full(n_countries, np.nan)
    for c in range(n_countries):
        if counts[c] > 0:
            means[c] = totals[c] / counts[c]
    return means


@njit(cache=True)
def _risk(detection, smuggled_detection, fees, crossing, origin_country, n_countries):
    means = _mean_by_origin(detection * smuggled_detection, fees, crossing, origin_country, n_countries)
    for c in range(n_countries):
        if np.isnan(means[c]):
            means[c] = 0.0
    return means


@njit(cache=True)
def _price(multiplier, reference_risk, detection, smuggled_detection, fees, crossing, origin_country, n_countries,
           seats, requests, demand_elasticity, risk_elasticity, adjustment, max_multiplier):
    """The day's pricing in one compiled call (three calls from Python cost about 5 us more a day):
    today's risk, the multipliers moved towards their targets, and the fees multiplied."""
    risk = _risk(detection, smuggled_detection, fees, crossing, origin_country, n_countries)
    _move_prices(multiplier, reference_risk, risk, seats, requests, demand_elasticity, risk_elasticity, adjustment,
                 max_multiplier)
    _apply_multipliers(fees, multiplier, crossing, origin_country)


@njit(cache=True)
def _move_prices(multiplier, reference_risk, risk, seats, requests, demand_elasticity, risk_elasticity,
                 adjustment, max_multiplier):
    for c in range(multiplier.shape[0]):
        if seats[c] > 0:
            excess = requests[c] / max(seats[c], 1) - 1.0
        elif requests[c] > 0:
            excess = max_multiplier
        else:
            excess = 0.0
        risk_ratio = risk[c] / reference_risk[c] if reference_risk[c] > 0 else 1.0
        target = (1.0 + demand_elasticity * max(excess, 0.0)) * risk_ratio ** risk_elasticity
        target = min(max(target, 1.0 / max_multiplier), max_multiplier)
        multiplier[c] += adjustment * (target - multiplier[c])


@njit(cache=True)
def _apply_multipliers(fees, multiplier, crossing, origin_country):
    for e in range(fees.shape[0]):
        if crossing[e]:
            fees[e] *= multiplier[origin_country[e]]
