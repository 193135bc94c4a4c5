"""Briefing figures: each function takes results and returns a matplotlib Figure that stands on
its own (a title saying what it shows and for which period, units, scenario names, what the band
means, the data source where observed data appear).

Results are a RunResult, a Comparison with its batch folder, or a batch folder path (see
runset.py); the calibration and sensitivity figures take plain DataFrames:

- calibration_fit(frame): columns `series` (str), `month` (Timestamp), `observed`,
  `simulated_median`, `simulated_low`, `simulated_high` (floats; low/high the 5 % and 95 %
  quantiles over replicates), `fitted` (bool: the month was inside the fitting window; otherwise
  it is out of sample); optional `source` (str, the observed series' source) and `unit`;
- sensitivity_chart(frame): columns `parameter`, `output`, `index` ("S1", "ST", "mu_star", ...),
  `value`, `confidence` (half-width of the index's confidence interval; NaN if unknown).

Figures are built on matplotlib.figure.Figure (not pyplot), so making many never accumulates
open windows; save them with `figure.savefig(...)`."""

from __future__ import annotations

import datetime as dt
import textwrap
from typing import Sequence

import matplotlib.colors as mcolors
import matplotlib.dates as mdates
from matplotlib.ticker import MaxNLocator
import numpy as np
import pandas as pd
from matplotlib.cm import ScalarMappable
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from . import style
from .compare import BAND, MEASURE_LABELS, Comparison, _number
from .runset import RunSet, as_runset

MODEL_SOURCE = "Simulated with balkansim"
OUT_OF_SAMPLE = "out of sample (not used in fitting)"
DEFAULT_COMPARISON_MEASURES = (
    ("irregular_crossings_into_eu", "all"), ("arrivals", "all"), ("peak_transit_pressure", "all"),
    ("days_over_capacity", "all"), ("smuggler_revenue_eur", "all"), ("returns", "all"),
    ("legal_departures", "all"), ("median_days_in_transit", "all"),
)


# ------------------------------------------------------------------ helpers
def _quantiles(frame: pd.DataFrame, keys: list[str], value: str) -> pd.DataFrame:
    """Median and 5-95 % band over replicates of `value`, per `keys` (which include scenario)."""
    grouped = frame.groupby(keys, sort=False)[value]
    return pd.DataFrame({"median": grouped.median(), "low": grouped.quantile(BAND[0]),
                         "high": grouped.quantile(BAND[1])}).reset_index()


def _label(measure: str) -> str:
    text = MEASURE_LABELS.get(measure, measure.replace("_", " "))
    return text[0].upper() + text[1:]


def _header(figure: Figure, title: str, subtitle: str, footnote: str, legend=None) -> None:
    """Title and a line saying what the figure shows above the axes; the legend (if any) and a
    source note below them. Heights are worked out in inches from the wrapped text, and the
    layout engine keeps the axes in the space between."""
    width, height = figure.get_size_inches()
    title_lines = textwrap.wrap(title, int(width * 9.5))
    sub_lines = [line for part in subtitle.split("\n") for line in textwrap.wrap(part, int(width * 15.5))]
    foot_lines = [line for part in footnote.split("\n") for line in textwrap.wrap(part, int(width * 19))]
    top_inches = 0.12 + 0.24 * len(title_lines) + 0.16 * len(sub_lines) + 0.1
    foot_inches = 0.08 + 0.125 * len(foot_lines)
    figure.text(0.01, 1 - 0.08 / height, "\n".join(title_lines), ha="left", va="top", fontsize=12, fontweight="bold")
    figure.text(0.01, 1 - (0.12 + 0.24 * len(title_lines)) / height, "\n".join(sub_lines), ha="left", va="top",
                fontsize=8.5, color="#333333")
    figure.text(0.01, 0.04 / height, "\n".join(foot_lines), ha="left", va="bottom", fontsize=7, color="#555555")
    legend_inches = 0.0
    if legend is not None:
        handles, kwargs = legend
        ncols = kwargs.pop("ncols", 1)
        rows = -(-len(handles) // ncols) + (1 if kwargs.get("title") else 0)
        legend_inches = 0.1 + 0.2 * rows
        figure.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, foot_inches / height), ncols=ncols,
                      **kwargs)
    bottom = (foot_inches + legend_inches) / height
    figure.get_layout_engine().set(rect=(0, bottom, 1, 1 - top_inches / height - bottom))


def _new_figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def _model_note(runs: RunSet, extra: str = "") -> str:
    note = (f"{MODEL_SOURCE}; {runs.replicates} replicate{'s' if runs.replicates != 1 else ''} per scenario, "
            f"the same seeds in every scenario.")
    return f"{note} {extra}".strip()


