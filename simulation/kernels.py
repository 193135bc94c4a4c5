"""Numba kernels for one simulated day.

1. `add_entrants`: new people appear at entry places (or origins) with a group, destination
   and budget (in parallel: each entrant's slot and draws follow from its place in the day's order).
2. `decide_day` (parallel over chunks of consecutive agents): each active agent's own choices:
   decide whether and how to leave, count down detention, visa processing, asylum decisions and
   readmission, leave home again, claim asylum, take assisted return, rest, choose an out-edge
   by a softmax on generalised cost to its destination, cross a border alone (refusal,
   detection, pushback, detention, readmission) or ask for a smuggler or queue at a capped
   crossing, travel.
   Several short edges fit in one day; a multi-day edge takes its days. Each chunk counts its
   events in its own row, so the parallel part writes nothing shared.
3. The capacity-limited steps, in slot order (= order of entry), apart from the decisions so
   those have no races: `admit_at_capped_crossings` and `grant_pathway_slots` (serial) admit
   people at capped crossings and give legal-pathway slots; `seat_smugglers` gives smuggler
   seats by departure country (requests counted per chunk by `decide_day`); `allocate_reception`
   gives reception places by place and counts the day's stocks (who is present where counted per
   chunk by `seat_smugglers`'s pass, the day's last change of state). Both are parallel over
   chunks, with per-chunk quotas that reproduce the serial slot order exactly.
4. `compact`: finished (GONE) slots leave the arrays (stable: slot order stays entry order),
   whenever they are more than a quarter of the people on the route (each chunk in parallel, then
   the chunks' runs moved down in order).
5. Around them, `start_day` clears the day's per-chunk count buffers and `record_day` writes the
   day's rows of the records.

All draws are `uniform(key, stream, agent_id, day)`, computed as `draw(streams, stream, agent_id)`
with `streams = counter_rng.day_streams(key, day)`, the first half of every hash, made once a day by
the model and passed to the kernels; so results are identical for any thread count. Where a
probability is often 0 (transit claims, rest, smuggler choice, detection, re-departure, retry,
giving up), the draw is skipped when it is: it could not succeed, and every kind of draw has its
own stream, so no other draw changes. Events are integer counts summed over chunks; the only
float sum (smuggler revenue) is kept per chunk and added in chunk order, and the chunks depend on
the number of people, not of threads, so it is bit-identical too."""

from __future__ import annotations

import math

import numba
import numpy as np
from numba import njit, prange

from .counter_rng import (
    STREAM_ASYLUM, STREAM_BUDGET_A, STREAM_BUDGET_B, STREAM_DESTINATION, STREAM_DETECTION,
    STREAM_GROUP, STREAM_OUTCOME, STREAM_REST, STREAM_ROUTE, STREAM_SMUGGLED_DETECTION,
    STREAM_SMUGGLED_OUTCOME, STREAM_SMUGGLER_CHOICE, STREAM_AWARE, STREAM_ELIGIBLE, STREAM_IRREGULAR,
    STREAM_FALLBACK, STREAM_DECISION, STREAM_RETURN, STREAM_REDEPARTURE, STREAM_AVR, STREAM_READMISSION,
    STREAM_READMISSION_WHERE, STREAM_RETRY, STREAM_GIVE_UP, draw, draw_bits,
)
from .population import (
    APPLYING, ARRIVED, AT_HOME, AT_PLACE, AWAITING_DECISION, CLAIMED_ASYLUM_IN_TRANSIT, DETAINED,
    DID_NOT_LEAVE, FINISHED, GONE, IN_TRANSIT, LEFT_LEGALLY, NEW, RETURNED, STUCK_WITHOUT_MONEY,
    WAITING_AT_BORDER, WAITING_FOR_SMUGGLER, WAITING_FOR_VISA, WITHOUT_STATUS, HELD_FOR_READMISSION,
    HELD_FOR_RETURN_HOME, TURNED_BACK,
)

# Numba's cache knows only this file's content: after a change to counter_rng.py or population.py
# alone (whose draws, streams and states are compiled in here) it would load the old kernels. So
# this file carries the SHA-256 of those files' contents; tests/test_numba_cache.py fails until it
# is brought up to date, and bringing it up to date changes this file, so Numba compiles anew.
COMPILED_WITH_FILES = ("counter_rng.py", "population.py")
COMPILED_WITH_SHA256 = "87dc0843dfa5fb4a4236eb3b6eccc424c739f43152a7e620cd3d09addf0f2d17"

# Numba's threading layer is launched here, on import. A cached serial driver of a parallel pass
# (add_entrants, seat_smugglers, allocate_reception, compact) that was compiled while its pass came
# from the cache does not launch it when it is loaded, and its first call then kills the process
# (Numba issue 9938). That state follows from editing this file and undoing the edit, or from
# switching between versions; tests/test_numba_cache.py shows it with a toy package.
numba.get_num_threads()

# Event columns, counted by country (the country entered, for crossings; the returning country,
# for returns; the destination, for legal departures and asylum decisions; the origin, for
# departures and repeat departures).
EV_ENTRIES, EV_CROSSINGS, EV_APPREHENSIONS, EV_PUSHBACKS, EV_DETENTIONS = 0, 1, 2, 3, 4
EV_SMUGGLED, EV_ASYLUM_CLAIMS, EV_ARRIVALS = 5, 6, 7
EV_IRREGULAR_DEPARTURES, EV_DID_NOT_LEAVE, EV_LEGAL_DEPARTURES, EV_ASYLUM_GRANTED, EV_ASYLUM_REJECTED = 8, 9, 10, 11, 12
EV_RETURNS_VOLUNTARY, EV_RETURNS_FORCED, EV_REPEAT_DEPARTURES = 13, 14, 15
EVENT_NAMES = (
    "entries", "border_crossings", "apprehensions", "pushbacks", "detentions",
    "smuggled_crossings", "asylum_claims", "arrivals",
    "irregular_departures", "did_not_leave", "legal_departures", "asylum_granted", "asylum_rejected",
    "returns_voluntary", "returns_forced", "repeat_departures",
)
N_EVENTS = len(EVENT_NAMES)

# Stock columns by place (mutually exclusive). From ST_ARRIVED on they are running totals of
# people who finished there.
ST_WAITING, ST_WAITING_SMUGGLER, ST_STUCK, ST_DETAINED, ST_IN_TRANSIT = 0, 1, 2, 3, 4
ST_AWAITING_DECISION, ST_AT_HOME, ST_WAITING_FOR_VISA, ST_WAITING_AT_BORDER, ST_HELD_FOR_RETURN = 5, 6, 7, 8, 9
ST_ARRIVED, ST_ASYLUM, ST_LEFT_LEGALLY, ST_RETURNED, ST_DID_NOT_LEAVE, ST_WITHOUT_STATUS = 10, 11, 12, 13, 14, 15
STOCK_NAMES = (
    "waiting", "waiting_for_smuggler", "stuck_without_money", "detained", "in_transit",
    "awaiting_decision", "at_home", "waiting_for_visa", "waiting_at_border", "held_for_return",
    "arrived", "claimed_asylum", "left_legally", "returned", "did_not_leave", "without_status",
)
N_STOCKS = len(STOCK_NAMES)


