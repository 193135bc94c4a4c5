"""Legal-pathway quotas as pools of slots: one pool a legal_pathways lever, refilled to its
yearly quota on its start date and on each 1 January it is active. The serial pass
(`kernels.grant_pathway_slots`) takes slots from `remaining` in order of entry, so a pool never
issues more than its quota in a year."""

from __future__ import annotations

import datetime as dt

import numpy as np


class PathwayPools:
    def __init__(self, levers: list):
        self.levers = [lever for lever in levers if lever.kind == "legal_pathways"]
        n = len(self.levers)
        self.remaining = np.zeros(max(n, 1), dtype=np.int64)
        self.issued = np.zeros(max(n, 1), dtype=np.int64)
        self.processing_days = np.array([lever.processing_days for lever in self.levers] or [1], dtype=np.int64)
        self.destination = np.array([lever.destination_index for lever in self.levers] or [0], dtype=np.uint8)
        self.quota = np.array([lever.quota_per_year for lever in self.levers] or [0], dtype=np.int64)
        self._year = [None] * n

    def open_pool(self, lever, today: dt.date) -> int:
        pool = self.levers.index(lever)
        if self._year[pool] != today.year:
            self._year[pool] = today.year
            self.remaining[pool] = self.quota[pool]
        return pool