def _date(day: dt.date) -> str:
    return f"{day.day} {day:%b %Y}"


def _period(runs: RunSet) -> str:
    return f"{_date(runs.start)} – {_date(runs.end)}"


def _mark_policy_events(axes, runs: RunSet, scenarios: Sequence[str]) -> list[str]:
    """Dashed lines at the dates levers start or end, tagged A, B, ...; returns the key lines
    ("A 1 Sep 2015: ...") for the figure's note. Levers in force all period get no line."""
    dates: dict[dt.date, dict[str, list[str]]] = {}
    first, last = runs.start, runs.end
    for scenario in scenarios:
        for event in runs.events_of(scenario):
            for when, verb in ((event.start, "starts"), (event.end, "ends")):
                if when is not None and first < when <= last:
                    dates.setdefault(when, {}).setdefault(f"{event.name} {verb}", []).append(scenario)
    keys = []
    for k, when in enumerate(sorted(dates)):
        tag = chr(ord("A") + k) if k < 26 else str(k)
        for axis in axes:
            axis.axvline(pd.Timestamp(when), color=style.EVENT_COLOUR, lw=0.9, ls=(0, (4, 2)), zorder=1)
            axis.annotate(tag, (pd.Timestamp(when), 0.97), xycoords=("data", "axes fraction"), ha="center",
                          va="top", fontsize=7.5, fontweight="bold", color=style.EVENT_COLOUR,
                          bbox={"boxstyle": "square,pad=0.15", "facecolor": "white", "edgecolor": "none"})
        what = "; ".join(f"{name} ({', '.join(dict.fromkeys(where))})" for name, where in dates[when].items())
        keys.append(f"{tag} {_date(when)}: {what}")
    return keys


def _scenario_handles(looks: dict[str, style.ScenarioLook], baseline: str, band: bool = True) -> list:
    handles = [Line2D([], [], color=look.colour, marker=look.marker, ls=look.linestyle, lw=1.6, markersize=4,
                      label=f"{name} (baseline)" if name == baseline else name) for name, look in looks.items()]
    if band:
        handles.append(Patch(color="#888888", alpha=style.BAND_ALPHA * 2, label="5–95 % of replicates"))
    return handles


# ------------------------------------------------------------------ route maps
def _edge_totals(runs: RunSet, scenarios: Sequence[str]) -> pd.DataFrame:
    """People along each directed link over the period, per scenario and replicate."""
    flows = runs.table("flows")
    flows = flows[flows.scenario.isin(scenarios)]
    return flows.groupby(["scenario", "replicate", "from_place", "to_place"], sort=False).departures.sum().reset_index()


def _peak_pressure(runs: RunSet, scenarios: Sequence[str]) -> pd.Series:
    """Each place's highest daily transit pressure, median over replicates, per scenario."""
    reception = runs.table("reception")
    reception = reception[reception.scenario.isin(scenarios) & (reception.reception_capacity > 0)]
    return (reception.groupby(["scenario", "replicate", "place_id"]).transit_pressure.max()
            .groupby(["scenario", "place_id"]).median())


def _draw_base(axis, runs: RunSet, fontsize: float = 6.5) -> None:
    """Country names at the middle of their places, and the map's aspect at this latitude."""
    network = runs.network
    axis.grid(False)
    for k, code in enumerate(network.countries):
        members = network.place_country == k
        axis.text(network.longitude[members].mean(), network.latitude[members].mean(), runs.country_name(code).upper(),
                  fontsize=fontsize, color="#9a9a9a", ha="center", va="center", zorder=1, fontweight="bold")
    axis.set_aspect(1 / np.cos(np.radians(network.latitude.mean())))
    axis.tick_params(labelsize=7)
    axis.set_xlabel("longitude (°E)", fontsize=7.5)
    axis.set_ylabel("latitude (°N)", fontsize=7.5)


def _draw_places(axis, runs: RunSet, pressure: np.ndarray, norm, cmap) -> None:
    network = runs.network
    lon, lat = network.longitude, network.latitude
    has_capacity = network.reception_capacity > 0
    axis.scatter(lon[~has_capacity], lat[~has_capacity], s=6, facecolor="white", edgecolor="#777777", lw=0.5, zorder=3)
    shown = has_capacity & ~np.isnan(pressure)
    axis.scatter(lon[shown], lat[shown], s=24, c=pressure[shown], cmap=cmap, norm=norm, edgecolor="#444444",
                 lw=0.4, zorder=4)
    over = shown & (np.nan_to_num(pressure) > 1)
    axis.scatter(lon[over], lat[over], s=80, facecolor="none", edgecolor="black", lw=1.1, zorder=5)


