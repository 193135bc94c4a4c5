"""Counter-based random numbers: a uniform number is a hash of (seed, decision, agent, day).

Nothing is drawn from a shared stream, so results do not depend on thread count or on the
order agents are visited, and two scenarios run with one seed share every draw that the policy
does not change (common random numbers). The hash is splitmix64's finaliser applied in a chain,
which passes BigCrush as a generator and mixes each input fully."""

from __future__ import annotations

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S32, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(32), np.uint64(11)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53

# Decision streams: one per kind of draw, so adding a new draw never shifts the others.
STREAM_GROUP = 1
STREAM_DESTINATION = 2
STREAM_BUDGET_A = 3
STREAM_BUDGET_B = 4
STREAM_ASYLUM = 5
STREAM_REST = 6
STREAM_ROUTE = 7  # + move number within the day (up to 16 moves)
STREAM_SMUGGLER_CHOICE = 24  # + move number
STREAM_DETECTION = 40  # + move number
STREAM_OUTCOME = 56  # + move number
STREAM_SMUGGLED_DETECTION = 72
STREAM_SMUGGLED_OUTCOME = 73
STREAM_AWARE = 74
STREAM_ELIGIBLE = 75
STREAM_IRREGULAR = 76
STREAM_FALLBACK = 77
STREAM_DECISION = 78
STREAM_RETURN = 79
STREAM_REDEPARTURE = 80
STREAM_AVR = 81
STREAM_READMISSION = 82  # + 0..16 (move number; 16 for smuggled crossings)
STREAM_READMISSION_WHERE = 100  # + 0..16
STREAM_RETRY = 117
STREAM_GIVE_UP = 118


@njit(cache=True, inline="always")
def mix64(z):
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True)
def seed_key(seed):
    """The seed's own hash, computed once per run and passed to `uniform`."""
    return mix64(np.uint64(seed) + _GOLDEN)


# Streams are numbered below this (the largest is STREAM_GIVE_UP).
N_STREAMS = 128


@njit(cache=True, inline="always")
def _stream_of_day(key, stream, day):
    return mix64(key ^ ((np.uint64(stream) << _S32) | np.uint64(day)))


@njit(cache=True, inline="always")
def uniform(key, stream, agent, day):
    """A float in [0, 1) fixed by (key, stream, agent, day)."""
    return draw_from(_stream_of_day(key, stream, day), agent)


@njit(cache=True, inline="always")
def draw_from(stream_of_day, agent):
    return np.float64(bits_from(stream_of_day, agent)) * _TO_UNIT


@njit(cache=True, inline="always")
def bits_from(stream_of_day, agent):
    """The draw's 53 random bits as an integer k: the uniform number is exactly k / 2**53."""
    return mix64(stream_of_day + _GOLDEN + np.uint64(agent)) >> _S11


@njit(cache=True)
def day_streams(key, day):
    """The first half of every draw of a day, one hash per stream: it does not depend on the agent,
    so the model computes it once a day for all the kernels and each draw costs one hash, not two."""
    streams = np.empty(N_STREAMS, dtype=np.uint64)
    for stream in range(N_STREAMS):
        streams[stream] = _stream_of_day(key, stream, day)
    return streams


@njit(cache=True, inline="always")
def draw_bits(streams, stream, agent):
    """draw(streams, stream, agent) * 2**53, exactly, as an unsigned integer: compared with a
    threshold made as ceil(x * 2**53), it decides `x <= draw` as the float would, without the
    conversion to a float on the way."""
    return bits_from(streams[np.uint64(stream)], agent)


@njit(cache=True, inline="always")
def draw(streams, stream, agent):
    """The same number as uniform(key, stream, agent, day), given streams = day_streams(key, day).
    (The stream is indexed as unsigned, so Numba does not test it for a negative index: see
    kernels._index.)"""
    return draw_from(streams[np.uint64(stream)], agent)