def _stock_of_state() -> np.ndarray:
    """The stock column each state is counted in (-1: none; APPLYING is resolved within the day and
    GONE was counted when it finished). A table, so the daily count is one lookup, not a chain of tests."""
    table = np.full(GONE + 1, -1, dtype=np.int64)
    for states, column in (((AT_PLACE, TURNED_BACK), ST_WAITING), ((WAITING_FOR_SMUGGLER,), ST_WAITING_SMUGGLER),
                           ((STUCK_WITHOUT_MONEY,), ST_STUCK), ((WAITING_AT_BORDER,), ST_WAITING_AT_BORDER),
                           ((AWAITING_DECISION,), ST_AWAITING_DECISION), ((DETAINED,), ST_DETAINED),
                           ((HELD_FOR_RETURN_HOME, HELD_FOR_READMISSION), ST_HELD_FOR_RETURN),
                           ((IN_TRANSIT,), ST_IN_TRANSIT), ((AT_HOME, NEW), ST_AT_HOME),
                           ((WAITING_FOR_VISA,), ST_WAITING_FOR_VISA)):
        table[list(states)] = column
    # ARRIVED .. WITHOUT_STATUS map in order onto the running-total columns.
    table[FINISHED:GONE] = ST_ARRIVED + np.arange(GONE - FINISHED)
    return table


STOCK_OF_STATE = _stock_of_state()

# The passes that count the day's stocks and give reception places read these by state, so that they
# branch neither on the state nor on who holds a place (the agents' mix of states is what a branch
# predictor cannot learn; seat_smugglers -15 %, allocate_reception -29 %, kernel_ab.py, 10^5 fixed world):
# - PRESENT_OF_STATE: 1 for people at a place who need shelter there (claimants awaiting a decision
#   are in the destination's reception system);
# - STOCK_COLUMN_OF_STATE: STOCK_OF_STATE, with the extra column N_STOCKS for the states counted in none;
# - STATE_AFTER_COUNTING: finished people become GONE once counted, the others keep their state.
PRESENT_OF_STATE = np.zeros(GONE + 1, dtype=np.uint8)
PRESENT_OF_STATE[[AT_PLACE, WAITING_FOR_SMUGGLER, STUCK_WITHOUT_MONEY, AWAITING_DECISION, WAITING_AT_BORDER,
                  TURNED_BACK]] = 1
STOCK_COLUMN_OF_STATE = np.where(STOCK_OF_STATE >= 0, STOCK_OF_STATE, N_STOCKS)
STATE_AFTER_COUNTING = np.array([GONE if s >= FINISHED else s for s in range(GONE + 1)], dtype=np.uint8)


# Per-group parameters, one row a group (float64; indices stored as floats).
GP_PROTECTION, GP_WESTERN_BALKAN, GP_ORIGIN, GP_IRREGULAR, GP_REDEPARTURE, GP_DECISION_DAYS = 0, 1, 2, 3, 4, 5
GP_POOL, GP_ELIGIBLE, GP_AWARE, GP_DETERRENCE, GP_VISA_FREE = 6, 7, 8, 9, 10
N_GP = 11

# Per-country policy, one row a country (float64).
CP_CLAIM, CP_READMISSION, CP_TO_ORIGIN, CP_AVR, CP_AVR_DAYS, CP_REINTEGRATION, CP_TAKES_BACK = 0, 1, 2, 3, 4, 5, 6
CP_AVR_REJECTED, CP_READMISSION_DAYS = 7, 8
N_CP = 9

# Behaviour scalars passed to the kernels as one float64 array.
P_SHARPNESS, P_REST, P_ROUGH_FACTOR, P_CLAIM, P_SMUGGLER_USE = 0, 1, 2, 3, 4
P_EARNINGS, P_DETENTION_DAYS, P_RETRY, P_GIVE_UP = 5, 6, 7, 8
N_PARAMS = 9

# Agents are split into chunks of consecutive slots; each chunk keeps its own counts. Results do
# not depend on the number of chunks (counts are integers, capacity quotas follow slot order),
# except the smugglers' revenue, a float summed by chunk, in its last bits; so small populations
# use fewer chunks and pay less per-day overhead. (The number depends only on the slots in use,
# so a seed still gives bit-identical results on any number of threads.)
N_CHUNKS = 64
AGENTS_PER_CHUNK_AT_LEAST = 4096


