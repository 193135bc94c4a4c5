"""Route-choice inputs (simulation/routing.py): the compiled cost-to-go search gives scipy's
Dijkstra distances to the bit, the choice tables are probability tables (and their integer
thresholds decide as the shares do), and the kernel's shortcut for people who can pay for
nothing decides as its slow path does."""

from __future__ import annotations

import inspect

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

import simulation
from simulation import kernels
from simulation.population import STUCK_WITHOUT_MONEY
from simulation.routing import money_needed, route_tables

NETWORK = simulation.load_scenario(simulation.DEFAULT_SCENARIO).network
DESTINATIONS = np.array([NETWORK.index[p] for p in NETWORK.destinations], dtype=np.int64)


def scipy_cost_to_go(cost: np.ndarray) -> np.ndarray:
    """The reference: scipy's Dijkstra from each destination on the reversed graph of the open
    (finite-cost) edges, parallel edges at their cheaper cost."""
    n = NETWORK.n_places
    weight = np.full((n, n), np.inf)
    for e in np.flatnonzero(np.isfinite(cost)):
        head, tail = NETWORK.edge_to[e], NETWORK.edge_from[e]
        weight[head, tail] = min(weight[head, tail], cost[e])
    rows, columns = np.nonzero(np.isfinite(weight))
    graph = csr_matrix((weight[rows, columns], (rows, columns)), shape=(n, n))
    return dijkstra(graph, directed=True, indices=DESTINATIONS)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), closed_share=st.sampled_from([0.0, 0.1, 0.4]),
       spread=st.sampled_from([1.0, 1e3, 1e6]))
def test_cost_to_go_is_scipys_dijkstra_to_the_bit(seed, closed_share, spread):
    rng = np.random.default_rng(seed)
    cost = rng.uniform(1e-6, spread, NETWORK.n_edges)
    cost[rng.random(NETWORK.n_edges) < closed_share] = np.inf  # closed edges cost inf
    fares = rng.uniform(0, 100, NETWORK.n_edges)
    fees = rng.uniform(0, 3000, NETWORK.n_edges)
    edge_open = np.isfinite(cost).astype(np.uint8)
    to_go, cumulative, threshold, need, least = route_tables(NETWORK, cost, fares, fees, DESTINATIONS, 0.01,
                                                             edge_open)
    expected = scipy_cost_to_go(cost)
    assert np.array_equal(to_go, expected)  # same sums in the same order: identical, infinities included

    # The choice tables: at a place with a way on, the running shares end at exactly 1 and the
    # money needed is finite; elsewhere the shares are 0 and the need is inf.
    for d in range(len(DESTINATIONS)):
        for p in range(NETWORK.n_places):
            first, stop = NETWORK.out_start[p], NETWORK.out_start[p + 1]
            ways_on = [e for e in range(first, stop) if np.isfinite(cost[e] + to_go[d, NETWORK.edge_to[e]])]
            if ways_on:
                assert cumulative[d, stop - 1] == 1.0
                assert np.all(np.diff(cumulative[d, first:stop]) >= 0)
                assert need[d, p] == max(money_needed(fares, NETWORK.smuggler_required, fees)[ways_on])
            else:
                assert np.all(cumulative[d, first:stop] == 0) and need[d, p] == np.inf
            # The least money a way on asks (what the kernel's stuck test reads); -inf: no way on.
            asked = [fares[e] + (fees[e] if NETWORK.smuggler_required[e] else 0.0) for e in ways_on]
            assert least[d, p] == (min(asked) if ways_on else -np.inf)

    # The kernel's integer form of the shares: a draw of k / 2**53 (counter_rng.draw_bits gives k)
    # passes an edge exactly when the edge's running share is at most the draw, at the thresholds
    # themselves, next to them and anywhere else.
    # By place: the k-th out-edge's at [d, p, k], and past the last edge (or at a place with no way on,
    # where the kernel never draws from the table) the largest unsigned integer, which no draw reaches.
    degree = np.diff(NETWORK.out_start)
    assert threshold.shape == (len(DESTINATIONS), NETWORK.n_places, degree.max())
    never = np.iinfo(np.uint64).max
    ways_on = np.isfinite(need)
    by_edge, shares = [], []
    for d in range(len(DESTINATIONS)):
        for p in range(NETWORK.n_places):
            first, stop = NETWORK.out_start[p], NETWORK.out_start[p + 1]
            assert np.all(threshold[d, p, degree[p]:] == never)
            if ways_on[d, p]:
                by_edge.extend(threshold[d, p, :degree[p]])
                shares.extend(cumulative[d, first:stop])
            else:
                assert np.all(threshold[d, p] == never)
    by_edge, shares = np.array(by_edge, dtype=np.uint64), np.array(shares)
    assert np.array_equal(by_edge, np.ceil(shares * 2.0**53).astype(np.uint64))
    largest = np.uint64(2**53 - 1)
    for k in (by_edge, np.maximum(by_edge, 1) - np.uint64(1), np.minimum(by_edge + np.uint64(1), largest),
              rng.integers(0, 2**53, by_edge.shape, dtype=np.uint64)):
        assert np.array_equal(by_edge <= k, shares <= k * 2.0**-53)


def test_money_needed_reads_a_fee_as_numpy_nan_to_num_does():
    fares = np.array([10.0, 20.0, 30.0, 40.0])
    required = np.array([True, True, True, False])
    fees = np.array([np.nan, np.inf, 500.0, 700.0])
    expected = fares + np.where(required, np.nan_to_num(fees), 0.0)
    assert np.array_equal(money_needed(fares, required, fees), expected)


def copies(arguments: tuple) -> list:
    return [a.copy() if isinstance(a, np.ndarray) else a for a in arguments]


def test_the_kernels_stuck_shortcut_decides_as_the_slow_path_does(monkeypatch):
    """decide_day says at once that someone with less than the least money any way on asks is stuck
    without money. Run on the same saved days with the shortcut off (the least need -inf everywhere,
    so everyone poorer than the choice table takes the slow path), every array comes out the same."""
    model = simulation.MigrationModel(simulation.load_scenario(simulation.DEFAULT_SCENARIO), days=60)
    decide_day = kernels.decide_day
    names = list(inspect.signature(decide_day.py_func).parameters)
    least, state, n_active = (names.index(name) for name in ("route_least_need_eur", "state", "n_active"))
    saved = []

    def saving(*arguments):
        saved.append(copies(arguments))
        return decide_day(*arguments)

    monkeypatch.setattr(kernels, "decide_day", saving)
    model.run()
    days_with_stuck_people = 0
    for arguments in saved[10::10]:
        days_with_stuck_people += bool(np.any(arguments[state][:arguments[n_active]] == STUCK_WITHOUT_MONEY))
        with_shortcut, without = copies(arguments), copies(arguments)
        without[least] = np.full_like(without[least], -np.inf)
        decide_day(*with_shortcut)
        decide_day(*without)
        for k, (first, second) in enumerate(zip(with_shortcut, without)):
            if isinstance(first, np.ndarray) and k != least:
                assert np.array_equal(first, second, equal_nan=True), names[k]
    assert days_with_stuck_people >= 3  # people were stuck on the days compared: the shortcut was used
