"""The default scenario runs end to end through the installed `balkansim` command, as a
newcomer would run it, and leaves a complete run folder."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

from simulation.results import TABLES

REPO = Path(__file__).resolve().parents[1]


def _balkansim() -> list[str]:
    script = Path(sys.executable).parent / "balkansim"
    return [str(script)] if script.exists() else [sys.executable, "-m", "simulation.cli"]


def test_default_scenario_through_the_cli(tmp_path):
    completed = subprocess.run([*_balkansim(), "run"], cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert completed.returncode == 0, completed.stderr
    assert "arrived at a destination" in completed.stdout
    folders = list((tmp_path / "runs").iterdir())
    assert len(folders) == 1 and folders[0].name.startswith("baseline-seed20150701-")
    run = folders[0]
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["seed"] == 20150701 and manifest["days"] == 184
    assert manifest["scenario"]["name"] == "baseline"
    assert {"numba", "mesa", "numpy"} <= set(manifest["dependencies"])
    for name in TABLES:
        table = pd.read_parquet(run / f"{name}.parquet")
        assert "date" in table.columns or name in ("transit_times", "measures")  # whole-run tables
        # the baseline has no response rules and no legal pathway
        assert len(table) > 0 or name in ("government_actions", "pathways")
    events = pd.read_parquet(run / "events.parquet")
    assert events.entries.sum() > 700_000  # the observed Jul-Dec 2015 Greek arrivals, one agent per person
    assert events.arrivals.sum() > 0
    assert not list(tmp_path.glob("runs/.*partial*"))


def test_existing_run_folder_is_never_overwritten(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    completed = subprocess.run([*_balkansim(), "run", "--days", "2", "--out", str(out)],
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 2
    assert "already exists" in completed.stderr
    assert (out / "notes.txt").read_text() == "keep me"
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