@njit(cache=True, inline="always")
def chunks_for(n_active):
    """How many chunks (rows of the per-chunk count buffers) the kernels use for n_active slots:
    an even number, so that two threads get as many chunks each (with 3 chunks one thread had 2).
    A multiple of the thread count would balance any number of threads, but the smugglers' revenue
    would then depend on the thread count in its last bits (see above)."""
    n_chunks = max(2, n_active // AGENTS_PER_CHUNK_AT_LEAST)
    return min(N_CHUNKS, n_chunks + (n_chunks & 1))  # never past the buffers' N_CHUNKS rows


@njit(cache=True, inline="always")
def _spread(position, n_chunks, threads):
    """The chunk a parallel loop over `threads` threads handles at `position`. Numba's threads each
    take a contiguous run of positions; this gives thread t of T the chunks t, t + T, t + 2T, ... (and
    the next residue when T does not divide n_chunks), so every thread gets chunks from the whole
    slot range: early slots hold older journeys, late ones new entrants, and their work per agent
    differs. Which thread runs a chunk changes nothing in the results (each chunk counts in its own
    row). decide_day on two threads, the same saved days: 7-9 % faster; the other passes' work per
    agent is even, and they showed no gain. (The caller passes numba.get_num_threads(): called in
    here, it keeps the kernel out of Numba's cache.)"""
    residue = 0
    first = 0  # position of the first chunk of this residue
    while True:
        with_residue = (n_chunks - residue + threads - 1) // threads
        if position < first + with_residue:
            return residue + (position - first) * threads
        first += with_residue
        residue += 1


@njit(cache=True, inline="always")
def _quotas_in_slot_order(counts, quotas, column, capacity, taken):
    """Walk the chunks in slot order: each chunk's quota in `column` is as many of its `counts`
    as fit in what is left of `capacity` after `taken`. Returns the new total taken."""
    for chunk in range(counts.shape[0]):
        quotas[chunk, column] = min(max(capacity - taken, 0), counts[chunk, column])
        taken += quotas[chunk, column]
    return taken


# Rows of the people-present buffer (chunk x row x place): holders of a reception place, and the rest.
PRESENT_HOLDERS, PRESENT_NEWCOMERS = 0, 1

# Rows of the departures buffer (chunk x row x edge): everyone who set out on an edge, and those of
# them on the irregular route (not visa-free travellers), from whom others learn of a crossing.
DEP_ALL, DEP_IRREGULAR = 0, 1

MAX_MOVES_PER_DAY = 8
# Tolerance for "this edge fits in the time left today" and "this edge is done". The travel time
# left on an edge is stored as float32 (population.py), good to about 1e-7 of its value, so the
# tolerance must be well above float32 rounding (1e-5 of a day is under a second). With 1e-9 a
# rounding of a few 1e-8 decided whether someone went on the same day or rested first.
_EPS = 1e-5


@njit(cache=True, inline="always")
def _index(k):
    """k, which is never negative, as an unsigned integer for indexing. Numba tests every signed index
    for a negative value (Python's a[-1] counts from the end) and skips the test for an unsigned one.
    In the per-agent passes those tests, a few dozen per agent, cost 15-20 % of the time (the same
    kernels compiled with and without them, on the same saved days)."""
    return np.uint64(k)


@njit(cache=True, inline="always")
def _present_row(holds_place):
    """The row (of the per-chunk counts of who is present, and of the reception quotas) for someone
    who holds a reception place (1: PRESENT_HOLDERS) or not (0: PRESENT_NEWCOMERS), without a branch."""
    return _index(PRESENT_NEWCOMERS - holds_place)


@njit(cache=True, inline="always")
def _chunk_slots(chunk_number, n_chunks, n_active):
    """The slots [start, stop) of chunk `chunk_number` of `n_chunks`: consecutive runs of equal size
    (the last one shorter), as unsigned indices."""
    chunk_size = (n_active + n_chunks - 1) // n_chunks
    start = chunk_number * chunk_size
    return _index(start), _index(min(start + chunk_size, n_active))


@njit(cache=True)
def add_entrants(agent_id, place, edge, remaining_days, state, sheltered, group, destination, budget_eur,
                 state_days, entry_day, n_active, next_id, arrivals_today, streams, day,
                 group_cumulative_share, destination_cumulative_share, budget_log_median, budget_log_sd):
    """Append today's entrants (arrivals_today: place x (group..., any group)) in place order, then
    group slot order; returns (n_active, next_id). The k-th entrant of the day takes slot
    n_active + k and identity next_id + k, and everything drawn for it depends on its identity
    only, so the entrants are made in parallel with the same result as one serial pass. The
    driver is serial for the reason given in allocate_reception."""
    n_places, slots = arrivals_today.shape
    total = 0
    for p in range(n_places):
        for slot in range(slots):
            total += arrivals_today[p, slot]
    if total > 0:
        # The (place, slot) cell of each of today's entrants, in order (a loop: np.cumsum with
        # np.searchsorted took seconds more to compile).
        cell_of = np.empty(total, dtype=np.int64)
        k = 0
        for p in range(n_places):
            for slot in range(slots):
                for _ in range(arrivals_today[p, slot]):
                    cell_of[k] = p * slots + slot
                    k += 1
        _make_entrants(agent_id, place, edge, remaining_days, state, sheltered, group, destination, budget_eur,
                       state_days, entry_day, n_active, next_id, total, cell_of, slots, streams, day,
                       group_cumulative_share, destination_cumulative_share, budget_log_median, budget_log_sd)
    return n_active + total, next_id + total


@njit(cache=True, parallel=True)
def _make_entrants(agent_id, place, edge, remaining_days, state, sheltered, group, destination, budget_eur,
                   state_days, entry_day, n_active, next_id, total, cell_of, slots, streams, day,
                   group_cumulative_share, destination_cumulative_share, budget_log_median, budget_log_sd):
    n_groups = group_cumulative_share.shape[0]
    n_destinations = destination_cumulative_share.shape[1]
    for k in prange(total):
        cell = cell_of[k]
        p = cell // slots
        slot = cell % slots
        i = _index(n_active + k)
        identity = next_id + k
        if slot < n_groups:
            g = slot
        else:
            u = draw(streams, STREAM_GROUP, identity)
            g = 0
            while g < n_groups - 1 and u >= group_cumulative_share[g]:
                g += 1
        u = draw(streams, STREAM_DESTINATION, identity)
        d = 0
        while d < n_destinations - 1 and u >= destination_cumulative_share[g, d]:
            d += 1
        # Box-Muller from two independent draws for a log-normal budget. Without spread the budget is
        # the median whatever the draws (each has its own stream, so skipping them changes no other).
        spread = budget_log_sd[g]
        normal = 0.0
        if spread > 0.0:
            u1 = draw(streams, STREAM_BUDGET_A, identity)
            u2 = draw(streams, STREAM_BUDGET_B, identity)
            normal = math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)
        agent_id[i] = identity
        place[i] = p
        edge[i] = -1
        remaining_days[i] = 0.0
        state[i] = NEW  # decides today how, or whether, to go on
        sheltered[i] = 0
        group[i] = g
        destination[i] = d
        budget_eur[i] = math.exp(budget_log_median[g] + spread * normal)
        state_days[i] = 0
        entry_day[i] = day


@njit(cache=True, inline="always")
def _arrive(i, head, place, edge, state, state_days, group, destination, destination_of_place, place_country,
            group_params, events, chunk, entry_day, day, transit_days):
    """Reach `head`. At one's own destination: claim asylum there; a group with decision days
    then waits for the decision, others are done. Returns True when the agent's day is over."""
    place[i] = head
    edge[i] = -1
    state[i] = AT_PLACE
    state_days[i] = 0
    if destination_of_place[head] != destination[i]:
        return False
    c = _index(place_country[head])
    events[chunk, c, EV_ARRIVALS] += 1
    # Days since this journey began (the last bin collects longer journeys).
    transit_days[chunk, min(day - entry_day[i], transit_days.shape[1] - 1)] += 1
    events[chunk, c, EV_ASYLUM_CLAIMS] += 1
    decision_days = group_params[group[i], GP_DECISION_DAYS]
    if decision_days > 0:
        state[i] = AWAITING_DECISION
        state_days[i] = np.int16(decision_days)
    else:
        state[i] = ARRIVED
    return True


@njit(cache=True, inline="always")
def _travel(i, e, time_left, place, edge, remaining_days, state, sheltered, state_days, group, destination,
            budget_eur, edge_to, edge_travel_days, edge_fare_eur, destination_of_place, place_country,
            group_params, events, edge_departures, chunk, entry_day, day, transit_days):
    """Start edge e: pay the fare, then arrive today if it fits in time_left.
    Returns the time left after arriving, or -1.0 when the agent's day is over. decide_day's move
    loop has this written out with its locals (it was 2 % faster): a change here goes there too."""
    budget_eur[i] = max(budget_eur[i] - edge_fare_eur[e], 0.0)  # clamp float32 rounding only
    edge_departures[chunk, DEP_ALL, e] += 1
    if group_params[group[i], GP_VISA_FREE] == 0:
        edge_departures[chunk, DEP_IRREGULAR, e] += 1
    sheltered[i] = 0
    state_days[i] = 0
    travel = edge_travel_days[e]
    if travel <= time_left + _EPS:
        if _arrive(i, _index(edge_to[e]), place, edge, state, state_days, group, destination, destination_of_place,
                   place_country, group_params, events, chunk, entry_day, day, transit_days):
            return -1.0
        return time_left - travel
    state[i] = IN_TRANSIT
    edge[i] = e
    remaining_days[i] = travel - time_left
    return -1.0


@njit(cache=True, inline="always")
def _go_home(i, place, edge, state, state_days, sheltered, group, group_params):
    place[i] = np.int16(group_params[group[i], GP_ORIGIN])
    edge[i] = -1
    state[i] = AT_HOME
    state_days[i] = 0
    sheltered[i] = 0


