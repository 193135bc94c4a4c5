"""A short PDF briefing from a comparison batch folder (`balkansim report BATCH_DIR`).

Page 1: a summary paragraph generated from the numbers, the headline table, the scenarios with
their lever settings, the data sources and the run identity (version, commit, seeds, and the
command that reproduces the batch). Then the scenario comparison chart, the baseline's route
map, monthly border crossings and the transit-pressure heat map; then, when their tables are
found, calibration fit and sensitivity pages. Every figure is also saved as PNG and SVG beside
the PDF, with the difference map, which is left out of the PDF to keep it short.

Calibration and sensitivity tables (schemas in plots.py) are looked for in the batch folder and
then in the current folder: `calibration/fitted/validation.parquet` and `sensitivity.parquet`
(or given explicitly); when absent, their pages are left out."""

from __future__ import annotations

import csv
import datetime as dt
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from . import plots, style
from .compare import MEASURE_LABELS, Comparison, _number
from .runset import RunSet, from_batch, manifests

CALIBRATION_FILE = Path("calibration") / "fitted" / "validation.parquet"
SENSITIVITY_FILE = Path("sensitivity.parquet")
A4 = (8.27, 11.69)
TABLE_MEASURES = (("irregular_crossings_into_eu", "all"), ("arrivals", "all"), ("peak_transit_pressure", "all"),
                  ("days_over_capacity", "all"), ("smuggler_revenue_eur", "all"), ("returns", "all"),
                  ("legal_departures", "all"), ("median_days_in_transit", "all"))
LEVER_KEYS_SKIPPED = ("type", "name", "start", "end")


@dataclass
class Briefing:
    """What the report was made of and where it went."""

    pdf: Path
    pages: int
    figures: dict[str, list[Path]] = field(default_factory=dict)
    calibration: Path | None = None
    sensitivity: Path | None = None


def find_optional(batch: Path, relative: Path) -> Path | None:
    for base in (batch, Path.cwd()):
        if (base / relative).exists():
            return base / relative
    return None


def make_report(batch: str | Path, out: str | Path | None = None, calibration: str | Path | None = None,
                sensitivity: str | Path | None = None, formats: tuple[str, ...] = ("png", "svg")) -> Briefing:
    """Write the briefing PDF of a comparison batch folder (default: BATCH/briefing.pdf) and its
    figures beside it in each of `formats` (<pdf stem>-<figure>.png/.svg)."""
    batch = Path(batch)
    if not (batch / "batch.json").exists():
        raise FileNotFoundError(f"{batch} is not a batch folder (no batch.json); make one with `balkansim compare`")
    out = Path(out) if out else batch / "briefing.pdf"
    out.parent.mkdir(parents=True, exist_ok=True)
    comparison = Comparison.from_folder(batch)
    runs = from_batch(batch)
    calibration = Path(calibration) if calibration else find_optional(batch, CALIBRATION_FILE)
    sensitivity = Path(sensitivity) if sensitivity else find_optional(batch, SENSITIVITY_FILE)

    in_pdf: list[tuple[str, Figure]] = [
        ("comparison", plots.comparison_chart(comparison, measures=TABLE_MEASURES, period=plots._period(runs))),
        ("route-map", plots.route_map(runs)),
        ("monthly-crossings", plots.monthly_flows(runs)),
        ("pressure-heatmap", plots.pressure_heatmap(runs)),
    ]
    if calibration is not None:
        in_pdf.append(("calibration-fit", plots.calibration_fit(pd.read_parquet(calibration))))
    if sensitivity is not None:
        in_pdf.append(("sensitivity", plots.sensitivity_chart(pd.read_parquet(sensitivity))))
    beside = ([("route-difference-map", plots.route_difference_map(runs))]
              if len(runs.scenarios) > 1 and formats else [])

    briefing = Briefing(pdf=out, pages=0, calibration=calibration, sensitivity=sensitivity)
    temporary = out.with_name(f".{out.name}.tmp")
    with style.context(), PdfPages(temporary, metadata={"Title": f"balkansim briefing: {batch.name}",
                                                        "Creator": "balkansim report"}) as pdf:
        for page in front_pages(comparison, runs, batch, calibration is not None):
            pdf.savefig(page)
            briefing.pages += 1
        for _, figure in in_pdf:
            pdf.savefig(figure)
            briefing.pages += 1
    temporary.replace(out)
    for name, figure in in_pdf + beside:
        paths = [out.with_name(f"{out.stem}-{name}.{suffix}") for suffix in formats]
        for path in paths:
            figure.savefig(path)
        briefing.figures[name] = paths
    return briefing


