"""Two ways Numba's cache goes wrong, and what simulation/kernels.py does about each (it explains):
its cache knows only the content of a compiled function's own file, so kernels.py carries the
SHA-256 of the files compiled into it; and a cached serial function calling a parallel one can
crash when loaded, so importing kernels.py launches the threading layer first."""

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


DRIVER = """
    import numpy as np
    from numba import njit, prange

    @njit(cache=True, parallel=True)
    def _fill(out):
        for k in prange(out.shape[0]):
            out[k] = 2.0 * k

    @njit(cache=True)
    def driver(n):
        out = np.zeros(n)
        _fill(out)
        return out.sum()
    """


def test_a_cached_driver_of_a_parallel_pass_runs_once_the_kernels_are_imported(tmp_path):
    """The kernels' serial drivers call parallel passes (add_entrants calls _make_entrants, and so
    on). When a driver is compiled again while its pass is loaded from the cache (after an edit of
    the file is undone, or a switch between versions), the driver loaded from the cache next time
    kills the process on its first call: it does not launch Numba's threading layer (Numba issue
    9938). Importing simulation.kernels launches it, and then the same cached driver runs. (If the
    third run stops failing, Numba has fixed this, and the launch in kernels.py can go.)"""
    package = tmp_path / "toy"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "driver.py").write_text(textwrap.dedent(DRIVER))
    cache = tmp_path / "cache"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(FOLDER.parent)]),
           "NUMBA_CACHE_DIR": str(cache)}
    env.pop("NUMBA_DISABLE_JIT", None)

    def run(first: str = "") -> subprocess.CompletedProcess:
        command = f"{first}from toy.driver import driver; print(driver(1000))"
        return subprocess.run([sys.executable, "-c", command], env=env, capture_output=True, text=True)

    assert run().stdout.strip() == "999000.0"  # both compiled and cached
    drivers = list(cache.rglob("driver.driver-*"))
    assert drivers
    for path in drivers:
        path.unlink()
    assert run().returncode == 0  # the driver compiled again, its pass loaded from the cache
    assert run().returncode != 0  # both loaded: the driver's first call kills the process
    launched = run("import simulation.kernels; ")
    assert launched.returncode == 0, launched.stderr
    assert launched.stdout.strip() == "999000.0"