@njit(cache=True, inline="always")
def _stopped_at_border(i, e, identity, streams, detection_stream, outcome_stream, readmission_stream,
                       detection, refused, place, edge, state, state_days, sheltered, group, edge_from, edge_to,
                       edge_entered_country, edge_pushback, edge_detention, group_params, country_policy, params,
                       place_country, events, chunk):
    """One crossing attempt of edge e with the given detection chance. A person of a group the
    crossing refuses is turned back. A detected person is pushed back, detained, or registered;
    a registered person without protection need may be readmitted (to the country they came
    from, or to their origin). Returns True when the person does not cross today."""
    entered = _index(edge_entered_country[e])
    if refused:
        events[chunk, entered, EV_APPREHENSIONS] += 1
        events[chunk, entered, EV_PUSHBACKS] += 1
        state[i] = TURNED_BACK
        state_days[i] = 0
        return True
    if detection <= 0.0 or draw(streams, detection_stream, identity) >= detection:
        return False
    events[chunk, entered, EV_APPREHENSIONS] += 1
    outcome = draw(streams, outcome_stream, identity)
    if outcome < edge_pushback[e]:
        events[chunk, entered, EV_PUSHBACKS] += 1
        state[i] = TURNED_BACK
        state_days[i] = 0
        return True
    if outcome < edge_pushback[e] + edge_detention[e]:
        events[chunk, entered, EV_DETENTIONS] += 1
        place[i] = edge_to[e]
        sheltered[i] = 0
        state[i] = DETAINED
        state_days[i] = np.int16(params[P_DETENTION_DAYS])
        return True
    g = group[i]
    readmission = country_policy[entered, CP_READMISSION] * (1.0 - group_params[g, GP_PROTECTION])
    if readmission > 0.0 and draw(streams, readmission_stream, identity) < readmission:
        # Held in the apprehending country for its readmission days, then returned.
        where = draw(streams, readmission_stream + (STREAM_READMISSION_WHERE - STREAM_READMISSION), identity)
        to_origin = where < country_policy[entered, CP_TO_ORIGIN]
        place[i] = edge_to[e]
        edge[i] = e
        sheltered[i] = 0
        state[i] = HELD_FOR_RETURN_HOME if to_origin else HELD_FOR_READMISSION
        state_days[i] = np.int16(country_policy[entered, CP_READMISSION_DAYS])
        if state_days[i] <= 0:
            _return_held(i, place, edge, state, state_days, sheltered, group, group_params, edge_from, place_country,
                         events, chunk)
        return True
    return False  # registered and let through


@njit(cache=True, inline="always")
def _return_held(i, place, edge, state, state_days, sheltered, group, group_params, edge_from, place_country,
                 events, chunk):
    """Carry out a readmission: to the origin (Western Balkan nationals go home; others leave the
    region), or back to the place across the border they came from."""
    events[chunk, _index(place_country[_index(place[i])]), EV_RETURNS_FORCED] += 1
    if state[i] == HELD_FOR_RETURN_HOME:
        if group_params[group[i], GP_WESTERN_BALKAN] > 0:
            _go_home(i, place, edge, state, state_days, sheltered, group, group_params)
        else:
            state[i] = RETURNED
    else:
        place[i] = edge_from[_index(edge[i])]
        edge[i] = -1
        state[i] = AT_PLACE
        state_days[i] = 0


@njit(cache=True, inline="always")
def _give_up(i, c, place, edge, state, state_days, sheltered, group, group_params, events, chunk):
    """Someone stranded (turned back at a border, or with no open way on) stops trying: a Western
    Balkan national goes home; anyone else claims asylum in the country they are in."""
    if group_params[group[i], GP_WESTERN_BALKAN] > 0:
        _go_home(i, place, edge, state, state_days, sheltered, group, group_params)
    else:
        state[i] = CLAIMED_ASYLUM_IN_TRANSIT
        events[chunk, c, EV_ASYLUM_CLAIMS] += 1


@njit(cache=True, inline="always")
def _decide_to_leave(i, identity, streams, c, state, group, group_params, events, chunk):
    """A new entrant (or a returnee leaving again) decides how to go: apply for a legal pathway
    when one is open to the group, known and the person is eligible; otherwise set off
    irregularly with the group's probability, lowered by `deterrence` for those who know of a
    pathway; otherwise do not leave."""
    g = group[i]
    aware = group_params[g, GP_POOL] >= 0 and draw(streams, STREAM_AWARE, identity) < group_params[g, GP_AWARE]
    if aware and draw(streams, STREAM_ELIGIBLE, identity) < group_params[g, GP_ELIGIBLE]:
        state[i] = APPLYING
        return
    irregular = group_params[g, GP_IRREGULAR]
    if aware:
        irregular *= 1.0 - group_params[g, GP_DETERRENCE]
    if irregular >= 1.0 or draw(streams, STREAM_IRREGULAR, identity) < irregular:
        state[i] = AT_PLACE
        events[chunk, c, EV_IRREGULAR_DEPARTURES] += 1
    else:
        state[i] = DID_NOT_LEAVE
        events[chunk, c, EV_DID_NOT_LEAVE] += 1


@njit(cache=True, inline="always")
def _asylum_decision(i, identity, streams, place, edge, state, state_days, sheltered, group, place_country,
                     group_params, country_policy, events, chunk):
    """Decision on a claim at the destination: recognised with the group's protection need;
    a rejected person takes assisted voluntary return (the destination's offer), is returned
    by force (as far as the origin takes back its nationals), or stays without status."""
    g = group[i]
    c = _index(place_country[_index(place[i])])
    if draw(streams, STREAM_DECISION, identity) < group_params[g, GP_PROTECTION]:
        events[chunk, c, EV_ASYLUM_GRANTED] += 1
        state[i] = ARRIVED
        return
    events[chunk, c, EV_ASYLUM_REJECTED] += 1
    origin_country = _index(place_country[_index(group_params[g, GP_ORIGIN])])
    voluntary = country_policy[c, CP_AVR_REJECTED]
    forced = (1.0 - voluntary) * country_policy[origin_country, CP_TAKES_BACK]
    u = draw(streams, STREAM_RETURN, identity)
    if u < voluntary:
        events[chunk, c, EV_RETURNS_VOLUNTARY] += 1
        _go_home(i, place, edge, state, state_days, sheltered, group, group_params)
    elif u < voluntary + forced:
        events[chunk, c, EV_RETURNS_FORCED] += 1
        _go_home(i, place, edge, state, state_days, sheltered, group, group_params)
    else:
        state[i] = WITHOUT_STATUS


