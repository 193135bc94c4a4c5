"""Route choice inputs: each edge's generalised cost in EUR and each place's cost-to-go to each
destination (the cheapest sum of edge costs from that place to the destination).

An edge costs its travel time (valued at value_of_time_eur_per_day), its fare, and, where it
crosses a border, the expected smuggling fee and the expected cost of being stopped (the
entered country's detection x (pushback + detention) share x detection_cost_eur); crowding at
the place it leads to adds crowding_cost_eur per unit of transit pressure above 1 (yesterday's,
as people hear of it); a crossing few have used adds what is left of unfamiliar_crossing_cost_eur
(`unfamiliarity_costs`). Costs change with policy and crowding, so cost-to-go is recomputed
whenever any edge cost changes (Dijkstra on the edges taken backwards, `_cost_to`)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .network import Network

# Above this pressure, more crowding does not make a place look any worse.
MAX_PRESSURE_IN_COST = 10.0
_TWO_TO_53 = 9007199254740992.0  # a draw is k / 2**53 (counter_rng)


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


@njit(cache=True)
def money_needed(fares, smuggler_required, fees):
    """Money needed to take each edge at all: its fare, plus the fee where a smuggler is required
    (as numpy's nan_to_num reads the fee: a missing fee, NaN, adds nothing; an infinite one the
    largest float)."""
    need = fares.copy()
    for e in range(need.shape[0]):
        if smuggler_required[e]:
            fee = fees[e]
            if np.isnan(fee):
                fee = 0.0
            elif np.isinf(fee):
                fee = np.finfo(np.float64).max if fee > 0 else -np.finfo(np.float64).max
            need[e] += fee
    return need


def route_tables(network: Network, cost: np.ndarray, fares: np.ndarray, fees: np.ndarray, destinations: np.ndarray,
                 sharpness: float, edge_open: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The day's route-choice inputs from the edge costs, fares and smuggling fees, per destination:

    - to_go [destination, place]: the cheapest cost from each place to the destination (inf: no
      way; a closed edge costs inf, so it is no way);
    - cumulative [destination, edge]: the precomputed softmax for people who can pay for every
      option, as the running sum of choice probabilities over each place's out-edges (CSR
      order), ending at 1 at the place's last usable edge;
    - threshold [destination, place, k]: cumulative x 2**53 rounded up, as unsigned integers, of
      the place's k-th out-edge (the largest unsigned integer past its last), which the kernel
      compares with a draw's 53 random bits (`counter_rng.draw_bits`): `threshold <= bits` exactly
      when `cumulative <= draw`. So the chosen edge is out_start[p] plus the count of a place's
      thresholds at or below the bits, in a loop of one length at every place: on the way from
      the place to its chosen edge there is no float conversion, no read of out_start and no
      loop exit to predict (one thread, loop_ab.py 10^5 scaled: -6.5 % for the whole loop with
      the thresholds by edge; by place: benchmarks/SPEEDUPS.md, eleventh round);
    - need [destination, place]: the most money any usable out-edge asks (`money_needed`: fare,
      plus a required smuggler's fee); inf where no edge leads on;
    - least [destination, place]: the least money any out-edge the kernel's slow path would
      consider asks (open, with a way on from its head; fare plus a required fee, as the kernel
      adds them); -inf where there is none, or where one asks NaN (which the kernel never finds
      too dear).

    Someone with at least `need` draws from the table; anyone poorer takes the kernel's slow
    path, which leaves out what they cannot pay. Both give the same distribution. Someone with
    less than `least` can pay for nothing: the slow path would find them stuck without money, so
    the kernel says so at once (a quarter of the agent-steps of the 10^5-people benchmark are
    people stuck). Like `need`, `least` holds the fees of the day the costs last changed. One compiled
    call: the model makes these every day the costs change, and as numpy and scipy calls they
    took ~65 us a day (the tables are allocated in it too: five numpy calls cost ~4 us more)."""
    return _route_tables(cost, fares, network.smuggler_required, fees, network.edge_from, network.edge_to,
                         network.out_start, network.in_start, network.in_edges, destinations, float(sharpness),
                         edge_open)


