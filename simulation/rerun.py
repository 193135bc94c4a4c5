"""Rerun a finished run from its manifest alone, and check the tables come out bit for bit.

A run's manifest.json holds the scenario as resolved, the text of every file it read, the seed
and the days (results.py). `rerun` rebuilds the scenario from those (files missing or different
on this machine are written to the data cache by their content hash, tasks.py), runs it, writes a
new run folder with the same tables, and compares each table's SHA-256 with the manifest's.
Results are identical whatever the thread count or executor (counter-based random numbers), so
a difference means other code or dependency versions: the versions that differ are listed."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError


@dataclass
class RerunOutcome:
    folder: Path
    identical: list[str] = field(default_factory=list)
    different: list[str] = field(default_factory=list)
    version_changes: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.different


def read_run_manifest(run_dir: Path) -> dict:
    path = run_dir / "manifest.json"
    if not path.is_file():
        raise InputError(run_dir, "manifest.json", "a finished run folder (its manifest is written last)", "none")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise InputError(path, "(whole file)", "JSON", str(error)) from None
    missing = [key for key in ("scenario", "input_files", "seed", "days", "sha256") if key not in manifest]
    if missing:
        raise InputError(path, ", ".join(missing), "the keys of a manifest written by this version or later",
                         "missing")
    return manifest


def rerun(run_dir: str | Path, out: str | Path | None = None, progress: bool = False) -> RerunOutcome:
    from .results import DEPENDENCIES, _version, simulate
    from .tasks import scenario_from_payload

    run_dir = Path(run_dir)
    manifest = read_run_manifest(run_dir)
    payload = {"name": manifest.get("scenario_name"), "file": manifest.get("scenario_file"),
               "data": manifest["scenario"], "files": manifest["input_files"]}
    scenario = scenario_from_payload(payload)
    result = simulate(scenario, seed=manifest["seed"], days=manifest["days"], progress=progress)
    tables = tuple(Path(name).stem for name in manifest["sha256"])
    out = Path(out) if out else run_dir.with_name(f"{run_dir.name}-rerun")
    result.save(out, tables=tables, manifest_extra={"rerun_of": str(run_dir.resolve())})
    again = read_run_manifest(out)
    outcome = RerunOutcome(out)
    for name, digest in manifest["sha256"].items():
        (outcome.identical if again["sha256"].get(name) == digest else outcome.different).append(name)
    now = {"balkansim": _version("balkansim"), **{name: _version(name) for name in DEPENDENCIES}}
    before = {"balkansim": manifest.get("package_version"), **manifest.get("dependencies", {})}
    outcome.version_changes = {name: (before.get(name), version) for name, version in now.items()
                               if before.get(name) not in (None, version)}
    return outcome