@njit(cache=True, parallel=True)
def decide_day(agent_id, place, edge, remaining_days, state, sheltered, group, destination, budget_eur,
               state_days, entry_day, n_active, streams, day,
               out_start, edge_from, edge_to, edge_travel_days, edge_fare_eur, edge_cost_eur, edge_open,
               edge_entered_country, edge_smuggler_required, edge_fee_eur,
               place_country, destination_of_place, destination_places, cost_to_go, route_threshold,
               route_need_eur, route_least_need_eur, edge_detection, edge_pushback, edge_detention, edge_refused,
               edge_daily_cap, country_policy, place_rest_factor, group_params, params, events, edge_departures,
               transit_days, smuggler_requests, threads):
    # The behaviour scalars, read once: inside the loop Numba cannot tell the agent arrays' stores
    # from them, so each use was a fresh load (a gain of about 1 %, within what kernel_ab.py resolves).
    sharpness = params[P_SHARPNESS]
    claim_probability = params[P_CLAIM]
    rest_probability = params[P_REST]
    rough_sleeping_factor = params[P_ROUGH_FACTOR]
    give_up_probability = params[P_GIVE_UP]
    retry_probability = params[P_RETRY]
    smuggler_use_probability = params[P_SMUGGLER_USE]
    earnings_eur = params[P_EARNINGS]
    n_chunks = chunks_for(n_active)
    # Each chunk's slots as _chunk_slots gives them, written out here: calling it in this kernel made
    # it slower (kernel_ab.py: +1.8 to +4.6 % in five comparisons, +1.0 % for the code against itself).
    chunk_size = (n_active + n_chunks - 1) // n_chunks
    max_degree = route_threshold.shape[2]  # the most out-edges of any place (routing.route_tables counts them)
    for position in prange(n_chunks):
        chunk_number = _spread(position, n_chunks, threads)
        chunk = _index(chunk_number)
        totals = np.empty(max_degree)  # scratch for route choice, one per chunk
        start = chunk_number * chunk_size
        stop = min(start + chunk_size, n_active)
        for i in range(_index(start), _index(stop)):
            s = state[i]
            if s >= FINISHED:
                continue
            identity = agent_id[i]
            g = group[i]
            if (s == DETAINED or s == WAITING_FOR_VISA or s == AWAITING_DECISION or s == HELD_FOR_RETURN_HOME
                    or s == HELD_FOR_READMISSION):
                state_days[i] -= 1
                if state_days[i] > 0:
                    continue
                state_days[i] = 0
                if s == DETAINED:
                    state[i] = AT_PLACE
                elif s == HELD_FOR_RETURN_HOME or s == HELD_FOR_READMISSION:
                    _return_held(i, place, edge, state, state_days, sheltered, group, group_params, edge_from,
                                 place_country, events, chunk)
                elif s == WAITING_FOR_VISA:
                    state[i] = LEFT_LEGALLY
                    events[chunk, _index(place_country[_index(destination_places[destination[i]])]),
                           EV_LEGAL_DEPARTURES] += 1
                else:
                    _asylum_decision(i, identity, streams, place, edge, state, state_days, sheltered, group,
                                     place_country, group_params, country_policy, events, chunk)
                continue
            if s == AT_HOME:
                origin_country = _index(place_country[_index(place[i])])
                leave = group_params[g, GP_REDEPARTURE] * country_policy[origin_country, CP_REINTEGRATION]
                if leave > 0.0 and draw(streams, STREAM_REDEPARTURE, identity) < leave:
                    state[i] = NEW  # decides how to go tomorrow
                    entry_day[i] = day  # a new journey: its days in transit count from today
                    events[chunk, origin_country, EV_REPEAT_DEPARTURES] += 1
                continue
            if s == NEW:
                _decide_to_leave(i, identity, streams, _index(place_country[_index(place[i])]), state, group,
                                 group_params, events, chunk)
                if state[i] != AT_PLACE:
                    continue
                s = AT_PLACE
            time_left = 1.0
            if s == IN_TRANSIT:
                left = remaining_days[i] - 1.0
                if left > _EPS:
                    remaining_days[i] = left
                    continue
                remaining_days[i] = 0.0
                if _arrive(i, _index(edge_to[_index(edge[i])]), place, edge, state, state_days, group, destination,
                           destination_of_place, place_country, group_params, events, chunk, entry_day, day,
                           transit_days):
                    continue
                time_left = -left  # just arrived: no rest or claim decision today
            else:
                if state_days[i] < 32000:
                    state_days[i] += 1
                if s == STUCK_WITHOUT_MONEY:
                    budget_eur[i] += earnings_eur
                protection = group_params[g, GP_PROTECTION]
                # The day's first decisions (not for someone who has just arrived), before the moves; one
                # that ends the agent's day goes on to the next agent. (Inside the move loop, under a
                # flag, they made it about 4 % slower on one thread.)
                p = _index(place[i])
                c = _index(place_country[p])
                claim = claim_probability * protection * country_policy[c, CP_CLAIM]
                if claim > 0.0 and draw(streams, STREAM_ASYLUM, identity) < claim:
                    state[i] = CLAIMED_ASYLUM_IN_TRANSIT
                    events[chunk, c, EV_ASYLUM_CLAIMS] += 1
                    continue
                # Assisted voluntary return: uptake grows with days stranded, falls with need.
                avr = country_policy[c, CP_AVR]
                if avr > 0.0:
                    stranded = min(1.0, state_days[i] / max(country_policy[c, CP_AVR_DAYS], 1.0))
                    if draw(streams, STREAM_AVR, identity) < avr * stranded * (1.0 - protection):
                        events[chunk, c, EV_RETURNS_VOLUNTARY] += 1
                        if group_params[g, GP_WESTERN_BALKAN] > 0:
                            _go_home(i, place, edge, state, state_days, sheltered, group, group_params)
                        else:
                            state[i] = RETURNED
                        continue
                if state[i] == TURNED_BACK:
                    # Turned back at a border: may give up going on, else tries again today
                    # only with the retry chance.
                    if give_up_probability > 0.0 and draw(streams, STREAM_GIVE_UP, identity) < give_up_probability:
                        _give_up(i, c, place, edge, state, state_days, sheltered, group, group_params, events,
                                 chunk)
                        continue
                    if retry_probability <= 0.0 or draw(streams, STREAM_RETRY, identity) >= retry_probability:
                        continue
                    state[i] = AT_PLACE
                rest = rest_probability * place_rest_factor[p]
                if sheltered[i] == 0:
                    rest *= rough_sleeping_factor
                if rest > 0.0 and draw(streams, STREAM_REST, identity) < rest:
                    state[i] = AT_PLACE
                    continue
            d = destination[i]
            here = _index(place[i])
            budget = budget_eur[i]
            visa_free = group_params[g, GP_VISA_FREE]
            for move in range(MAX_MOVES_PER_DAY):
                if time_left <= _EPS:
                    break
                p = here
                c = _index(place_country[p])
                first_edge = _index(out_start[p])
                # Every place on an open way to the destination has an out-edge with a share, and one
                # with none takes the slower path below, which always chooses when it goes on.
                chosen = first_edge
                if budget >= route_need_eur[d, p]:
                    # Fast path: can pay for every option, so draw from today's softmax table.
                    # The first edge whose running share exceeds the draw: the shares never fall along a
                    # place's edges, so it is first_edge plus the number at or below the draw, counted
                    # without a branch (an edge without a share repeats the one before, so it is never the
                    # one found; a loop that stopped there mispredicted its exit: one thread, kernel_ab.py
                    # -4.1 %). Shares and draw as integers, by place (routing.route_tables' `threshold`).
                    bits = draw_bits(streams, STREAM_ROUTE + move, identity)
                    for k in range(route_threshold.shape[2]):
                        chosen += np.uint64(route_threshold[d, p, k] <= bits)
                elif budget < route_least_need_eur[d, p]:
                    # Cannot pay for any way on: what the slow path below would find, at once.
                    state[i] = STUCK_WITHOUT_MONEY
                    break
                else:
                    # Softmax over affordable open out-edges on cost to the destination: one pass
                    # for the costs (kept in `totals`), one for the weights.
                    degree = _index(out_start[p + 1]) - first_edge
                    best = np.inf
                    short_of_money = False
                    for k in range(degree):
                        e = first_edge + k
                        totals[k] = np.inf
                        if edge_open[e] == 0:
                            continue
                        ahead = cost_to_go[d, _index(edge_to[e])]
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
                        if short_of_money:
                            state[i] = STUCK_WITHOUT_MONEY
                        elif (give_up_probability > 0.0
                              and draw(streams, STREAM_GIVE_UP, identity) < give_up_probability):
                            # No open way on to the destination (closed borders): may give up.
                            _give_up(i, c, place, edge, state, state_days, sheltered, group, group_params, events,
                                     chunk)
                        else:
                            state[i] = AT_PLACE
                        break
                    weight_sum = 0.0
                    for k in range(degree):
                        if np.isfinite(totals[k]):
                            totals[k] = math.exp(-sharpness * (totals[k] - best))
                            weight_sum += totals[k]
                        else:
                            totals[k] = 0.0
                    target = draw(streams, STREAM_ROUTE + move, identity) * weight_sum
                    for k in range(degree):
                        if totals[k] > 0.0:
                            chosen = first_edge + k
                            target -= totals[k]
                            if target < 0.0:
                                break
                e = chosen
                entered = edge_entered_country[e]
                if entered >= 0 and visa_free > 0:
                    # Visa-free travellers cross at the official crossing with their passport.
                    events[chunk, _index(entered), EV_CROSSINGS] += 1
                elif entered >= 0:
                    fee = edge_fee_eur[e]
                    can_pay = np.isfinite(fee) and budget >= edge_fare_eur[e] + fee
                    wants = edge_smuggler_required[e] or (
                        can_pay and smuggler_use_probability > 0.0
                        and draw(streams, STREAM_SMUGGLER_CHOICE + move, identity) < smuggler_use_probability)
                    if wants:
                        # Seats are limited: seat_smugglers decides who crosses today. Everyone
                        # waiting for a seat asked today (yesterday's waiters decide again above).
                        state[i] = WAITING_FOR_SMUGGLER
                        edge[i] = e
                        smuggler_requests[chunk, c] += 1
                        break
                    if _stopped_at_border(i, e, identity, streams, STREAM_DETECTION + move, STREAM_OUTCOME + move,
                                          STREAM_READMISSION + move, edge_detection[e], edge_refused[e, g] != 0, place,
                                          edge, state, state_days, sheltered, group, edge_from, edge_to,
                                          edge_entered_country,
                                          edge_pushback, edge_detention, group_params, country_policy, params,
                                          place_country, events, chunk):
                        break
                    if edge_daily_cap[e] >= 0:
                        # A capped crossing: the serial pass admits the day's quota in slot order.
                        state[i] = WAITING_AT_BORDER
                        edge[i] = e
                        break
                    events[chunk, _index(entered), EV_CROSSINGS] += 1
                elif edge_refused[e, g] != 0:
                    # Held at a crossing inside a country (island ferries under the EU-Turkey
                    # Statement): stays, and retries or gives up like someone turned back.
                    state[i] = TURNED_BACK
                    state_days[i] = 0
                    break
                # _travel, written out so that the place, budget and visa status stay in locals across the
                # day's moves, and a stop on the way is settled before _arrive's work at a destination
                # (one thread, kernel_ab.py: -2.0 %; calling _travel and reloading them gained nothing).
                budget = np.float32(max(budget - edge_fare_eur[e], 0.0))
                budget_eur[i] = budget
                edge_departures[chunk, DEP_ALL, e] += 1
                if visa_free == 0:
                    edge_departures[chunk, DEP_IRREGULAR, e] += 1
                sheltered[i] = 0
                state_days[i] = 0
                travel = edge_travel_days[e]
                if travel > time_left + _EPS:
                    state[i] = IN_TRANSIT
                    edge[i] = e
                    remaining_days[i] = travel - time_left
                    break
                head = _index(edge_to[e])
                if destination_of_place[head] == d:
                    _arrive(i, head, place, edge, state, state_days, group, destination, destination_of_place,
                            place_country, group_params, events, chunk, entry_day, day, transit_days)
                    break
                place[i] = head
                edge[i] = -1
                state[i] = AT_PLACE
                here = head
                time_left -= travel
                if time_left < 0.0:
                    break


