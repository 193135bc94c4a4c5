"""Route choice inputs: each edge's generalised cost in EUR and each place's cost-to-go to each
destination (the cheapest sum of edge costs from that place to the destination).

An edge costs its travel time (valued at value_of_time_eur_per_day), its fare, and, where it
crosses a border, the expected smuggling fee and the expected cost of being stopped (the
entered country's detection x (pushback + detention) share x detection_cost_eur); crowding at
the place it leads to adds crowding_cost_eur per unit of transit pressure above 1 (yesterday's,
as people hear of it). Costs change with policy and crowding, so cost-to-go is recomputed
whenever any edge cost changes (scipy's Dijkstra on the reversed graph)."""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from .network import Network

# Above this pressure, more crowding does not make a place look any worse.
MAX_PRESSURE_IN_COST = 10.0


def edge_fares(network: Network, fare_eur_per_km: dict[str, float]) -> np.ndarray:
    per_km = np.array([fare_eur_per_km[mode] for mode in network.edge_mode])
    return per_km * network.distance_km


def edge_costs(network: Network, behaviour, fares: np.ndarray, policy, pressure: np.ndarray) -> np.ndarray:
    """Generalised cost in EUR of each edge under the day's policy (inf where closed)."""
    cost = behaviour.value_of_time_eur_per_day * network.travel_days + fares
    crossing = network.crosses_border
    fee = policy.smuggling_fee_eur[crossing]
    has_smugglers = np.isfinite(fee)
    smuggled_share = np.where(network.smuggler_required[crossing], 1.0,
                              np.where(has_smugglers, behaviour.smuggler_use_probability, 0.0))
    detected = policy.detection[crossing] * (1.0 - smuggled_share * (1.0 - policy.smuggled_detection[crossing]))
    stopped = detected * (policy.pushback_share[crossing] + policy.detention_share[crossing])
    perceived = policy.perceived_risk[crossing]
    cost[crossing] += perceived * stopped * behaviour.detection_cost_eur + smuggled_share * np.nan_to_num(fee)
    crowding = np.clip(pressure[network.edge_to] - 1.0, 0.0, MAX_PRESSURE_IN_COST)
    cost += behaviour.crowding_cost_eur * crowding
    cost = np.maximum(cost, 1e-6)  # Dijkstra needs positive weights
    cost[policy.open == 0] = np.inf
    return cost


def cost_to_go(network: Network, cost: np.ndarray, edge_open: np.ndarray, destinations: np.ndarray) -> np.ndarray:
    """float64 [destination, place]: cheapest cost from each place to each destination (inf: no way)."""
    usable = edge_open.astype(bool)
    heads, tails, weights = network.edge_to[usable], network.edge_from[usable], cost[usable]
    # Parallel edges (two modes between one pair) keep their cheapest cost.
    order = np.lexsort((weights, tails, heads))
    heads, tails, weights = heads[order], tails[order], weights[order]
    first = np.ones(len(heads), dtype=bool)
    first[1:] = (heads[1:] != heads[:-1]) | (tails[1:] != tails[:-1])
    reversed_graph = csr_matrix(
        (weights[first], (heads[first].astype(np.int64), tails[first].astype(np.int64))),
        shape=(network.n_places, network.n_places),
    )
    return dijkstra(reversed_graph, directed=True, indices=destinations)


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
    origin = network.edge_from.astype(np.int64)
    for d in range(n_destinations):
        total = cost + to_go[d, network.edge_to]
        usable = np.isfinite(total)
        best = np.full(network.n_places, np.inf)
        np.minimum.at(best, origin[usable], total[usable])
        weight = np.where(usable, np.exp(-sharpness * (np.where(usable, total, 0.0) - best[origin])), 0.0)
        weight_sum = np.zeros(network.n_places)
        np.add.at(weight_sum, origin, weight)
        running = np.cumsum(weight)
        before_place = np.concatenate(([0.0], running))[network.out_start[:-1]]
        with np.errstate(invalid="ignore", divide="ignore"):
            cumulative[d] = (running - before_place[origin]) / weight_sum[origin]
        cumulative[d][~np.isfinite(cumulative[d])] = 0.0
        most = np.full(network.n_places, -np.inf)
        np.maximum.at(most, origin[usable], need_eur[usable])
        need[d] = np.where(np.isfinite(best), most, np.inf)
    return cumulative, need
