"""Numba kernels for one simulated day.

1. `add_entrants`: new people appear at entry places with a group, destination and budget.
2. `decide_day` (parallel over fixed chunks of agents): each active agent's own choices:
   claim asylum, rest, choose an out-edge by a softmax on generalised cost to its destination,
   cross a border alone (detection, pushback, detention) or ask for a smuggler, travel.
   Several short edges fit in one day; a multi-day edge takes its days. Each chunk counts its
   events in its own row, so the parallel part writes nothing shared.
3. The capacity-limited steps, in slot order (= order of entry), apart from the decisions so
   those have no races: `seat_smugglers` (serial) gives smuggler seats by departure country;
   `allocate_reception` gives reception places by place and counts the day's stocks (parallel
   over chunks, with per-chunk quotas that reproduce the serial slot order exactly).
4. `compact`: finished (GONE) slots leave the arrays (stable: slot order stays entry order),
   whenever they are more than a quarter of the people on the route.

All draws come from `uniform(key, stream, agent_id, day)`, so results are identical for any
thread count. Events are integer counts summed over chunks; the only float sum (smuggler
revenue) is taken in the serial pass, so it is bit-identical too."""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from .counter_rng import (
    STREAM_ASYLUM, STREAM_BUDGET_A, STREAM_BUDGET_B, STREAM_DESTINATION, STREAM_DETECTION,
    STREAM_GROUP, STREAM_OUTCOME, STREAM_REST, STREAM_ROUTE, STREAM_SMUGGLED_DETECTION,
    STREAM_SMUGGLED_OUTCOME, STREAM_SMUGGLER_CHOICE, uniform,
)
from .population import (
    ARRIVED, AT_PLACE, CLAIMED_ASYLUM_IN_TRANSIT, DETAINED, FINISHED, GONE, IN_TRANSIT,
    STUCK_WITHOUT_MONEY, WAITING_FOR_SMUGGLER,
)

# Event columns, counted by country (the country entered, for crossings).
EV_ENTRIES, EV_CROSSINGS, EV_APPREHENSIONS, EV_PUSHBACKS, EV_DETENTIONS = 0, 1, 2, 3, 4
EV_SMUGGLED, EV_ASYLUM_CLAIMS, EV_ARRIVALS = 5, 6, 7
EVENT_NAMES = (
    "entries", "border_crossings", "apprehensions", "pushbacks", "detentions",
    "smuggled_crossings", "asylum_claims", "arrivals",
)
N_EVENTS = len(EVENT_NAMES)

# Stock columns by place (mutually exclusive; arrived and claimed_asylum are cumulative).
ST_WAITING, ST_WAITING_SMUGGLER, ST_STUCK, ST_DETAINED, ST_IN_TRANSIT, ST_ARRIVED, ST_ASYLUM = 0, 1, 2, 3, 4, 5, 6
STOCK_NAMES = (
    "waiting", "waiting_for_smuggler", "stuck_without_money", "detained", "in_transit",
    "arrived", "claimed_asylum",
)
N_STOCKS = len(STOCK_NAMES)

# Behaviour scalars passed to the kernels as one float64 array.
P_SHARPNESS, P_REST, P_ROUGH_FACTOR, P_CLAIM, P_SMUGGLER_USE = 0, 1, 2, 3, 4
P_EARNINGS, P_DETENTION_DAYS = 5, 6
N_PARAMS = 7

# Agents are split into chunks of consecutive slots; each chunk keeps its own counts. Results do
# not depend on the number of chunks (counts are integers, capacity quotas follow slot order),
# so small populations use fewer chunks and pay less per-day overhead.
N_CHUNKS = 64
AGENTS_PER_CHUNK_AT_LEAST = 4096


