"""Briefing figures: each function takes results and returns a matplotlib Figure that stands on
its own (a title saying what it shows and for which period, units, scenario names, what the band
means, the data source where observed data appear).

Results are a RunResult, a Comparison with its batch folder, or a batch folder path (see
runset.py); the calibration and sensitivity figures take plain DataFrames:

- calibration_fit(frame): columns `series` (str), `month` (Timestamp), `observed`,
  `simulated_median`, `simulated_low`, `simulated_high` (floats; low/high the 5 % and 95 %
  quantiles over replicates), `fitted` (bool: the month was inside the fitting window; otherwise
  it is out of sample); optional `fit` (str, "full" / "out_of_sample": a row of panels each),
  `runs` (runs per month behind the band), `predictive_low` / `predictive_high` (the 90 %
  predictive band: the model band widened by the observation error, drawn lighter), `source`
  (str, the observed series' source) and `unit`;
- sensitivity_chart(frame): columns `parameter`, `output`, `index` ("S1", "ST", "mu_star", ...),
  `value`, `confidence` (half-width of the index's confidence interval; NaN if unknown).

Figures are built on matplotlib.figure.Figure (not pyplot), so making many never accumulates
open windows; save them with `figure.savefig(...)`. Every function also draws `into=` a given
Figure or SubFigure (the PDF briefing puts two on an A4 page); a SubFigure may carry
`planned_size` (inches), and a figure given less height than it needs shows less (fewer rows,
more columns, a matrix instead of bars) rather than smaller text."""

from __future__ import annotations

import datetime as dt
import re
import textwrap
from typing import Sequence

import matplotlib.colors as mcolors
import matplotlib.dates as mdates
import matplotlib.transforms as mtransforms
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


def _canvas(width: float, height: float, into=None) -> tuple:
    """Where a figure is drawn: a new Figure of `width` x `height` inches (constrained layout), or
    `into`, a Figure or SubFigure made by the caller (the briefing puts two figures on a page).
    Returns the canvas, the subfigure that holds the axes (between the title block and the legend
    and note; _header sizes it) and the canvas's size in inches, which the figure may use to
    decide how much it shows."""
    canvas = into if into is not None else Figure(figsize=(width, height), layout="constrained")
    grid = canvas.add_gridspec(3, 1, height_ratios=(1, 8, 1), hspace=0)
    body = canvas.add_subfigure(grid[1])
    body.frame_grid = grid  # _header sets its row heights once the title and legend are known
    return canvas, body, _size(canvas)


def _size(canvas) -> tuple[float, float]:
    """A canvas's size in inches: `planned_size` when its maker set one (a SubFigure knows its
    final size only after the page's layout), else its current size."""
    planned = getattr(canvas, "planned_size", None)
    return tuple(planned) if planned else (canvas.bbox.width / canvas.dpi, canvas.bbox.height / canvas.dpi)


def _shifted(canvas, dy_inches: float):
    """A transform: canvas fractions, then moved `dy_inches` up (positive) or down."""
    return canvas.transSubfigure + mtransforms.ScaledTranslation(0, dy_inches, canvas.dpi_scale_trans)


