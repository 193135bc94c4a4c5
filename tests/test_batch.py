"""Batches of runs: identical results whatever the executor, resuming after a kill, bands from
the replicates, tasks as plain data, failures reported and the rest kept."""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation.batch import Batch, BatchConflict
from simulation.compare import Comparison, compare, comparison_batch
from simulation.tasks import make_task, run_task, scenario_from_payload, scenario_payload

from .conftest import TINY, tiny_scenario

DETECTION_IN_BULGARIA = [{"type": "border_enforcement", "name": "Bulgaria checks", "countries": ["BG"],
                          "detection_probability": 0.5, "pushback_share": 1.0}]


def two_scenarios():
    return [tiny_scenario(), tiny_scenario(name="tiny_bulgaria_checks", levers=DETECTION_IN_BULGARIA)]


def sorted_measures(comparison: Comparison) -> pd.DataFrame:
    return comparison.measures.sort_values(["run_id", "measure", "where"]).reset_index(drop=True)


def test_same_batch_same_results_with_1_and_2_workers_and_dask(tmp_path):
    from dask.distributed import LocalCluster

    one = compare(two_scenarios(), replicates=3, workers=1, out=tmp_path / "one", progress=False)
    two = compare(two_scenarios(), replicates=3, workers=2, out=tmp_path / "two", progress=False)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        dask = compare(two_scenarios(), replicates=3, scheduler=cluster.scheduler_address, out=tmp_path / "dask",
                       progress=False)
    assert one.outcome.ok and two.outcome.ok and dask.outcome.ok
    assert len(one.outcome.completed) == 6
    pd.testing.assert_frame_equal(sorted_measures(one), sorted_measures(two))
    pd.testing.assert_frame_equal(sorted_measures(one), sorted_measures(dask))
    # The full daily tables too, not only the measures.
    for run in ("tiny-r002", "tiny_bulgaria_checks-r001"):
        for table in ("events", "flows", "stocks"):
            expected = pd.read_parquet(tmp_path / "one" / "runs" / run / f"{table}.parquet")
            for other in ("two", "dask"):
                pd.testing.assert_frame_equal(expected, pd.read_parquet(tmp_path / other / "runs" / run / f"{table}.parquet"))
    # Common random numbers: replicate i has the same seed in both scenarios.
    seeds = one.measures.groupby(["scenario", "replicate"]).seed.first().unstack("scenario")
    assert (seeds["tiny"] == seeds["tiny_bulgaria_checks"]).all() and seeds["tiny"].nunique() == 3


def test_bands_come_from_the_replicates():
    replicates = np.arange(101)
    rows = []
    for r in replicates:
        rows.append({"run_id": f"a-{r}", "scenario": "base", "replicate": r, "measure": "m", "where": "all",
                     "unit": "people", "value": float(r)})
        # The other scenario: 10 more, plus a spread of its own (the paired difference is 10 + r / 10).
        rows.append({"run_id": f"b-{r}", "scenario": "other", "replicate": r, "measure": "m", "where": "all",
                     "unit": "people", "value": float(r) + 10 + r / 10})
    summary = Comparison(pd.DataFrame(rows), "base").summary().set_index("scenario")
    assert summary.loc["base", ["median", "low", "high"]].tolist() == pytest.approx([50, 5, 95])
    assert summary.loc["base", ["difference_median", "difference_low", "difference_high"]].tolist() == [0, 0, 0]
    assert summary.loc["other", ["median", "low", "high"]].tolist() == pytest.approx([65, 15.5, 114.5])
    assert summary.loc["other", ["difference_median", "difference_low", "difference_high"]].tolist() == \
        pytest.approx([15, 10.5, 19.5])
    assert summary.loc["other", "replicates"] == 101


