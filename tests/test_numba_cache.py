"""Numba's cache knows only the content of a compiled function's own file (simulation/kernels.py
explains), so kernels.py carries the SHA-256 of the files compiled into it."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

from simulation import kernels

FOLDER = Path(kernels.__file__).parent


def fingerprint(names) -> str:
    digest = hashlib.sha256()
    for name in names:
        digest.update((FOLDER / name).read_bytes().replace(b"\r\n", b"\n"))  # as checked out anywhere
    return digest.hexdigest()


def test_the_kernels_carry_the_fingerprint_of_the_files_compiled_into_them():
    current = fingerprint(kernels.COMPILED_WITH_FILES)
    assert kernels.COMPILED_WITH_SHA256 == current, (
        f"{', '.join(kernels.COMPILED_WITH_FILES)} changed: set COMPILED_WITH_SHA256 in simulation/kernels.py to "
        f'"{current}", so that Numba compiles the kernels again instead of loading them from its cache')


def test_every_file_the_kernels_import_from_is_in_the_fingerprint():
    imported = set(re.findall(r"^from \.(\w+) import", (FOLDER / "kernels.py").read_text(), re.MULTILINE))
    assert {f"{name}.py" for name in imported} <= set(kernels.COMPILED_WITH_FILES)


TOY = {
    "__init__.py": "",
    "draws.py": """
        from numba import njit

        @njit(cache=True, inline="always")
        def draw(x):
            return x + {step}
        """,
    "kernels.py": """
        from numba import njit
        from .draws import draw

        @njit(cache=True)
        def kernel(x):
            return draw(x) * 10
        """,
}


def test_the_premise_numba_does_not_see_a_change_in_another_file(tmp_path):
    """Why the fingerprint exists: a cached function inlining a function of another file keeps
    its old result after only that other file changes. (If this fails, Numba now tracks other
    files, and COMPILED_WITH_SHA256 can go.)"""
    package = tmp_path / "toy"
    package.mkdir()
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    env.pop("NUMBA_CACHE_DIR", None)  # the cache beside the toy package's files
    env.pop("NUMBA_DISABLE_JIT", None)

    def kernel_of_one(step: int) -> str:
        for name, text in TOY.items():
            (package / name).write_text(textwrap.dedent(text.format(step=step)))
        command = "from toy.kernels import kernel; print(kernel(1))"
        return subprocess.run([sys.executable, "-c", command], env=env, capture_output=True, text=True,
                              check=True).stdout.strip()

    assert kernel_of_one(step=1) == "20"
    assert kernel_of_one(step=2) == "20"  # stale: draws.py changed, kernels.py did not