@njit(cache=True)
def seat_smugglers(agent_id, place, edge, remaining_days, state, sheltered, group, destination, budget_eur,
                   state_days, entry_day, n_active, streams, day,
                   edge_from, edge_to, edge_travel_days, edge_fare_eur, edge_entered_country, edge_fee_eur,
                   place_country, destination_of_place,
                   edge_detection, edge_pushback, edge_detention, edge_smuggled_detection, country_smuggler_seats,
                   group_params, country_policy, params, events, edge_departures, smuggler_revenue_eur,
                   requests, smuggler_requests, smuggler_seated, transit_days, present_by_chunk):
    """Smuggler seats by departure country, given in slot order (= order of entry); a seated
    person pays, crosses (detection x the edge's smuggled-detection multiplier) and travels;
    the rest wait. `requests` (chunk x country) are today's, counted by decide_day. Parallel over
    the chunks with the same seating as one serial pass: each chunk learns from the per-chunk
    counts how many of its requesters the seats reach, as in allocate_reception. The driver is
    serial for the reason given there.

    This is the day's last change to anyone's state before reception, so its pass over the
    agents also counts who is present where for allocate_reception (`present_by_chunk`, chunk x
    (holders of a reception place, newcomers) x place): the agents are read once less a day."""
    n_countries = country_smuggler_seats.shape[0]
    n_chunks = chunks_for(n_active)
    requests = requests[:n_chunks]  # the buffer has a row for every possible chunk
    quota = np.zeros((n_chunks, n_countries), dtype=np.int64)
    for c in range(n_countries):
        smuggler_seated[c] += _quotas_in_slot_order(requests, quota, c, country_smuggler_seats[c], 0)
        for chunk in range(n_chunks):
            smuggler_requests[c] += requests[chunk, c]
    revenue = np.zeros((n_chunks, n_countries))
    seated = np.zeros((n_chunks, n_countries), dtype=np.int64)  # scratch: seated so far in each chunk
    _seat_and_cross(agent_id, place, edge, remaining_days, state, sheltered, group, destination, budget_eur,
                    state_days, entry_day, n_active, n_chunks, quota, seated, streams, day,
                    edge_from, edge_to, edge_travel_days, edge_fare_eur, edge_entered_country, edge_fee_eur,
                    place_country, destination_of_place, edge_detection, edge_pushback, edge_detention,
                    edge_smuggled_detection, group_params, country_policy, params, events, edge_departures,
                    revenue, transit_days, present_by_chunk)
    for c in range(n_countries):
        for chunk in range(n_chunks):  # in chunk order, so the float sum does not depend on threads
            smuggler_revenue_eur[c] += revenue[chunk, c]


