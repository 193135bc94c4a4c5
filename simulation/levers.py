"""Policy levers: date-keyed interventions that change the day's policy.

A lever is active from `start` (inclusive) to `end` (exclusive; open-ended when not given) and
is scoped to countries, crossings or places. Each day the model builds the policy from the
governments' settings and then calls `apply(policy, model)` on every active lever, in the order
of the scenario file. Scenario files name a lever by its `type`; a user adds a lever by
subclassing `Lever` with a new `kind` and a pydantic `Parameters` model, then passes instances
in Python (`Scenario.with_levers`) or names its kind in a file once the class is imported.

Mechanisms, parameters with units, and the evidence behind defaults: docs/levers.md."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .policy import DailyPolicy


class LeverParameters(BaseModel):
    """Keys every lever takes; each lever adds its own."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    type: str
    name: str = ""
    start: dt.date | None = None
    end: dt.date | None = None

    @model_validator(mode="after")
    def _window(self):
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError(f"end ({self.end}) must come after start ({self.start})")
        return self


class Lever:
    kind: ClassVar[str] = ""
    Parameters: ClassVar[type[LeverParameters]] = LeverParameters
    registry: ClassVar[dict[str, type["Lever"]]] = {}
    # True when `apply` changes the policy it is given from the lever's own parameters alone
    # (no model state read, nothing else changed): while the same such levers are active, the
    # model reuses the policy they made yesterday instead of applying them again. A lever that
    # reads the model or has side effects (LegalPathways opens its yearly pool) keeps False.
    pure: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            Lever.registry[cls.kind] = cls

    def __init__(self, **values: Any):
        self.parameters = self.Parameters(type=self.kind, **values)

    def __getattr__(self, name: str) -> Any:
        parameters = self.__dict__.get("parameters")
        if parameters is not None and name in type(parameters).model_fields:
            return getattr(parameters, name)
        raise AttributeError(name)

    def active(self, date: dt.date) -> bool:
        start, end = self.parameters.start, self.parameters.end
        return (start is None or date >= start) and (end is None or date < end)

    def bind(self, network) -> None:
        """Check names against the network and precompute what `apply` needs (called when the
        scenario is loaded, to report bad names early, and again when a model is built)."""

    def apply(self, policy: DailyPolicy, model) -> None:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        return self.parameters.model_dump(mode="json", exclude_defaults=False)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.to_dict()})"


def _unknown(kind: str, what: str, names: list[str], known: list[str]) -> None:
    missing = [n for n in names if n not in known]
    if missing:
        raise ValueError(f"{kind}: unknown {what} {', '.join(missing)} (known: {', '.join(known)})")


def crossing_mask(network, countries: list[str], from_countries: list[str], crossings: list[str]) -> np.ndarray:
    """Border edges in scope: entering one of `countries` (optionally only from `from_countries`),
    plus the crossings named 'from_place->to_place'."""
    mask = np.zeros(network.n_edges, dtype=bool)
    entered = network.edge_entered_country
    if countries:
        wanted = [network.countries.index(c) for c in countries]
        mask |= np.isin(entered, wanted) & (entered >= 0)
        if from_countries:
            origins = [network.countries.index(c) for c in from_countries]
            mask &= np.isin(network.place_country[network.edge_from], origins)
    for label in crossings:
        origin, target = label.split("->")
        mask |= (network.edge_from == network.index[origin]) & (network.edge_to == network.index[target])
    return mask


class BorderScope(LeverParameters):
    countries: list[str] = Field(default=[], description="crossings into these countries")
    from_countries: list[str] = Field(default=[], description="only crossings coming from these countries")
    crossings: list[str] = Field(default=[], description="crossings named 'from_place->to_place'")

    @model_validator(mode="after")
    def _some_scope(self):
        if not self.countries and not self.crossings:
            raise ValueError("give countries and/or crossings")
        for label in self.crossings:
            if label.count("->") != 1:
                raise ValueError(f"crossing '{label}' must read 'from_place->to_place'")
        return self


def _bind_border_scope(lever: Lever, network, allow_domestic: bool = False) -> None:
    """Check the scope against the network and keep its edge mask. `crossings` must name border
    crossings, unless `allow_domestic` (a lever that only closes edges may close any edge)."""
    _unknown(lever.kind, "countries", lever.countries + lever.from_countries, network.countries)
    for label in lever.crossings:
        origin, target = label.split("->")
        _unknown(lever.kind, "places", [origin, target], network.place_ids)
        found = (network.edge_from == network.index[origin]) & (network.edge_to == network.index[target])
        if not np.any(found):
            raise ValueError(f"{lever.kind}: '{label}' is not an edge of the network")
        if not allow_domestic and not np.any(found & network.crosses_border):
            raise ValueError(f"{lever.kind}: '{label}' is not a border crossing of the network "
                             "(an edge inside a country can only be closed or held: give closed or held and nothing else)")
    lever.mask = crossing_mask(network, lever.countries, lever.from_countries, lever.crossings)


