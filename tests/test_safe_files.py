"""Safe files: a failed write leaves nothing behind, --force replaces a run only once the new one
is whole, and batches killed at random moments never lose, duplicate or half-keep a run."""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from simulation import simulate
from simulation.errors import RunWriteError
from simulation.tasks import verify_run

from .conftest import TINY, tiny_scenario


def test_a_full_disk_leaves_nothing_behind(tmp_path, monkeypatch):
    result = simulate(tiny_scenario())
    written = []
    original = pd.DataFrame.to_parquet

    def fill_the_disk(frame, path, *args, **kwargs):
        if len(written) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        written.append(path)
        return original(frame, path, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", fill_the_disk)
    with pytest.raises(RunWriteError, match="No space left on device.*nothing half-written"):
        result.save(tmp_path / "run")
    assert list(tmp_path.iterdir()) == []  # neither the run nor its hidden partial folder


def test_force_replaces_a_run_only_when_the_new_one_is_whole(tmp_path, monkeypatch):
    first = simulate(tiny_scenario(), seed=1).save(tmp_path / "run")
    old_manifest = (first / "manifest.json").read_text()
    with pytest.raises(FileExistsError, match="--force"):
        simulate(tiny_scenario(), seed=2).save(tmp_path / "run")
    monkeypatch.setattr(pd.DataFrame, "to_parquet", lambda *a, **k: (_ for _ in ()).throw(OSError(errno.EACCES, "Permission denied")))
    with pytest.raises(RunWriteError, match="Permission denied"):
        simulate(tiny_scenario(), seed=2).save(tmp_path / "run", force=True)
    assert (tmp_path / "run" / "manifest.json").read_text() == old_manifest  # the old run is untouched
    monkeypatch.undo()
    simulate(tiny_scenario(), seed=2).save(tmp_path / "run", force=True)
    assert json.loads((tmp_path / "run" / "manifest.json").read_text())["seed"] == 2
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def kill_and_resume_trials(tmp_path: Path, trials: int) -> None:
    """Start a comparison batch, kill it (SIGKILL, workers too) at a random moment, check that
    every run folder with a name is complete and verified, and resume; at the end the batch must
    equal one run straight through: no run lost, none duplicated, the same table."""
    base = tmp_path / "base.toml"
    base.write_text(f'extends = "{TINY / "tiny.toml"}"\nname = "base"\n[period]\nstart = 2020-01-01\ndays = 40\n')
    checks = tmp_path / "checks.toml"
    checks.write_text('extends = "base.toml"\nname = "checks"\n[[levers]]\ntype = "border_enforcement"\n'
                      'countries = ["BG"]\ndetection_probability = 0.5\npushback_share = 1.0\n')
    command = [sys.executable, "-m", "simulation.cli", "compare", str(base), str(checks), "--replicates", "12",
               "--workers", "2", "--quiet"]
    generator = random.Random(20151015)
    out = tmp_path / "killed"
    for _ in range(trials):
        process = subprocess.Popen([*command, "--out", str(out)], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(generator.uniform(0.2, 6.0))
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        batch = json.loads((out / "batch.json").read_text()) if (out / "batch.json").is_file() else {"runs": []}
        keys = {run["run_id"]: run["run_key"] for run in batch["runs"]}
        for folder in (out / "runs").glob("*") if (out / "runs").is_dir() else []:
            if not folder.name.startswith("."):
                assert verify_run(folder, keys[folder.name]), f"{folder} looks complete but is not"
    finished = subprocess.run([*command, "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stderr
    straight = subprocess.run([*command, "--out", str(tmp_path / "straight")], capture_output=True, text=True,
                              timeout=600)
    assert straight.returncode == 0, straight.stderr
    named = [p.name for p in (out / "runs").iterdir() if not p.name.startswith(".")]
    assert sorted(named) == sorted(p.name for p in (tmp_path / "straight" / "runs").iterdir())  # none lost or extra
    pd.testing.assert_frame_equal(pd.read_parquet(out / "comparison.parquet"),
                                  pd.read_parquet(tmp_path / "straight" / "comparison.parquet"))


def test_batches_killed_at_random_moments_lose_and_duplicate_nothing(tmp_path):
    kill_and_resume_trials(tmp_path, trials=2)


@pytest.mark.slow
def test_fifty_random_kills(tmp_path):
    kill_and_resume_trials(tmp_path, trials=50)