@njit(cache=True, parallel=True)
def _seat_and_cross(agent_id, place, edge, remaining_days, state, sheltered, group, destination, budget_eur,
                    state_days, entry_day, n_active, n_chunks, quota, seated, streams, day,
                    edge_from, edge_to, edge_travel_days, edge_fare_eur, edge_entered_country, edge_fee_eur,
                    place_country, destination_of_place, edge_detection, edge_pushback, edge_detention,
                    edge_smuggled_detection, group_params, country_policy, params, events, edge_departures,
                    revenue, transit_days, present_by_chunk):
    for chunk_number in prange(n_chunks):
        chunk = _index(chunk_number)
        start, stop = _chunk_slots(chunk_number, n_chunks, n_active)
        for i in range(start, stop):
            if state[i] == WAITING_FOR_SMUGGLER:
                # Seated, in slot order within the chunk, while the chunk's quota for the
                # departure country lasts; the rest wait.
                e = _index(edge[i])
                origin_country = _index(place_country[_index(edge_from[e])])
                if seated[chunk, origin_country] < quota[chunk, origin_country]:
                    seated[chunk, origin_country] += 1
                    entered = _index(edge_entered_country[e])
                    fee = edge_fee_eur[e]
                    budget_eur[i] = max(budget_eur[i] - fee, 0.0)  # affordability was checked at the choice
                    revenue[chunk, origin_country] += fee
                    events[chunk, entered, EV_SMUGGLED] += 1
                    edge[i] = -1
                    # Smugglers take people round the official crossing: no refusal by group, no cap.
                    if not _stopped_at_border(i, e, agent_id[i], streams, STREAM_SMUGGLED_DETECTION,
                                              STREAM_SMUGGLED_OUTCOME, STREAM_READMISSION + 16,
                                              edge_detection[e] * edge_smuggled_detection[e], False, place, edge,
                                              state, state_days, sheltered, group, edge_from, edge_to,
                                              edge_entered_country, edge_pushback, edge_detention, group_params,
                                              country_policy, params, place_country, events, chunk):
                        events[chunk, entered, EV_CROSSINGS] += 1
                        # The crossing takes the day; what is left of a longer edge is travelled later.
                        _travel(i, e, 1.0, place, edge, remaining_days, state, sheltered, state_days, group,
                                destination, budget_eur, edge_to, edge_travel_days, edge_fare_eur,
                                destination_of_place, place_country, group_params, events, edge_departures, chunk,
                                entry_day, day, transit_days)
            # allocate_reception's first half: who is present where, holders and newcomers; anyone not
            # present gives up a reception place. Without branches, as in its second half.
            present = PRESENT_OF_STATE[_index(state[i])]
            present_by_chunk[chunk, _present_row(sheltered[i]), _index(place[i])] += present
            sheltered[i] &= present


@njit(cache=True)
def admit_at_capped_crossings(place, edge, remaining_days, state, sheltered, state_days, group, destination,
                              budget_eur, n_active, edge_to, edge_travel_days, edge_fare_eur, edge_entered_country,
                              edge_daily_cap, destination_of_place, place_country, group_params, events,
                              edge_departures, entry_day, day, transit_days):
    """Crossings with a daily admissions cap let people through in slot order (= order of entry)
    until the day's cap; the rest wait at the border and decide again tomorrow."""
    admitted = np.zeros(edge_daily_cap.shape[0], dtype=np.int64)
    for i in range(n_active):
        if state[i] != WAITING_AT_BORDER:
            continue
        e = edge[i]
        if admitted[e] >= edge_daily_cap[e]:
            continue
        admitted[e] += 1
        edge[i] = -1
        events[0, edge_entered_country[e], EV_CROSSINGS] += 1
        _travel(i, e, 1.0, place, edge, remaining_days, state, sheltered, state_days, group, destination,
                budget_eur, edge_to, edge_travel_days, edge_fare_eur, destination_of_place, place_country,
                group_params, events, edge_departures, 0, entry_day, day, transit_days)


@njit(cache=True)
def grant_pathway_slots(agent_id, state, state_days, group, destination, place, n_active, streams, day,
                        group_params, pool_remaining, pool_processing_days, pool_destination, pool_issued,
                        place_country, events):
    """Legal-pathway slots, given in slot order (= order of entry) while a pool has any left.
    Whoever gets none falls back on the irregular route (lowered by knowing of the pathway)
    or does not leave. Slots are never issued beyond a pool's remaining quota."""
    for i in range(n_active):
        if state[i] != APPLYING:
            continue
        g = group[i]
        pool = np.int64(group_params[g, GP_POOL])
        if pool >= 0 and pool_remaining[pool] > 0:
            pool_remaining[pool] -= 1
            pool_issued[pool] += 1
            destination[i] = pool_destination[pool]
            state[i] = WAITING_FOR_VISA
            state_days[i] = max(np.int16(pool_processing_days[pool]), np.int16(1))
            continue
        identity = agent_id[i]
        c = place_country[place[i]]
        irregular = group_params[g, GP_IRREGULAR] * (1.0 - group_params[g, GP_DETERRENCE])
        if draw(streams, STREAM_FALLBACK, identity) < irregular:
            state[i] = AT_PLACE
            events[0, c, EV_IRREGULAR_DEPARTURES] += 1
        else:
            state[i] = DID_NOT_LEAVE
            events[0, c, EV_DID_NOT_LEAVE] += 1


@njit(cache=True)
def allocate_reception(place, state, sheltered, n_active, reception_capacity, present_by_chunk, present, in_reception,
                       stocks):
    """Reception places and the end-of-day stocks. People present at a place keep a reception
    place they hold (the first `capacity` of them in slot order, if capacity fell); free places
    go to the others in slot order. Done in parallel over the fixed chunks with the same result
    as one serial pass: each chunk learns from per-chunk counts of who is present
    (`present_by_chunk`, counted by seat_smugglers's pass) how many of its holders and of its
    newcomers at each place come within the capacity.

    This driver is serial on purpose: in a `parallel=True` function Numba turns every array
    expression (np.zeros, a slice sum) into a parallel region of its own, and those launches
    cost more than the work here. Only the pass over the agents runs in parallel."""
    n_places = reception_capacity.shape[0]
    n_chunks = chunks_for(n_active)
    holders = present_by_chunk[:n_chunks, PRESENT_HOLDERS]
    newcomers = present_by_chunk[:n_chunks, PRESENT_NEWCOMERS]
    # Per place, walk the chunks in slot order: how many holders, then newcomers, fit (chunk x
    # (holders, newcomers) x place, as present_by_chunk).
    quotas = np.zeros((n_chunks, 2, n_places), dtype=np.int64)
    for p in range(n_places):
        taken = _quotas_in_slot_order(holders, quotas[:, PRESENT_HOLDERS], p, reception_capacity[p], 0)
        in_reception[p] = _quotas_in_slot_order(newcomers, quotas[:, PRESENT_NEWCOMERS], p, reception_capacity[p],
                                                taken)
        present[p] = 0
        for chunk in range(n_chunks):
            present[p] += holders[chunk, p] + newcomers[chunk, p]
    # One column more than the stocks: the states without a stock column are counted there and dropped.
    chunk_stocks = np.empty((n_chunks, n_places, N_STOCKS + 1), dtype=np.int64)  # each chunk clears its own
    ranks = np.zeros((n_chunks, 2, n_places), dtype=np.int64)  # scratch: holders, newcomers seen so far per chunk
    _shelter_and_count(place, state, sheltered, n_active, n_chunks, quotas, ranks, chunk_stocks)
    today = np.zeros((n_places, N_STOCKS), dtype=np.int64)
    for chunk in range(n_chunks):  # contiguous rows: the compiler vectorises this sum
        for p in range(n_places):
            for column in range(N_STOCKS):
                today[p, column] += chunk_stocks[chunk, p, column]
    finished_today = 0
    for p in range(n_places):
        for column in range(N_STOCKS):
            if column < ST_ARRIVED:
                stocks[p, column] = today[p, column]
            else:
                stocks[p, column] += today[p, column]  # running totals of finished people
                finished_today += today[p, column]
    return finished_today  # people who finished today


