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

    def _mean_by_origin(self, values: np.ndarray, fees: np.ndarray) -> np.ndarray:
        """Mean of `values` over each country's outgoing crossings that have smugglers (NaN: none)."""
        mask = self.crossing & np.isfinite(fees)
        origin = self.origin_country[mask]
        totals = np.bincount(origin, weights=values[mask], minlength=self.n_countries)
        counts = np.bincount(origin, minlength=self.n_countries)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(counts > 0, totals / counts, np.nan)

    def risk(self, policy: DailyPolicy) -> np.ndarray:
        """Mean detection chance of a smuggled crossing out of each country (0 without smugglers)."""
        detected = policy.detection * policy.smuggled_detection
        return np.nan_to_num(self._mean_by_origin(detected, policy.smuggling_fee_eur))

    def mean_fee(self, policy: DailyPolicy) -> np.ndarray:
        return self._mean_by_origin(policy.smuggling_fee_eur, policy.smuggling_fee_eur)

    def price(self, policy: DailyPolicy) -> None:
        """Move today's price multipliers towards their targets and apply them to the fees."""
        s = self.settings
        if s.demand_price_elasticity == 0 and s.risk_price_elasticity == 0:
            return  # the target is always 1, so the multipliers stay 1 and fees at their base: skip the work
        risk = self.risk(policy)
        if self.reference_risk is None:
            self.reference_risk = risk
        excess = np.where(self.seats > 0, self.requests / np.maximum(self.seats, 1) - 1.0,
                          np.where(self.requests > 0, s.max_price_multiplier, 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            risk_ratio = np.where(self.reference_risk > 0, risk / self.reference_risk, 1.0)
        target = (1.0 + s.demand_price_elasticity * np.maximum(excess, 0.0)) * risk_ratio ** s.risk_price_elasticity
        target = np.clip(target, 1.0 / s.max_price_multiplier, s.max_price_multiplier)
        self.price_multiplier += s.price_adjustment_per_day * (target - self.price_multiplier)
        policy.smuggling_fee_eur[self.crossing] *= self.price_multiplier[self.origin_country[self.crossing]]

    def observe(self, requests: np.ndarray, seats: np.ndarray) -> None:
        self.requests = requests.copy()
        self.seats = seats.copy()