class BorderEnforcement(Lever):
    """Border enforcement: detection, pushback and closure by crossing and date.

    Sets, on the crossings in scope, the probability that a lone crosser is detected, the shares
    of the detected who are pushed back or detained, a daily admissions cap, and/or closes them
    (no crossing at all; route choice goes around). Only the parameters given are changed. With
    `groups` and `closed = true`, only those groups are refused at the crossings (filtering by
    nationality): they learn it by being turned back, and smugglers may take them round. `held`
    stops everyone who reaches the crossings where they are, while route choice still leads
    through them (people set out not knowing); they retry or give up by the behaviour rules."""

    kind = "border_enforcement"
    pure = True

    class Parameters(BorderScope):
        detection_probability: float | None = Field(default=None, ge=0, le=1)
        pushback_share: float | None = Field(default=None, ge=0, le=1)
        detention_share: float | None = Field(default=None, ge=0, le=1)
        closed: bool | None = None
        daily_admissions: int | None = Field(default=None, ge=0, le=10_000_000, description=(
            "at most this many lone crossers let through each crossing in scope a day"))
        groups: list[str] = Field(default=[], description="with closed = true: refuse only these groups")
        held: bool | None = Field(default=None, description=(
            "true: everyone reaching the crossings is stopped there (route choice still leads through them); "
            "false lifts an earlier hold"))

        @model_validator(mode="after")
        def _groups_only_refuse(self):
            others = [self.detection_probability, self.pushback_share, self.detention_share, self.daily_admissions]
            if self.groups and (self.closed is not True or self.held is not None or any(v is not None for v in others)):
                raise ValueError("with groups, give only closed = true (those groups are refused at the crossings)")
            if self.held is not None and (self.closed is not None or any(v is not None for v in others)):
                raise ValueError("give held alone (everyone reaching the crossings is stopped there)")
            return self

    def bind(self, network) -> None:
        settings = (self.detection_probability, self.pushback_share, self.detention_share, self.daily_admissions)
        # Closing or holding needs no border: an edge inside a country (a ferry) may be closed or held.
        only_closes_or_holds = not self.groups and all(v is None for v in settings) and (
            self.closed is not None or self.held is not None)
        _bind_border_scope(self, network, allow_domestic=only_closes_or_holds)

    def bind_groups(self, group_names: list[str], origin_countries: list[str | None]) -> None:
        _unknown(self.kind, "groups", self.groups, group_names)
        self.group_index = np.array([group_names.index(g) for g in self.groups], dtype=np.int64)

    def apply(self, policy: DailyPolicy, model) -> None:
        mask = self.mask
        if self.groups:
            # Refused at the official crossing; smugglers may still take them round it.
            policy.refused[np.ix_(np.flatnonzero(mask), self.group_index)] = 1
            return
        if self.held is not None:
            policy.refused[mask, :] = 1 if self.held else 0
            return
        if self.daily_admissions is not None:
            policy.daily_cap[mask] = self.daily_admissions
        if self.detection_probability is not None:
            policy.detection[mask] = self.detection_probability
        if self.pushback_share is not None:
            policy.pushback_share[mask] = self.pushback_share
        if self.detention_share is not None:
            policy.detention_share[mask] = self.detention_share
        if self.closed is not None:
            policy.open[mask] = 0 if self.closed else 1
        # Shares set separately may now add up past 1: pushback keeps priority.
        policy.detention_share[mask] = np.minimum(policy.detention_share[mask], 1.0 - policy.pushback_share[mask])


class Reception(Lever):
    """Reception: capacity and conditions by place.

    Multiplies the reception capacity of the places in scope by `capacity_factor` and adds
    `extra_places`; `conditions_rest_factor` multiplies the daily chance that people there rest
    (below 1: poor conditions push people on; above 1: good conditions hold them)."""

    kind = "reception"
    pure = True

    class Parameters(LeverParameters):
        countries: list[str] = []
        places: list[str] = []
        capacity_factor: float = Field(default=1.0, ge=0, le=100)
        extra_places: int = Field(default=0, ge=0, le=10_000_000)
        conditions_rest_factor: float = Field(default=1.0, ge=0, le=10)

        @model_validator(mode="after")
        def _some_scope(self):
            if not self.countries and not self.places:
                raise ValueError("give countries and/or places")
            return self

    def bind(self, network) -> None:
        _unknown(self.kind, "countries", self.countries, network.countries)
        _unknown(self.kind, "places", self.places, network.place_ids)
        mask = np.isin(network.place_country, [network.countries.index(c) for c in self.countries])
        mask[[network.index[p] for p in self.places]] = True
        self.mask = mask

    def apply(self, policy: DailyPolicy, model) -> None:
        capacity = policy.reception_capacity[self.mask] * self.capacity_factor + self.extra_places
        policy.reception_capacity[self.mask] = np.floor(capacity).astype(np.int64)
        policy.rest_factor[self.mask] *= self.conditions_rest_factor


