"""Governments: one Mesa agent a country, holding that country's border and reception settings
(for people entering it and staying in it) and its response rules.

Each day a government observes its own places and borders (the worst transit pressure among its
places with reception capacity, and the people who crossed into it) and follows its rules from
the scenario's `[[responses]]`: when a condition has held for `for_days` days in a row the
response starts (a border-enforcement change on crossings into the country, in force from the
next day), and when the condition has not held for `relax_after_quiet_days` days it is lifted.
With the 2015 settings this is how one closure can push people onto a neighbour's border until
that neighbour responds in turn: nothing in the code names the chain."""

from __future__ import annotations

import datetime as dt
import itertools
import weakref
from typing import Literal

import mesa
import numpy as np
from numba import njit
from pydantic import Field, model_validator

from .levers import BorderEnforcement
from .policy import GOVERNMENT_SETTINGS


class ResponseRule(BorderEnforcement.Parameters):
    """A government's rule: when `when` exceeds `threshold` for `for_days` days in a row, set the
    border-enforcement keys on crossings into `countries` (the government's own country, filled
    in from `country`), optionally only from `from_countries`."""

    type: str = "response"
    country: str
    when: Literal["pressure_above", "entries_above"]
    threshold: float = Field(gt=0, le=1e9)
    for_days: int = Field(default=1, ge=1, le=3650)
    relax_after_quiet_days: int | None = Field(default=None, ge=1, le=3650)

    def as_lever(self) -> BorderEnforcement:
        """The border-enforcement change this rule makes when it fires."""
        return BorderEnforcement(**self.model_dump(include=set(BorderEnforcement.Parameters.model_fields) - {"type"}))

    @model_validator(mode="before")
    @classmethod
    def _own_country(cls, data):
        if isinstance(data, dict) and "country" in data and "countries" not in data:
            data = dict(data, countries=[data["country"]])
        return data


class _IdCountersByModel(weakref.WeakKeyDictionary):
    """Mesa 3.3's `Agent._ids` is a class-level dict of id counters holding every model ever
    built, so a worker that runs many simulations keeps them all in memory (mesa#3179, fixed
    upstream after 3.3). The same counters, held weakly: a finished model can be freed."""

    def __getitem__(self, model):
        try:
            return super().__getitem__(model)
        except KeyError:
            counter = itertools.count(1)
            self[model] = counter
            return counter


class _Column:
    """A government's attribute kept in one column of a table of its model that holds it for
    every government (row = the government's country), so the model reads or fills it for all
    countries at once instead of attribute by attribute: the settings (`government_settings`,
    read by the daily policy) and what governments observe (`government_observed`, filled daily)."""

    def __init__(self, table: str, column: int, kind: type):
        self.table, self.column, self.kind = table, column, kind

    def __get__(self, government, owner=None):
        if government is None:
            return self
        return self.kind(getattr(government.model, self.table)[government.row, self.column])

    def __set__(self, government, value) -> None:
        getattr(government.model, self.table)[government.row, self.column] = value


OBSERVED = ("worst_pressure", "places_over_capacity", "entries_today")  # columns of government_observed
_SETTING_KINDS = {"border_closed": bool, "smuggler_seats_per_day": int, "readmission_days": int,
                  "assisted_return_full_after_days": int}


class Government(mesa.Agent):
    _ids = _IdCountersByModel()  # looked up by mesa.Agent.__init__ as self._ids

    def __init__(self, model: mesa.Model, country: str, settings: dict, rules: list[ResponseRule] = ()):
        super().__init__(model)
        self.country = country
        self.row = model.network.countries.index(country)  # its row in model.government_settings
        for name in GOVERNMENT_SETTINGS:  # every setting a government holds, read by the daily policy
            setattr(self, name, settings[name])
        self.rules = list(rules)
        self.responses = []
        for rule in self.rules:
            response = rule.as_lever()
            response.bind(model.network)
            response.bind_groups(model.group_names, model.group_origin_countries)
            self.responses.append(response)
        self.active = [False] * len(self.rules)
        self.days_holding = [0] * len(self.rules)
        self.days_quiet = [0] * len(self.rules)
        self.actions: list[dict] = []

    def step(self) -> None:
        """Follow the response rules on what was observed today; changes apply from tomorrow."""
        if not self.rules:
            return
        today: dt.date = self.model.date(self.model.day)
        for k, rule in enumerate(self.rules):
            value = self.worst_pressure if rule.when == "pressure_above" else self.entries_today
            holds = value > rule.threshold and (rule.start is None or today >= rule.start) and (
                rule.end is None or today < rule.end)
            self.days_holding[k] = self.days_holding[k] + 1 if holds else 0
            self.days_quiet[k] = 0 if holds else self.days_quiet[k] + 1
            if not self.active[k] and self.days_holding[k] >= rule.for_days:
                self.active[k] = True
                self._record(today, rule, "started", value)
            elif self.active[k] and rule.relax_after_quiet_days and self.days_quiet[k] >= rule.relax_after_quiet_days:
                self.active[k] = False
                self._record(today, rule, "lifted", value)

    def apply_responses(self, policy, model) -> None:
        for response, active in zip(self.responses, self.active):
            if active:
                response.apply(policy, model)

    def _record(self, today: dt.date, rule: ResponseRule, action: str, value: float) -> None:
        self.actions.append({
            "date": today, "country": self.country, "rule": rule.name or f"{rule.when} {rule.threshold:g}",
            "action": action, "observed": value, "in_force_from": today + dt.timedelta(days=1),
        })


for _column, _name in enumerate(GOVERNMENT_SETTINGS):
    setattr(Government, _name, _Column("government_settings", _column, _SETTING_KINDS.get(_name, float)))
for _column, _name in enumerate(OBSERVED):
    setattr(Government, _name, _Column("government_observed", _column, float if _name == "worst_pressure" else int))


@njit(cache=True)
def transit_pressure(present, capacity):
    """People present at each place over its reception capacity; 0 at places without reception
    (there is nothing to crowd). Compiled: the model needs it twice a day, and as numpy
    expressions it cost about 5 us of Python each time."""
    pressure = np.zeros(present.shape[0])
    for p in range(present.shape[0]):
        if capacity[p] > 0:
            pressure[p] = present[p] / capacity[p]
    return pressure


@njit(cache=True)
def observe(place_country, present, capacity, crossings, observed):
    """Fill the day's observations (country x OBSERVED): each country's worst transit pressure
    (`transit_pressure`), how many of its places hold more people than their capacity, and the
    crossings into it; returns the number of places over capacity. Compiled: as numpy expressions
    it was about 15 us of Python a day."""
    pressure = transit_pressure(present, capacity)
    observed[:, :] = 0.0
    places_over = 0
    for p in range(present.shape[0]):
        c = place_country[p]
        observed[c, 0] = max(observed[c, 0], pressure[p])
        if present[p] > capacity[p]:
            observed[c, 1] += 1.0
            places_over += 1
    for c in range(observed.shape[0]):
        observed[c, 2] = crossings[c]
    return places_over
