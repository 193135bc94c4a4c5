"""Observed series for calibration: the published figures in calibration/data read into tidy
pandas DataFrames, every figure with its source columns (source, where_seen, confidence, notes).

Each file is checked as it is read; a problem raises InputError naming the file, the row (header =
row 1, as in a spreadsheet) and column, what was expected and what was found. Frames read from a
file are indexed by that row number, so `frame.loc[12]` is row 12 of the file.

Periods. The regular series (Frontex, Eurostat, the IOM DTM months) give a year `YYYY` or a month
`YYYY-MM`. Point figures relayed from reports also give days, quarters, halves, intervals and words
in brackets ("2015-01/2015-11", "2016-Q1", "2024-H1", "~1997/2017", "2015 (1 Jan-19 Nov)"); those
are accepted where the file holds such figures and rejected in the regular series. Every frame
gets `month` (first day of the month when the period is exactly one month, NaT otherwise), `year`
(the year the period starts in), and `period_start` / `period_end`: the first and last day the
period names, leaving aside any words in brackets (read `period` for those).

Frontex counts detections, not people: the same person is usually detected entering Greece
(Eastern Mediterranean route) and again entering Hungary or Croatia from Serbia (Western Balkan
route), so routes are never added together."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pandas as pd

from .errors import InputError
from .tables import read_csv_table

DATA_DIR = Path(__file__).resolve().parents[1] / "calibration" / "data"

GREECE_ARRIVALS_FILE = "greece_arrivals_2015_2017.csv"
FRONTEX_MONTHLY_FILE = "frontex_detections_monthly.csv"
FRONTEX_ANNUAL_FILE = "frontex_detections_annual.csv"
FRONTEX_BY_NATIONALITY_FILE = "frontex_detections_by_nationality_2015_2016.csv"
FRONTEX_PUBLISHED_FILE = "frontex_published_crosscheck.csv"
ASYLUM_FILE = "eurostat_asylum_applicants.csv"
REGULATION_FILE = "westbalkan_regulation_uptake.csv"
RETURNS_FILE = "returns_and_readmission.csv"
SMUGGLING_FEES_FILE = "smuggling_fees.csv"
EVENTS_FILE = "events_timeline.csv"

GREECE_DTM_SERIES = "iom_dtm_greece_arrivals_monthly"
FRONTEX_ROUTES = ("Western Balkan Route", "Eastern Mediterranean Route")
WB6 = ("ALB", "BIH", "MKD", "MNE", "SRB", "XKX")

SOURCE_COLUMNS = ("source", "where_seen", "confidence", "notes")
PERIOD_COLUMNS = ("period", "month", "year", "period_start", "period_end")
# The "series" format: exactly one of country / route says where a figure applies.
SERIES_COLUMNS = ("series", "country", "route", "border_type", "nationality", "period", "value", "unit",
                  *SOURCE_COLUMNS)
SERIES_OPTIONAL = ("country", "route", "border_type", "nationality", "notes")
FEE_COLUMNS = ("leg", "period", "price_low", "price_high", "currency", "unit", *SOURCE_COLUMNS)
EVENT_COLUMNS = ("date", "event", "countries", "figure", "figure_unit", *SOURCE_COLUMNS)

_WHAT_A_CELL_HOLDS = {
    "source": "the figure's source (organisation and document or dataset)",
    "where_seen": "where the figure was read (an address or a repository file)",
    "confidence": "a confidence (high, medium or low)",
}
_CALENDAR = re.compile(r"\d{4}(?:-\d{2})?")
_EXACT_MONTH = re.compile(r"\d{4}-\d{2}")
_PERIOD = re.compile(r"~?(?P<first>[^/ ()~]+)(?:/~?(?P<last>[^/ ()~]+))?(?: \((?P<words>[^()]*)\))?")
_POINT = re.compile(r"(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2}))?|-(?P<part>[QH])(?P<number>\d))?")
_CALENDAR_EXPECTED = "a year YYYY or a month YYYY-MM"
_SPAN_EXPECTED = ("a period such as 2015, 2015-09, 2015-09-15, 2016-Q1, 2024-H1 or an interval 2015-01/2015-11 "
                  "(optionally ~ before it and words in brackets after it)")


# ---------------------------------------------------------------------------------------------
# The "series" format


def load_observed(file: str | Path, *, calendar_periods: bool = False) -> pd.DataFrame:
    """Every row of a series-format file (series, country or route, [border_type], [nationality],
    period, value, unit, source, where_seen, confidence, [notes]).

    Columns: series, where (the file's country or route), [border_type], [nationality], period,
    month, year, period_start, period_end, value (float), unit, source, where_seen, confidence,
    notes ('' where the file has none). With calendar_periods=True every period must be a year
    YYYY or a month YYYY-MM (the regular series); otherwise the wider forms of point figures are
    accepted too (see the module's doc). One row per series, where, [border_type],
    [nationality] and period."""
    file = Path(file)
    header, frame = _read(file, SERIES_COLUMNS, SERIES_OPTIONAL)
    where_columns = [c for c in ("country", "route") if c in header]
    if len(where_columns) != 1:
        raise InputError(file, "header", "exactly one of the columns country or route",
                         " and ".join(where_columns) or "neither")
    where_column = where_columns[0]
    qualifiers = [c for c in ("border_type", "nationality") if c in header]
    for column in ("series", where_column, *qualifiers, "unit", "source", "where_seen", "confidence"):
        _require_text(file, frame, column)
    frame = frame.assign(value=_non_negative_numbers(file, frame, "value"))
    frame = _with_periods(file, frame, "period", calendar_only=calendar_periods)
    _require_unique(file, frame, ["series", where_column, *qualifiers, "period"])
    frame = frame.rename(columns={where_column: "where"})
    return frame[["series", "where", *qualifiers, *PERIOD_COLUMNS, "value", "unit", *SOURCE_COLUMNS]]


def greece_arrivals(file: str | Path | None = None) -> pd.DataFrame:
    """Every figure of the Greek arrivals file: the IOM DTM monthly series, UNHCR and IOM month,
    year-to-date and period figures, Turkish coast guard interceptions (see `series`)."""
    return load_observed(file or DATA_DIR / GREECE_ARRIVALS_FILE)


def greece_arrivals_monthly(file: str | Path | None = None) -> pd.DataFrame:
    """IOM DTM arrivals in Greece (sea and land, most likely), one row per month in order;
    the columns of load_observed."""
    path = Path(file or DATA_DIR / GREECE_ARRIVALS_FILE)
    table = load_observed(path)
    dtm = table[table.series == GREECE_DTM_SERIES]
    if dtm.empty:
        raise InputError(path, "column 'series'", f"rows of the series {GREECE_DTM_SERIES}", "none")
    _require(path, dtm, dtm.month.isna(), "period", f"a month YYYY-MM in the monthly series {GREECE_DTM_SERIES}")
    return dtm.sort_values("month")


def frontex_monthly(route: str, border_type: str | None = None, file: str | Path | None = None) -> pd.DataFrame:
    """Frontex detections of illegal border crossing on one route, one row per month in order.

    route: "Western Balkan Route" or "Eastern Mediterranean Route". Routes are never added: the
    same person is usually detected on both. border_type: "Land" or "Sea" for those rows only;
    None sums land and sea per month, border_type then says what was summed ("Land+Sea", or
    "Land" in a month without sea detections) and each source column keeps every distinct text
    of the summed rows (joined by " | "). Columns of load_observed with border_type."""
    path = Path(file or DATA_DIR / FRONTEX_MONTHLY_FILE)
    table = load_observed(path, calendar_periods=True)
    if "border_type" not in table.columns:
        raise InputError(path, "header", "a border_type column (Land or Sea)", "none")
    _require(path, table, table.month.isna(), "period", "a month YYYY-MM in a monthly file")
    rows = table[table["where"] == _one_route(route, table)]
    if border_type is not None:
        types = sorted(rows.border_type.unique())
        chosen = [t for t in types if t.casefold() == border_type.casefold()]
        if not chosen:
            raise ValueError(f"border_type must be one of {', '.join(types)} or None (both summed), got {border_type!r}")
        return rows[rows.border_type == chosen[0]].sort_values("month")
    summed = {c: "first" for c in ("series", "where", "period", "year", "period_start", "period_end")}
    summed |= {"border_type": lambda types: "+".join(sorted(types)), "value": "sum"}
    summed |= {c: _distinct_texts for c in ("unit", *SOURCE_COLUMNS)}
    monthly = rows.groupby("month", as_index=False, sort=True).agg(summed)
    return monthly[list(table.columns)]


def frontex_annual(route: str | None = None, file: str | Path | None = None) -> pd.DataFrame:
    """Frontex detections per year and route (all routes; one route when given). The rows of
    the last year may cover part of it only: read `confidence`."""
    path = Path(file or DATA_DIR / FRONTEX_ANNUAL_FILE)
    table = load_observed(path, calendar_periods=True)
    if route is not None:
        table = table[table["where"] == _one_route(route, table)]
    return table.sort_values(["where", "year"])


def frontex_by_nationality(file: str | Path | None = None) -> pd.DataFrame:
    """The top nationalities detected per route and year (2015, 2016): columns of load_observed
    with nationality (ISO 3166-1 alpha-3 as in the Frontex dataset; 'OOO ...' is not documented,
    most likely 'not specified'). Only the top 15 per route and year: they do not add up to the
    route's total."""
    path = Path(file or DATA_DIR / FRONTEX_BY_NATIONALITY_FILE)
    table = load_observed(path, calendar_periods=True)
    if "nationality" not in table.columns:
        raise InputError(path, "header", "a nationality column", "none")
    return table


def frontex_published(file: str | Path | None = None) -> pd.DataFrame:
    """Frontex figures as published in reports and press releases, to check the dataset against
    (years, quarters, halves and intervals: compare over period_start..period_end)."""
    return load_observed(file or DATA_DIR / FRONTEX_PUBLISHED_FILE)


def asylum_applicants(country: str | None = None, citizenship_group: str | None = None,
                      file: str | Path | None = None) -> pd.DataFrame:
    """Eurostat asylum applicants (total, not first-time only) per destination and year.

    The file codes its `country` cell as the destination ("DEU", "EU27"), the destination with
    one citizenship ("DEU (citizenship ALB)") or with the six Western Balkan citizenships summed
    ("DEU (citizens of ALB+BIH+MKD+MNE+SRB+XKX)"). Columns of load_observed, with `where` as in
    the file, plus `country` (the destination) and `citizenship` ("all", "WB6" or one ISO
    alpha-3 code). country: a destination code to keep; citizenship_group: "all", "WB6" or one
    of ALB, BIH, MKD, MNE, SRB, XKX. Without citizenship_group the WB6 sums and their parts
    both appear: do not add across citizenships."""
    path = Path(file or DATA_DIR / ASYLUM_FILE)
    table = load_observed(path, calendar_periods=True)
    parts = table["where"].str.extract(
        r"^(?P<country>[A-Z][A-Z0-9]+)(?: \((?:citizenship (?P<one>[A-Z]{3})|citizens of (?P<group>[A-Z]{3}(?:\+[A-Z]{3})+))\))?$")
    _require(path, table, parts.country.isna(), "where",
             "a destination code such as DEU, optionally with ' (citizenship ALB)' or ' (citizens of ALB+BIH+...)'",
             column_name="country")
    group = parts.group.where(parts.group != "+".join(WB6), "WB6")
    citizenship = parts.one.fillna(group).fillna("all")
    table = table.assign(country=parts.country, citizenship=citizenship)
    table = table[["series", "where", "country", "citizenship", *table.columns.drop(["series", "where", "country", "citizenship"])]]
    if country is not None:
        table = table[table.country == _known(country, table.country, "country")]
    if citizenship_group is not None:
        table = table[table.citizenship == _known(citizenship_group, table.citizenship, "citizenship_group")]
    return table


def regulation_uptake(file: str | Path | None = None) -> pd.DataFrame:
    """Germany's Western Balkans Regulation: approvals, work visas issued, employment (point and
    cumulative figures over differing periods: read series, unit and period together)."""
    return load_observed(file or DATA_DIR / REGULATION_FILE)


def returns(file: str | Path | None = None) -> pd.DataFrame:
    """Assisted voluntary returns, deportations, exits of rejected applicants, EU-Turkey returns,
    Swiss return assistance (point figures; `where` is free text such as 'Albania (from Germany)')."""
    return load_observed(file or DATA_DIR / RETURNS_FILE)


# ---------------------------------------------------------------------------------------------
# Files with their own columns


def smuggling_fees(file: str | Path | None = None) -> pd.DataFrame:
    """Smuggling prices by leg of the route. Columns: leg, period, month, year, period_start,
    period_end, price_low, price_high (floats; equal for a single quoted price), currency (EUR or
    USD, not converted), unit (per person, per group, ...), source, where_seen, confidence, notes."""
    path = Path(file or DATA_DIR / SMUGGLING_FEES_FILE)
    _, frame = _read(path, FEE_COLUMNS, ("notes",))
    for column in ("leg", "currency", "unit", "source", "where_seen", "confidence"):
        _require_text(path, frame, column)
    _require(path, frame, ~frame.currency.str.fullmatch(r"[A-Z]{3}"), "currency", "an ISO 4217 code such as EUR")
    low, high = (_non_negative_numbers(path, frame, c) for c in ("price_low", "price_high"))
    _require(path, frame, high < low, "price_high", "a price at least price_low")
    frame = frame.assign(price_low=low, price_high=high)
    frame = _with_periods(path, frame, "period", calendar_only=False)
    _require_unique(path, frame, ["leg", "period", "source"])
    return frame[["leg", *PERIOD_COLUMNS, "price_low", "price_high", "currency", "unit", *SOURCE_COLUMNS]]


def events_timeline(file: str | Path | None = None) -> pd.DataFrame:
    """Dated policy events, in order of date. Columns: date (first day the date names), date_end
    (last day: the same day, the month's end, or an interval's end), date_text (as written, e.g.
    '2016-02 (late)'), event, countries (';'-separated names), figure (float, NaN when the event
    has none), figure_unit, source, where_seen, confidence, notes."""
    path = Path(file or DATA_DIR / EVENTS_FILE)
    _, frame = _read(path, EVENT_COLUMNS, ("notes",))
    for column in ("date", "event", "countries", "source", "where_seen", "confidence"):
        _require_text(path, frame, column)
    figure = _non_negative_numbers(path, frame, "figure", allow_empty=True)
    _require(path, frame, figure.notna() & (frame.figure_unit == ""), "figure_unit", "the figure's unit")
    _require(path, frame, figure.isna() & (frame.figure_unit != ""), "figure", "a figure for the given unit")
    spans = _spans(path, frame, "date", calendar_only=False)
    frame = frame.assign(date_text=frame.date, date=spans.period_start, date_end=spans.period_end, figure=figure)
    _require_unique(path, frame, ["date_text", "event"])
    frame = frame.sort_values("date", kind="stable")
    return frame[["date", "date_end", "date_text", "event", "countries", "figure", "figure_unit", *SOURCE_COLUMNS]]


# ---------------------------------------------------------------------------------------------
# Reading and checking


def _read(file: Path, columns: tuple[str, ...], optional: tuple[str, ...]) -> tuple[list[str], pd.DataFrame]:
    header, rows = read_csv_table(file, columns, optional)
    if not rows:
        raise InputError(file, "rows", "at least one row of figures under the header", "no rows")
    frame = pd.DataFrame([cells for _, cells in rows], index=pd.Index([n for n, _ in rows], name="row"))
    return header, frame


def _cell(row: int, column: str) -> str:
    return f"row {row}, column '{column}'"


def _require(file: Path, frame: pd.DataFrame, bad: pd.Series, column: str, expected: str,
             column_name: str | None = None) -> None:
    """Raise for the first row where `bad` holds, quoting the cell of `frame` (the text as read:
    check before converting) and naming the column as in the file (column_name if renamed)."""
    if bad.any():
        row = bad.idxmax()
        raise InputError(file, _cell(row, column_name or column), expected, frame.at[row, column])


def _require_text(file: Path, frame: pd.DataFrame, column: str) -> None:
    _require(file, frame, frame[column] == "", column,
             _WHAT_A_CELL_HOLDS.get(column, "a value (the cell is empty)"))


def _non_negative_numbers(file: Path, frame: pd.DataFrame, column: str, allow_empty: bool = False) -> pd.Series:
    text = frame[column]
    numbers = pd.to_numeric(text, errors="coerce").astype(float)
    # NaN covers empty cells, words and a literal "nan"; only an empty cell may be allowed.
    missing = numbers.isna() & ~(allow_empty & (text == ""))
    bad = missing | (numbers < 0) | numbers.isin([float("inf"), float("-inf")])
    expected = "a finite number >= 0" + (" or an empty cell" if allow_empty else "")
    _require(file, frame, bad, column, expected)
    return numbers


def _with_periods(file: Path, frame: pd.DataFrame, column: str, calendar_only: bool) -> pd.DataFrame:
    spans = _spans(file, frame, column, calendar_only)
    exact_month = frame[column].str.fullmatch(_EXACT_MONTH.pattern)
    return frame.assign(month=spans.period_start.where(exact_month), year=spans.period_start.dt.year.astype("int64"),
                        period_start=spans.period_start, period_end=spans.period_end)


def _spans(file: Path, frame: pd.DataFrame, column: str, calendar_only: bool) -> pd.DataFrame:
    text = frame[column]
    if calendar_only:
        _require(file, frame, ~text.str.fullmatch(_CALENDAR.pattern), column, _CALENDAR_EXPECTED)
    spans = text.map(_span)
    _require(file, frame, spans.isna(), column, _CALENDAR_EXPECTED if calendar_only else _SPAN_EXPECTED)
    return pd.DataFrame(spans.tolist(), index=frame.index, columns=["period_start", "period_end"])


@lru_cache(maxsize=4096)
def _span(text: str) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """First and last day a period names, or None when it is not a period. An interval's end may
    leave out leading parts it shares with its start (ISO 8601): 2018-03/04 is March-April 2018."""
    match = _PERIOD.fullmatch(text)
    if not match:
        return None
    first, last = match["first"], match["last"] or match["first"]
    first_parts, last_parts = first.split("-"), last.split("-")
    if len(last_parts[0]) != 4:
        last = "-".join(first_parts[: len(first_parts) - len(last_parts)] + last_parts)
    try:
        start, end = _point(first)[0], _point(last)[1]
    except ValueError:
        return None
    return (start, end) if start <= end else None


def _point(text: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    match = _POINT.fullmatch(text)
    if not match:
        raise ValueError(text)
    year = match["year"]
    if match["part"] == "H":
        half = int(match["number"])
        if half not in (1, 2):
            raise ValueError(text)
        period = pd.Period(f"{year}-{6 * half - 5:02d}", freq="M"), pd.Period(f"{year}-{6 * half:02d}", freq="M")
        return period[0].start_time, period[1].end_time.normalize()
    if match["part"] == "Q":
        period = pd.Period(f"{year}Q{match['number']}", freq="Q")
    elif match["day"]:
        period = pd.Period(text, freq="D")
    elif match["month"]:
        period = pd.Period(text, freq="M")
    else:
        period = pd.Period(year, freq="Y")
    return period.start_time, period.end_time.normalize()


def _require_unique(file: Path, frame: pd.DataFrame, keys: list[str]) -> None:
    repeated = frame.duplicated(keys)
    if repeated.any():
        row = repeated.idxmax()
        first = frame.index[(frame[keys] == frame.loc[row, keys]).all(axis=1)][0]
        columns = ", ".join(f"'{k}'" for k in keys)
        raise InputError(file, f"row {row}, columns {columns}", f"one row per {', '.join(keys)} (same as row {first})",
                         " / ".join(frame.loc[row, keys]))


def _distinct_texts(texts: pd.Series) -> str:
    return " | ".join(dict.fromkeys(t for t in texts if t))


def _one_route(route: str, table: pd.DataFrame) -> str:
    if not isinstance(route, str):
        raise ValueError(f"one route at a time, got {route!r}: Frontex counts detections, and the same person is "
                         "usually detected on both the Eastern Mediterranean and the Western Balkan route, so "
                         "routes are never added")
    return _known(route, table["where"], "route")


def _known(value: str, values: pd.Series, what: str) -> str:
    known = sorted(values.unique())
    if value not in known:
        raise ValueError(f"{what} must be one of {', '.join(known)}; got {value!r}")
    return value
