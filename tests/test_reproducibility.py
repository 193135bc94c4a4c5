"""A seed gives bit-identical results: twice in one process, and across Numba thread counts in
separate processes (counter-based random numbers; integer counts; serial float sums)."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation import DEFAULT_SCENARIO, load_scenario, simulate
from simulation.results import TABLES

from .conftest import tiny_scenario

REPO = Path(__file__).resolve().parents[1]


def _digests(folder: Path) -> dict[str, str]:
    return {name: hashlib.sha256((folder / f"{name}.parquet").read_bytes()).hexdigest() for name in TABLES}


def test_same_seed_same_files(tmp_path):
    scenario = load_scenario(DEFAULT_SCENARIO)
    first = simulate(scenario, seed=11, days=30).save(tmp_path / "a")
    second = simulate(scenario, seed=11, days=30).save(tmp_path / "b")
    assert _digests(first) == _digests(second)


def test_another_seed_other_results():
    scenario = load_scenario(DEFAULT_SCENARIO)
    a = simulate(scenario, seed=1, days=30).events
    b = simulate(scenario, seed=2, days=30).events
    assert a.entries.equals(b.entries)  # the inflow is data, not random
    assert not a.border_crossings.equals(b.border_crossings)


def _run_cli(out: Path, threads: int) -> None:
    env = dict(os.environ, NUMBA_NUM_THREADS=str(threads))
    completed = subprocess.run(
        [sys.executable, "-m", "simulation.cli", "run", str(DEFAULT_SCENARIO), "--days", "40", "--seed", "5",
         "--out", str(out), "--quiet"], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr


def test_thread_count_does_not_change_results(tmp_path):
    # Three threads: decide_day's chunks do not divide evenly among them (kernels._spread).
    for name, threads in (("one", 1), ("two", 2), ("three", 3)):
        _run_cli(tmp_path / name, threads)
    assert _digests(tmp_path / "one") == _digests(tmp_path / "two") == _digests(tmp_path / "three")
    threads_used = [pd.read_json(tmp_path / name / "manifest.json", typ="series")["numba_threads"]
                    for name in ("one", "two", "three")]
    assert threads_used == [1, 2, 3]


@given(n_chunks=st.integers(1, 64), threads=st.integers(1, 16))
def test_the_threads_share_out_every_chunk_exactly_once(n_chunks, threads):
    from simulation.kernels import _spread

    assert sorted(_spread(position, n_chunks, threads) for position in range(n_chunks)) == list(range(n_chunks))


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**63 - 1), use=st.floats(0.0, 1.0), detection=st.floats(0.0, 1.0))
def test_any_seed_reproduces_exactly(seed, use, detection):
    scenario = tiny_scenario(behaviour={"smuggler_use_probability": use, "rest_probability_per_day": 0.3,
                                        "route_choice_sharpness_per_eur": 0.001},
                             countries={"default": {"border_detection_probability": detection, "pushback_share": 0.3,
                                                    "smuggler_seats_per_day": 40}})
    first, second = simulate(scenario, seed=seed), simulate(scenario, seed=seed)
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(first, name), getattr(second, name))


def test_a_manifest_alone_reruns_a_run_bit_for_bit(tmp_path, monkeypatch):
    import json
    import shutil

    from simulation.cli import main
    from simulation.rerun import rerun

    from .conftest import TINY

    # A run of scenario files that are then deleted: only the run folder is left.
    files = tmp_path / "files"
    shutil.copytree(TINY, files)
    assert main(["run", str(files / "tiny.toml"), "--out", str(tmp_path / "run"), "--quiet"]) == 0
    shutil.rmtree(files)
    monkeypatch.setenv("BALKANSIM_DATA_CACHE", str(tmp_path / "cache"))
    outcome = rerun(tmp_path / "run")
    assert outcome.ok and len(outcome.identical) == len(json.loads((tmp_path / "run" / "manifest.json").read_text())["sha256"])
    assert outcome.folder == tmp_path / "run-rerun"
    assert main(["rerun", str(tmp_path / "run"), "--out", str(tmp_path / "again"), "--quiet"]) == 0
    # A changed table is caught.
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    manifest["sha256"]["events.parquet"] = "0" * 64
    (tmp_path / "run" / "manifest.json").write_text(json.dumps(manifest))
    assert main(["rerun", str(tmp_path / "run"), "--out", str(tmp_path / "third"), "--quiet"]) == 1


def test_a_days_streams_give_the_same_draws_as_the_full_hash():
    """The kernels draw through `day_streams` (half of the hash once a day per stream); every
    stream constant must be inside that table and each draw must equal `uniform`'s."""
    import numpy as np
    from numba import njit

    from simulation import counter_rng

    streams = {name: value for name, value in vars(counter_rng).items() if name.startswith("STREAM_")}
    assert max(streams.values()) < counter_rng.N_STREAMS
    # Streams numbered "+ move" (up to MAX_MOVES_PER_DAY) or "+ 16" (smuggled crossings) from their base.
    assert counter_rng.STREAM_READMISSION_WHERE + 16 < counter_rng.N_STREAMS

    @njit
    def both(key, stream, agent, day):
        return counter_rng.uniform(key, stream, agent, day), counter_rng.draw(
            counter_rng.day_streams(key, day), stream, agent)

    @njit
    def bits(key, stream, agent, day):
        return counter_rng.draw_bits(counter_rng.day_streams(key, day), stream, agent)

    key = np.uint64(counter_rng.seed_key(12345))  # as the model keeps it: unsigned
    for stream in range(counter_rng.N_STREAMS):
        for agent, day in ((0, 0), (7, 3), (1_234_567, 730), (2**31 + 5, 65_000)):
            full, halved = both(key, stream, agent, day)
            assert full == halved and 0.0 <= full < 1.0
            # The route choice compares the draw's 53 bits with integer thresholds: they are the draw, exactly.
            k = int(bits(key, stream, agent, day))
            assert 0 <= k < 2**53 and k * 2.0**-53 == full
    assert len({both(key, 7, agent, 9)[0] for agent in range(1000)}) == 1000