def test_a_task_is_plain_data_and_runs_from_the_data_alone(tmp_path, monkeypatch):
    scenario = tiny_scenario()
    task = make_task(scenario_payload(scenario), seed=5, days=None, folder=tmp_path / "here", run_id="r", labels={"scenario": "tiny"})
    # Only JSON types: a round trip through JSON gives the same task, and its pickle names no class
    # or function of ours (nothing but data goes over the wire).
    assert json.loads(json.dumps(task)) == task
    assert b"simulation" not in pickle.dumps(task)
    # On a machine without the repository: the files' paths do not exist there.
    moved = json.loads(json.dumps(task).replace(str(TINY), "/nowhere/tiny"))
    moved["folder"] = str(tmp_path / "elsewhere")
    monkeypatch.setenv("BALKANSIM_DATA_CACHE", str(tmp_path / "cache"))
    assert scenario_from_payload(moved["scenario"]).network.n_places == scenario.network.n_places
    assert run_task(task)["ok"] and run_task(moved)["ok"]
    here = pd.read_parquet(tmp_path / "here" / "measures.parquet")
    elsewhere = pd.read_parquet(tmp_path / "elsewhere" / "measures.parquet")
    pd.testing.assert_frame_equal(here, elsewhere)
    assert list((tmp_path / "cache").rglob("*.csv"))


def test_a_failed_run_is_reported_and_the_rest_goes_on(tmp_path):
    good = make_task(scenario_payload(tiny_scenario()), 1, None, tmp_path / "runs" / "good", "good", {"scenario": "tiny"})
    bad = make_task(scenario_payload(tiny_scenario()), 2, None, tmp_path / "runs" / "bad", "bad", {"scenario": "tiny"})
    bad["scenario"]["data"]["behaviour"]["route_choice_sharpness_per_eur"] = -1  # fails when the worker loads it
    outcome = Batch(tmp_path, "test", {}, [good, bad]).run(workers=2, progress=False)
    assert outcome.completed == ["good"] and not outcome.ok
    [failure] = outcome.failures
    assert failure["run_id"] == "bad" and failure["seed"] == 2 and failure["scenario"] == "tiny"
    assert "route_choice_sharpness_per_eur" in failure["error"]
    assert json.loads((tmp_path / "failures.json").read_text())[0]["run_id"] == "bad"
    assert (tmp_path / "runs" / "good" / "manifest.json").is_file() and not (tmp_path / "runs" / "bad").exists()


def test_half_written_and_corrupted_runs_are_redone_and_finished_ones_kept(tmp_path):
    batch = comparison_batch(two_scenarios(), replicates=2, out=tmp_path / "b")
    assert batch.run(workers=2, progress=False).ok
    runs = tmp_path / "b" / "runs"
    kept = (runs / "tiny-r000" / "manifest.json").stat().st_mtime_ns
    (runs / ".partial-tiny-r001.4242").mkdir()  # a run killed while writing
    (runs / "tiny-r001" / "manifest.json").unlink()  # incomplete
    with open(runs / "tiny_bulgaria_checks-r000" / "events.parquet", "r+b") as handle:  # corrupted
        handle.write(b"garbage")
    again = comparison_batch(two_scenarios(), replicates=2, out=tmp_path / "b").run(workers=2, progress=False)
    assert sorted(again.completed) == ["tiny-r001", "tiny_bulgaria_checks-r000"]
    assert sorted(again.reused) == ["tiny-r000", "tiny_bulgaria_checks-r001"]
    assert (runs / "tiny-r000" / "manifest.json").stat().st_mtime_ns == kept
    assert not list(runs.glob(".partial-*"))
    assert len(list(runs.glob(".stale-*"))) == 2  # kept aside, not deleted


def test_a_folder_holding_another_batch_is_refused(tmp_path):
    comparison_batch(two_scenarios(), replicates=1, out=tmp_path / "b").prepare()
    with pytest.raises(BatchConflict, match="different batch"):
        comparison_batch(two_scenarios(), replicates=2, out=tmp_path / "b").prepare()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(BatchConflict, match="not a batch folder"):
        comparison_batch(two_scenarios(), replicates=1, out=tmp_path / "other").prepare()
    assert (tmp_path / "other" / "notes.txt").read_text() == "mine"


def write_scenarios(folder: Path) -> list[str]:
    """Two tiny scenario files (a longer period, so that a batch takes a few seconds)."""
    base = folder / "base.toml"
    base.write_text(f'extends = "{TINY / "tiny.toml"}"\nname = "base"\n[period]\nstart = 2020-01-01\ndays = 60\n')
    checks = folder / "checks.toml"
    checks.write_text('extends = "base.toml"\nname = "checks"\n[[levers]]\ntype = "border_enforcement"\n'
                      'countries = ["BG"]\ndetection_probability = 0.5\npushback_share = 1.0\n')
    return [str(base), str(checks)]


