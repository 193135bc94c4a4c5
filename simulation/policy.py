"""The policy in force on one day, as the arrays the kernels read.

It starts from the governments' settings (a crossing takes the settings of the country it
enters), then every lever active that day changes it. (The model rebuilds the first part only
when a setting changes, and reuses yesterday's result while the same pure levers are active:
levers.Lever.pure.) Keeping it per edge lets a
lever act on one crossing, one country's borders, or the whole route alike."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

# Every setting a government holds (government.py), all of which the daily policy reads.
GOVERNMENT_SETTINGS = (
    "border_detection_probability", "pushback_share", "detention_share", "reception_capacity_factor",
    "asylum_claim_factor", "smuggler_seats_per_day", "border_closed",
    "readmission_share", "readmission_to_origin_share", "takes_back_own_nationals_share",
    "rejected_taking_assisted_return_share", "readmission_days",
    "assisted_return_uptake_per_day",
    "assisted_return_full_after_days", "reintegration_support_eur",
)
_SETTING_COLUMN = {name: k for k, name in enumerate(GOVERNMENT_SETTINGS)}


@dataclass
class DailyPolicy:
    # Per edge. Detection, pushback and detention apply to crossings; inside a country they are 0.
    detection: np.ndarray  # float64, probability a lone crosser is detected
    pushback_share: np.ndarray  # float64, share of the detected pushed back
    detention_share: np.ndarray  # float64, share of the detected detained
    open: np.ndarray  # uint8, 0 where the crossing is closed
    smuggling_fee_eur: np.ndarray  # float64, the day's price; NaN where no smugglers operate
    smuggled_detection: np.ndarray  # float64, detection multiplier for a smuggled crossing
    perceived_risk: np.ndarray  # float64, multiplies the risk route choice sees (information)
    refused: np.ndarray  # uint8 [edge, group], 1 where the crossing turns the group back
    daily_cap: np.ndarray  # int64, lone crossers let through a day; -1 for no cap
    # Per country.
    smuggler_seats_per_day: np.ndarray  # int64, seats of the smugglers based in the country
    asylum_claim_factor: np.ndarray  # float64
    readmission_share: np.ndarray  # float64, share of people without protection need returned
    readmission_to_origin_share: np.ndarray  # float64, of those apprehended: to the origin (else back)
    readmission_days: np.ndarray  # float64, days held before a readmission is carried out
    takes_back_own_nationals_share: np.ndarray  # float64, of its nationals rejected abroad
    rejected_taking_assisted_return_share: np.ndarray  # float64, of claimants it rejects
    assisted_return_uptake_per_day: np.ndarray  # float64, at full uptake
    assisted_return_full_after_days: np.ndarray  # float64, days stranded to reach full uptake
    reintegration_support_eur: np.ndarray  # float64, per returnee, by origin country
    # Per place.
    reception_capacity: np.ndarray  # int64 people
    rest_factor: np.ndarray  # float64, multiplies the daily rest probability (conditions)
    # Per group: the legal pathway open to it today (pool -1: none).
    pathway_pool: np.ndarray  # int64
    pathway_eligible_share: np.ndarray  # float64
    pathway_awareness: np.ndarray  # float64
    pathway_deterrence: np.ndarray  # float64

    @classmethod
    def from_governments(cls, model) -> "DailyPolicy":
        network = model.network
        entered = model.edge_entered_country
        crossing = entered >= 0
        into = np.maximum(entered, 0)

        settings = model.government_settings  # every government's settings (country x setting)

        def by_country(name: str, dtype=np.float64) -> np.ndarray:
            return settings[:, _SETTING_COLUMN[name]].astype(dtype)

        def on_crossings(values: np.ndarray) -> np.ndarray:
            return np.where(crossing, values[into], 0.0)

        closed = by_country("border_closed", bool)
        n_groups = len(model.group_names)
        capacity_factor = by_country("reception_capacity_factor")
        return cls(
            detection=on_crossings(by_country("border_detection_probability")),
            pushback_share=on_crossings(by_country("pushback_share")),
            detention_share=on_crossings(by_country("detention_share")),
            open=np.where(crossing & closed[into], 0, 1).astype(np.uint8),
            smuggling_fee_eur=model.edge_fee.copy(),
            smuggled_detection=np.full(network.n_edges, model.behaviour.smuggled_detection_factor),
            perceived_risk=np.ones(network.n_edges),
            refused=np.zeros((network.n_edges, n_groups), dtype=np.uint8),
            daily_cap=np.full(network.n_edges, -1, dtype=np.int64),
            smuggler_seats_per_day=by_country("smuggler_seats_per_day", np.int64),
            asylum_claim_factor=by_country("asylum_claim_factor"),
            readmission_share=by_country("readmission_share"),
            readmission_to_origin_share=by_country("readmission_to_origin_share"),
            readmission_days=by_country("readmission_days"),
            takes_back_own_nationals_share=by_country("takes_back_own_nationals_share"),
            rejected_taking_assisted_return_share=by_country("rejected_taking_assisted_return_share"),
            assisted_return_uptake_per_day=by_country("assisted_return_uptake_per_day"),
            assisted_return_full_after_days=by_country("assisted_return_full_after_days"),
            reintegration_support_eur=by_country("reintegration_support_eur"),
            reception_capacity=np.floor(
                network.reception_capacity * capacity_factor[network.place_country]).astype(np.int64),
            rest_factor=np.ones(network.n_places),
            pathway_pool=np.full(n_groups, -1, dtype=np.int64),
            pathway_eligible_share=np.zeros(n_groups),
            pathway_awareness=np.zeros(n_groups),
            pathway_deterrence=np.zeros(n_groups),
        )

    def copy(self) -> "DailyPolicy":
        return DailyPolicy(**{field.name: getattr(self, field.name).copy() for field in fields(self)})

    def repriced(self) -> "DailyPolicy":
        """A policy sharing this one's arrays but for the smuggling fees, copied for the market to
        price today. Once levers and responses have made a policy, only the market writes into it,
        so a day that reuses yesterday's levered policy needs no other copy (25 arrays, ~10 us a day)."""
        policy = object.__new__(DailyPolicy)  # shallow: the same arrays (copy.copy takes 3 times as long)
        policy.__dict__.update(self.__dict__)
        policy.smuggling_fee_eur = self.smuggling_fee_eur.copy()
        return policy

    # Policy fields that are probabilities or shares.
    SHARES = ("detection", "pushback_share", "detention_share", "smuggled_detection", "readmission_share",
              "readmission_to_origin_share", "takes_back_own_nationals_share",
              "rejected_taking_assisted_return_share", "assisted_return_uptake_per_day", "pathway_eligible_share",
              "pathway_awareness", "pathway_deterrence")

    def check(self) -> None:
        """Levers must leave the policy meaningful; a user's lever that does not is caught here.
        Runs every day, so the common case (all fine) is one test over all shares at once."""
        shares = np.concatenate([getattr(self, name) for name in self.SHARES])
        if not (shares.min() >= 0 and shares.max() <= 1):  # also catches NaN
            for name in self.SHARES:
                values = getattr(self, name)
                if not np.all((values >= 0) & (values <= 1)):
                    raise ValueError(f"policy {name} outside [0, 1] after levers")
        if not np.all(self.pushback_share + self.detention_share <= 1 + 1e-9):
            raise ValueError("policy pushback_share + detention_share above 1 after levers")
        if self.rest_factor.min() < 0:
            raise ValueError("negative rest factor after levers")
        if self.smuggler_seats_per_day.min() < 0 or self.reception_capacity.min() < 0:
            raise ValueError("negative smuggler seats or reception capacity after levers")
        fees = self.smuggling_fee_eur
        if np.any(fees < 0):  # NaN (no smugglers) compares False
            raise ValueError("negative smuggling fee after levers")
