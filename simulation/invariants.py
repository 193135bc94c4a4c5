"""Invariants checked at the end of every simulated day.

`light` (always on; a few sums over places): everyone who entered is in exactly one stock
(people are conserved), no count is negative, no place holds more people in reception than its
capacity, no legal-pathway pool has issued more than it had. `full` (tests switch it on with the
environment variable BALKANSIM_CHECKS=full; it scans the agent arrays): also the people on the
route plus those finished equal those who entered, no budget is negative or NaN, every active
slot holds an active state, and finished slots are compacted away in time. A broken invariant
stops the run with InvariantViolation naming the day and what broke: a bug, never bad input."""

from __future__ import annotations

import os

import numpy as np
from numba import njit

from . import kernels
from .population import FINISHED

LEVELS = ("off", "light", "full")


class InvariantViolation(AssertionError):
    """The model broke one of its own invariants (a bug in the model, not in the input)."""


def level_from_environment() -> str:
    level = os.environ.get("BALKANSIM_CHECKS", "light")
    if level not in LEVELS:
        raise ValueError(f"BALKANSIM_CHECKS must be one of {', '.join(LEVELS)}; got {level!r}")
    return level


def check_day(model, level: str) -> None:
    if level == "off":
        return
    day = model.day
    # The light checks run every day: their figures come from one compiled pass (numpy's four
    # reductions and their Python cost about 35 us a day), and the words only on a failure.
    smallest, counted, places_over, pools_over = _light_figures(
        model.stocks, model.in_reception, model.capacity_today, model.pathways.remaining)
    _require(smallest >= 0, day, "a stock is negative", f"smallest {smallest}")
    _require(counted == model.entered_total, day, "people are not conserved",
             f"{counted:,} in the stocks, {model.entered_total:,} entered")
    if places_over:
        over = np.flatnonzero(model.in_reception > model.capacity_today)
        _require(False, day, "a place holds more people in reception than its capacity",
                 ", ".join(model.network.place_ids[p] for p in over[:5]))
    if pools_over:
        _require(False, day, "a legal-pathway pool issued more slots than it had",
                 f"remaining {model.pathways.remaining.tolist()}")
    if level != "full":
        return
    population = model.population
    finished = int(model.stocks[:, kernels.ST_ARRIVED:].sum())
    _require(population.n_on_route + finished == model.entered_total, day,
             "people on the route and finished do not add up to those who entered",
             f"{population.n_on_route:,} + {finished:,} != {model.entered_total:,}")
    budgets = population.active("budget_eur")
    _require(bool(np.all(budgets >= 0)), day, "a budget is negative or not a number",
             f"smallest {budgets.min() if budgets.size else 'none'}")
    _require(bool(np.all(population.active("state") < FINISHED)), day, "an active slot holds a finished state", "")
    _require(population.n_gone * 4 <= population.n_on_route or population.n_on_route == 0, day,
             "finished slots were not compacted away in time", f"{population.n_gone:,} gone slots")


def _require(condition: bool, day: int, what: str, detail: str) -> None:
    if not condition:
        raise InvariantViolation(f"day {day}: {what} ({detail})")


@njit(cache=True)
def _light_figures(stocks, in_reception, capacity, pool_remaining):
    """(smallest stock, sum of the stocks, places over capacity, pools below zero)."""
    smallest = stocks[0, 0] if stocks.size else 0
    counted = 0
    for p in range(stocks.shape[0]):
        for column in range(stocks.shape[1]):
            smallest = min(smallest, stocks[p, column])
            counted += stocks[p, column]
    places_over = 0
    for p in range(in_reception.shape[0]):
        places_over += in_reception[p] > capacity[p]
    pools_over = 0
    for pool in range(pool_remaining.shape[0]):
        pools_over += pool_remaining[pool] < 0
    return smallest, counted, places_over, pools_over