def _header(figure, body, title: str, subtitle: str, footnote: str, legend=None) -> None:
    """Title and a line saying what the figure shows above the axes; the legend (if any) and a
    source note below them. Heights are worked out in inches from the wrapped text and anchored to
    the canvas's top and bottom edges; the subfigure holding the axes gets the space between."""
    width, height = _size(figure)
    title_lines = textwrap.wrap(title, int(width * 9.5))
    sub_lines = [line for part in subtitle.split("\n") for line in textwrap.wrap(part, int(width * 15.5))]
    foot_lines = [line for part in footnote.split("\n") for line in textwrap.wrap(part, int(width * 19))]
    top_inches = 0.12 + 0.24 * len(title_lines) + 0.16 * len(sub_lines) + 0.1
    foot_inches = 0.08 + 0.125 * len(foot_lines)
    figure.text(0.01, 1, "\n".join(title_lines), ha="left", va="top", fontsize=12, fontweight="bold",
                transform=_shifted(figure, -0.08))
    figure.text(0.01, 1, "\n".join(sub_lines), ha="left", va="top", fontsize=8.5, color="#333333",
                transform=_shifted(figure, -(0.12 + 0.24 * len(title_lines))))
    figure.text(0.01, 0, "\n".join(foot_lines), ha="left", va="bottom", fontsize=7, color="#555555",
                transform=_shifted(figure, 0.04))
    legend_inches = 0.0
    if legend is not None:
        handles, kwargs = legend
        ncols = kwargs.pop("ncols", 1)
        extra_lines = max((h.get_label().count("\n") for h in handles), default=0)
        rows = -(-len(handles) // ncols) * (1 + extra_lines) + (1 if kwargs.get("title") else 0)
        legend_inches = 0.1 + 0.2 * rows
        figure.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0),
                      bbox_transform=_shifted(figure, foot_inches), ncols=ncols, **kwargs)
    bottom = foot_inches + legend_inches
    body.frame_grid.set_height_ratios([top_inches, max(height - top_inches - bottom, 0.5),
                                                             bottom])


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
def route_map(results, scenario: str | None = None, label_places: int | None = None, into=None) -> Figure:
    """The route network of one scenario (default: the baseline) on a map: links drawn with width
    by the people who travelled along them over the period (median over replicates), places
    coloured by their highest transit pressure (people present / reception places), places over
    capacity ringed, the `label_places` most crowded places named (default 12, 8 on a half page).
    Country outlines are not drawn (no outline data ships offline with the project): countries
    are named at the middle of their places. `into`: a Figure or SubFigure to draw in."""
    runs = as_runset(results)
    scenario = scenario or runs.baseline
    network = runs.network
    edge_flow = _edge_totals(runs, [scenario]).groupby(["from_place", "to_place"]).departures.median()
    peak = _peak_pressure(runs, [scenario]).get(scenario, pd.Series(dtype=float))
    widest = max(float(edge_flow.max()) if len(edge_flow) else 0.0, 1.0)
    norm = mcolors.Normalize(0, max(2.0, float(peak.max()) if len(peak) else 2.0))
    cmap = style.pressure_cmap()
    figure, body, (width, height) = _canvas(8.2, 8.6, into)
    if label_places is None:
        label_places = 12 if height > 7 else 8
    axis = body.subplots()
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
    colourbar = body.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=axis, shrink=0.55, extend="max")
    colourbar.set_label("highest transit pressure\n(people present / reception places)")
    colourbar.ax.axhline(1.0, color="black", lw=1.5)
    handles = [Line2D([], [], color=FLOW_COLOUR, lw=0.4 + 7.0 * v / widest, label=f"{_number(v)} people")
               for v in _nice_levels(widest)]
    handles += [Line2D([], [], ls="", marker="o", markersize=8, markerfacecolor="none", markeredgecolor="black",
                       label="over capacity on some day"),
                Line2D([], [], ls="", marker="o", markersize=3, markerfacecolor="white", markeredgecolor="#777777",
                       label="no reception places")]
    _header(figure, body, f"Where people travelled and where reception ran out: '{scenario}', {_period(runs)}",
            "Line width: people who travelled along the link over the period. Dot colour: the place's highest daily "
            "transit pressure; 1 means every reception place is taken (the named places show it). Both: median over "
            "replicates.",
            _model_note(runs, "Places at their coordinates (the network's places.csv); country names at the middle "
                              "of their places; no borders drawn."),
            legend=(handles, {"ncols": 3 if height > 7 else len(handles), "columnspacing": 1.2}))
    return figure