@njit(cache=True)
def _cost_to(target, cost, edge_from, in_start, in_edges, dist, heap_keys, heap_places):
    """Dijkstra from `target` over the edges taken backwards: `dist[p]` is the cheapest cost from
    place p to `target`. Compiled: scipy's dijkstra spends ~35 us a call on checking its input for
    ~2 us of search, and the model runs this every day. The queue is a binary heap in two scratch
    arrays (`heap_keys`, `heap_places`, one entry more than there are edges: a place enters once
    per improvement, an edge improves at most once), as numba's heapq on a list of tuples cost
    3.6 against 1.4 us a search on the bundled network. The sums are formed as scipy forms them
    (cost so far + edge cost), so the distances are the same to the bit (tests/test_routing.py
    compares them with scipy's); the order of equal keys cannot change them, as every place's
    distance is the least of its out-edges' sums from settled places."""
    dist[:] = np.inf
    dist[target] = 0.0
    done = np.zeros(dist.shape[0], dtype=np.bool_)
    size = _heap_push(heap_keys, heap_places, 0, 0.0, np.int64(target))
    while size > 0:
        so_far, head = heap_keys[0], heap_places[0]
        size = _heap_pop(heap_keys, heap_places, size)
        if done[head]:
            continue  # an older, dearer entry for a place already settled
        done[head] = True
        for k in range(in_start[head], in_start[head + 1]):
            e = in_edges[k]
            tail = np.int64(edge_from[e])
            candidate = so_far + cost[e]
            if candidate < dist[tail]:
                dist[tail] = candidate
                size = _heap_push(heap_keys, heap_places, size, candidate, tail)


@njit(cache=True, inline="always")
def _heap_push(keys, places, size, key, place):
    """Add (key, place) to the binary min-heap of `size` entries; returns the new size."""
    position = size
    while position > 0:
        parent = (position - 1) // 2
        if keys[parent] <= key:
            break
        keys[position], places[position] = keys[parent], places[parent]
        position = parent
    keys[position], places[position] = key, place
    return size + 1


@njit(cache=True, inline="always")
def _heap_pop(keys, places, size):
    """Remove the least entry (the root) of the binary min-heap of `size` entries; returns the new size."""
    size -= 1
    key, place = keys[size], places[size]  # the last entry sinks from the root to its level
    position = 0
    while True:
        child = 2 * position + 1
        if child >= size:
            break
        if child + 1 < size and keys[child + 1] < keys[child]:
            child += 1
        if keys[child] >= key:
            break
        keys[position], places[position] = keys[child], places[child]
        position = child
    keys[position], places[position] = key, place
    return size


@njit(cache=True)
def _choice_table(cost, to_go, sharpness, need_eur, edge_to, out_start, cumulative, threshold, need):
    """One destination's rows of route_tables' choice tables, place by place over the CSR out-edges.
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
            threshold[p, e - first] = np.uint64(math.ceil(cumulative[e] * _TWO_TO_53))  # exact: a power of 2
        need[p] = most


@njit(cache=True)
def _route_tables(cost, fares, smuggler_required, fees, edge_from, edge_to, out_start, in_start, in_edges,
                  destinations, sharpness, edge_open):
    n_destinations, n_places = destinations.shape[0], out_start.shape[0] - 1
    width = 1  # the most out-edges of any place
    for p in range(n_places):
        width = max(width, out_start[p + 1] - out_start[p])
    to_go = np.empty((n_destinations, n_places))
    cumulative = np.zeros((n_destinations, cost.shape[0]))
    threshold = np.full((n_destinations, n_places, width), np.iinfo(np.uint64).max, dtype=np.uint64)
    need = np.full((n_destinations, n_places), np.inf)
    least = np.empty((n_destinations, n_places))
    need_eur = money_needed(fares, smuggler_required, fees)
    heap_keys = np.empty(in_edges.shape[0] + 1)
    heap_places = np.empty(in_edges.shape[0] + 1, dtype=np.int64)
    for d in range(destinations.shape[0]):
        _cost_to(np.int64(destinations[d]), cost, edge_from, in_start, in_edges, to_go[d], heap_keys, heap_places)
        _choice_table(cost, to_go[d], sharpness, need_eur, edge_to, out_start, cumulative[d], threshold[d], need[d])
        _least_need(fares, smuggler_required, fees, edge_open, edge_to, out_start, to_go[d], least[d])
    return to_go, cumulative, threshold, need, least


@njit(cache=True)
def _least_need(fares, smuggler_required, fees, edge_open, edge_to, out_start, to_go, least):
    """One destination's row of route_tables' `least`: over the out-edges the kernel's slow path
    considers (open, a way on from the head), the least of fare + required fee, summed as the
    kernel sums them; -inf where there is no such edge or one of them asks NaN."""
    for p in range(out_start.shape[0] - 1):
        lowest = np.inf
        for e in range(out_start[p], out_start[p + 1]):
            if edge_open[e] == 0 or not np.isfinite(to_go[edge_to[e]]):
                continue
            asked = fares[e]
            if smuggler_required[e]:
                asked += fees[e]
            if np.isnan(asked):
                lowest = -np.inf  # never too dear for the kernel: the slow path decides
                break
            lowest = min(lowest, asked)
        least[p] = lowest if lowest < np.inf else -np.inf  # nothing to consider: the slow path decides
