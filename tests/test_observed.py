"""The observed series in calibration/data: each loader on the real files (columns, known figures,
sources on every row), and malformed copies of those files, each stopped by an InputError that
names the file, the row and the column."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from simulation import InputError
from simulation import observed
from simulation.observed import DATA_DIR

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SOURCE_COLUMNS = ["source", "where_seen", "confidence", "notes"]
PERIOD_COLUMNS = ["period", "month", "year", "period_start", "period_end"]
SERIES_COLUMNS = ["series", "where", *PERIOD_COLUMNS, "value", "unit", *SOURCE_COLUMNS]
WB, EM = "Western Balkan Route", "Eastern Mediterranean Route"

LOADERS = {
    "greece_arrivals": (observed.greece_arrivals, SERIES_COLUMNS),
    "greece_arrivals_monthly": (observed.greece_arrivals_monthly, SERIES_COLUMNS),
    "frontex_monthly WB summed": (lambda: observed.frontex_monthly(WB), [*SERIES_COLUMNS[:2], "border_type", *SERIES_COLUMNS[2:]]),
    "frontex_monthly EM sea": (lambda: observed.frontex_monthly(EM, "Sea"), [*SERIES_COLUMNS[:2], "border_type", *SERIES_COLUMNS[2:]]),
    "frontex_annual": (observed.frontex_annual, SERIES_COLUMNS),
    "frontex_by_nationality": (observed.frontex_by_nationality, [*SERIES_COLUMNS[:2], "nationality", *SERIES_COLUMNS[2:]]),
    "frontex_published": (observed.frontex_published, SERIES_COLUMNS),
    "asylum_applicants": (observed.asylum_applicants, [*SERIES_COLUMNS[:2], "country", "citizenship", *SERIES_COLUMNS[2:]]),
    "regulation_uptake": (observed.regulation_uptake, SERIES_COLUMNS),
    "returns": (observed.returns, SERIES_COLUMNS),
    "smuggling_fees": (observed.smuggling_fees, ["leg", *PERIOD_COLUMNS, "price_low", "price_high", "currency", "unit",
                                                  *SOURCE_COLUMNS]),
    "events_timeline": (observed.events_timeline, ["date", "date_end", "date_text", "event", "countries", "figure",
                                                    "figure_unit", *SOURCE_COLUMNS]),
}


@pytest.fixture(scope="module")
def loaded() -> dict[str, pd.DataFrame]:
    return {name: load() for name, (load, _) in LOADERS.items()}


# --- the real files ------------------------------------------------------------------------------


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="the project's shared data folder is not on this machine")
def test_files_are_unchanged_copies_of_the_shared_data():
    shared = sorted(p.name for p in SHARED_DATA.glob("*.csv"))
    assert len(shared) == 10
    for name in shared:
        assert (DATA_DIR / name).read_bytes() == (SHARED_DATA / name).read_bytes(), name


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_loader_columns_and_sources(loaded, name):
    frame = loaded[name]
    assert list(frame.columns) == LOADERS[name][1]
    assert len(frame) > 0
    for column in ("source", "where_seen", "confidence"):
        assert (frame[column].str.strip() != "").all(), f"{name}: empty {column}"
    if "value" in frame.columns:
        assert frame.value.dtype == float and (frame.value >= 0).all()
    if "month" in frame.columns:
        assert pd.api.types.is_datetime64_any_dtype(frame.month) and frame.year.dtype == "int64"
        assert (frame.period_start <= frame.period_end).all()
        assert (frame.year == frame.period_start.dt.year).all()


def test_greece_dtm_months_and_the_readme_sums(loaded):
    dtm = loaded["greece_arrivals_monthly"]
    assert list(dtm.month) == list(pd.date_range("2015-01-01", "2017-12-01", freq="MS"))
    assert (dtm.series == "iom_dtm_greece_arrivals_monthly").all()
    by_year = dtm.groupby("year").value.sum()
    assert by_year[2015] == 857_363 and by_year[2016] == 176_906  # calibration/data/README.md
    first = dtm.iloc[0]
    assert first.name == 2 and first.value == 1505  # index = the file's row (header = 1)


def test_frontex_western_balkan_2015_matches_the_published_figures(loaded):
    monthly = loaded["frontex_monthly WB summed"]
    assert list(monthly.month) == list(pd.date_range("2009-01-01", "2025-04-01", freq="MS"))
    published = loaded["frontex_published"]
    published = published[published["where"] == WB].set_index("period").value
    year_2015 = monthly[monthly.year == 2015].value.sum()
    jan_to_nov_2015 = monthly[monthly.month.between("2015-01-01", "2015-11-01")].value.sum()
    # Published figures are rounded ("some 764 000"); the dataset was revised since.
    assert year_2015 == pytest.approx(published["2015"], rel=1e-3)
    assert jan_to_nov_2015 == pytest.approx(published["2015-01/2015-11"], rel=1e-3)
    # The cross-check file's notes: "current Frontex dataset gives 15,127 (revised)" for 2019.
    assert monthly[monthly.year == 2019].value.sum() == 15_127


def test_frontex_eastern_mediterranean_2015_matches_the_published_figure(loaded):
    published = loaded["frontex_published"]
    published = published[(published["where"] == EM) & (published.period == "2015")].value.item()
    assert observed.frontex_monthly(EM).query("year == 2015").value.sum() == pytest.approx(published, rel=1e-3)


def test_frontex_annual_is_the_monthly_series_summed(loaded):
    annual = loaded["frontex_annual"]
    assert set(annual["where"]) >= {WB, EM}
    for route in (WB, EM):
        by_year = observed.frontex_monthly(route).groupby("year").value.sum()
        pd.testing.assert_series_equal(observed.frontex_annual(route).set_index("year").value, by_year,
                                       check_names=False)


def test_frontex_monthly_land_and_sea(loaded):
    summed = loaded["frontex_monthly WB summed"].set_index("month")
    land = observed.frontex_monthly(WB, "land").set_index("month")
    sea = observed.frontex_monthly(WB, "Sea").set_index("month")
    assert (land.border_type == "Land").all() and len(sea) == 6  # a handful of sea detections, 2017-2021
    pd.testing.assert_series_equal(summed.value, land.value.add(sea.value, fill_value=0), check_names=False)
    assert set(summed.border_type) == {"Land", "Land+Sea"}
    assert not summed.source.str.contains(r"\|").any()  # land and sea rows share their source


@pytest.mark.parametrize("route", [[WB, EM], (WB, EM), (WB,), "Western Balkan Route + Eastern Mediterranean Route",
                                   "Central Mediterranean Route"])
def test_frontex_monthly_never_adds_routes(route):
    with pytest.raises(ValueError, match="route"):
        observed.frontex_monthly(route)


def test_frontex_monthly_unknown_border_type():
    with pytest.raises(ValueError, match="border_type"):
        observed.frontex_monthly(WB, "Air")


def test_frontex_by_nationality(loaded):
    table = loaded["frontex_by_nationality"]
    assert table.groupby(["where", "year"]).size().to_dict() == {(EM, 2015): 15, (EM, 2016): 15, (WB, 2015): 15, (WB, 2016): 15}
    totals = observed.frontex_annual().set_index(["where", "year"]).value
    top = table.groupby(["where", "year"]).value.sum()
    assert (top <= totals.loc[top.index]).all()  # the top nationalities only


def test_asylum_applicants_coding(loaded):
    table = loaded["asylum_applicants"]
    assert set(table.citizenship) == {"all", "WB6", *observed.WB6}
    germany_2015 = observed.asylum_applicants("DEU", "all").query("year == 2015").value.item()
    assert germany_2015 == 476_560  # as the file's notes quote it
    table_all = observed.asylum_applicants()
    parts = table_all[table_all.citizenship.isin(observed.WB6)]
    sums = observed.asylum_applicants(citizenship_group="WB6").set_index(["country", "year"]).value
    pd.testing.assert_series_equal(parts.groupby(["country", "year"]).value.sum(), sums.sort_index(), check_names=False)
    with pytest.raises(ValueError, match="country"):
        observed.asylum_applicants("Germany")


def test_point_figure_periods(loaded):
    returns = loaded["returns"].set_index("period")
    turkey = returns.loc["2016-03-20/2017-03-02"]
    assert (turkey.period_start, turkey.period_end) == (pd.Timestamp("2016-03-20"), pd.Timestamp("2017-03-02"))
    assert returns.loc["~1997/2017"].period_end == pd.Timestamp("2017-12-31")
    published = loaded["frontex_published"].set_index("period")
    assert published.loc["2024-H1"].period_end == pd.Timestamp("2024-06-30")
    assert published.loc["2016-Q2"].period_start == pd.Timestamp("2016-04-01")
    assert published.loc["2016-12"].month == pd.Timestamp("2016-12-01")
    uptake = loaded["regulation_uptake"]
    assert uptake.month.notna().sum() == 2  # only 2015-03 and 2018-03 are exactly one month


def test_smuggling_fees(loaded):
    fees = loaded["smuggling_fees"]
    assert (fees.price_low <= fees.price_high).all()
    assert set(fees.currency) == {"EUR", "USD"}


def test_events_timeline(loaded):
    events = loaded["events_timeline"]
    assert events.date.is_monotonic_increasing
    statement = events[events.event.str.startswith("EU-Turkey Statement agreed")].iloc[0]
    assert statement.date == statement.date_end == pd.Timestamp("2016-03-18")
    two_months = events[events.date_text == "2018-03/04"].iloc[0]
    assert (two_months.date, two_months.date_end) == (pd.Timestamp("2018-03-01"), pd.Timestamp("2018-04-30"))
    assert events.figure.isna().sum() == (events.figure_unit == "").sum()


# --- period forms ------------------------------------------------------------------------------

PERIODS = {
    "2015": ("2015-01-01", "2015-12-31", True),
    "2015-09": ("2015-09-01", "2015-09-30", True),
    "2016-02-29": ("2016-02-29", "2016-02-29", False),
    "2016-Q4": ("2016-10-01", "2016-12-31", False),
    "2024-H2": ("2024-07-01", "2024-12-31", False),
    "2015-11/2017-09": ("2015-11-01", "2017-09-30", False),
    "2018-03/04": ("2018-03-01", "2018-04-30", False),
    "~1997/2017": ("1997-01-01", "2017-12-31", False),
    "2015 (1 Jan-19 Nov)": ("2015-01-01", "2015-12-31", False),
}


def test_period_forms(tmp_path):
    file = tmp_path / "periods.csv"
    lines = ["series,country,period,value,unit,source,where_seen,confidence"]
    lines += [f"s,X,{period},1,persons,a source,a page,high" for period in PERIODS]
    file.write_text("\n".join(lines) + "\n")
    table = observed.load_observed(file).set_index("period")
    for period, (start, end, _) in PERIODS.items():
        assert (table.loc[period].period_start, table.loc[period].period_end) == (pd.Timestamp(start), pd.Timestamp(end))
    assert table.month.notna().sum() == 1
    calendar_only = [p for p, (_, _, calendar) in PERIODS.items() if calendar]
    file.write_text("\n".join(lines[:1] + [f"s,X,{p},1,persons,a source,a page,high" for p in calendar_only]) + "\n")
    assert len(observed.load_observed(file, calendar_periods=True)) == 2


# --- malformed copies of the real files --------------------------------------------------------


def _set_cell(row: int, column: str, value: str):
    def edit(lines: list[str]) -> list[str]:
        header = next(csv.reader([lines[0]]))
        cells = next(csv.reader([lines[row - 1]]))
        cells[header.index(column)] = value
        lines[row - 1] = _csv_line(cells)
        return lines
    return edit


def _drop_column(column: str):
    def edit(lines: list[str]) -> list[str]:
        rows = list(csv.reader(lines))
        index = rows[0].index(column)
        return [_csv_line(r[:index] + r[index + 1:]) for r in rows]
    return edit


def _rename_column(old: str, new: str):
    return lambda lines: [lines[0].replace(old, new, 1), *lines[1:]]


def _repeat_row(row: int):
    return lambda lines: [*lines, lines[row - 1]]


def _drop_last_cell(row: int):
    def edit(lines: list[str]) -> list[str]:
        lines[row - 1] = _csv_line(next(csv.reader([lines[row - 1]]))[:-1])
        return lines
    return edit


def _csv_line(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(cells)
    return out.getvalue()


GREECE = ("greece_arrivals_2015_2017.csv", observed.greece_arrivals_monthly)
MONTHLY = ("frontex_detections_monthly.csv", lambda file: observed.frontex_monthly(WB, file=file))
ANNUAL = ("frontex_detections_annual.csv", observed.frontex_annual)
ASYLUM = ("eurostat_asylum_applicants.csv", observed.asylum_applicants)
RETURNS = ("returns_and_readmission.csv", observed.returns)
UPTAKE = ("westbalkan_regulation_uptake.csv", observed.regulation_uptake)
NATIONALITY = ("frontex_detections_by_nationality_2015_2016.csv", observed.frontex_by_nationality)
FEES = ("smuggling_fees.csv", observed.smuggling_fees)
EVENTS = ("events_timeline.csv", observed.events_timeline)
ROW_VALUE = "column 'value'"

BAD_FILES = {
    "value with a thousands comma": (GREECE, _set_cell(12, "value", "212,168"), ["row 12", ROW_VALUE, "a finite number >= 0"]),
    "negative value": (MONTHLY, _set_cell(30, "value", "-5"), ["row 30", ROW_VALUE, ">= 0", "-5"]),
    "NaN value": (ANNUAL, _set_cell(5, "value", "NaN"), ["row 5", ROW_VALUE, "finite"]),
    "infinite value": (RETURNS, _set_cell(9, "value", "inf"), ["row 9", ROW_VALUE, "finite"]),
    "empty value": (ASYLUM, _set_cell(7, "value", ""), ["row 7", ROW_VALUE]),
    "month 13": (MONTHLY, _set_cell(40, "period", "2012-13"), ["row 40", "column 'period'", "YYYY-MM"]),
    "quarter in a yearly series": (ANNUAL, _set_cell(8, "period", "2015-Q1"), ["row 8", "column 'period'", "a year YYYY or a month YYYY-MM"]),
    "month name in a monthly series": (MONTHLY, _set_cell(3, "period", "Feb 2009"), ["row 3", "column 'period'", "YYYY-MM"]),
    "year in the monthly file": (MONTHLY, _set_cell(10, "period", "2009"), ["row 10", "column 'period'", "a month YYYY-MM"]),
    "year in the DTM monthly series": (GREECE, _set_cell(5, "period", "2014"), ["row 5", "column 'period'", "a month YYYY-MM"]),
    "period in words": (RETURNS, _set_cell(5, "period", "last year"), ["row 5", "column 'period'", "a period such as"]),
    "interval ending before it starts": (UPTAKE, _set_cell(6, "period", "2017-09/2015-11"), ["row 6", "column 'period'"]),
    "empty source": (GREECE, _set_cell(20, "source", ""), ["row 20", "column 'source'", "the figure's source"]),
    "empty where_seen": (NATIONALITY, _set_cell(9, "where_seen", " "), ["row 9", "column 'where_seen'"]),
    "empty confidence": (ANNUAL, _set_cell(4, "confidence", ""), ["row 4", "column 'confidence'"]),
    "empty route": (MONTHLY, _set_cell(15, "route", ""), ["row 15", "column 'route'"]),
    "empty border type": (MONTHLY, _set_cell(16, "border_type", ""), ["row 16", "column 'border_type'"]),
    "misspelt value column": (GREECE, _rename_column("value", "values"), ["header", "value", "values"]),
    "no source column": (RETURNS, _drop_column("source"), ["header", "source"]),
    "no route column": (MONTHLY, _drop_column("route"), ["header", "country or route", "neither"]),
    "duplicate month": (MONTHLY, _repeat_row(3), ["row 595", "same as row 3", "'period'"]),
    "duplicate year": (ASYLUM, _set_cell(3, "period", "2011"), ["row 3", "same as row 2", "2011"]),
    "short row": (UPTAKE, _drop_last_cell(8), ["row 8", "cells"]),
    "empty file": (EVENTS, lambda lines: [], ["header", "an empty file"]),
    "header only": (FEES, lambda lines: lines[:1], ["rows", "no rows"]),
    "asylum country not coded": (ASYLUM, _set_cell(100, "country", "Germany"), ["row 100", "column 'country'", "DEU"]),
    "price range upside down": (FEES, _set_cell(7, "price_high", "10"), ["row 7", "column 'price_high'", "price_low", "got '10'"]),
    "price in words": (FEES, _set_cell(4, "price_low", "about 700"), ["row 4", "column 'price_low'"]),
    "currency not a code": (FEES, _set_cell(5, "currency", "euro"), ["row 5", "column 'currency'", "ISO 4217"]),
    "event date in words": (EVENTS, _set_cell(6, "date", "mid-October"), ["row 6", "column 'date'"]),
    "event figure without unit": (EVENTS, _set_cell(6, "figure_unit", ""), ["row 6", "column 'figure_unit'"]),
    "event unit without figure": (EVENTS, _set_cell(2, "figure_unit", "persons"), ["row 2", "column 'figure'", "got ''"]),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_malformed_copy(tmp_path, case):
    (name, load), edit, fragments = BAD_FILES[case]
    file = tmp_path / name
    lines = edit((DATA_DIR / name).read_text(encoding="utf-8").splitlines())
    file.write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load(file=file)
    message = str(caught.value)
    assert str(file) in message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from: {message}"


def test_not_utf8(tmp_path):
    file = tmp_path / "frontex_detections_annual.csv"
    file.write_bytes((DATA_DIR / file.name).read_bytes().replace(b"Black Sea Route", b"Black Sea Rout\xe9", 1))
    with pytest.raises(InputError, match="UTF-8") as caught:
        observed.frontex_annual(file=file)
    assert str(file) in str(caught.value)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="existing file"):
        observed.load_observed(tmp_path / "nowhere.csv")
