"""The size guard: before a run allocates anything large, estimate the memory it will need and
refuse, with the estimate, when the machine does not have it (instead of being killed halfway).

The estimate is deliberately generous: the interpreter and its libraries (measured at about
265 MiB in benchmarks/engine_speed.py), the agent arrays twice over (compaction and the kernels'
temporaries), and every daily table three times over (the model's record arrays, the DataFrame
of about 64 bytes a row measured on the baseline, and Parquet's buffers while it is written)."""

from __future__ import annotations

import os

from .population import BYTES_PER_AGENT, Population

INTERPRETER_BYTES = 300 * 2**20
TABLE_ROW_BYTES = 64
GIB = 2**30


class InsufficientMemory(MemoryError):
    """A run that would not fit in the memory this machine has available."""


def estimated_run_bytes(people: int, days: int, n_places: int, n_edges: int, n_countries: int,
                        n_stock_columns: int) -> int:
    rows = days * (n_places * (n_stock_columns + 1) + n_edges + 2 * n_countries)
    return INTERPRETER_BYTES + 2 * Population.estimated_bytes(people) + 3 * TABLE_ROW_BYTES * rows


def available_bytes() -> int | None:
    """Memory available to a new allocation without swapping (Linux MemAvailable), or None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(people: int, days: int, n_places: int, n_edges: int, n_countries: int, n_stock_columns: int,
                 what: str) -> int:
    """Raise InsufficientMemory when the run would not fit; returns the estimate in bytes."""
    needed = estimated_run_bytes(people, days, n_places, n_edges, n_countries, n_stock_columns)
    available = available_bytes()
    if available is not None and needed > available:
        raise InsufficientMemory(
            f"{what}: about {needed / GIB:.1f} GiB of memory needed ({people:,} people x {BYTES_PER_AGENT} bytes "
            f"of agent state x 2, {days:,} days of tables, and the interpreter) but {available / GIB:.1f} GiB are "
            "available; nothing was started. Run fewer people or days, or on a machine with more memory.")
    return needed