@style.styled
def route_difference_map(results, scenarios: Sequence[str] | None = None, ncols: int = 2, into=None) -> Figure:
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
    figure, body, _ = _canvas(8.2, 4.0 * nrows + 2.0, into)
    axes = body.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True)
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
    _header(figure, body, f"Where each scenario moves people, against '{runs.baseline}', {_period(runs)}",
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
                  top: int = 6, ncols: int | None = None, into=None) -> Figure:
    """Successful border crossings into each country per month, median over replicates with the
    5-95 % band, one panel per country (by default the `top` countries with most crossings in the
    baseline), the dates levers start or end marked on the time axis. Panels in `ncols` columns
    (default 2, or 3 when drawn `into` a canvas too short for two)."""
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
    if ncols is None:
        short = into is not None and _size(into)[1] < 2.1 * -(-len(countries) // 2) + 1.9
        ncols = 1 if len(countries) == 1 else 3 if short and len(countries) > 4 else 2
    ncols = min(ncols, len(countries))
    nrows = -(-len(countries) // ncols)
    figure, body, _ = _canvas(8.2, 2.1 * nrows + 1.9, into)
    axes = body.subplots(nrows, ncols, squeeze=False, sharex=True)
    single_month = bands.month.nunique() == 1
    narrow = ncols >= 3
    for k, (axis, country) in enumerate(zip(axes.flat, countries)):
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
        if not narrow:
            axis.set_ylabel("people per month")
        axis.set_ylim(bottom=0)
        axis.xaxis.set_major_locator(mdates.MonthLocator())
        if narrow:
            axis.set_title(f"into {runs.country_name(country)} ({country})", loc="left", fontsize=9)
            axis.yaxis.set_major_formatter(lambda v, _: _compact(v, sign=False))
            axis.xaxis.set_major_formatter(mdates.ConciseDateFormatter(axis.xaxis.get_major_locator()))
            axis.tick_params(labelsize=7)
        else:
            axis.yaxis.set_major_formatter(lambda v, _: f"{v:,.0f}")
            axis.xaxis.set_major_formatter(mdates.DateFormatter("%b\n%Y"))
    if narrow:  # short panels: the value axis named once, beside all of them
        body.supylabel("people per month", fontsize=9)
    for axis in list(axes.flat)[len(countries):]:
        axis.set_visible(False)
    keys = _mark_policy_events([a for a in axes.flat if a.get_visible()], runs, scenarios)
    note = _model_note(runs, "Each point is one calendar month (a month the period only partly covers counts "
                             "only its simulated days).")
    if keys:
        note = "Policy changes: " + "\n".join(keys) + "\n" + note
    _header(figure, body, f"Border crossings per month into the busiest countries, {_period(runs)}",
            f"People crossing into each country per month, by scenario; line: {style.BAND_NOTE}. "
            "Dashed verticals: policy changes (key below).", note,
            legend=(_scenario_handles({s: looks[s] for s in scenarios}, runs.baseline), {"ncols": 4}))
    return figure


# ------------------------------------------------------------------ pressure heat map
@style.styled
def pressure_heatmap(results, scenario: str | None = None, max_places: int = 30, into=None) -> Figure:
    """Transit pressure (people present / reception places) by place and week for one scenario:
    each cell the week's highest day, median over replicates; cells over capacity (above 1) are
    marked with a dot. Shows the `max_places` places with the highest peak (fewer when drawn
    `into` a canvas too short for them), south to north."""
    runs = as_runset(results)
    scenario = scenario or runs.baseline
    network = runs.network
    reception = runs.table("reception")
    reception = reception[(reception.scenario == scenario) & (reception.reception_capacity > 0)]
    weeks = reception.assign(week=reception.date.dt.to_period("W-SUN").dt.start_time)
    weekly = (weeks.groupby(["replicate", "place_id", "week"]).transit_pressure.max()
              .groupby(["place_id", "week"]).median().unstack("week"))
    peak = weekly.max(axis=1).sort_values(ascending=False)
    if into is not None:  # rows at least 0.14 inch apart, so their 7-point labels stay apart
        max_places = max(5, min(max_places, int((_size(into)[1] - 2.3) / 0.14)))
    chosen = list(peak.index[:max_places])
    chosen.sort(key=lambda p: network.latitude[network.index[p]])  # roughly the route's order, south first
    grid = weekly.loc[chosen].to_numpy(dtype=float)
    labels = [f"{network.place_names[network.index[p]]} ({network.country_of(p)})" for p in chosen]
    vmax = max(2.0, float(np.nanmax(grid)) if np.isfinite(grid).any() else 2.0)
    figure, body, _ = _canvas(8.2, 1.9 + 0.2 * len(chosen), into)
    axis = body.subplots()
    image = axis.imshow(grid, aspect="auto", cmap=style.pressure_cmap(), norm=mcolors.Normalize(0, vmax),
                        interpolation="nearest", origin="lower")
    rows, columns = np.nonzero(np.nan_to_num(grid) > 1)
    # A dot in each cell over capacity: visible on every colour and in greyscale print.
    axis.scatter(columns, rows, s=7, c="white", edgecolors="black", linewidths=0.5, zorder=3)
    axis.set_yticks(range(len(chosen)), labels, fontsize=7)
    week_starts = list(weekly.columns)
    step = max(1, -(-len(week_starts) // (12 if into is None else 10)))
    axis.set_xticks(range(0, len(week_starts), step), [f"{w.day} {w:%b}" for w in week_starts[::step]], fontsize=7)
    axis.set_xlabel("week starting (Monday)")
    axis.grid(False)
    colourbar = body.colorbar(image, ax=axis, shrink=0.8, extend="max")
    colourbar.set_label("transit pressure\n(people present / reception places)")
    colourbar.ax.axhline(1.0, color="black", lw=1.5)
    handles = [Line2D([], [], ls="", marker="o", markersize=3, markerfacecolor="white", markeredgecolor="black",
                      label="over capacity: more people than reception places (pressure above 1)")]
    shown = f"the {len(chosen)} places with the highest peak" if len(peak) > len(chosen) else "every place with reception places"
    _header(figure, body, f"Transit pressure by place and week: '{scenario}', {_period(runs)}",
            f"Each cell: the week's most crowded day (people present / reception places), "
            f"{style.BAND_NOTE.split(';')[0]}. Rows: {shown}, south to north.",
            _model_note(runs, "Reception capacities from the network's places.csv (sources there)."),
            legend=(handles, {"ncols": 1}))
    return figure


# ------------------------------------------------------------------ scenario comparison
@style.styled
def comparison_chart(comparison: Comparison | pd.DataFrame, measures: Sequence[tuple[str, str]] | None = None,
                     baseline: str | None = None, replicates: int | None = None, period: str | None = None,
                     ncols: int | None = None, into=None) -> Figure:
    """Each headline measure's difference from the baseline (median of the paired differences
    over replicates, with their 5-95 % band), one panel per measure with its unit, scenarios in
    their own colours; each panel says the baseline's value so the difference can be read as a
    share. Takes a Comparison or its summary() table (then name the baseline). Panels in `ncols`
    columns (default 2, or 4 when drawn `into` a canvas too short for two; from 3 columns on,
    the scenario names are written once per row and the numbers shortened)."""
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
    def natural_height(columns: int) -> float:
        return 0.5 + -(-len(wanted) // columns) * (0.55 + 0.3 * max(len(others), 1)) + 1.4

    if ncols is None:
        ncols = 4 if into is not None and _size(into)[1] < natural_height(2) - 0.5 else 2
    ncols = max(1, min(ncols, len(wanted)))
    nrows = -(-len(wanted) // ncols)
    narrow = ncols >= 3
    figure, body, _ = _canvas(8.2, natural_height(ncols), into)
    axes = body.subplots(nrows, ncols, squeeze=False, sharey=narrow)
    for k, (axis, (measure, where)) in enumerate(zip(axes.flat, wanted)):
        rows = summary[(summary.measure == measure) & (summary["where"] == where)].set_index("scenario")
        unit = rows.unit.dropna().iloc[0] if rows.unit.notna().any() else ""
        base = rows.loc[baseline, "median"] if baseline in rows.index else np.nan
        where_text = "" if where == "all" else f", {where}"
        if narrow:
            unit_words = _unit_text(unit)
            title = (textwrap.fill(f"{_label(measure)}{where_text}", 22) + f"\nbaseline {_compact(base, sign=False)}"
                     + (f" {unit_words}" if len(unit_words) <= 8 else ""))
        else:
            title = f"{_label(measure)}{where_text}\nbaseline {_number(base)} {_unit_text(unit)}"
        axis.set_title(title, loc="left", fontsize=8 if narrow else 8.5)
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
            value = _compact(row.difference_median) if narrow else _number(row.difference_median, signed=True)
            axis.annotate(f"{value}{share}", (1.02, position), xycoords=("axes fraction", "data"), ha="left",
                          va="center", fontsize=6.5 if narrow else 7, color="#222222", annotation_clip=False)
        axis.axvline(0, color="black", lw=0.8)
        axis.set_yticks(y, others, fontsize=7.5)
        if narrow and k % ncols:
            axis.tick_params(axis="y", labelleft=False)
        axis.set_ylim(-0.7, len(others) - 0.3)
        axis.set_xlabel(textwrap.fill(f"difference ({_unit_text(unit)})", 30) if narrow else
                        f"difference from {baseline} ({_unit_text(unit)})", fontsize=7.5)
        axis.xaxis.set_major_formatter(lambda v, _: _compact(v))
        axis.xaxis.set_major_locator(MaxNLocator(5, symmetric=True))
        axis.tick_params(axis="x", labelsize=7)
        if narrow:
            axis.xaxis.set_major_locator(MaxNLocator(3, symmetric=True))
        low, high = axis.get_xlim()
        reach = max(abs(low), abs(high))
        if not (rows.difference_low.abs().max() > 0 or rows.difference_high.abs().max() > 0):
            reach = 1.0  # no scenario differs at all: a plain -1 to 1 axis, not one of hundredths
        axis.set_xlim(-reach * 1.1, reach * 1.1)  # zero in the middle: left is less, right is more
    for axis in list(axes.flat)[len(wanted):]:
        axis.set_visible(False)
    handles = [Line2D([], [], ls="-", marker="o", color="#444444", label="median difference (its value and share of the baseline "
                      "at the right); bar: 5–95 % of the paired differences")]
    if narrow:
        handles[0].set_label("median difference (its value and share of the baseline at the right;\nk thousand, "
                             "M million, bn billion); bar: 5–95 % of the paired differences")
    title_period = f", {period}" if period else ""
    _header(figure, body, f"How each scenario changes the headline measures against '{baseline}'{title_period}",
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
    if share == 0:
        return ""
    if abs(share) < 0.0005:  # would round to 0.0 %: say it is below a tenth of a per cent
        return f" ({'+' if share > 0 else '−'}<0.1%)"
    return f" ({share:+.1%})" if abs(share) < 0.1 else f" ({share:+.0%})"


def _compact(value: float, sign: bool = True) -> str:
    """A tick label: 12k, 1.5M, 0.25, with a sign off zero (or only a minus, with sign=False)."""
    if value == 0:
        return "0"
    if not np.isfinite(value):
        return "n/a"
    sign = ("+" if value > 0 else "−") if sign else ("" if value > 0 else "−")
    size = abs(value)
    for limit, suffix in ((1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if size >= limit:
            return f"{sign}{size / limit:.3g}{suffix}"
    return f"{sign}{size:.3g}"


def _unit_text(unit: str) -> str:
    return {"present / reception capacity": "people present / reception places"}.get(unit, unit)


# ------------------------------------------------------------------ calibration fit
CALIBRATION_COLUMNS = ("series", "month", "observed", "simulated_median", "simulated_low", "simulated_high", "fitted")


WORDS = {"eu": "EU", "western": "Western", "balkan": "Balkan", "balkans": "Balkans", "eastern": "Eastern",
         "mediterranean": "Mediterranean", "central": "Central", "frontex": "Frontex", "iom": "IOM", "dtm": "DTM",
         "unhcr": "UNHCR"}
FIT_NAMES = {"full": "full fit", "out_of_sample": "out-of-sample test"}


def _words(name: str) -> str:
    """A snake_case identifier as words ('western_balkan_route_detections' -> 'Western Balkan route
    detections'); text with spaces is left as it is."""
    if " " in name or "_" not in name:
        return name
    text = " ".join(WORDS.get(w.lower(), w) for w in name.split("_") if w)
    return text[:1].upper() + text[1:]


def _month_span(months: pd.Series) -> str:
    first, last = months.min(), months.max()
    if first.year == last.year:
        return f"{first:%b} – {last:%b %Y}" if first != last else f"{first:%b %Y}"
    return f"{first:%b %Y} – {last:%b %Y}"


def _runs_of_months(months: Sequence[pd.Timestamp]) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Consecutive calendar months grouped: [(first, last), ...]."""
    spans: list[list[pd.Timestamp]] = []
    for month in sorted(months):
        if spans and (month.to_period("M") - spans[-1][1].to_period("M")).n == 1:
            spans[-1][1] = month
        else:
            spans.append([month, month])
    return [(a, b) for a, b in spans]


def _error_share(rows: pd.DataFrame) -> float:
    """Total absolute miss of the simulated median, as a share of the observed total."""
    observed = rows.observed.abs().sum()
    return float((rows.simulated_median - rows.observed).abs().sum() / observed) if observed > 0 else np.nan


def _wants_log(frame: pd.DataFrame) -> bool:
    """True when, in some series, simulated and observed differ in size by more than three times:
    on a linear axis the smaller one would lie flat along zero."""
    for _, rows in frame.groupby("series", sort=False):
        observed = rows.observed.abs().max()
        simulated = rows[[c for c in ("simulated_median", "simulated_high", "predictive_high")
                          if c in rows.columns]].abs().max().max()
        if observed > 0 and simulated > 0 and max(simulated / observed, observed / simulated) > 3:
            return True
    return False


def _ordinal_row(k: int, rows: int) -> str:
    return "Top row" if k == 0 else "Bottom row" if k == rows - 1 else f"Row {k + 1}"


@style.styled
def calibration_fit(frame: pd.DataFrame, source: str | None = None, title: str | None = None,
                    log: bool | None = None, into=None) -> Figure:
    """Observed against simulated, one panel per series: observed as black points, simulated as a
    median line with its 5-95 % band; months outside the fitting window (out of sample) are
    shaded and their observed points hollow. A table with a `fit` column (validation.parquet:
    'full' and 'out_of_sample') gets one row of panels per fit, the series in columns. The value
    axis is logarithmic when `log` is true, or by default when simulated and observed differ by
    more than three times in some series (one would otherwise lie flat along zero)."""
    missing = [c for c in CALIBRATION_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"a calibration-fit table needs the columns {', '.join(CALIBRATION_COLUMNS)}; "
                         f"missing: {', '.join(missing)}")
    frame = frame.assign(month=pd.to_datetime(frame.month), fitted=frame.fitted.astype(bool))
    if "fit" not in frame.columns:
        frame = frame.assign(fit="")
    frame = frame.assign(fit=frame.fit.fillna("").astype(str))
    fits = list(dict.fromkeys(frame.fit))
    series = list(dict.fromkeys(frame.series))
    if source is None and "source" in frame.columns:
        source = "; ".join(dict.fromkeys(str(s) for s in frame.source.dropna()))
    log = _wants_log(frame) if log is None else log
    predictive = {"predictive_low", "predictive_high"} <= set(frame.columns) and frame.predictive_high.notna().any()
    if len(fits) > 1:  # one row per fit, the same series in each column
        panels = [(fit, name) for fit in fits for name in series]
        ncols = len(series)
    else:
        panels = [(fits[0], name) for name in series]
        ncols = 2 if len(series) > 1 else 1
    nrows = -(-len(panels) // ncols)
    figure, body, _ = _canvas(8.2, 2.3 * nrows + 2.2, into)
    axes = body.subplots(nrows, ncols, squeeze=False, sharex=True)
    if len(fits) > 1:  # a series' panels share their value axis, so the fits compare at a glance
        for column in range(ncols):
            for axis in axes[1:, column]:
                axis.sharey(axes[0, column])
    simulated_colour = style.PALETTE[1]
    windows = []
    for axis, (fit, name) in zip(axes.flat, panels):
        rows = frame[(frame.fit == fit) & (frame.series == name)].sort_values("month")
        if rows.empty:
            axis.set_visible(False)
            continue
        for first, last in _runs_of_months(list(rows.month[~rows.fitted])):
            axis.axvspan(first - pd.Timedelta(days=15), last + pd.Timedelta(days=15), color="#e6e6e6", lw=0, zorder=0)
            axis.axvline(first - pd.Timedelta(days=15), color=style.EVENT_COLOUR, lw=0.8, ls=(0, (4, 2)), zorder=1)
        if predictive:
            axis.fill_between(rows.month, rows.predictive_low, rows.predictive_high, color=simulated_colour,
                              alpha=style.BAND_ALPHA * 0.45, lw=0)
        axis.fill_between(rows.month, rows.simulated_low, rows.simulated_high, color=simulated_colour,
                          alpha=style.BAND_ALPHA, lw=0)
        axis.plot(rows.month, rows.simulated_median, color=simulated_colour, lw=1.6, ls="--")
        fitted, held = rows[rows.fitted], rows[~rows.fitted]
        axis.plot(fitted.month, fitted.observed, "o", color=style.OBSERVED_COLOUR, ms=4)
        axis.plot(held.month, held.observed, "o", markerfacecolor="white", markeredgecolor=style.OBSERVED_COLOUR, ms=4)
        errors = [f"{label} {_error_share(part):,.0%}" for label, part in (("fitted months", fitted),
                                                                           ("not used in fitting", held)) if len(part)]
        # The error in words, where the points and lines leave room ("best": a legend without a key).
        axis.legend([Patch(visible=False)], ["error: " + "\n".join(errors)], loc="best", handlelength=0,
                    handletextpad=0, fontsize=6.5, frameon=True, framealpha=0.85, edgecolor="none",
                    borderpad=0.3)
        unit = rows.unit.iloc[0] if "unit" in rows.columns and rows.unit.notna().any() else "people per month"
        fit_name = FIT_NAMES.get(fit, fit.replace("_", " "))
        axis.set_title(f"{_words(name)}" + (f"\n{fit_name}" if fit else ""), loc="left", fontsize=9)
        if axis.get_subplotspec().colspan.start == 0:
            axis.set_ylabel(unit + (" (log scale)" if log else ""), fontsize=8)
        if fit:
            windows.append((fit_name, fitted.month, held.month))
        axis.xaxis.set_major_formatter(mdates.DateFormatter("%b\n%Y"))
        axis.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 4, 7, 10)))
        axis.tick_params(labelsize=7)
    for axis in axes.flat:
        if not axis.get_visible():
            continue
        if log:
            axis.set_yscale("log")
            axis.yaxis.set_major_formatter(lambda v, _: _compact(v, sign=False))
            axis.yaxis.set_minor_formatter(lambda v, _: "")
        else:
            axis.set_ylim(bottom=0)
            axis.yaxis.set_major_formatter(lambda v, _: f"{v:,.0f}")
    for axis in list(axes.flat)[len(panels):]:
        axis.set_visible(False)
    handles = [Line2D([], [], ls="", marker="o", color=style.OBSERVED_COLOUR, ms=4, label="observed, month used in fitting"),
               Line2D([], [], ls="", marker="o", markerfacecolor="white", markeredgecolor=style.OBSERVED_COLOUR, ms=4,
                      label="observed, " + OUT_OF_SAMPLE),
               Line2D([], [], color=simulated_colour, ls="--", lw=1.6, label="simulated, median"),
               Patch(color=simulated_colour, alpha=style.BAND_ALPHA,
                     label="simulated, 5–95 % over fitted parameter sets and replicates"),
               *([Patch(color=simulated_colour, alpha=style.BAND_ALPHA * 0.45,
                        label="simulated, 90 % predictive band (adds observation error)")]
                 if predictive else []),
               Patch(color="#e6e6e6", label="months out of sample")]
    period = _month_span(frame.month)
    explained = []
    seen = set()
    for fit_name, fitted_months, held_months in windows:
        if fit_name in seen:
            continue
        seen.add(fit_name)
        text = f"{fit_name}, parameters fitted to {_month_span(fitted_months)}" if len(fitted_months) else fit_name
        if len(held_months):
            text += f" and run on through {_month_span(held_months)} without refitting (shaded)"
        explained.append(text)
    subtitle = "" if explained else "Black points: observed; blue: the model with its fitted parameters. "
    if len(fits) > 1 and len(explained) == len(fits) == nrows:
        subtitle += " ".join(f"{_ordinal_row(k, nrows)}: {text}." for k, text in enumerate(explained)) + " "
    elif explained:
        subtitle += "; ".join(explained)[:1].upper() + "; ".join(explained)[1:] + ". "
    else:
        subtitle += "Shaded months were held back from fitting and test the model out of sample. "
    if predictive:
        subtitle += ("Light band: where about 90 % of observed months should fall, given how far model and record "
                     "differed over the fitted months. ")
    if log:
        subtitle += "Log scale: each gridline is ten times the one below."
    runs_note = ""
    if "runs" in frame.columns and frame.runs.notna().any():
        counts = sorted({int(r) for r in frame.runs.dropna()})
        runs_note = f" Simulated median and band over {'/'.join(str(c) for c in counts)} runs per month."
    _header(figure, body, title or f"Calibration: observed and simulated monthly series, {period}", subtitle,
            f"Observed data: {source or 'source not given'}. {MODEL_SOURCE}, calibrated parameters.{runs_note} "
            "Error: the summed absolute difference between simulated median and observed, as a share of the "
            "observed total.",
            legend=(handles, {"ncols": 2}))
    return figure


# ------------------------------------------------------------------ sensitivity
SENSITIVITY_COLUMNS = ("parameter", "output", "index", "value", "confidence")
INDEX_LABELS = {"S1": "first-order (S1): alone", "ST": "total (ST): alone and in interaction",
                "mu_star": "Morris μ*: mean absolute elementary effect", "sigma": "Morris σ: spread of effects"}


def _parameter_label(key: str) -> str:
    """A sweep key in words: 'behaviour.rest_probability_per_day' -> 'rest probability per day',
    'levers[Serbia alone].seat_factor' -> 'Serbia alone: seat factor', 'countries.HU.x' -> 'HU: x'."""
    match = re.fullmatch(r"levers\[(.+)\]\.(\w+)", key)
    if match:
        return f"{match.group(1)}: {match.group(2).replace('_', ' ')}"
    parts = key.split(".")
    if parts[0] == "behaviour" and len(parts) == 2:
        return parts[1].replace("_", " ")
    if parts[0] == "countries" and len(parts) == 3:
        return f"{parts[1]}: {parts[2].replace('_', ' ')}"
    return key.replace("_", " ")


def _output_label(output: str) -> str:
    """'irregular_crossings_into_eu / all' -> 'irregular crossings into the EU'."""
    measure, _, where = (part.strip() for part in output.partition("/"))
    text = MEASURE_LABELS.get(measure, measure.replace("_", " "))
    return text + (f", {where}" if where and where != "all" else "")


def _sensitivity_setup(frame: pd.DataFrame, outputs, method):
    missing = [c for c in SENSITIVITY_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"a sensitivity table needs the columns {', '.join(SENSITIVITY_COLUMNS)}; "
                         f"missing: {', '.join(missing)}")
    outputs = list(outputs or dict.fromkeys(frame.output))
    kinds = list(dict.fromkeys(frame["index"]))
    # ST before S1: the total index bounds the first-order one, so it leads the ranking.
    kinds.sort(key=lambda k: {"ST": 0, "S1": 1, "mu_star": 0, "sigma": 1}.get(k, 2))
    method = method or ("Morris elementary effects" if "mu_star" in kinds else "Sobol variance decomposition")
    return outputs, kinds, method


@style.styled
def sensitivity_chart(frame: pd.DataFrame, outputs: Sequence[str] | None = None, top: int = 12,
                      method: str | None = None, layout: str | None = None, about: str = "",
                      into=None) -> Figure:
    """Sensitivity indices, `layout` "bars": ranked horizontal bars, one panel per model output,
    parameters ordered by their leading index (ST or Morris μ*), one bar per index kind with its
    confidence interval; or "matrix": one grid of parameters by outputs, each cell the leading
    index (Morris μ* as a share of the largest for that output, whose units differ). Default:
    bars, or the matrix when drawn `into` a canvas too short for the bars. `about`: a sentence
    added to the subtitle (which scenario was swept, how many runs)."""
    outputs, kinds, method = _sensitivity_setup(frame, outputs, method)
    n_params = min(top, frame.parameter.nunique())
    ncols = 2 if len(outputs) > 1 else 1
    nrows = -(-len(outputs) // ncols)
    natural = nrows * (0.9 + 0.28 * n_params) + 1.6
    if layout is None:
        layout = "matrix" if into is not None and _size(into)[1] < natural else "bars"
    if layout == "matrix":
        return _sensitivity_matrix(frame, outputs, kinds, method, top, about, into)
    if layout != "bars":
        raise ValueError(f"layout is 'bars' or 'matrix', not {layout!r}")
    colours = {kind: colour for kind, colour in zip(kinds, (style.PALETTE[1], style.PALETTE[0], style.PALETTE[2],
                                                            style.PALETTE[3]))}
    hatches = {kind: hatch for kind, hatch in zip(kinds, ("", "///", "...", "xx"))}
    figure, body, _ = _canvas(8.2, natural, into)
    axes = body.subplots(nrows, ncols, squeeze=False)
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
        axis.set_yticks(y, [textwrap.fill(_parameter_label(p), 34) for p in order], fontsize=7)
        axis.set_title(_output_label(output), loc="left", fontsize=9)
        axis.set_xlabel("index" + (" (in the output's own unit)" if "mu_star" in kinds
                                   else " (share of the output's variance)"), fontsize=8)
        axis.set_xlim(left=0)
        axis.xaxis.set_major_formatter(lambda v, _: _compact(v, sign=False))
        axis.tick_params(axis="x", labelsize=7)
    for axis in list(axes.flat)[len(outputs):]:
        axis.set_visible(False)
    handles = [Patch(facecolor=colours[k], hatch=hatches[k], edgecolor="#222222" if hatches[k] else colours[k],
                     label=INDEX_LABELS.get(k, k)) for k in kinds]
    handles.append(Line2D([], [], color="#333333", lw=0.8, label="whisker: confidence interval"))
    _header(figure, body, f"Which parameters drive the results: {method}",
            "Longer bars: the output depends more on that parameter over the range tried; parameters ranked by "
            f"their {'total' if 'ST' in kinds else 'leading'} index. {about}".strip(),
            f"{MODEL_SOURCE}; indices computed with SALib from a parameter sweep.",
            legend=(handles, {"ncols": 2}))
    return figure


def _sensitivity_matrix(frame: pd.DataFrame, outputs: list[str], kinds: list[str], method: str, top: int,
                        about: str, into) -> Figure:
    lead = kinds[0]
    rows = frame[(frame["index"] == lead) & frame.output.isin(outputs)]
    values = rows.pivot_table(index="parameter", columns="output", values="value", aggfunc="first").reindex(
        columns=outputs)
    confidence = rows.pivot_table(index="parameter", columns="output", values="confidence", aggfunc="first").reindex(
        index=values.index, columns=outputs)
    relative = lead not in ("S1", "ST")  # Morris μ* is in each output's own unit: scale by the largest
    shown = values.divide(values.max(axis=0).where(lambda m: m > 0), axis=1) if relative else values
    order = list(shown.mean(axis=1).sort_values(ascending=False).index[:top])
    grid = shown.loc[order].to_numpy(dtype=float)
    unclear = (confidence.loc[order].to_numpy(dtype=float) >= values.loc[order].to_numpy(dtype=float))
    figure, body, _ = _canvas(8.2, 2.9 + 0.3 * len(order), into)
    axis = body.subplots()
    cmap = mcolors.LinearSegmentedColormap.from_list("influence", ["#ffffff", style.PALETTE[1]])
    image = axis.imshow(grid, aspect="auto", cmap=cmap, norm=mcolors.Normalize(0, 1 if relative else max(
        1e-9, float(np.nanmax(grid)) if np.isfinite(grid).any() else 1)), interpolation="nearest")
    for (r, c), value in np.ndenumerate(grid):
        if not np.isfinite(value):
            continue
        text = f"{value:.2f}" + ("*" if unclear[r, c] else "")
        axis.text(c, r, text, ha="center", va="center", fontsize=7,
                  color="white" if image.norm(value) > 0.6 else "#111111")
    axis.set_yticks(range(len(order)), [textwrap.fill(_parameter_label(p), 40) for p in order], fontsize=7)
    axis.set_xticks(range(len(outputs)), [textwrap.fill(_output_label(o), 14) for o in outputs], fontsize=7)
    axis.xaxis.tick_top()
    axis.tick_params(length=0)
    axis.grid(False)
    for spine in axis.spines.values():
        spine.set_visible(False)
    if relative:
        what = ("Each cell: the parameter's Morris μ* (mean absolute effect on the output) as a share of the "
                "largest μ* for that output, so 1.00 marks the parameter the output depends on most.")
    else:
        what = f"Each cell: the {INDEX_LABELS.get(lead, lead)} index, the share of the output's variance it explains."
    unclear_note = " *: its confidence interval reaches zero." if unclear.any() else ""
    _header(figure, body, f"Which parameters drive the results: {method}",
            f"{what} Rows: parameters, the most influential on average first; columns: model outputs. {about}".strip(),
            f"{MODEL_SOURCE}; indices computed with SALib from a parameter sweep over the ranges tried.{unclear_note} "
            "The bar layout of this chart shows every index with its confidence interval.")
    return figure


__all__ = ["route_map", "monthly_flows", "pressure_heatmap", "comparison_chart", "calibration_fit",
           "sensitivity_chart", "CALIBRATION_COLUMNS", "SENSITIVITY_COLUMNS"]