def cli(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "simulation.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True, **kwargs)


def test_a_killed_batch_resumes_without_recomputing_finished_runs(tmp_path):
    scenarios = write_scenarios(tmp_path)
    out = tmp_path / "killed"
    command = ("compare", *scenarios, "--replicates", "8", "--workers", "1", "--out", str(out), "--quiet")
    process = cli(*command)
    deadline = time.monotonic() + 120
    while len(list(out.glob("runs/*/manifest.json"))) < 3:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)  # the whole process group, workers included, without warning
    process.wait()
    finished = {p.parent.name: p.stat().st_mtime_ns for p in out.glob("runs/*/manifest.json")}
    assert 3 <= len(finished) < 16

    resumed = cli(*command[:-1])  # not --quiet: it says how many runs it found complete
    stdout, stderr = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, stderr
    assert f"{len(finished)} of 16 runs already complete" in stderr
    assert {p.parent.name: p.stat().st_mtime_ns for p in out.glob("runs/*/manifest.json") if p.parent.name in finished} \
        == finished
    assert len(list(out.glob("runs/*/manifest.json"))) == 16

    straight = cli("compare", *scenarios, "--replicates", "8", "--workers", "2", "--out", str(tmp_path / "straight"),
                   "--quiet")
    straight_stdout, _ = straight.communicate(timeout=300)
    assert straight.returncode == 0
    assert stdout == straight_stdout  # the same printed table
    pd.testing.assert_frame_equal(pd.read_parquet(out / "comparison.parquet"),
                                  pd.read_parquet(tmp_path / "straight" / "comparison.parquet"))


def test_cli_exit_codes(tmp_path):
    scenarios = write_scenarios(tmp_path)
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "keep.txt").write_text("x")
    process = cli("compare", *scenarios, "--replicates", "1", "--out", str(taken), "--quiet")
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 2 and "not a batch folder" in stderr


def test_a_finished_run_is_freed_so_a_long_lived_worker_does_not_grow():
    import gc
    import weakref

    from simulation import simulate

    result = simulate(tiny_scenario())
    model = weakref.ref(result.model)
    del result
    gc.collect()
    assert model() is None  # nothing (Mesa's agent-id counters included) holds on to the model


def test_two_processes_cannot_run_one_batch_at_once(tmp_path):
    import fcntl

    batch = comparison_batch(two_scenarios(), replicates=1, out=tmp_path / "b")
    batch.prepare()
    with open(tmp_path / "b" / ".lock", "a") as held:  # another process holds the batch
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(BatchConflict, match="another balkansim process"):
            batch.run(workers=1, progress=False)
    assert batch.run(workers=1, progress=False).ok  # free again


def test_dask_gets_each_distinct_set_of_file_texts_once():
    from simulation.batch import _share_scenarios

    class Recorder:
        def __init__(self):
            self.shared = []

        def share(self, value):
            self.shared.append(value)
            return f"ref-{len(self.shared)}"

    files_a = {"net.csv": "a,b\n1,2\n"}
    same_as_a = {"net.csv": "a,b\n1,2\n"}  # another dict, same content (as sweep points build them)
    files_b = {"net.csv": "a,b\n3,4\n"}
    tasks = [{"run_id": str(i), "scenario": {"data": {"seed": i}, "files": files}}
             for i, files in enumerate([files_a, files_a, same_as_a, files_b])]
    recorder = Recorder()
    sent = _share_scenarios(recorder, tasks)
    assert recorder.shared == [files_a, files_b]
    assert [t["scenario"]["files"] for t in sent] == ["ref-1", "ref-1", "ref-1", "ref-2"]
    assert [t["scenario"]["data"] for t in sent] == [t["scenario"]["data"] for t in tasks]
    assert tasks[0]["scenario"]["files"] is files_a  # the caller's tasks are not changed
    assert _share_scenarios(object(), tasks) is tasks  # local processes: as they are
