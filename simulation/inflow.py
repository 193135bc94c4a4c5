"""The inflow schedule: monthly counts of people entering at each entry place, turned into whole
people per day. A month's count is spread evenly over its days with exact integer totals
(day k of a D-day month gets floor((k+1)N/D) - floor(kN/D)), so nobody is lost to rounding."""

from __future__ import annotations

import calendar
import datetime as dt
from pathlib import Path

import numpy as np

from .errors import InputError
from .scenario import Scenario
from .tables import read_csv_strict

INFLOW_CSV_COLUMNS = ("month", "people", "source", "notes")


def monthly_inflow(scenario: Scenario) -> dict[tuple[str, str, str | None], int]:
    """{(YYYY-MM, entry place, group or None): people} from the inline rows and the CSVs
    together; group None means each person's group is drawn by the groups' shares."""
    spec = scenario.spec
    counts: dict[tuple[str, str, str | None], int] = {}
    for row in spec.inflow.monthly:
        key = (row.month, row.entry, row.group)
        counts[key] = counts.get(key, 0) + row.people
    for series in spec.inflow.series:
        for month, total in read_inflow_csv(Path(series.csv)).items():
            for entry, people in _split(total, series.entry_shares).items():
                key = (month, entry, series.group)
                counts[key] = counts.get(key, 0) + people
    return counts


def read_inflow_csv(path: Path) -> dict[str, int]:
    totals: dict[str, int] = {}
    for row_number, row in read_csv_strict(path, INFLOW_CSV_COLUMNS, optional=("notes",)):
        month = row["month"]
        try:
            dt.date.fromisoformat(month + "-01")
        except ValueError:
            raise InputError(path, f"row {row_number}, column 'month'", "a month as YYYY-MM", month) from None
        if len(month) != 7:
            raise InputError(path, f"row {row_number}, column 'month'", "a month as YYYY-MM", month)
        if month in totals:
            raise InputError(path, f"row {row_number}, column 'month'", "each month once", month)
        try:
            people = int(row["people"])
        except ValueError:
            raise InputError(path, f"row {row_number}, column 'people'", "a whole number of people", row["people"]) from None
        if people < 0 or people > 100_000_000:
            raise InputError(path, f"row {row_number}, column 'people'", "a number of people between 0 and 100,000,000", people)
        if not row["source"]:
            raise InputError(path, f"row {row_number}, column 'source'", "the figure's source", "")
        totals[month] = people
    return totals


def _split(total: int, shares: dict[str, float]) -> dict[str, int]:
    """Largest-remainder split of a whole number by shares (exact total, deterministic)."""
    places = sorted(shares)
    raw = np.array([total * shares[p] for p in places])
    whole = np.floor(raw).astype(np.int64)
    remainder = total - int(whole.sum())
    order = np.argsort(-(raw - whole), kind="stable")
    whole[order[:remainder]] += 1
    return dict(zip(places, whole.tolist()))


def daily_arrivals(scenario: Scenario) -> np.ndarray:
    """int64 array [day, place, group slot] of people entering on each day of the period; group
    slot g < number of groups is that group, the last slot is 'drawn by the groups' shares'."""
    network = scenario.network
    days, start = scenario.days, scenario.start
    group_names = list(scenario.spec.groups)
    drawn = len(group_names)
    arrivals = np.zeros((days, network.n_places, drawn + 1), dtype=np.int64)
    for (month, entry, group), people in monthly_inflow(scenario).items():
        slot = drawn if group is None else group_names.index(group)
        year, month_number = int(month[:4]), int(month[5:])
        month_days = calendar.monthrange(year, month_number)[1]
        first = dt.date(year, month_number, 1)
        place = network.index[entry]
        for k in range(month_days):
            day = (first + dt.timedelta(days=k) - start).days
            if 0 <= day < days:
                arrivals[day, place, slot] += (k + 1) * people // month_days - k * people // month_days
    return arrivals
