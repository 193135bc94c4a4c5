"""The migrant population as arrays: one array a field, one slot an agent.

Agents occupy slots [0, n_active). A finished agent (arrived, claimed asylum in transit) is
counted once and its slot marked GONE; a stable compaction removes GONE slots whenever they
exceed a quarter of the people still on the route, so each day's cost follows the people on the
route (within that slack) without copying the arrays every day. Slots keep entry order, which
the capacity passes use as their queue order."""

from __future__ import annotations

import numpy as np

# Agent states. Values below FINISHED are active; FINISHED and above leave the arrays.
AT_PLACE = 0  # at a place: resting, waiting or stranded
IN_TRANSIT = 1  # on an edge that takes more than the rest of the day
WAITING_FOR_SMUGGLER = 2  # asked for a smuggler's seat and got none today
STUCK_WITHOUT_MONEY = 3  # cannot pay for any way on; earns a little on each day that begins here
DETAINED = 4  # held after apprehension for the detaining country's detention days
AWAITING_DECISION = 5  # asylum claim at the destination, decision after the group's decision days
AT_HOME = 6  # returned to the origin; may leave again
WAITING_FOR_VISA = 7  # holds a legal-pathway slot; leaves legally after the processing days
NEW = 8  # just entered (or decided to leave again): decides today how, or whether, to go
APPLYING = 9  # asked for a legal-pathway slot today; the serial pass decides
WAITING_AT_BORDER = 10  # queued at a crossing with a daily admissions cap; the serial pass decides
HELD_FOR_RETURN_HOME = 11  # apprehended and readmitted: held, then returned to the origin
HELD_FOR_READMISSION = 12  # apprehended and readmitted: held, then returned to the previous country
TURNED_BACK = 13  # pushed back or refused at a border: waits where it is; tries again on a day with the retry chance
FINISHED = 16
ARRIVED = 16  # reached the intended destination (and, where decided, was recognised)
CLAIMED_ASYLUM_IN_TRANSIT = 17  # claimed asylum in a transit country and stays
LEFT_LEGALLY = 18  # left through a legal pathway
RETURNED = 19  # returned to an origin outside the region (readmission or assisted return)
DID_NOT_LEAVE = 20  # decided not to set off irregularly
WITHOUT_STATUS = 21  # rejected and not returned
GONE = 22  # finished and counted; the slot is free until the next compaction

FIELDS: dict[str, type] = {
    "agent_id": np.uint32,  # stable identity, the key of every random draw
    "place": np.int16,  # current place, or the origin of the edge being travelled
    "edge": np.int16,  # edge travelled or asked a smuggler for; -1 when none
    "remaining_days": np.float32,  # travel time left on the edge
    "state": np.uint8,
    "sheltered": np.uint8,  # 1 while holding a reception place at `place`
    "group": np.uint8,  # nationality group (selects the group's parameters)
    "destination": np.uint8,  # index into the network's destination list
    "budget_eur": np.float32,
    "state_days": np.int16,  # days in the current state; detention counts down here
    "entry_day": np.int16,
}

BYTES_PER_AGENT = sum(np.dtype(t).itemsize for t in FIELDS.values())


class Population:
    """Arrays sized for everyone who will enter during the run."""

    def __init__(self, capacity: int):
        if capacity >= 2**32 - 1:
            raise ValueError("at most 4,294,967,294 people per run (agent ids are 32-bit)")
        self.capacity = int(capacity)
        for name, dtype in FIELDS.items():
            setattr(self, name, np.zeros(max(self.capacity, 1), dtype=dtype))
        self.edge.fill(-1)
        # The kernels take every field each day; the arrays are never replaced (compaction works in place).
        self._arrays = tuple(getattr(self, name) for name in FIELDS)
        self.n_active = 0  # slots in use, including GONE ones
        self.n_gone = 0  # GONE slots among them
        self.next_id = 0

    @property
    def n_on_route(self) -> int:
        """People still on the route (slots in use that are not GONE)."""
        return self.n_active - self.n_gone

    def arrays(self) -> tuple[np.ndarray, ...]:
        """The field arrays in FIELDS order, as the kernels take them."""
        return self._arrays

    def active(self, name: str) -> np.ndarray:
        """A field over the people still on the route (GONE slots left out)."""
        values = getattr(self, name)[: self.n_active]
        return values[self.state[: self.n_active] < FINISHED]

    @staticmethod
    def estimated_bytes(people: int) -> int:
        return BYTES_PER_AGENT * int(people)