class AntiSmuggling(Lever):
    """Anti-smuggling cooperation: smugglers' capacity, price and detection by country.

    Acts on the smugglers based in `countries` (the departure side of a crossing): their seats a
    day are multiplied by `seat_factor`, their price by `price_factor`, and the chance that a
    smuggled crossing out of those countries is detected by `smuggled_detection_multiplier`.
    Listing one country is unilateral action; listing neighbours together is joint action, which
    also covers the crossings between them from both sides. Where demand goes when one country
    acts is left to the ordinary route choice."""

    kind = "anti_smuggling"
    pure = True

    class Parameters(LeverParameters):
        countries: list[str] = Field(min_length=1)
        seat_factor: float = Field(default=1.0, ge=0, le=100)
        price_factor: float = Field(default=1.0, ge=0, le=100)
        smuggled_detection_multiplier: float = Field(default=1.0, ge=0, le=100)

    def bind(self, network) -> None:
        _unknown(self.kind, "countries", self.countries, network.countries)
        self.country_index = np.array([network.countries.index(c) for c in self.countries])
        origin_country = network.place_country[network.edge_from]
        self.mask = network.crosses_border & np.isin(origin_country, self.country_index)

    def apply(self, policy: DailyPolicy, model) -> None:
        seats = policy.smuggler_seats_per_day[self.country_index] * self.seat_factor
        policy.smuggler_seats_per_day[self.country_index] = np.floor(seats).astype(np.int64)
        policy.smuggling_fee_eur[self.mask] *= self.price_factor
        policy.smuggled_detection[self.mask] = np.minimum(
            policy.smuggled_detection[self.mask] * self.smuggled_detection_multiplier, 1.0)


class ReturnSettings(BaseModel):
    """A country's return and reintegration settings, all optional (see ReturnReintegration)."""

    readmission_share: float | None = Field(default=None, ge=0, le=1)
    readmission_to_origin_share: float | None = Field(default=None, ge=0, le=1)
    readmission_days: int | None = Field(default=None, ge=0, le=3650)
    takes_back_own_nationals_share: float | None = Field(default=None, ge=0, le=1)
    rejected_taking_assisted_return_share: float | None = Field(default=None, ge=0, le=1)
    assisted_return_uptake_per_day: float | None = Field(default=None, ge=0, le=1)
    assisted_return_full_after_days: int | None = Field(default=None, ge=1, le=3650)
    reintegration_support_eur: float | None = Field(default=None, ge=0, le=1e6)


class ReturnReintegration(Lever):
    """Return and reintegration: readmission cooperation, assisted voluntary return, and
    reintegration support, in the countries in scope.

    - `readmission_share`: of the people without protection need whom the country apprehends at
      its border (registered, not pushed back or detained), the share it returns: to their
      origin with `readmission_to_origin_share`, otherwise to the country they came from, after
      being held `readmission_days` (how fast readmission works).
    - `takes_back_own_nationals_share`: the country as an origin: the share of its nationals
      rejected at a destination (and not returning voluntarily) that are returned by force.
    - `assisted_return_uptake_per_day`: the country's return offer to people stranded there;
      the daily chance of accepting it rises with days stranded (full after
      `assisted_return_full_after_days`) and falls with protection need.
    - `rejected_taking_assisted_return_share`: the country as a destination: the share of the
      claimants it rejects who take its assisted voluntary return.
    - `reintegration_support_eur`: support (EUR per person) for returnees to the country (as
      origin); each `behaviour.reintegration_eur_halving_redeparture` EUR halves the chance that
      they leave again."""

    kind = "return_reintegration"
    pure = True

    class Parameters(LeverParameters, ReturnSettings):
        countries: list[str] = Field(min_length=1)

    def bind(self, network) -> None:
        _unknown(self.kind, "countries", self.countries, network.countries)
        self.country_index = np.array([network.countries.index(c) for c in self.countries])

    def apply(self, policy: DailyPolicy, model) -> None:
        for name in ReturnSettings.model_fields:
            value = getattr(self, name)
            if value is not None:
                getattr(policy, name)[self.country_index] = value