@njit(cache=True, parallel=True)
def _shelter_and_count(place, state, sheltered, n_active, n_chunks, quotas, ranks, chunk_stocks):
    """allocate_reception's pass over the agents: give and take reception places within each
    chunk's quotas, and count the day's stocks per chunk."""
    for chunk_number in prange(n_chunks):
        chunk = _index(chunk_number)
        start, stop = _chunk_slots(chunk_number, n_chunks, n_active)
        chunk_stocks[chunk].fill(0)  # on the thread that counts into it, in parallel
        for i in range(start, stop):
            s = _index(state[i])
            p = _index(place[i])
            # By the tables, without branches; people not present count 0 and keep sheltered 0
            # (seat_smugglers's pass cleared it).
            present = PRESENT_OF_STATE[s]
            row = _present_row(sheltered[i])
            rank = ranks[chunk, row, p]
            sheltered[i] = present & np.uint8(rank < quotas[chunk, row, p])
            ranks[chunk, row, p] = rank + present
            chunk_stocks[chunk, p, _index(STOCK_COLUMN_OF_STATE[s])] += 1
            state[i] = STATE_AFTER_COUNTING[s]  # finished people become GONE: counted once, never again


@njit(cache=True)
def compact(agent_id, place, edge, remaining_days, state, sheltered, group, destination, budget_eur,
            state_days, entry_day, n_active):
    """GONE slots leave the arrays; the rest keep slot order. Returns the new n_active. In two steps:
    each chunk moves its own kept people to the front of its slots (in parallel: a chunk only
    writes where it has read), then the chunks' kept runs are moved down in chunk order (serial,
    but each run is a plain contiguous copy). The serial pass over every slot it replaces cost 6-9
    ns a slot at 100,000 people; finished people are spread over the slots, so nearly every slot
    moves. The driver is serial for the reason given in allocate_reception."""
    n_chunks = chunks_for(n_active)
    kept = np.zeros(n_chunks, dtype=np.int64)
    _compact_chunks(agent_id, place, edge, remaining_days, state, sheltered, group, destination, budget_eur,
                    state_days, entry_day, n_active, n_chunks, kept)
    target = kept[0]  # chunk 0's run is in place
    for chunk in range(1, n_chunks):
        source, _ = _chunk_slots(chunk, n_chunks, n_active)
        if _index(target) != source:
            _move_down(agent_id, source, target, kept[chunk])
            _move_down(place, source, target, kept[chunk])
            _move_down(edge, source, target, kept[chunk])
            _move_down(remaining_days, source, target, kept[chunk])
            _move_down(state, source, target, kept[chunk])
            _move_down(sheltered, source, target, kept[chunk])
            _move_down(group, source, target, kept[chunk])
            _move_down(destination, source, target, kept[chunk])
            _move_down(budget_eur, source, target, kept[chunk])
            _move_down(state_days, source, target, kept[chunk])
            _move_down(entry_day, source, target, kept[chunk])
        target += kept[chunk]
    return target


@njit(cache=True, inline="always")
def _move_down(values, source, target, n):
    """values[target:target + n] = values[source:source + n] for target <= source (a forward copy is
    safe where the two overlap)."""
    for k in range(_index(n)):
        values[_index(target) + k] = values[_index(source) + k]


@njit(cache=True, parallel=True)
def _compact_chunks(agent_id, place, edge, remaining_days, state, sheltered, group, destination, budget_eur,
                    state_days, entry_day, n_active, n_chunks, kept):
    """compact's first step: within each chunk, the people still on the route move to the front of
    the chunk's slots, in slot order; kept[chunk] counts them."""
    for chunk_number in prange(n_chunks):
        start, stop = _chunk_slots(chunk_number, n_chunks, n_active)
        here = start
        for i in range(start, stop):
            if state[i] >= FINISHED:
                continue
            if here != i:
                agent_id[here] = agent_id[i]
                place[here] = place[i]
                edge[here] = edge[i]
                remaining_days[here] = remaining_days[i]
                state[here] = state[i]
                sheltered[here] = sheltered[i]
                group[here] = group[i]
                destination[here] = destination[i]
                budget_eur[here] = budget_eur[i]
                state_days[here] = state_days[i]
                entry_day[here] = entry_day[i]
            here += np.uint64(1)
        kept[chunk_number] = here - start


@njit(cache=True)
def day_totals(stocks, present, in_reception):
    """(arrived so far, claimed asylum in transit so far, in reception, present outside reception)
    at the end of a day."""
    arrived = 0
    claimed = 0
    sheltered = 0
    outside = 0
    for p in range(stocks.shape[0]):
        arrived += stocks[p, ST_ARRIVED]
        claimed += stocks[p, ST_ASYLUM]
        sheltered += in_reception[p]
        outside += present[p] - in_reception[p]
    return arrived, claimed, sheltered, outside


# The day's bookkeeping around the kernels, compiled. As a dozen and a half numpy statements, it and
# the rest of step() took 77-96 us a day at 100,000 people (each statement pays cache misses after a
# kernel has swept the agent arrays); with these two calls, 49-52 us.

@njit(cache=True)
def start_day(chunks, events, departures, requests, present_by_chunk, revenue, smuggler_requests, smuggler_seated,
              entries_today):
    """Clear today's per-chunk count rows (the kernels use the first `chunks`, which depend on the
    number of slots) and the day's smuggling totals; today's entries by country go into chunk 0's row.
    (Loops and `fill`, not slice assignments: those take seconds to compile.)"""
    for chunk in range(chunks):
        events[chunk].fill(0)
        departures[chunk].fill(0)
        requests[chunk].fill(0)
        present_by_chunk[chunk].fill(0)
    revenue.fill(0.0)
    smuggler_requests.fill(0)
    smuggler_seated.fill(0)
    for c in range(entries_today.shape[0]):
        events[0, c, EV_ENTRIES] = entries_today[c]


@njit(cache=True)
def record_day(day, chunks, events, departures, revenue, stocks, present, in_reception, capacity, seats, requests,
               seated, price_multiplier, mean_fee, record_events, record_departures, record_revenue, record_stocks,
               record_present, record_in_reception, record_capacity, record_smuggling, crossed_so_far):
    """Today's rows of the daily records: events and departures summed over the chunks (integer
    sums, in chunk order), revenue, stocks, people present, in reception, capacity and the
    smuggling market by country (seats, requests, seated, price multiplier, mean fee: the columns
    of record_smuggling); and the day's departures on the irregular route added to the running
    crossings per edge (route knowledge)."""
    for c in range(events.shape[1]):
        for column in range(events.shape[2]):
            total = 0
            for chunk in range(chunks):
                total += events[chunk, c, column]
            record_events[day, c, column] = total
        record_revenue[day, c] = revenue[c]
        record_smuggling[day, c, 0] = seats[c]
        record_smuggling[day, c, 1] = requests[c]
        record_smuggling[day, c, 2] = seated[c]
        record_smuggling[day, c, 3] = price_multiplier[c]
        record_smuggling[day, c, 4] = mean_fee[c]
    for e in range(departures.shape[2]):
        everyone = 0
        irregular = 0
        for chunk in range(chunks):
            everyone += departures[chunk, DEP_ALL, e]
            irregular += departures[chunk, DEP_IRREGULAR, e]
        record_departures[day, e] = everyone
        crossed_so_far[e] += irregular
    for p in range(stocks.shape[0]):
        for column in range(stocks.shape[1]):
            record_stocks[day, p, column] = stocks[p, column]
        record_present[day, p] = present[p]
        record_in_reception[day, p] = in_reception[p]
        record_capacity[day, p] = capacity[p]