@njit(cache=True, inline="always")
def _chunks(n_active):
    return min(N_CHUNKS, max(2, n_active // AGENTS_PER_CHUNK_AT_LEAST))
MAX_MOVES_PER_DAY = 8
_EPS = 1e-9


@njit(cache=True)
def add_entrants(agent_id, place, edge, remaining_days, state, sheltered, group, destination, budget_eur,
                 state_days, entry_day, n_active, next_id, arrivals_today, key, day,
                 group_cumulative_share, destination_cumulative_share, budget_log_median, budget_log_sd):
    """Append today's entrants; returns (n_active, next_id)."""
    n_groups = group_cumulative_share.shape[0]
    n_destinations = destination_cumulative_share.shape[1]
    for p in range(arrivals_today.shape[0]):
        for slot in range(n_groups + 1):
            for _ in range(arrivals_today[p, slot]):
                i = n_active
                identity = next_id
                if slot < n_groups:
                    g = slot
                else:
                    u = uniform(key, STREAM_GROUP, identity, day)
                    g = 0
                    while g < n_groups - 1 and u >= group_cumulative_share[g]:
                        g += 1
                u = uniform(key, STREAM_DESTINATION, identity, day)
                d = 0
                while d < n_destinations - 1 and u >= destination_cumulative_share[g, d]:
                    d += 1
                # Box-Muller from two independent draws for a log-normal budget.
                u1 = uniform(key, STREAM_BUDGET_A, identity, day)
                u2 = uniform(key, STREAM_BUDGET_B, identity, day)
                normal = math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)
                agent_id[i] = identity
                place[i] = p
                edge[i] = -1
                remaining_days[i] = 0.0
                state[i] = AT_PLACE
                sheltered[i] = 0
                group[i] = g
                destination[i] = d
                budget_eur[i] = math.exp(budget_log_median[g] + budget_log_sd[g] * normal)
                state_days[i] = 0
                entry_day[i] = day
                n_active += 1
                next_id += 1
    return n_active, next_id


@njit(cache=True, inline="always")
def _travel(i, e, time_left, place, edge, remaining_days, state, sheltered, state_days, destination,
            budget_eur, edge_to, edge_travel_days, edge_fare_eur, destination_of_place, place_country,
            events, edge_departures, chunk):
    """Start edge e: pay the fare, then arrive today if it fits in time_left.
    Returns the time left after arriving, or -1.0 when the agent's day is over."""
    budget_eur[i] = max(budget_eur[i] - edge_fare_eur[e], 0.0)  # clamp float32 rounding only
    edge_departures[chunk, e] += 1
    sheltered[i] = 0
    state_days[i] = 0
    travel = edge_travel_days[e]
    if travel <= time_left + _EPS:
        head = edge_to[e]
        place[i] = head
        edge[i] = -1
        state[i] = AT_PLACE
        if destination_of_place[head] == destination[i]:
            state[i] = ARRIVED
            events[chunk, place_country[head], EV_ARRIVALS] += 1
            events[chunk, place_country[head], EV_ASYLUM_CLAIMS] += 1
            return -1.0
        return time_left - travel
    state[i] = IN_TRANSIT
    edge[i] = e
    remaining_days[i] = travel - time_left
    return -1.0


@njit(cache=True, parallel=True)
def decide_day(agent_id, place, edge, remaining_days, state, sheltered, group, destination, budget_eur,
               state_days, entry_day, n_active, key, day,
               out_start, edge_to, edge_travel_days, edge_fare_eur, edge_cost_eur, edge_open,
               edge_entered_country, edge_smuggler_required, edge_fee_eur,
               place_country, destination_of_place, cost_to_go, route_cumulative, route_need_eur,
               edge_detection, edge_pushback, edge_detention, country_claim_factor, place_rest_factor,
               group_protection_need, params, events, edge_departures):
    sharpness = params[P_SHARPNESS]
    n_chunks = _chunks(n_active)
    chunk_size = (n_active + n_chunks - 1) // n_chunks
    max_degree = 1
    for p in range(out_start.shape[0] - 1):
        max_degree = max(max_degree, out_start[p + 1] - out_start[p])
    for chunk in prange(n_chunks):
        totals = np.empty(max_degree)  # scratch for route choice, one per chunk
        start = chunk * chunk_size
        stop = min(start + chunk_size, n_active)
        for i in range(start, stop):
            s = state[i]
            if s >= FINISHED:
                continue
            identity = agent_id[i]
            if s == DETAINED:
                state_days[i] -= 1
                if state_days[i] <= 0:
                    state[i] = AT_PLACE
                    state_days[i] = 0
                continue
            time_left = 1.0
            first_decision = True
            if s == IN_TRANSIT:
                left = remaining_days[i] - 1.0
                if left > _EPS:
                    remaining_days[i] = left
                    continue
                head = edge_to[edge[i]]
                place[i] = head
                edge[i] = -1
                remaining_days[i] = 0.0
                state[i] = AT_PLACE
                state_days[i] = 0
                if destination_of_place[head] == destination[i]:
                    state[i] = ARRIVED
                    events[chunk, place_country[head], EV_ARRIVALS] += 1
                    events[chunk, place_country[head], EV_ASYLUM_CLAIMS] += 1
                    continue
                time_left = -left
                first_decision = False  # just arrived: no rest or claim decision today
            else:
                if state_days[i] < 32000:
                    state_days[i] += 1
                if s == STUCK_WITHOUT_MONEY:
                    budget_eur[i] += params[P_EARNINGS]
            g = group[i]
            d = destination[i]
            for move in range(MAX_MOVES_PER_DAY):
                if time_left <= _EPS:
                    break
                p = place[i]
                c = place_country[p]
                if first_decision:
                    claim = params[P_CLAIM] * group_protection_need[g] * country_claim_factor[c]
                    if uniform(key, STREAM_ASYLUM, identity, day) < claim:
                        state[i] = CLAIMED_ASYLUM_IN_TRANSIT
                        events[chunk, c, EV_ASYLUM_CLAIMS] += 1
                        break
                    rest = params[P_REST] * place_rest_factor[p]
                    if sheltered[i] == 0:
                        rest *= params[P_ROUGH_FACTOR]
                    if uniform(key, STREAM_REST, identity, day) < rest:
                        state[i] = AT_PLACE
                        break
                    first_decision = False
                budget = budget_eur[i]
                first_edge = out_start[p]
                if budget >= route_need_eur[d, p]:
                    # Fast path: can pay for every option, so draw from today's softmax table.
                    u = uniform(key, STREAM_ROUTE + move, identity, day)
                    chosen = -1
                    previous = 0.0
                    for e in range(first_edge, out_start[p + 1]):
                        running = route_cumulative[d, e]
                        if running > previous:
                            chosen = e
                            if u < running:
                                break
                        previous = running
                else:
                    # Softmax over affordable open out-edges on cost to the destination: one pass
                    # for the costs (kept in `totals`), one for the weights.
                    degree = out_start[p + 1] - first_edge
                    best = np.inf
                    short_of_money = False
                    for k in range(degree):
                        e = first_edge + k
                        totals[k] = np.inf
                        if edge_open[e] == 0:
                            continue
                        ahead = cost_to_go[d, edge_to[e]]
                        if not np.isfinite(ahead):
                            continue
                        need = edge_fare_eur[e]
                        if edge_smuggler_required[e]:
                            need += edge_fee_eur[e]
                        if budget < need:
                            short_of_money = True
                            continue
                        totals[k] = edge_cost_eur[e] + ahead
                        if totals[k] < best:
                            best = totals[k]
                    if not np.isfinite(best):
                        state[i] = STUCK_WITHOUT_MONEY if short_of_money else AT_PLACE
                        break
                    weight_sum = 0.0
                    for k in range(degree):
                        if np.isfinite(totals[k]):
                            totals[k] = math.exp(-sharpness * (totals[k] - best))
                            weight_sum += totals[k]
                        else:
                            totals[k] = 0.0
                    target = uniform(key, STREAM_ROUTE + move, identity, day) * weight_sum
                    chosen = -1
                    for k in range(degree):
                        if totals[k] > 0.0:
                            chosen = first_edge + k
                            target -= totals[k]
                            if target < 0.0:
                                break
                e = chosen
                entered = edge_entered_country[e]
                if entered >= 0:
                    fee = edge_fee_eur[e]
                    can_pay = np.isfinite(fee) and budget >= edge_fare_eur[e] + fee
                    wants = edge_smuggler_required[e] or (
                        can_pay and uniform(key, STREAM_SMUGGLER_CHOICE + move, identity, day) < params[P_SMUGGLER_USE])
                    if wants:
                        # Seats are limited: the serial pass decides who crosses today.
                        state[i] = WAITING_FOR_SMUGGLER
                        edge[i] = e
                        break
                    if uniform(key, STREAM_DETECTION + move, identity, day) < edge_detection[e]:
                        events[chunk, entered, EV_APPREHENSIONS] += 1
                        outcome = uniform(key, STREAM_OUTCOME + move, identity, day)
                        if outcome < edge_pushback[e]:
                            events[chunk, entered, EV_PUSHBACKS] += 1
                            state[i] = AT_PLACE
                            state_days[i] = 0
                            break
                        if outcome < edge_pushback[e] + edge_detention[e]:
                            events[chunk, entered, EV_DETENTIONS] += 1
                            place[i] = edge_to[e]
                            sheltered[i] = 0
                            state[i] = DETAINED
                            state_days[i] = np.int16(params[P_DETENTION_DAYS])
                            break
                        # otherwise registered and let through
                    events[chunk, entered, EV_CROSSINGS] += 1
                time_left = _travel(i, e, time_left, place, edge, remaining_days, state, sheltered, state_days,
                                    destination, budget_eur, edge_to, edge_travel_days, edge_fare_eur,
                                    destination_of_place, place_country, events, edge_departures, chunk)
                if time_left < 0.0:
                    break


@njit(cache=True)
def seat_smugglers(agent_id, place, edge, remaining_days, state, sheltered, group, destination, budget_eur,
                   state_days, entry_day, n_active, key, day,
                   edge_from, edge_to, edge_travel_days, edge_fare_eur, edge_entered_country, edge_fee_eur,
                    place_country, destination_of_place,
                    edge_detection, edge_pushback, edge_detention, edge_smuggled_detection, country_smuggler_seats,
                    params, events, edge_departures, smuggler_revenue_eur, smuggler_requests, smuggler_seated):
    """Smuggler seats by departure country, given in slot order (= order of entry); a seated
    person pays, crosses (detection x smuggled_detection_factor) and travels; the rest wait."""
    seats_left = country_smuggler_seats.copy()
    for i in range(n_active):
        if state[i] != WAITING_FOR_SMUGGLER:
            continue
        e = edge[i]
        origin_country = place_country[edge_from[e]]
        smuggler_requests[origin_country] += 1
        if seats_left[origin_country] <= 0:
            continue
        seats_left[origin_country] -= 1
        smuggler_seated[origin_country] += 1
        identity = agent_id[i]
        entered = edge_entered_country[e]
        fee = edge_fee_eur[e]
        budget_eur[i] = max(budget_eur[i] - fee, 0.0)  # affordability was checked at the choice
        smuggler_revenue_eur[origin_country] += fee
        events[0, entered, EV_SMUGGLED] += 1
        edge[i] = -1
        if uniform(key, STREAM_SMUGGLED_DETECTION, identity, day) < edge_detection[e] * edge_smuggled_detection[e]:
            events[0, entered, EV_APPREHENSIONS] += 1
            outcome = uniform(key, STREAM_SMUGGLED_OUTCOME, identity, day)
            if outcome < edge_pushback[e]:
                events[0, entered, EV_PUSHBACKS] += 1
                state[i] = AT_PLACE
                state_days[i] = 0
                continue
            if outcome < edge_pushback[e] + edge_detention[e]:
                events[0, entered, EV_DETENTIONS] += 1
                place[i] = edge_to[e]
                sheltered[i] = 0
                state[i] = DETAINED
                state_days[i] = np.int16(params[P_DETENTION_DAYS])
                continue
        events[0, entered, EV_CROSSINGS] += 1
        # The crossing takes the day; what is left of a longer edge is travelled on later days.
        _travel(i, e, 1.0, place, edge, remaining_days, state, sheltered, state_days, destination, budget_eur,
                edge_to, edge_travel_days, edge_fare_eur, destination_of_place, place_country, events,
                edge_departures, 0)


@njit(cache=True, inline="always")
def _present(s):
    return s == AT_PLACE or s == WAITING_FOR_SMUGGLER or s == STUCK_WITHOUT_MONEY


@njit(cache=True, parallel=True)
def allocate_reception(place, state, sheltered, n_active, reception_capacity, present, in_reception, stocks):
    """Reception places and the end-of-day stocks. People present at a place keep a reception
    place they hold (the first `capacity` of them in slot order, if capacity fell); free places
    go to the others in slot order. Done in parallel over the fixed chunks with the same result
    as one serial pass: each chunk learns from per-chunk counts how many of its holders and of
    its newcomers at each place come within the capacity."""
    n_places = reception_capacity.shape[0]
    n_chunks = _chunks(n_active)
    chunk_size = (n_active + n_chunks - 1) // n_chunks
    holders = np.zeros((n_chunks, n_places), dtype=np.int64)
    newcomers = np.zeros((n_chunks, n_places), dtype=np.int64)
    chunk_stocks = np.zeros((n_chunks, n_places, N_STOCKS), dtype=np.int64)
    for chunk in prange(n_chunks):
        for i in range(chunk * chunk_size, min((chunk + 1) * chunk_size, n_active)):
            if _present(state[i]):
                if sheltered[i] == 1:
                    holders[chunk, place[i]] += 1
                else:
                    newcomers[chunk, place[i]] += 1
            else:
                sheltered[i] = 0
    # Per place, walk the chunks in slot order: how many holders, then newcomers, fit.
    holder_quota = np.zeros((n_chunks, n_places), dtype=np.int64)
    newcomer_quota = np.zeros((n_chunks, n_places), dtype=np.int64)
    for p in range(n_places):
        capacity = reception_capacity[p]
        taken = 0
        for chunk in range(n_chunks):
            holder_quota[chunk, p] = min(max(capacity - taken, 0), holders[chunk, p])
            taken += holder_quota[chunk, p]
        for chunk in range(n_chunks):
            newcomer_quota[chunk, p] = min(max(capacity - taken, 0), newcomers[chunk, p])
            taken += newcomer_quota[chunk, p]
        in_reception[p] = taken
        present[p] = holders[:, p].sum() + newcomers[:, p].sum()
    for chunk in prange(n_chunks):
        holder_rank = np.zeros(n_places, dtype=np.int64)
        newcomer_rank = np.zeros(n_places, dtype=np.int64)
        for i in range(chunk * chunk_size, min((chunk + 1) * chunk_size, n_active)):
            s = state[i]
            p = place[i]
            if _present(s):
                if sheltered[i] == 1:
                    if holder_rank[p] >= holder_quota[chunk, p]:
                        sheltered[i] = 0
                    holder_rank[p] += 1
                else:
                    if newcomer_rank[p] < newcomer_quota[chunk, p]:
                        sheltered[i] = 1
                    newcomer_rank[p] += 1
                if s == AT_PLACE:
                    chunk_stocks[chunk, p, ST_WAITING] += 1
                elif s == WAITING_FOR_SMUGGLER:
                    chunk_stocks[chunk, p, ST_WAITING_SMUGGLER] += 1
                else:
                    chunk_stocks[chunk, p, ST_STUCK] += 1
            elif s == DETAINED:
                chunk_stocks[chunk, p, ST_DETAINED] += 1
            elif s == IN_TRANSIT:
                chunk_stocks[chunk, p, ST_IN_TRANSIT] += 1
            elif s == ARRIVED:
                chunk_stocks[chunk, p, ST_ARRIVED] += 1
                state[i] = GONE  # counted once; never again
            elif s == CLAIMED_ASYLUM_IN_TRANSIT:
                chunk_stocks[chunk, p, ST_ASYLUM] += 1
                state[i] = GONE
    today = chunk_stocks.sum(axis=0)
    stocks[:, :ST_ARRIVED] = today[:, :ST_ARRIVED]
    stocks[:, ST_ARRIVED:] += today[:, ST_ARRIVED:]  # running totals of finished people
    return today[:, ST_ARRIVED:].sum()  # people who finished today


@njit(cache=True)
def compact(agent_id, place, edge, remaining_days, state, sheltered, group, destination, budget_eur,
            state_days, entry_day, n_active):
    """GONE slots leave the arrays; the rest keep slot order. Returns the new n_active."""
    kept = 0
    for i in range(n_active):
        if state[i] >= FINISHED:
            continue
        if kept != i:
            agent_id[kept] = agent_id[i]
            place[kept] = place[i]
            edge[kept] = edge[i]
            remaining_days[kept] = remaining_days[i]
            state[kept] = state[i]
            sheltered[kept] = sheltered[i]
            group[kept] = group[i]
            destination[kept] = destination[i]
            budget_eur[kept] = budget_eur[i]
            state_days[kept] = state_days[i]
            entry_day[kept] = entry_day[i]
        kept += 1
    return kept