class LegalPathways(Lever):
    """Legal pathways: a yearly quota of slots for the groups in scope (a labour scheme such as
    Germany's Western Balkans Regulation for Western Balkan nationals, or resettlement and
    humanitarian admission for third-country nationals), to the `destination` place.

    Someone considering leaving who knows of the pathway (`awareness`) and is eligible
    (`eligible_share`) applies; slots are given in order of entry while the year's quota lasts
    (never more), and a slot holder leaves legally after `processing_days`. Knowing of the
    pathway lowers irregular departure by `deterrence` (a share), also for those who are not
    eligible or find no slot. The quota is refilled on each 1 January the lever is active, and
    on its start date."""

    kind = "legal_pathways"

    class Parameters(LeverParameters):
        groups: list[str] = Field(min_length=1)
        destination: str
        quota_per_year: int = Field(ge=0, le=10_000_000)
        eligible_share: float = Field(default=1.0, ge=0, le=1)
        awareness: float = Field(default=1.0, ge=0, le=1)
        deterrence: float = Field(default=0.0, ge=0, le=1)
        processing_days: int = Field(default=30, ge=1, le=3650)

    def bind(self, network) -> None:
        _unknown(self.kind, "destination places", [self.destination], network.destinations)
        self.destination_index = network.destinations.index(self.destination)

    def bind_groups(self, group_names: list[str], origin_countries: list[str | None]) -> None:
        _unknown(self.kind, "groups", self.groups, group_names)
        self.group_index = np.array([group_names.index(g) for g in self.groups])

    def apply(self, policy: DailyPolicy, model) -> None:
        pool = model.pathways.open_pool(self, model.date(model.day))
        policy.pathway_pool[self.group_index] = pool
        policy.pathway_eligible_share[self.group_index] = self.eligible_share
        policy.pathway_awareness[self.group_index] = self.awareness
        policy.pathway_deterrence[self.group_index] = self.deterrence


class Information(Lever):
    """Information campaigns in the countries in scope.

    - `risk_awareness_factor`: multiplies the risk people see in crossing into or out of those
      countries (the expected cost of being stopped in route choice); above 1 people weigh the
      risk of those crossings more.
    - `pathway_awareness`: the share of people from those countries (Western Balkan nationals
      by origin) who know of any legal pathway open to them (raises, never lowers, the
      pathway's own awareness).
    - `return_offer_awareness_factor`: multiplies the daily uptake of the assisted-return offer
      made in those countries (more people hear of it)."""

    kind = "information"
    pure = True

    class Parameters(LeverParameters):
        countries: list[str] = Field(min_length=1)
        risk_awareness_factor: float = Field(default=1.0, ge=0, le=100)
        pathway_awareness: float | None = Field(default=None, ge=0, le=1)
        return_offer_awareness_factor: float = Field(default=1.0, ge=0, le=100)

    def bind(self, network) -> None:
        _unknown(self.kind, "countries", self.countries, network.countries)
        self.country_index = np.array([network.countries.index(c) for c in self.countries])
        ends = np.stack([network.place_country[network.edge_from], network.place_country[network.edge_to]])
        self.crossings = network.crosses_border & np.isin(ends, self.country_index).any(axis=0)

    def bind_groups(self, group_names: list[str], origin_countries: list[str | None]) -> None:
        self.group_index = np.array([g for g, origin in enumerate(origin_countries) if origin in self.countries],
                                    dtype=np.int64)

    def apply(self, policy: DailyPolicy, model) -> None:
        policy.perceived_risk[self.crossings] *= self.risk_awareness_factor
        policy.assisted_return_uptake_per_day[self.country_index] = np.minimum(
            policy.assisted_return_uptake_per_day[self.country_index] * self.return_offer_awareness_factor, 1.0)
        if self.pathway_awareness is not None and len(self.group_index):
            policy.pathway_awareness[self.group_index] = np.maximum(
                policy.pathway_awareness[self.group_index], self.pathway_awareness)


def lever_from_dict(data: dict[str, Any]) -> Lever:
    """Build a registered lever from a scenario [[levers]] table (data only: the type must be
    one of the registered kinds; nothing is imported by name)."""
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in Lever.registry:
        raise ValueError(f"type must be one of {', '.join(sorted(Lever.registry))}, got {kind!r}")
    cls = Lever.registry[kind]
    values = {k: v for k, v in data.items() if k != "type"}
    return cls(**values)
