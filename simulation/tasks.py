"""One run as plain data, and the function that carries it out anywhere.

A task is a JSON-able dict: the scenario as resolved data together with the text of every file
it reads (network and inflow CSVs), the seed, the number of days, and the run folder to write.
No code and no simulation state travel with it, so a local worker process or a Dask worker on
another machine can run it from the dict alone. Its `run_key` is a hash of everything that
determines the result (scenario data with each file replaced by the hash of its content, seed,
days, what is kept, package version), so a finished run can be recognised and kept on a re-run.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import traceback
from pathlib import Path
from typing import Any

import pandas as pd

from .results import TABLES, sha256_of, simulate

MEASURES_ONLY = ("transit_times", "measures")


def scenario_payload(scenario) -> dict[str, Any]:
    """The scenario as data: its resolved dict and the files it reads, by path."""
    return {"name": scenario.name, "file": scenario.file, "data": scenario.resolved(), "files": scenario.input_files()}


def make_task(payload: dict[str, Any], seed: int, days: int | None, folder: str | Path, run_id: str,
              labels: dict[str, Any], keep_tables: bool = True, numba_threads: int = 1) -> dict[str, Any]:
    """One run of a scenario given as `scenario_payload(scenario)` (built once and shared by the
    replicates of a scenario: the tasks of a batch never change it)."""
    task = {
        "run_id": run_id,
        "folder": str(Path(folder).resolve()),
        "scenario": payload,
        "seed": int(seed),
        "days": days,
        "keep_tables": bool(keep_tables),
        "numba_threads": int(numba_threads),
        "labels": labels,
    }
    task["run_key"] = run_key(task)
    return task


def run_key(task: dict[str, Any]) -> str:
    from .results import _version

    payload = task["scenario"]
    by_content = {path: hashlib.sha256(text.encode("utf-8")).hexdigest() for path, text in payload["files"].items()}
    data = _replace_paths(payload["data"], {path: f"sha256:{digest}" for path, digest in by_content.items()})
    identity = {"scenario": data, "seed": task["seed"], "days": task["days"], "keep_tables": task["keep_tables"],
                "version": _version("balkansim")}
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def _replace_paths(value, mapping: dict[str, str]):
    if isinstance(value, dict):
        return {k: _replace_paths(v, mapping) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_paths(v, mapping) for v in value]
    if isinstance(value, str) and value in mapping:
        return mapping[value]
    return value


def scenario_from_payload(payload: dict[str, Any]):
    """Rebuild the Scenario; a file missing here, or different, is written to a local cache
    folder named by its content hash and used from there."""
    from .scenario import Scenario

    replacements = {}
    for path, text in payload["files"].items():
        content = text.encode("utf-8")
        digest = hashlib.sha256(content).hexdigest()
        local = Path(path)
        if local.is_file() and _text_hash(local) == digest:
            continue
        cached = data_cache_dir() / digest / local.name
        if not cached.is_file():
            cached.parent.mkdir(parents=True, exist_ok=True)
            temporary = cached.with_name(f".{cached.name}.{os.getpid()}")
            temporary.write_bytes(content)
            temporary.rename(cached)
        replacements[path] = str(cached)
    data = _replace_paths(payload["data"], replacements) if replacements else payload["data"]
    return Scenario.from_dict(data, file=payload.get("file"))


def _text_hash(path: Path) -> str:
    return hashlib.sha256(path.read_text(encoding="utf-8-sig").encode("utf-8")).hexdigest()


def data_cache_dir() -> Path:
    return Path(os.environ.get("BALKANSIM_DATA_CACHE", Path.home() / ".cache" / "balkansim" / "data"))


def run_task(task: dict[str, Any]) -> dict[str, Any]:
    """Carry out one task and write its run folder; never raises for a failed run (the error
    comes back in the result, so the rest of the batch goes on). A folder already complete with
    the same run key (a retried task) is kept and its measures returned."""
    import numba

    started = time.perf_counter()
    folder = Path(task["folder"])
    outcome = {"run_id": task["run_id"], "run_key": task["run_key"], "ok": False, "error": None,
               "wall_seconds": 0.0, "skipped": False}
    try:
        if verify_run(folder, task["run_key"]):
            outcome.update(ok=True, skipped=True)
            return outcome
        numba.set_num_threads(max(1, min(task["numba_threads"], numba.config.NUMBA_NUM_THREADS)))
        scenario = scenario_from_payload(task["scenario"])
        result = simulate(scenario, seed=task["seed"], days=task["days"])
        tables = TABLES if task["keep_tables"] else MEASURES_ONLY
        result.save(folder, tables=tables, manifest_extra={
            "run_id": task["run_id"], "run_key": task["run_key"], "labels": task["labels"]})
        outcome.update(ok=True)
    except Exception as error:  # reported with the run's identity; the batch goes on
        outcome["error"] = f"{type(error).__name__}: {error}"
        outcome["traceback"] = traceback.format_exc(limit=8)
    outcome["wall_seconds"] = round(time.perf_counter() - started, 3)
    return outcome


def verify_run(folder: Path, expected_key: str) -> bool:
    """True when the folder holds a complete run with this key whose files match their hashes."""
    manifest = read_manifest(folder)
    if manifest is None or manifest.get("run_key") != expected_key:
        return False
    for name, digest in manifest.get("sha256", {}).items():
        path = folder / name
        if not path.is_file() or sha256_of(path) != digest:
            return False
    return True


def read_manifest(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def read_measures(folder: Path) -> pd.DataFrame:
    return pd.read_parquet(Path(folder) / "measures.parquet")
