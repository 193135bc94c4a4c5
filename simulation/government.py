"""Governments: one Mesa agent a country, holding that country's border and reception settings
(for people entering it and staying in it). In this version the settings are static, as the
scenario sets them; each day a government observes the transit pressure on its places, which
is what the adaptive rules of a later version will respond to."""

from __future__ import annotations

import mesa
import numpy as np

SETTINGS = (
    "border_detection_probability", "pushback_share", "detention_share", "reception_capacity_factor",
    "asylum_claim_factor", "smuggler_seats_per_day", "border_closed",
)


class Government(mesa.Agent):
    def __init__(self, model: mesa.Model, country: str, settings: dict):
        super().__init__(model)
        self.country = country
        for name in SETTINGS:
            setattr(self, name, settings[name])
        self.worst_pressure = 0.0
        self.places_over_capacity = 0

    def observe(self, present: np.ndarray, capacity: np.ndarray) -> None:
        """Record today's transit pressure (people present / reception capacity) on own places."""
        if len(present) == 0:
            self.worst_pressure, self.places_over_capacity = 0.0, 0
            return
        pressure = present / np.maximum(capacity, 1)
        self.worst_pressure = float(pressure.max())
        self.places_over_capacity = int((present > capacity).sum())

    def step(self) -> None:
        """Static policy: the levers issue makes governments adapt here."""
