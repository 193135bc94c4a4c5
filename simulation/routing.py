"""Route choice inputs: each edge's generalised cost in EUR and each place's cost-to-go to each
destination (the cheapest sum of edge costs from that place to the destination).

An edge costs its travel time (valued at value_of_time_eur_per_day), its fare, and, where it
crosses a border, the expected smuggling fee and the expected cost of being stopped (the
entered country's detection x (pushback + detention) share x detection_cost_eur); crowding at
the place it leads to adds crowding_cost_eur per unit of transit pressure above 1 (yesterday's,
as people hear of it); a crossing few have used adds what is left of unfamiliar_crossing_cost_eur
(`unfamiliarity_costs`). Costs change with policy and crowding, so cost-to-go is recomputed
whenever any edge cost changes (scipy's Dijkstra on the reversed graph)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from .network import Network

# Above this pressure, more crowding does not make a place look any worse.
MAX_PRESSURE_IN_COST = 10.0


def edge_fares(network: Network, fare_eur_per_km: dict[str, float]) -> np.ndarray:
    per_km = np.array([fare_eur_per_km[mode] for mode in network.edge_mode])
    return per_km * network.distance_km


def edge_costs(network: Network, behaviour, fares: np.ndarray, policy, pressure: np.ndarray,
               unfamiliarity: np.ndarray | None = None) -> np.ndarray:
    """Generalised cost in EUR of each edge under the day's policy (inf where closed);
    `unfamiliarity` (EUR per edge, `unfamiliarity_costs`) is added where given."""
    if unfamiliarity is None:
        unfamiliarity = np.zeros(network.n_edges)
    return _edge_costs(network.travel_days, fares, network.crosses_border, network.smuggler_required,
                       network.edge_to, policy.smuggling_fee_eur, policy.detection, policy.smuggled_detection,
                       policy.pushback_share, policy.detention_share, policy.perceived_risk, policy.open, pressure,
                       unfamiliarity, behaviour.value_of_time_eur_per_day, behaviour.smuggler_use_probability,
                       behaviour.detection_cost_eur, behaviour.crowding_cost_eur)


def unfamiliarity_costs(cost_eur: float, crossed: np.ndarray, crossers_to_learn: float,
                        unfamiliar: np.ndarray) -> np.ndarray:
    """Route-choice cost of crossings people do not know yet: cost_eur x exp(-crossed /
    crossers_to_learn) on the `unfamiliar` edges (border crossings not on a known border), where
    `crossed` counts the people who have crossed there so far; 0 elsewhere. Word of a crossing
    spreads with the people who use it."""
    return np.where(unfamiliar, cost_eur * np.exp(-crossed / crossers_to_learn), 0.0)


@njit(cache=True)
def _edge_costs(travel_days, fares, crossing, smuggler_required, edge_to, fees, detection, smuggled_detection,
                pushback_share, detention_share, perceived_risk, edge_open, pressure, unfamiliarity, value_of_time,
                smuggler_use_probability, detection_cost, crowding_cost):
    # Compiled: run daily over every edge, it was a dozen numpy expressions of Python overhead.
    cost = np.empty(travel_days.shape[0])
    for e in range(cost.shape[0]):
        c = value_of_time * travel_days[e] + fares[e]
        if crossing[e]:
            fee = fees[e]
            if smuggler_required[e]:
                smuggled_share = 1.0
            elif np.isfinite(fee):
                smuggled_share = smuggler_use_probability
            else:
                smuggled_share = 0.0
            detected = detection[e] * (1.0 - smuggled_share * (1.0 - smuggled_detection[e]))
            stopped = detected * (pushback_share[e] + detention_share[e])
            c += perceived_risk[e] * stopped * detection_cost + smuggled_share * (0.0 if np.isnan(fee) else fee)
        crowding = min(max(pressure[edge_to[e]] - 1.0, 0.0), MAX_PRESSURE_IN_COST)
        c += crowding_cost * crowding + unfamiliarity[e]
        c = max(c, 1e-6)  # Dijkstra needs positive weights
        cost[e] = np.inf if edge_open[e] == 0 else c
    return cost


def cost_to_go(network: Network, cost: np.ndarray, edge_open: np.ndarray, destinations: np.ndarray) -> np.ndarray:
    """float64 [destination, place]: cheapest cost from each place to each destination (inf: no way).
    One-off; the model keeps a ReversedGraph per pattern of open edges instead."""
    return ReversedGraph(network, edge_open).cost_to_go(cost, destinations)


class ReversedGraph:
    """The open edges as a reversed graph for scipy's Dijkstra, built once for one pattern of
    open crossings; each day only the edge weights change. Parallel edges (two modes between
    one pair of places) count once, at the cheaper cost."""

    def __init__(self, network: Network, edge_open: np.ndarray):
        n = network.n_places
        usable = edge_open.astype(bool)
        heads = network.edge_to[usable].astype(np.int64)
        tails = network.edge_from[usable].astype(np.int64)
        # Pairs sorted by head then tail are the CSR order of the reversed graph (rows = heads).
        pairs, pair_of_edge = np.unique(heads * n + tails, return_inverse=True)
        self.n_pairs = len(pairs)
        # The usable edges in pair order, and where each pair's run of edges starts (for reduceat).
        self.edge_order = np.flatnonzero(usable)[np.argsort(pair_of_edge, kind="stable")]
        self.pair_starts = np.searchsorted(np.sort(pair_of_edge), np.arange(self.n_pairs))
        # The graph's structure is fixed; each day only its weights (the matrix's data) change.
        self.graph = csr_matrix((np.ones(self.n_pairs), pairs % n, np.searchsorted(pairs // n, np.arange(n + 1))),
                                shape=(n, n))

    def cost_to_go(self, cost: np.ndarray, destinations: np.ndarray) -> np.ndarray:
        """float64 [destination, place]: cheapest cost from each place to each destination (inf: no way)."""
        if self.n_pairs:
            self.graph.data[:] = np.minimum.reduceat(cost[self.edge_order], self.pair_starts)
        return dijkstra(self.graph, directed=True, indices=destinations)


def route_choice_tables(network: Network, cost: np.ndarray, to_go: np.ndarray, sharpness: float,
                        need_eur: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Precomputed softmax for people who can pay for every option, per destination:

    - cumulative [destination, edge]: the running sum of choice probabilities over each place's
      out-edges (CSR order), ending at 1 at the place's last usable edge;
    - need [destination, place]: the most money any usable out-edge asks (fare, plus a required
      smuggler's fee); inf where no edge leads on.

    Someone with at least `need` draws from the table; anyone poorer takes the kernel's slow
    path, which leaves out what they cannot pay. Both give the same distribution."""
    n_destinations = to_go.shape[0]
    cumulative = np.zeros((n_destinations, network.n_edges))
    need = np.full((n_destinations, network.n_places), np.inf)
    for d in range(n_destinations):
        _choice_table(cost, to_go[d], float(sharpness), need_eur, network.edge_to, network.out_start,
                      cumulative[d], need[d])
    return cumulative, need


@njit(cache=True)
def _choice_table(cost, to_go, sharpness, need_eur, edge_to, out_start, cumulative, need):
    """One destination's row of route_choice_tables, place by place over the CSR out-edges.
    Compiled: this runs every day the costs change, and numpy's version cost ~80 us a day."""
    for p in range(out_start.shape[0] - 1):
        first, stop = out_start[p], out_start[p + 1]
        best = np.inf
        for e in range(first, stop):
            total = cost[e] + to_go[edge_to[e]]
            if total < best:
                best = total
        if not np.isfinite(best):
            continue  # no way on from here: zeros and need inf
        # Each edge's softmax weight (0 where there is no way on) into `cumulative`, then the
        # running share over the place's edges in place.
        weight_sum = 0.0
        most = -np.inf
        for e in range(first, stop):
            total = cost[e] + to_go[edge_to[e]]
            cumulative[e] = 0.0
            if np.isfinite(total):
                cumulative[e] = math.exp(-sharpness * (total - best))
                most = max(most, need_eur[e])
            weight_sum += cumulative[e]
        running = 0.0
        for e in range(first, stop):
            running += cumulative[e]
            cumulative[e] = running / weight_sum
        need[p] = most