# ------------------------------------------------------------------ the text
def summary_paragraph(comparison: Comparison, runs: RunSet, calibrated: bool) -> str:
    """What the numbers say, in sentences built only from the headline table."""
    summary = comparison.summary().set_index(["measure", "where", "scenario"])
    base = runs.baseline
    replicates = runs.replicates

    def row(measure: str, scenario: str):
        key = (measure, "all", scenario)
        return summary.loc[key] if key in summary.index else None

    sentences = [f"This briefing compares {len(runs.scenarios)} scenario{'s' if len(runs.scenarios) != 1 else ''} of "
                 f"migration along the Western Balkan route from {plots._date(runs.start)} to {plots._date(runs.end)}, "
                 f"each simulated {replicates} time{'s' if replicates != 1 else ''} with the same seeds."]
    crossings, arrivals = row("irregular_crossings_into_eu", base), row("arrivals", base)
    if crossings is not None and arrivals is not None:
        sentences.append(
            f"In the baseline ('{base}'), the model counts a median of {_number(crossings['median'])} irregular "
            f"crossings into the EU (5–95 %: {_number(crossings.low)} to {_number(crossings.high)}; one person can "
            f"cross into the EU more than once) and {_number(arrivals['median'])} arrivals at destinations.")
    over = row("days_over_capacity", base)
    if over is not None:
        sentences.append(f"Some place on the route had more people than reception places on "
                         f"{_number(over['median'])} of the {runs.days} days.")
    crossings_all = summary.xs(("irregular_crossings_into_eu", "all"), level=("measure", "where"), drop_level=True) \
        if ("irregular_crossings_into_eu", "all", base) in summary.index else None
    others = [s for s in runs.scenarios if s != base]
    if crossings_all is not None and others:
        differences = crossings_all.loc[others]
        clear = differences[(differences.difference_low > 0) | (differences.difference_high < 0)]
        unclear = [s for s in others if s not in clear.index]
        if len(clear):
            lowest = clear.difference_median.idxmin()
            change = clear.loc[lowest]
            verb = "lowers" if change.difference_median < 0 else "raises"
            sentences.append(
                f"Against the baseline, '{lowest}' {verb} irregular crossings into the EU the most: by a median of "
                f"{_number(abs(change.difference_median))} ({plots._share(change.difference_median, crossings['median']).strip(' ()')}; "
                f"5–95 % of paired differences {_number(change.difference_low, signed=True)} to "
                f"{_number(change.difference_high, signed=True)}).")
        if unclear:
            sentences.append(f"For {', '.join(repr(s) for s in unclear)}, the 5–95 % band of the difference in "
                             f"irregular crossings into the EU includes zero: no clear change at {replicates} replicates.")
    sentences.append("Numbers are model output, not forecasts. " + (
        "The model's behaviour parameters were calibrated (see the calibration page)." if calibrated else
        "No calibration output was found for this briefing: read the numbers as a demonstration of how the "
        "scenarios differ, not as estimates of real flows."))
    return " ".join(sentences)


def headline_table(comparison: Comparison, runs: RunSet) -> tuple[list[str], list[list[str]]]:
    """Rows: headline measures; columns: scenarios; cells: median [5–95 %] and, for scenarios,
    the median paired difference from the baseline."""
    summary = comparison.summary()
    columns = ["measure (unit)"] + runs.scenarios
    rows = []
    for measure, where in TABLE_MEASURES:
        part = summary[(summary.measure == measure) & (summary["where"] == where)].set_index("scenario")
        if part.empty:
            continue
        unit = plots._unit_text(part.unit.dropna().iloc[0]) if part.unit.notna().any() else ""
        cells = [f"{MEASURE_LABELS.get(measure, measure.replace('_', ' '))} ({unit})"]
        for scenario in runs.scenarios:
            if scenario not in part.index:
                cells.append("n/a")
                continue
            r = part.loc[scenario]
            text = f"{_short(r['median'])}\n[{_short(r.low)} – {_short(r.high)}]"
            if scenario != runs.baseline:
                text += f"\nΔ {_short(r.difference_median, signed=True)}"
            cells.append(text)
        rows.append(cells)
    return columns, rows


