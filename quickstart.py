#!/usr/bin/env python3
"""Set-up and the two everyday commands, for a fresh clone with only Python 3.11+ present:

    python3 quickstart.py run     # make .venv, install balkansim, run the default scenario
    python3 quickstart.py test    # the same set-up, then the test suite

Extra arguments pass through (`python3 quickstart.py run scenarios/baseline.toml --days 30`,
`python3 quickstart.py test -m slow`). The install is redone only when pyproject.toml changes."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".balkansim-installed"


def ensure_environment() -> Path:
    if sys.version_info < (3, 11):
        sys.exit(f"balkansim needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    python = BIN / ("python.exe" if os.name == "nt" else "python")
    if not python.exists():
        print(f"Creating the virtual environment {VENV} ...", flush=True)
        venv.create(VENV, with_pip=True)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text() != wanted:
        print("Installing balkansim and its dependencies (first time only; a few minutes) ...", flush=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[test]"], check=True)
        STAMP.write_text(wanted)
    return python


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("run", "test"):
        print(__doc__)
        return 2
    command, extra = sys.argv[1], sys.argv[2:]
    python = ensure_environment()
    if command == "run":
        return subprocess.call([str(python), "-m", "simulation.cli", "run", *extra], cwd=ROOT)
    return subprocess.call([str(python), "-m", "pytest", *extra], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main())
