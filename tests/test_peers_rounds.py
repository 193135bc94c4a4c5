"""The peers benchmark's schedule (benchmarks/peers/run.py, `rounds_of`): the runs of a size go in rounds,
each engine at most once a round, so that a drift in the machine's speed meets the engines alike. An
engine with fewer runs than rounds must still get every run it was asked for, each in a round of its own.
Needs neither Flee nor Mesa's model: only the scheduling helper is imported."""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
sys.path.insert(0, str(BENCHMARKS / "peers"))

from run import rounds_of  # noqa: E402  (benchmarks/peers/run.py)


@given(st.integers(1, 12).flatmap(lambda rounds: st.tuples(st.integers(1, rounds), st.just(rounds))))
def test_every_run_gets_a_round_of_its_own(runs_and_rounds):
    n_runs, rounds = runs_and_rounds
    taken = rounds_of(n_runs, rounds)
    assert len(taken) == n_runs
    assert all(0 <= r < rounds for r in taken)


def test_a_single_run_goes_in_the_middle_and_a_full_set_everywhere():
    assert rounds_of(1, 3) == {1}  # Flee's default: between our first and last run
    assert rounds_of(2, 3) == {0, 2}
    assert rounds_of(3, 3) == {0, 1, 2}
    assert rounds_of(1, 1) == {0}