def _short(value: float, signed: bool = False) -> str:
    """A number in at most four significant digits (1.589 M, 14.7 k, 3.34), for narrow cells."""
    if value is None or not np.isfinite(value):
        return "n/a"
    sign = ("+" if value > 0 else "−" if value < 0 else "") if signed else ("−" if value < 0 else "")
    size = abs(value)
    for limit, divisor, suffix in ((1e9, 1e9, " bn"), (1e6, 1e6, " M"), (1e4, 1e3, " k")):
        if size >= limit:
            return f"{sign}{size / divisor:.4g}{suffix}"
    return f"{sign}{size:,.0f}" if size >= 100 or float(size).is_integer() else f"{sign}{size:.3g}"


def lever_lines(runs: RunSet) -> list[str]:
    lines = []
    shared = runs.scenario_data[runs.baseline].get("levers", [])
    for scenario in runs.scenarios:
        data = runs.scenario_data[scenario]
        is_baseline = scenario == runs.baseline
        own = [lever for lever in data.get("levers", []) if is_baseline or lever not in shared]
        also = "" if is_baseline or not shared or len(own) == len(data.get("levers", [])) else " The baseline's levers, and:"
        lines.append(f"{scenario}{' (baseline)' if is_baseline else ''}: {data.get('description', '')}.{also}")
        for lever in own:
            settings = ", ".join(f"{k} {_setting(v)}" for k, v in lever.items()
                                 if k not in LEVER_KEYS_SKIPPED and v not in (None, [], {}, ""))
            when = f"from {lever['start']}" if lever.get("start") else "whole period"
            if lever.get("end"):
                when += f" to {lever['end']}"
            lines.append(f"    – {lever.get('name') or lever['type']} [{lever['type'].replace('_', ' ')}, {when}]: {settings}")
    return lines


def _setting(value) -> str:
    if isinstance(value, list):
        return "/".join(str(v) for v in value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} {v}" for k, v in value.items()) + "}"
    return str(value)


def source_lines(runs: RunSet) -> list[str]:
    """Where the inputs come from: inflow series (their `source` column) and the network files."""
    data = runs.scenario_data[runs.baseline]
    by_source: dict[str, list[str]] = {}
    for series in data.get("inflow", {}).get("series", []):
        path = Path(series["csv"])
        source = "; ".join(_csv_sources(path)) or "source not given"
        if path.name not in by_source.setdefault(source, []):
            by_source[source].append(path.name)
    lines = [f"Inflow ({', '.join(files)}): {source}" for source, files in by_source.items()]
    network = data.get("network", {})
    lines.append(f"Route network and reception capacities: {Path(network.get('places', '')).name}, "
                 f"{Path(network.get('edges', '')).name} (each row with its source; 'estimate:' marks estimates).")
    lines.append("Behaviour parameters and lever strengths: scenario assumptions, see the scenario files.")
    return lines