@style.styled
def route_map(results, scenario: str | None = None, label_places: int = 12) -> Figure:
    """The route network of one scenario (default: the baseline) on a map: links drawn with width
    by the people who travelled along them over the period (median over replicates), places
    coloured by their highest transit pressure (people present / reception places), places over
    capacity ringed, the `label_places` most crowded places named. Country outlines are not drawn
    (no outline data ships offline with the project): countries are named at the middle of
    their places."""
    runs = as_runset(results)
    scenario = scenario or runs.baseline
    network = runs.network
    edge_flow = _edge_totals(runs, [scenario]).groupby(["from_place", "to_place"]).departures.median()
    peak = _peak_pressure(runs, [scenario]).get(scenario, pd.Series(dtype=float))
    widest = max(float(edge_flow.max()) if len(edge_flow) else 0.0, 1.0)
    norm = mcolors.Normalize(0, max(2.0, float(peak.max()) if len(peak) else 2.0))
    cmap = style.pressure_cmap()
    figure = _new_figure(8.2, 8.6)
    axis = figure.subplots()
    _draw_base(axis, runs)
    lon, lat, index = network.longitude, network.latitude, network.index
    for (origin, target), value in edge_flow.items():
        i, j = index[origin], index[target]
        axis.plot([lon[i], lon[j]], [lat[i], lat[j]], color=FLOW_COLOUR if value > 0 else "#cccccc",
                  lw=0.4 + 7.0 * value / widest, alpha=0.7, solid_capstyle="round", zorder=2)
    pressure = peak.reindex(network.place_ids).to_numpy(dtype=float)
    _draw_places(axis, runs, pressure, norm, cmap)
    for place in peak.sort_values(ascending=False).index[:label_places]:
        i = index[place]
        axis.annotate(f"{network.place_names[i].split(' (')[0]} {peak[place]:.1f}", (lon[i], lat[i]), xytext=(5, 2),
                      textcoords="offset points", fontsize=6.5, zorder=6,
                      bbox={"boxstyle": "round,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.7})
    colourbar = figure.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=axis, shrink=0.55, extend="max")
    colourbar.set_label("highest transit pressure (people present / reception places)")
    colourbar.ax.axhline(1.0, color="black", lw=1.5)
    handles = [Line2D([], [], color=FLOW_COLOUR, lw=0.4 + 7.0 * v / widest, label=f"{_number(v)} people")
               for v in _nice_levels(widest)]
    handles += [Line2D([], [], ls="", marker="o", markersize=8, markerfacecolor="none", markeredgecolor="black",
                       label="over capacity on some day"),
                Line2D([], [], ls="", marker="o", markersize=3, markerfacecolor="white", markeredgecolor="#777777",
                       label="no reception places")]
    _header(figure, f"Where people travelled and where reception ran out: '{scenario}', {_period(runs)}",
            "Line width: people who travelled along the link over the period. Dot colour: the place's highest daily "
            f"transit pressure; 1 means every reception place is taken (the named places show it). {style.BAND_NOTE.split(';')[0]}.",
            _model_note(runs, "Places at their coordinates (the network's places.csv); country names at the middle "
                              "of their places; no borders drawn."),
            legend=(handles, {"ncols": 3}))
    return figure


@style.styled
def route_difference_map(results, scenarios: Sequence[str] | None = None, ncols: int = 2) -> Figure:
    """One small map per scenario against the baseline: each link coloured and sized by the change
    in people who travelled along it (median over replicates of the paired differences with the
    baseline run of the same seed), more in solid orange, fewer in dashed blue; places over
    capacity on some day in that scenario ringed."""
    runs = as_runset(results)
    scenarios = [s for s in (scenarios or runs.scenarios) if s != runs.baseline]
    if not scenarios:
        raise ValueError("a difference map needs a scenario besides the baseline")
    network = runs.network
    totals = _edge_totals(runs, [runs.baseline, *scenarios]).set_index(["scenario", "replicate", "from_place", "to_place"]).departures
    base = totals.xs(runs.baseline, level="scenario")
    changes = {s: (totals.xs(s, level="scenario") - base).dropna().groupby(["from_place", "to_place"]).median()
               for s in scenarios}
    largest = max(max((float(c.abs().max()) for c in changes.values() if len(c)), default=0.0), 1.0)
    peak = _peak_pressure(runs, scenarios)
    ncols = min(ncols, len(scenarios))
    nrows = -(-len(scenarios) // ncols)
    figure = _new_figure(8.2, 4.0 * nrows + 2.0)
    axes = figure.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True)
    lon, lat, index = network.longitude, network.latitude, network.index
    for axis, scenario in zip(axes.flat, scenarios):
        _draw_base(axis, runs, fontsize=5)
        axis.set_title(scenario, fontsize=9)
        for (origin, target), value in changes[scenario].items():
            i, j = index[origin], index[target]
            axis.plot([lon[i], lon[j]], [lat[i], lat[j]], color="#dddddd", lw=0.5, zorder=1)
            if abs(value) >= largest * 0.01:
                more = value > 0
                axis.plot([lon[i], lon[j]], [lat[i], lat[j]], color=MORE_COLOUR if more else LESS_COLOUR,
                          ls="-" if more else (0, (2, 1)), lw=0.6 + 5.0 * abs(value) / largest, zorder=2)
        over = peak.get(scenario, pd.Series(dtype=float)).reindex(network.place_ids).to_numpy(dtype=float) > 1
        axis.scatter(lon, lat, s=5, facecolor="white", edgecolor="#777777", lw=0.4, zorder=3)
        axis.scatter(lon[over], lat[over], s=45, facecolor="none", edgecolor="black", lw=1.0, zorder=5)
    for axis in list(axes.flat)[len(scenarios):]:
        axis.set_visible(False)
    levels = _nice_levels(largest)
    handles = [Line2D([], [], color=MORE_COLOUR, lw=0.6 + 5.0 * levels[-1] / largest, label=f"{_number(levels[-1], signed=True)} people"),
               Line2D([], [], color=MORE_COLOUR, lw=0.6 + 5.0 * levels[0] / largest, label=f"{_number(levels[0], signed=True)} people"),
               Line2D([], [], color=LESS_COLOUR, ls=(0, (2, 1)), lw=0.6 + 5.0 * levels[0] / largest, label=f"{_number(-levels[0])} people"),
               Line2D([], [], color=LESS_COLOUR, ls=(0, (2, 1)), lw=0.6 + 5.0 * levels[-1] / largest, label=f"{_number(-levels[-1])} people"),
               Line2D([], [], ls="", marker="o", markersize=8, markerfacecolor="none", markeredgecolor="black",
                      label="place over capacity on some day")]
    _header(figure, f"Where each scenario moves people, against '{runs.baseline}', {_period(runs)}",
            "Line: change in people who travelled along the link over the period (median of the differences from the "
            "baseline run with the same seed); orange solid more, blue dashed fewer; changes under 1 % of the "
            "largest not drawn. Rings: places over capacity on some day in the scenario.",
            _model_note(runs, "Country names at the middle of their places; no borders drawn."),
            legend=(handles, {"ncols": 3}))
    return figure


FLOW_COLOUR = "#2b5d8a"
MORE_COLOUR = style.PALETTE[4]  # vermillion
LESS_COLOUR = style.PALETTE[1]  # blue


def _nice_levels(largest: float) -> list[float]:
    """Two or three round numbers up to `largest`, for a line-width legend."""
    magnitude = 10 ** np.floor(np.log10(largest))
    top = np.floor(largest / magnitude) * magnitude
    return sorted({float(v) for v in (top / 10, top / 2, top) if v > 0})


# ------------------------------------------------------------------ monthly flows
@style.styled
def monthly_flows(results, countries: Sequence[str] | None = None, scenarios: Sequence[str] | None = None,
                  top: int = 6) -> Figure:
    """Successful border crossings into each country per month, median over replicates with the
    5-95 % band, one panel per country (by default the `top` countries with most crossings in the
    baseline), the dates levers start or end marked on the time axis."""
    runs = as_runset(results)
    scenarios = list(scenarios or runs.scenarios)
    looks = style.scenario_looks(runs.scenarios, runs.baseline)
    events = runs.table("events")
    events = events[events.scenario.isin(scenarios)].assign(month=lambda f: f.date.dt.to_period("M").dt.to_timestamp())
    monthly = events.groupby(["scenario", "replicate", "country", "month"], sort=False).border_crossings.sum().reset_index()
    if countries is None:
        totals = monthly[monthly.scenario == (runs.baseline if runs.baseline in scenarios else scenarios[0])]
        totals = totals.groupby("country").border_crossings.sum().sort_values(ascending=False)
        countries = [c for c in totals.index if totals[c] > 0][:top] or list(totals.index[:top])
    bands = _quantiles(monthly[monthly.country.isin(countries)], ["scenario", "country", "month"], "border_crossings")
    ncols = 2 if len(countries) > 1 else 1
    nrows = -(-len(countries) // ncols)
    figure = _new_figure(8.2, 2.1 * nrows + 1.9)
    axes = figure.subplots(nrows, ncols, squeeze=False, sharex=True)
    single_month = bands.month.nunique() == 1
    for axis, country in zip(axes.flat, countries):
        axis.set_title(f"into {runs.country_name(country)} ({country})", loc="left")
        for scenario in scenarios:
            rows = bands[(bands.country == country) & (bands.scenario == scenario)].sort_values("month")
            look = looks[scenario]
            axis.fill_between(rows.month, rows.low, rows.high, color=look.colour, alpha=style.BAND_ALPHA, lw=0,
                              step=None)
            axis.plot(rows.month, rows["median"], color=look.colour, ls=look.linestyle, marker=look.marker,
                      markersize=3.5, lw=1.4, label=scenario)
            if single_month:  # a band over one month has no width: show it as a bar
                axis.errorbar(rows.month, rows["median"], yerr=[rows["median"] - rows.low, rows.high - rows["median"]],
                              color=look.colour, capsize=3, lw=1)
        axis.set_ylabel("people per month")
        axis.yaxis.set_major_formatter(lambda v, _: f"{v:,.0f}")
        axis.set_ylim(bottom=0)
        axis.xaxis.set_major_formatter(mdates.DateFormatter("%b\n%Y"))
        axis.xaxis.set_major_locator(mdates.MonthLocator())
    for axis in list(axes.flat)[len(countries):]:
        axis.set_visible(False)
    keys = _mark_policy_events([a for a in axes.flat if a.get_visible()], runs, scenarios)
    note = _model_note(runs, "Each point is one calendar month (a month the period only partly covers counts "
                             "only its simulated days).")
    if keys:
        note = "Policy changes: " + "\n".join(keys) + "\n" + note
    _header(figure, f"Border crossings per month into the busiest countries, {_period(runs)}",
            f"People crossing into each country per month, by scenario; line: {style.BAND_NOTE}. "
            "Dashed verticals: policy changes (key below).", note,
            legend=(_scenario_handles({s: looks[s] for s in scenarios}, runs.baseline), {"ncols": 4}))
    return figure


# ------------------------------------------------------------------ pressure heat map
@style.styled
def pressure_heatmap(results, scenario: str | None = None, max_places: int = 30) -> Figure:
    """Transit pressure (people present / reception places) by place and week for one scenario:
    each cell the week's highest day, median over replicates; cells over capacity (above 1) are
    outlined. Shows the `max_places` places with the highest peak, south to north."""
    runs = as_runset(results)
    scenario = scenario or runs.baseline
    network = runs.network
    reception = runs.table("reception")
    reception = reception[(reception.scenario == scenario) & (reception.reception_capacity > 0)]
    weeks = reception.assign(week=reception.date.dt.to_period("W-SUN").dt.start_time)
    weekly = (weeks.groupby(["replicate", "place_id", "week"]).transit_pressure.max()
              .groupby(["place_id", "week"]).median().unstack("week"))
    peak = weekly.max(axis=1).sort_values(ascending=False)
    chosen = list(peak.index[:max_places])
    chosen.sort(key=lambda p: network.latitude[network.index[p]])  # roughly the route's order, south first
    grid = weekly.loc[chosen].to_numpy(dtype=float)
    labels = [f"{network.place_names[network.index[p]]} ({network.country_of(p)})" for p in chosen]
    vmax = max(2.0, float(np.nanmax(grid)) if np.isfinite(grid).any() else 2.0)
    figure = _new_figure(8.2, 1.9 + 0.2 * len(chosen))
    axis = figure.subplots()
    image = axis.imshow(grid, aspect="auto", cmap=style.pressure_cmap(), norm=mcolors.Normalize(0, vmax),
                        interpolation="nearest", origin="lower")
    rows, columns = np.nonzero(np.nan_to_num(grid) > 1)
    # A dot in each cell over capacity: visible on every colour and in greyscale print.
    axis.scatter(columns, rows, s=7, c="white", edgecolors="black", linewidths=0.5, zorder=3)
    axis.set_yticks(range(len(chosen)), labels, fontsize=7)
    week_starts = list(weekly.columns)
    step = max(1, len(week_starts) // 12)
    axis.set_xticks(range(0, len(week_starts), step), [f"{w.day} {w:%b}" for w in week_starts[::step]], fontsize=7)
    axis.set_xlabel("week starting (Monday)")
    axis.grid(False)
    colourbar = figure.colorbar(image, ax=axis, shrink=0.8, extend="max")
    colourbar.set_label("transit pressure\n(people present / reception places)")
    colourbar.ax.axhline(1.0, color="black", lw=1.5)
    handles = [Line2D([], [], ls="", marker="o", markersize=3, markerfacecolor="white", markeredgecolor="black",
                      label="over capacity: more people than reception places (pressure above 1)")]
    shown = f"the {len(chosen)} places with the highest peak" if len(peak) > len(chosen) else "every place with reception places"
    _header(figure, f"Transit pressure by place and week: '{scenario}', {_period(runs)}",
            f"Each cell: the week's most crowded day (people present / reception places), "
            f"{style.BAND_NOTE.split(';')[0]}. Rows: {shown}, south to north.",
            _model_note(runs, "Reception capacities from the network's places.csv (sources there)."),
            legend=(handles, {"ncols": 1}))
    return figure


# ------------------------------------------------------------------ scenario comparison
@style.styled
def comparison_chart(comparison: Comparison | pd.DataFrame, measures: Sequence[tuple[str, str]] | None = None,
                     baseline: str | None = None, replicates: int | None = None, period: str | None = None) -> Figure:
    """Each headline measure's difference from the baseline (median of the paired differences
    over replicates, with their 5-95 % band), one panel per measure with its unit, scenarios in
    their own colours; each panel says the baseline's value so the difference can be read as a
    share. Takes a Comparison or its summary() table (then name the baseline)."""
    if isinstance(comparison, Comparison):
        summary, baseline = comparison.summary(), comparison.baseline
        replicates = replicates or int(comparison.measures.replicate.nunique())
        scenarios = comparison.scenarios
    else:
        summary = comparison
        scenarios = list(dict.fromkeys(summary.scenario))
        baseline = baseline or scenarios[0]
    looks = style.scenario_looks(scenarios, baseline)
    others = [s for s in scenarios if s != baseline]
    wanted = [m for m in (measures or DEFAULT_COMPARISON_MEASURES)
              if ((summary.measure == m[0]) & (summary["where"] == m[1])).any()]
    ncols = 2 if len(wanted) > 1 else 1
    nrows = -(-len(wanted) // ncols)
    figure = _new_figure(8.2, 0.5 + nrows * (0.55 + 0.3 * max(len(others), 1)) + 1.4)
    axes = figure.subplots(nrows, ncols, squeeze=False)
    for axis, (measure, where) in zip(axes.flat, wanted):
        rows = summary[(summary.measure == measure) & (summary["where"] == where)].set_index("scenario")
        unit = rows.unit.dropna().iloc[0] if rows.unit.notna().any() else ""
        base = rows.loc[baseline, "median"] if baseline in rows.index else np.nan
        where_text = "" if where == "all" else f", {where}"
        axis.set_title(f"{_label(measure)}{where_text}\nbaseline {_number(base)} {_unit_text(unit)}", loc="left",
                       fontsize=8.5)
        y = np.arange(len(others))[::-1]
        for position, scenario in zip(y, others):
            if scenario not in rows.index:
                continue
            row = rows.loc[scenario]
            look = looks[scenario]
            axis.errorbar(row.difference_median, position,
                          xerr=[[row.difference_median - row.difference_low], [row.difference_high - row.difference_median]],
                          fmt=look.marker, color=look.colour, ms=5, capsize=3, lw=1.4)
            share = _share(row.difference_median, base)
            # The value in words at the panel's right edge, clear of dots and bars.
            axis.annotate(f"{_number(row.difference_median, signed=True)}{share}", (1.02, position),
                          xycoords=("axes fraction", "data"), ha="left", va="center", fontsize=7, color="#222222",
                          annotation_clip=False)
        axis.axvline(0, color="black", lw=0.8)
        axis.set_yticks(y, others, fontsize=7.5)
        axis.set_ylim(-0.7, len(others) - 0.3)
        axis.set_xlabel(f"difference from {baseline} ({_unit_text(unit)})", fontsize=7.5)
        axis.xaxis.set_major_formatter(lambda v, _: _compact(v))
        axis.xaxis.set_major_locator(MaxNLocator(5, symmetric=True))
        axis.tick_params(axis="x", labelsize=7)
        low, high = axis.get_xlim()
        reach = max(abs(low), abs(high))
        axis.set_xlim(-reach * 1.1, reach * 1.1)  # zero in the middle: left is less, right is more
    for axis in list(axes.flat)[len(wanted):]:
        axis.set_visible(False)
    handles = [Line2D([], [], ls="-", marker="o", color="#444444", label="median difference (its value and share of the baseline "
                      "at the right); bar: 5–95 % of the paired differences")]
    title_period = f", {period}" if period else ""
    _header(figure, f"How each scenario changes the headline measures against '{baseline}'{title_period}",
            f"Scenarios: {', '.join(others)}. Left of the zero line: less than the baseline; right: more. "
            "Whole-network totals over the period, except the peak transit pressure (the most crowded place and day).",
            f"{MODEL_SOURCE}; " + (f"{replicates} replicates per scenario, " if replicates else "")
            + "each compared with the baseline run of the same seed (common random numbers).",
            legend=(handles, {"ncols": 1}))
    return figure


def _share(difference: float, base: float) -> str:
    if not (np.isfinite(base) and base != 0 and np.isfinite(difference)):
        return ""
    share = difference / base
    return f" ({share:+.1%})" if abs(share) < 0.1 else f" ({share:+.0%})"


def _compact(value: float) -> str:
    """A tick label: 12k, 1.5M, 0.25, with a sign off zero."""
    if value == 0:
        return "0"
    sign = "+" if value > 0 else "−"
    size = abs(value)
    for limit, suffix in ((1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if size >= limit:
            return f"{sign}{size / limit:.3g}{suffix}"
    return f"{sign}{size:.3g}"


def _unit_text(unit: str) -> str:
    return {"present / reception capacity": "people present / reception places"}.get(unit, unit)


# ------------------------------------------------------------------ calibration fit
CALIBRATION_COLUMNS = ("series", "month", "observed", "simulated_median", "simulated_low", "simulated_high", "fitted")


@style.styled
def calibration_fit(frame: pd.DataFrame, source: str | None = None, title: str | None = None) -> Figure:
    """Observed against simulated, one panel per series: observed as black points, simulated as a
    median line with its 5-95 % band; months outside the fitting window (out of sample) are
    shaded and their observed points hollow."""
    missing = [c for c in CALIBRATION_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"a calibration-fit table needs the columns {', '.join(CALIBRATION_COLUMNS)}; "
                         f"missing: {', '.join(missing)}")
    frame = frame.assign(month=pd.to_datetime(frame.month), fitted=frame.fitted.astype(bool))
    series = list(dict.fromkeys(frame.series))
    if source is None and "source" in frame.columns:
        source = "; ".join(dict.fromkeys(str(s) for s in frame.source.dropna()))
    ncols = 2 if len(series) > 1 else 1
    nrows = -(-len(series) // ncols)
    figure = _new_figure(8.2, 2.3 * nrows + 1.8)
    axes = figure.subplots(nrows, ncols, squeeze=False)
    simulated_colour = style.PALETTE[1]
    for axis, name in zip(axes.flat, series):
        rows = frame[frame.series == name].sort_values("month")
        for month in rows.month[~rows.fitted]:
            axis.axvspan(month - pd.Timedelta(days=15), month + pd.Timedelta(days=15), color="#e6e6e6", lw=0, zorder=0)
        axis.fill_between(rows.month, rows.simulated_low, rows.simulated_high, color=simulated_colour,
                          alpha=style.BAND_ALPHA, lw=0)
        axis.plot(rows.month, rows.simulated_median, color=simulated_colour, lw=1.6, ls="--")
        fitted, held = rows[rows.fitted], rows[~rows.fitted]
        axis.plot(fitted.month, fitted.observed, "o", color=style.OBSERVED_COLOUR, ms=4)
        axis.plot(held.month, held.observed, "o", markerfacecolor="white", markeredgecolor=style.OBSERVED_COLOUR, ms=4)
        unit = rows.unit.iloc[0] if "unit" in rows.columns and rows.unit.notna().any() else "people per month"
        axis.set_title(name, loc="left")
        axis.set_ylabel(unit)
        axis.set_ylim(bottom=0)
        axis.yaxis.set_major_formatter(lambda v, _: f"{v:,.0f}")
        axis.xaxis.set_major_formatter(mdates.DateFormatter("%b\n%Y"))
    for axis in list(axes.flat)[len(series):]:
        axis.set_visible(False)
    handles = [Line2D([], [], ls="", marker="o", color=style.OBSERVED_COLOUR, ms=4, label="observed, month used in fitting"),
               Line2D([], [], ls="", marker="o", markerfacecolor="white", markeredgecolor=style.OBSERVED_COLOUR, ms=4,
                      label="observed, " + OUT_OF_SAMPLE),
               Line2D([], [], color=simulated_colour, ls="--", lw=1.6, label="simulated, median over replicates"),
               Patch(color=simulated_colour, alpha=style.BAND_ALPHA, label="simulated, 5–95 % of replicates"),
               Patch(color="#e6e6e6", label="months " + OUT_OF_SAMPLE)]
    months = frame.month
    period = f"{months.min():%b %Y} – {months.max():%b %Y}"
    _header(figure, title or f"Calibration: observed and simulated monthly series, {period}",
            "How closely the fitted model reproduces the observed figures; shaded months were held back from "
            "fitting and test the model out of sample.",
            f"Observed data: {source or 'source not given'}. {MODEL_SOURCE}, calibrated parameters.",
            legend=(handles, {"ncols": 2}))
    return figure


# ------------------------------------------------------------------ sensitivity
SENSITIVITY_COLUMNS = ("parameter", "output", "index", "value", "confidence")
INDEX_LABELS = {"S1": "first-order (S1): alone", "ST": "total (ST): alone and in interaction",
                "mu_star": "Morris μ*: mean absolute elementary effect", "sigma": "Morris σ: spread of effects"}


@style.styled
def sensitivity_chart(frame: pd.DataFrame, outputs: Sequence[str] | None = None, top: int = 12,
                      method: str | None = None) -> Figure:
    """Sensitivity indices as ranked horizontal bars, one panel per model output: parameters
    ordered by their largest index, one bar per index kind with its confidence interval."""
    missing = [c for c in SENSITIVITY_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"a sensitivity table needs the columns {', '.join(SENSITIVITY_COLUMNS)}; "
                         f"missing: {', '.join(missing)}")
    outputs = list(outputs or dict.fromkeys(frame.output))
    kinds = list(dict.fromkeys(frame["index"]))
    # ST before S1: the total index bounds the first-order one, so it leads the ranking.
    kinds.sort(key=lambda k: {"ST": 0, "S1": 1, "mu_star": 0, "sigma": 1}.get(k, 2))
    method = method or ("Morris elementary effects" if "mu_star" in kinds else "Sobol variance decomposition")
    colours = {kind: colour for kind, colour in zip(kinds, (style.PALETTE[1], style.PALETTE[0], style.PALETTE[2],
                                                            style.PALETTE[3]))}
    hatches = {kind: hatch for kind, hatch in zip(kinds, ("", "///", "...", "xx"))}
    n_params = min(top, frame.parameter.nunique())
    ncols = 2 if len(outputs) > 1 else 1
    nrows = -(-len(outputs) // ncols)
    figure = _new_figure(8.2, nrows * (0.9 + 0.28 * n_params) + 1.6)
    axes = figure.subplots(nrows, ncols, squeeze=False)
    height = 0.8 / max(len(kinds), 1)
    for axis, output in zip(axes.flat, outputs):
        rows = frame[frame.output == output]
        table = rows.pivot_table(index="parameter", columns="index", values="value", aggfunc="first")
        errors = rows.pivot_table(index="parameter", columns="index", values="confidence", aggfunc="first")
        ranking = table[kinds[0]] if kinds[0] in table else table.max(axis=1)
        order = list(ranking.sort_values(ascending=False).index[:top])[::-1]
        y = np.arange(len(order))
        for k, kind in enumerate(kinds):
            if kind not in table:
                continue
            values = table[kind].reindex(order)
            error = errors[kind].reindex(order) if kind in errors else None
            axis.barh(y + (len(kinds) - 1 - k) * height - 0.4 + height / 2, values, height=height,
                      xerr=None if error is None else error.fillna(0), color=colours[kind], hatch=hatches[kind],
                      edgecolor="white" if not hatches[kind] else "#222222", lw=0.3, capsize=2,
                      error_kw={"elinewidth": 0.8, "ecolor": "#333333"}, label=kind)
        axis.set_yticks(y, order, fontsize=7.5)
        axis.set_title(output.replace("_", " "), loc="left", fontsize=9)
        axis.set_xlabel("index" + ("" if "mu_star" in kinds else " (share of the output's variance)"), fontsize=8)
        axis.set_xlim(left=0)
    for axis in list(axes.flat)[len(outputs):]:
        axis.set_visible(False)
    handles = [Patch(facecolor=colours[k], hatch=hatches[k], edgecolor="#222222" if hatches[k] else colours[k],
                     label=INDEX_LABELS.get(k, k)) for k in kinds]
    handles.append(Line2D([], [], color="#333333", lw=0.8, label="whisker: confidence interval"))
    _header(figure, f"Which parameters drive the results: {method}",
            "Longer bars: the output depends more on that parameter over the range tried; parameters ranked by "
            f"their {'total' if 'ST' in kinds else 'leading'} index.",
            f"{MODEL_SOURCE}; indices computed with SALib from a parameter sweep.",
            legend=(handles, {"ncols": 2}))
    return figure


__all__ = ["route_map", "monthly_flows", "pressure_heatmap", "comparison_chart", "calibration_fit",
           "sensitivity_chart", "CALIBRATION_COLUMNS", "SENSITIVITY_COLUMNS"]