def _csv_sources(path: Path) -> list[str]:
    """The distinct sources of a CSV's `source` column, each cut to its first clause."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            texts = [row.get("source", "") for row in csv.DictReader(handle)]
    except OSError:
        return []
    short = [t.split(", as packaged")[0].split(", via ")[0].split(";")[0].split(" (seen at")[0].strip() for t in texts if t]
    return list(dict.fromkeys(s for s in short if s))


def identity_lines(runs: RunSet, batch: Path) -> list[str]:
    found = manifests(batch)
    versions = sorted({str(m.get("package_version")) for m in found})
    commits = sorted({str(m.get("git_commit")) for m in found})
    seeds = sorted({int(m["seed"]) for m in found})
    first = found[0] if found else {}
    dependencies = ", ".join(f"{k} {v}" for k, v in first.get("dependencies", {}).items() if v)
    files = [runs.scenario_data[s].get("name") for s in runs.scenarios]
    command = "balkansim compare " + " ".join(
        _relative(s.get("file")) for s in _definition(batch)["scenarios"]) + f" --replicates {runs.replicates} " \
        f"--seed {seeds[0] if seeds else ''}"
    return [
        f"balkansim {', '.join(versions)}; git commit {', '.join(commits)}; Python {first.get('python', '?')}",
        f"Batch {batch.resolve()}: {len(found)} runs ({len(files)} scenarios x {runs.replicates} replicates), "
        f"seeds {', '.join(str(s) for s in seeds)} (replicate i uses the same seed in every scenario)",
        f"Reproduce: {command}",
        f"Dependencies: {dependencies}",
        f"Report made {dt.datetime.now():%Y-%m-%d %H:%M}.",
    ]


def _definition(batch: Path) -> dict:
    import json

    return json.loads((batch / "batch.json").read_text(encoding="utf-8"))["definition"]


def _relative(path: str | None) -> str:
    if not path:
        return "(scenario built in code)"
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


# ------------------------------------------------------------------ page 1
def front_pages(comparison: Comparison, runs: RunSet, batch: Path, calibrated: bool) -> list[Figure]:
    """Summary, headline table, scenarios and levers, sources and identity: one A4 page, or two
    when many scenarios and levers do not fit on one."""
    pages = [Figure(figsize=A4)]
    width_chars = 122
    top, foot = 0.965, 0.03
    y = top

    def text(content: str, size: float = 8, weight: str = "normal", gap: float = 0.006, wrap: int = width_chars,
             colour: str = "#111111", indent: str = "") -> None:
        nonlocal y
        lines = []
        for paragraph in content.split("\n"):
            lines += textwrap.wrap(paragraph, int(wrap * 8 / size), subsequent_indent=indent) or [""]
        line_height = size * 1.3 / 72 / A4[1]
        while lines:
            fits = max(int((y - foot) / line_height), 0)
            if fits == 0 or (weight == "bold" and fits < 4):  # no heading alone at a page's foot
                pages.append(Figure(figsize=A4))
                y = top
                continue
            chunk, lines = lines[:fits], lines[fits:]
            pages[-1].text(0.06, y, "\n".join(chunk), fontsize=size, fontweight=weight, va="top", ha="left",
                           color=colour, linespacing=1.3)
            y -= len(chunk) * line_height + (gap if not lines else 0)

    text(f"Western Balkan route: {len(runs.scenarios) - 1} policy scenarios against '{runs.baseline}'", size=14,
         weight="bold")
    text(f"Simulated {plots._date(runs.start)} – {plots._date(runs.end)} · {runs.replicates} replicates per scenario · "
         f"balkansim agent-based model", size=9, colour="#444444", gap=0.012)
    text("Summary", size=10, weight="bold")
    text(summary_paragraph(comparison, runs, calibrated), size=8.5, gap=0.01)

    text("Headline measures over the period (whole route)", size=10, weight="bold")
    text("Each cell: median over replicates, [5–95 % of replicates], and for each scenario Δ, the median paired "
         "difference from the baseline (same seeds).", size=7.5, colour="#444444")
    columns, rows = headline_table(comparison, runs)
    n_lines = 3
    row_height = n_lines * 6.5 * 1.2 / 72 / A4[1] + 0.003
    height = row_height * (len(rows) + 1)
    axis = pages[-1].add_axes((0.06, y - height, 0.88, height))
    axis.axis("off")
    table = axis.table(cellText=rows, colLabels=[textwrap.fill(c.replace("_", " "), 14) for c in columns],
                       loc="upper left", cellLoc="center", colLoc="center",
                       colWidths=[0.22] + [0.78 / max(len(columns) - 1, 1)] * (len(columns) - 1))
    table.auto_set_font_size(False)
    table.set_fontsize(6.5)
    for (r, c), cell in table.get_celld().items():
        cell.set_height(1 / (len(rows) + 1))
        cell.set_edgecolor("#cccccc")
        cell.set_linewidth(0.4)
        if r == 0:
            cell.set_text_props(fontweight="bold")
            cell.set_facecolor("#f0f0f0")
        if c == 0 and r > 0:
            cell.set_text_props(ha="left")
            cell.get_text().set_text(textwrap.fill(cell.get_text().get_text(), 34))
    y -= height + 0.015

    text("Scenarios and their policy levers", size=10, weight="bold")
    text("\n".join(lever_lines(runs)), size=6.3, indent="        ", gap=0.01)
    text("Data sources", size=10, weight="bold")
    text("\n".join(source_lines(runs)), size=6.3, gap=0.01)
    text("To reproduce this briefing", size=10, weight="bold")
    text("\n".join(identity_lines(runs, batch)) + f"\nThen: balkansim report {_relative(str(batch))}", size=6.5)
    return pages
