"""A short PDF briefing from a comparison batch folder (`balkansim report BATCH_DIR`): at most
five A4 pages.

1. Front page: a summary paragraph generated from the numbers, the headline table, a line per
   scenario, what the model is and what is on the other pages.
2.–4. The figures: the scenario comparison chart, monthly border crossings, the baseline's route
   map and transit-pressure heat map, and, when their tables are found, the calibration fit and
   the sensitivity chart. They get a page each while the briefing stays within five pages;
   otherwise two share a page (route map with heat map, calibration with sensitivity, then
   comparison with monthly crossings), drawn for the half page (fewer rows, compact panels).
5. Assumptions, sources and how to reproduce: each scenario's lever settings, the data sources,
   and what identifies the runs (version, commit, seeds, the commands).

Every figure is also saved full size as PNG and SVG beside the PDF, with the route difference
map, which is left out of the PDF to keep it short.

Calibration and sensitivity tables (schemas in plots.py) are looked for in the batch folder and
then in the current folder: `calibration/fitted/validation.parquet` and `sensitivity.parquet`
(or given explicitly); when absent, their figures are left out."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import textwrap
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from . import atomic, plots, style
from .compare import MEASURE_LABELS, Comparison, _number
from .runset import RunSet, from_batch, manifests

CALIBRATION_FILE = Path("calibration") / "fitted" / "validation.parquet"
SENSITIVITY_FILE = Path("sensitivity.parquet")
A4 = (8.27, 11.69)
MAX_PAGES = 5
MARGIN = 0.35  # inches around each page, inside what printers can print
TABLE_MEASURES = (("irregular_crossings_into_eu", "all"), ("arrivals", "all"), ("peak_transit_pressure", "all"),
                  ("days_over_capacity", "all"), ("smuggler_revenue_eur", "all"), ("returns", "all"),
                  ("legal_departures", "all"), ("median_days_in_transit", "all"))
LEVER_KEYS_SKIPPED = ("type", "name", "start", "end")
# Figures that may share a page, in the order pairs are formed when the pages run short.
PAIRS = (("route-map", "pressure-heatmap"), ("calibration-fit", "sensitivity"), ("comparison", "monthly-crossings"))
# A figure's share of a page it shares (the other gets the rest): what each needs to stay legible.
HALF_PAGE_SHARE = {"comparison": 0.55, "route-map": 0.56, "calibration-fit": 0.62}
CONTENTS = {"comparison": "how each scenario changes the headline measures",
            "monthly-crossings": "border crossings per month",
            "route-map": "where people travelled and where reception ran out (baseline)",
            "pressure-heatmap": "transit pressure by place and week (baseline)",
            "calibration-fit": "calibration: the model against observed figures",
            "sensitivity": "which parameters drive the results"}


@dataclass
class Briefing:
    """What the report was made of and where it went."""

    pdf: Path
    pages: int
    figures: dict[str, list[Path]] = field(default_factory=dict)
    calibration: Path | None = None
    sensitivity: Path | None = None
    layout: list[list[str]] = field(default_factory=list)  # the figures on each figure page


def find_optional(batch: Path, relative: Path) -> Path | None:
    for base in (batch, Path.cwd()):
        if (base / relative).exists():
            return base / relative
    return None


def plan_pages(names: list[str], budget: int) -> list[list[str]]:
    """The figures on each page: one a page while they fit in `budget` pages, else pairs from
    PAIRS, formed in PAIRS' order, until they do."""
    groups = [[name] for name in names]
    for first, second in PAIRS:
        if len(groups) <= budget:
            break
        if [first] in groups and [second] in groups:
            groups[groups.index([first])] = [first, second]
            groups.remove([second])
    while len(groups) > budget:  # a figure outside PAIRS: pair the last two single pages
        singles = [k for k, group in enumerate(groups) if len(group) == 1]
        if len(singles) < 2:
            raise ValueError(f"{len(names)} figures do not fit on {budget} pages")
        a, b = singles[-2:]
        groups[a] = groups[a] + groups.pop(b)
    return groups


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

    period = plots._period(runs)
    draw: dict[str, Callable] = {
        "comparison": lambda into=None: plots.comparison_chart(comparison, measures=TABLE_MEASURES, period=period,
                                                               into=into),
        "monthly-crossings": lambda into=None: plots.monthly_flows(runs, into=into),
        "route-map": lambda into=None: plots.route_map(runs, into=into),
        "pressure-heatmap": lambda into=None: plots.pressure_heatmap(runs, into=into),
    }
    if calibration is not None:
        calibration_table = pd.read_parquet(calibration)
        draw["calibration-fit"] = lambda into=None: plots.calibration_fit(calibration_table, into=into)
    if sensitivity is not None:
        sensitivity_table = pd.read_parquet(sensitivity)
        about, _ = sweep_context(sensitivity)
        draw["sensitivity"] = lambda into=None: plots.sensitivity_chart(sensitivity_table, about=about, into=into)
    # Each figure full size first: saved beside the PDF, and its height sizes its share of a page.
    full = {name: make() for name, make in draw.items()}
    groups = plan_pages(list(draw), MAX_PAGES - 2)
    numbers = {name: k + 2 for k, group in enumerate(groups) for name in group}
    total = len(groups) + 2
    calibration_use = calibration_status(runs, calibration) if calibration is not None else None

    briefing = Briefing(pdf=out, pages=0, calibration=calibration, sensitivity=sensitivity, layout=groups)
    # The PDF replaces `out` only once it is closed and whole.
    with atomic.replacing(out) as temporary, style.context(), PdfPages(
            temporary, metadata={"Title": f"balkansim briefing: {batch.name}", "Creator": "balkansim report"}) as pdf:
        pages = [front_page(comparison, runs, numbers, calibration_use)]
        pages += [figure_page([(name, draw[name], full[name]) for name in group]) for group in groups]
        pages.append(assumptions_page(runs, batch, out, calibration, sensitivity, formats))
        for k, page in enumerate(pages):
            page.text(0.5, 0.012, f"balkansim briefing · {batch.name} · page {k + 1} of {total}", ha="center",
                      va="bottom", fontsize=6.5, color="#777777")
            pdf.savefig(page)
            briefing.pages += 1
    beside = dict(full)
    if len(runs.scenarios) > 1 and formats:
        beside["route-difference-map"] = plots.route_difference_map(runs)
    for name, figure in beside.items():
        paths = [out.with_name(f"{out.stem}-{name}.{suffix}") for suffix in formats]
        for path in paths:
            figure.savefig(path)
        briefing.figures[name] = paths
    return briefing


def figure_page(figures: list[tuple[str, Callable, Figure]]) -> Figure:
    """An A4 page holding one figure (at its full height when that fits), or two one above the
    other (the first taking its HALF_PAGE_SHARE, default half), each drawn for its space."""
    page = Figure(figsize=A4, layout="constrained")
    width, height = A4[0] - 2 * MARGIN, A4[1] - 2 * MARGIN - 0.15  # 0.15: the page number
    gap = 0.25  # inches between two figures
    page.get_layout_engine().set(rect=(MARGIN / A4[0], (MARGIN + 0.15) / A4[1], width / A4[0], height / A4[1]),
                                 hspace=gap / A4[1])
    if len(figures) == 1:
        shares = [min(figures[0][2].get_size_inches()[1], height)]
    else:
        first = HALF_PAGE_SHARE.get(figures[0][0], 0.5) * height
        shares = [first, height - first]
    rest = height - sum(shares)
    grid = page.add_gridspec(len(figures) + (rest > 0.05), 1, height_ratios=shares + ([rest] if rest > 0.05 else []))
    for k, (_, make, _) in enumerate(figures):
        canvas = page.add_subfigure(grid[k])
        canvas.planned_size = (width, shares[k] - (gap / 2 if len(figures) > 1 else 0))
        make(into=canvas)
    return page


# ------------------------------------------------------------------ the text
def summary_paragraph(comparison: Comparison, runs: RunSet, calibration_use: str | None = None,
                      calibration_page: int | None = None) -> str:
    """What the numbers say, in sentences built only from the headline table; the last sentence
    says how far to trust them: `calibration_use` from calibration_status() ("uses", "differs",
    "unknown"), or None when no calibration fit is in the briefing."""
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
            # The largest reduction, or when no scenario reduces them, the largest increase.
            lowest = (clear.difference_median.idxmin() if (clear.difference_median < 0).any()
                      else clear.difference_median.idxmax())
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
    largest = _largest_relative_change(summary, base, others)
    if largest is not None:
        measure, scenario, base_value, value, share = largest
        sentences.append(
            f"The largest relative change among the other headline measures: '{scenario}' "
            f"{'raises' if share > 0 else 'lowers'} the {MEASURE_LABELS.get(measure, measure.replace('_', ' '))} "
            f"from {_short(base_value)} to {_short(value)} ({share:+.0%}).")
    where = f" (page {calibration_page})" if calibration_page else ""
    sentences.append("Numbers are model output, not forecasts. " + {
        None: "No calibration output was found for this briefing: read the numbers as a demonstration of how the "
              "scenarios differ, not as estimates of real flows.",
        "uses": f"The scenarios use the model's calibrated behaviour parameters; the calibration fit{where} shows how "
                "closely the calibrated model reproduces observed figures.",
        "differs": f"The calibration fit{where} shows how closely the model reproduces observed figures once its "
                   "behaviour parameters are fitted to them; the scenarios compared here do not use those fitted "
                   "values (their behaviour parameters are assumptions), so read the numbers as a comparison of "
                   "scenarios, not as estimates of real flows.",
        "unknown": f"The calibration fit{where} shows how closely the model reproduces observed figures once fitted; "
                   "whether these scenarios use the fitted parameters is not recorded beside the fit "
                   "(no calibrated.toml), so read the numbers as a comparison of scenarios.",
    }[calibration_use])
    return " ".join(sentences)


def _largest_relative_change(summary: pd.DataFrame, base: str, others: list[str], at_least: float = 0.05):
    """(measure, scenario, baseline median, scenario median, share) of the largest clear change
    (its 5–95 % band of paired differences excludes zero) relative to the baseline, among the
    headline measures other than irregular crossings; None when none reaches `at_least`."""
    best = None
    for measure, where in TABLE_MEASURES:
        if measure == "irregular_crossings_into_eu" or (measure, where, base) not in summary.index:
            continue
        base_value = summary.loc[(measure, where, base), "median"]
        if not (np.isfinite(base_value) and base_value > 0):
            continue
        for scenario in others:
            if (measure, where, scenario) not in summary.index:
                continue
            row = summary.loc[(measure, where, scenario)]
            if not (row.difference_low > 0 or row.difference_high < 0):
                continue
            share = row.difference_median / base_value
            if abs(share) >= at_least and (best is None or abs(share) > abs(best[4])):
                best = (measure, scenario, base_value, row["median"], share)
    return best


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
            text = f"{_short(r['median'])}\n{_range(r.low, r.high)}"
            if scenario != runs.baseline:
                text += f"\nΔ {_short(r.difference_median, signed=True)}"
            cells.append(text)
        rows.append(cells)
    return columns, rows


def _range(low: float, high: float) -> str:
    """'[1.174 – 1.175 bn]': the unit word once when both ends share it."""
    low_text, high_text = _short(low), _short(high)
    for suffix in (" bn", " M", " k"):
        if low_text.endswith(suffix) and high_text.endswith(suffix):
            low_text = low_text[:-len(suffix)]
    return f"[{low_text} – {high_text}]"


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


def lever_blocks(runs: RunSet) -> list[tuple[str, list[str]]]:
    """Per scenario: a line naming it with its description, and a line per lever (levers shared
    with the baseline are listed once, under the baseline)."""
    blocks = []
    shared = runs.scenario_data[runs.baseline].get("levers", [])
    for scenario in runs.scenarios:
        data = runs.scenario_data[scenario]
        is_baseline = scenario == runs.baseline
        own = [lever for lever in data.get("levers", []) if is_baseline or lever not in shared]
        also = "" if is_baseline or not shared or len(own) == len(data.get("levers", [])) else " The baseline's levers, and:"
        title = f"{scenario}{' (baseline)' if is_baseline else ''}: {data.get('description', '').rstrip('.')}.{also}"
        lines = []
        for lever in own:
            settings = ", ".join(f"{k.replace('_', ' ')} {_setting(v)}" for k, v in lever.items()
                                 if k not in LEVER_KEYS_SKIPPED and v not in (None, [], {}, ""))
            when = f"from {lever['start']}" if lever.get("start") else "whole period"
            if lever.get("end"):
                when += f" to {lever['end']}"
            lines.append(f"– {lever.get('name') or lever['type']} [{lever['type'].replace('_', ' ')}, {when}]: {settings}")
        if not data.get("levers"):
            lines.append("– no policy levers")
        blocks.append((title, lines))
    return blocks


def lever_lines(runs: RunSet) -> list[str]:
    return [line for title, lines in lever_blocks(runs) for line in [title] + ["    " + x for x in lines]]


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


def identity_lines(runs: RunSet, batch: Path, report_command: str | None = None) -> list[str]:
    found = manifests(batch)
    versions = sorted({str(m.get("package_version")) for m in found})
    commits = sorted({str(m.get("git_commit")) for m in found})
    seeds = sorted({int(m["seed"]) for m in found})
    first = found[0] if found else {}
    dependencies = ", ".join(f"{k} {v}" for k, v in first.get("dependencies", {}).items() if v)
    definition = _definition(batch)
    root_seed = definition.get("root_seed", seeds[0] if seeds else None)
    command = ("balkansim compare " + " ".join(_relative(s.get("file")) for s in definition["scenarios"])
               + f" --replicates {runs.replicates}" + (f" --seed {root_seed}" if root_seed is not None else "")
               + (f" --days {definition['days']}" if definition.get("days") else ""))
    dirty = " (with uncommitted changes: that commit alone may not reproduce the runs)" \
        if any(c.endswith("-dirty") for c in commits) else ""
    return [
        f"balkansim {', '.join(versions)}; git commit {', '.join(commits)}{dirty}; Python {first.get('python', '?')}",
        f"Batch {batch.resolve()}: {len(found)} runs ({len(runs.scenarios)} scenarios x {runs.replicates} replicates), "
        f"seeds {', '.join(str(s) for s in seeds)} (replicate i uses the same seed in every scenario)",
        f"Make the same batch: {command}",
        f"Then this briefing: {report_command or 'balkansim report ' + _relative(str(batch))}",
        f"Dependencies: {dependencies}",
        f"Report made {dt.datetime.now():%Y-%m-%d %H:%M}.",
    ]


def _definition(batch: Path) -> dict:
    return json.loads((batch / "batch.json").read_text(encoding="utf-8"))["definition"]


def _relative(path: str | None) -> str:
    if not path:
        return "(scenario built in code)"
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def sweep_context(sensitivity: Path) -> tuple[str, str]:
    """From the sweep's batch.json beside a sensitivity table: a sentence naming the swept scenario
    and the runs, and one giving each parameter's range; empty when there is no batch.json."""
    try:
        definition = _definition(Path(sensitivity).parent)
        sweep = definition["sweep"]
    except (OSError, KeyError, ValueError):
        return "", ""
    runs = len(json.loads((Path(sensitivity).parent / "batch.json").read_text(encoding="utf-8")).get("runs", []))
    base = Path(definition.get("base_scenario") or sweep.get("base") or "").stem
    about = (f"Swept: the '{base}' scenario, {runs} runs" + (f" ({sweep['description']})" if sweep.get("description")
                                                                else "") + ".")
    ranges = "; ".join(f"{plots._parameter_label(key)} {_setting(spec.get('min'))}–{_setting(spec.get('max'))}"
                       if spec.get("min") is not None else
                       f"{plots._parameter_label(key)} {_setting(spec.get('values'))}"
                       for key, spec in sweep.get("parameters", {}).items())
    return about, (f"Ranges tried: {ranges}." if ranges else "")


def calibration_status(runs: RunSet, validation: Path) -> str:
    """Whether the batch's baseline uses the fitted parameters of the calibration whose validation
    table is `validation`: "uses" or "differs" when calibrated.toml lies beside it (its values are
    compared with the baseline's), else "unknown"."""
    fitted_file = Path(validation).parent / "calibrated.toml"
    try:
        fitted = tomllib.loads(fitted_file.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return "unknown"
    scenario = runs.scenario_data[runs.baseline]

    def pairs(table: dict, used: dict, prefix: str = ""):
        for key, value in table.items():
            if isinstance(value, dict):
                yield from pairs(value, used.get(key) or {} if isinstance(used, dict) else {}, f"{prefix}{key}.")
            else:
                yield value, used.get(key) if isinstance(used, dict) else None

    compared = list(pairs(fitted, scenario))
    if not compared:
        return "unknown"
    same = all(isinstance(v, (int, float)) and isinstance(u, (int, float)) and math.isclose(v, u, rel_tol=1e-6)
               or v == u for v, u in compared)
    return "uses" if same else "differs"


# ------------------------------------------------------------------ the text pages
class TextPage:
    """An A4 page written from the top: wrapped paragraphs, headings and tables, with a cursor.
    `scale` shrinks every font (and so the text's height) when a page would overflow; `overflow`
    says whether something did not fit (it is then cut, never run onto another page)."""

    def __init__(self, scale: float = 1.0):
        self.figure = Figure(figsize=A4)
        self.scale = scale
        self.left = MARGIN / A4[0]
        self.width_inches = A4[0] - 2 * MARGIN
        self.y = 1 - MARGIN / A4[1]
        self.foot = (MARGIN + 0.2) / A4[1]
        self.overflow = False

    def text(self, content: str, size: float = 8, weight: str = "normal", gap: float = 0.06,
             colour: str = "#111111", indent: str = "", keep: int = 1) -> None:
        """Paragraphs (one per line of `content`) wrapped to the page; `gap` inches after them;
        a heading (`keep` > 1) moves on only with `keep` lines of room below it."""
        size *= self.scale
        chars = int(self.width_inches * 72 / (size * 0.56))
        lines = []
        for paragraph in content.split("\n"):
            lines += textwrap.wrap(paragraph, chars, subsequent_indent=indent) or [""]
        line_height = size * 1.3 / 72 / A4[1]
        fits = max(int((self.y - self.foot) / line_height) - (keep - 1), 0)
        if fits < len(lines):
            self.overflow = True
            lines = lines[:fits]
        if lines:
            self.figure.text(self.left, self.y, "\n".join(lines), fontsize=size, fontweight=weight, va="top",
                             ha="left", color=colour, linespacing=1.3)
        self.y -= len(lines) * line_height + gap * self.scale / A4[1]

    def heading(self, content: str, size: float = 10.5) -> None:
        self.text(content, size=size, weight="bold", gap=0.03, keep=4)

    def table(self, columns: list[str], rows: list[list[str]], lines_per_row: int = 3, size: float = 6.5) -> None:
        size *= self.scale
        row_height = (lines_per_row * size * 1.25 / 72 + 0.05) / A4[1]
        height = row_height * (len(rows) + 1)
        if height > self.y - self.foot:
            self.overflow = True
            return
        first = 0.22
        axis = self.figure.add_axes((self.left, self.y - height, self.width_inches / A4[0], height))
        axis.axis("off")
        table = axis.table(cellText=rows, colLabels=[textwrap.fill(c.replace("_", " "), 14) for c in columns],
                           loc="upper left", cellLoc="center", colLoc="center",
                           colWidths=[first] + [(1 - first) / max(len(columns) - 1, 1)] * (len(columns) - 1))
        table.auto_set_font_size(False)
        table.set_fontsize(size)
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
        self.y -= height + 0.15 / A4[1]


def _fitting(write: Callable[[TextPage], None]) -> Figure:
    """The page `write` makes, in the largest of a few font scales at which everything fits."""
    for scale in (1.0, 0.92, 0.84, 0.76, 0.68):
        page = TextPage(scale)
        write(page)
        if not page.overflow:
            return page.figure
    return page.figure  # still too long at the smallest scale: cut at the foot


def front_page(comparison: Comparison, runs: RunSet, numbers: dict[str, int], calibration_use: str | None) -> Figure:
    """Summary, headline table, a line per scenario, what the model is, what the other pages hold."""
    others = len(runs.scenarios) - 1

    def write(page: TextPage) -> None:
        page.text(f"Western Balkan route: {others} policy scenario{'s' if others != 1 else ''} against "
                  f"'{runs.baseline}'", size=15, weight="bold", gap=0.02)
        page.text(f"Simulated {plots._date(runs.start)} – {plots._date(runs.end)} · {runs.replicates} replicates per "
                  "scenario · balkansim agent-based model", size=9, colour="#444444", gap=0.16)
        page.heading("Summary")
        page.text(summary_paragraph(comparison, runs, calibration_use, numbers.get("calibration-fit")), size=8.5,
                  gap=0.14)
        page.heading("Headline measures over the period (whole route)")
        page.text("Each cell: median over replicates, [5–95 % of replicates], and for each scenario Δ, the median paired "
                  "difference from the baseline (same seeds). M million, k thousand.", size=7.5, colour="#444444")
        columns, rows = headline_table(comparison, runs)
        page.table(columns, rows)
        page.heading("The scenarios")
        page.text("\n".join(scenario_lines(runs)), size=7.5, indent="    ", gap=0.02)
        page.text(f"Their lever settings, the data sources and how to reproduce the runs: page {len(set(numbers.values())) + 2}.",
                  size=7.5, colour="#444444", gap=0.14)
        page.heading("About the model")
        page.text("balkansim simulates each person on the way from the Turkish coast and the Turkish land borders "
                  "through Greece and the Western Balkans to Austria, Germany or Switzerland, day by day: where they "
                  "wait, which border they try, whether they pay a smuggler, where they are stopped, pushed back or "
                  "claim asylum. Arrivals follow observed monthly figures; border, reception and policy settings come "
                  "from each scenario. Every scenario is run several times with different random seeds (replicate i "
                  "with the same seed in every scenario), so the briefing gives medians and the 5–95 % range over "
                  "those runs, and paired differences that are not blurred by chance.", size=8, gap=0.14)
        page.heading("In this briefing")
        pages: dict[int, list[str]] = {}
        for name, number in numbers.items():
            pages.setdefault(number, []).append(CONTENTS.get(name, name))
        lines = [f"Page {number}: {'; '.join(what)}" for number, what in sorted(pages.items())]
        lines.append(f"Page {max(pages, default=1) + 1}: assumptions (lever settings per scenario), data sources, "
                     "and how to reproduce this briefing")
        page.text("\n".join(lines), size=8)

    return _fitting(write)


def scenario_lines(runs: RunSet) -> list[str]:
    lines = []
    for scenario in runs.scenarios:
        description = runs.scenario_data[scenario].get("description", "")
        lines.append(f"{scenario}{' (baseline)' if scenario == runs.baseline else ''}: {description}")
    return lines


def assumptions_page(runs: RunSet, batch: Path, out: Path, calibration: Path | None, sensitivity: Path | None,
                     formats: tuple[str, ...]) -> Figure:
    """Lever settings per scenario, data sources, run identity and the commands that reproduce."""
    report = f"balkansim report {_relative(str(batch))} --out {_relative(str(out))}"
    for option, path in (("--calibration", calibration), ("--sensitivity", sensitivity)):
        if path is not None:
            report += f" {option} {_relative(str(path))}"

    def write(page: TextPage) -> None:
        page.text("Assumptions, sources and how to reproduce", size=14, weight="bold", gap=0.14)
        page.heading("Scenarios and their policy levers", size=10)
        page.text("Each lever: its name [kind, when it is in force]: its settings, as written in the scenario file.",
                  size=7.5, colour="#444444", gap=0.04)
        for title, lines in lever_blocks(runs):
            page.text(title, size=7.5, weight="bold", gap=0.0, keep=2)
            page.text("\n".join(lines), size=7.5, indent="    ", gap=0.06)
        page.y -= 0.06 / A4[1]
        page.heading("Data sources", size=10)
        page.text("\n".join(source_lines(runs)), size=7.5, gap=0.12)
        extra = []
        if calibration is not None:
            extra.append(f"Calibration fit: {_relative(str(calibration))} (see docs/calibration.md).")
        if sensitivity is not None:
            about, ranges = sweep_context(sensitivity)
            extra.append(f"Sensitivity indices: {_relative(str(sensitivity))}. {about} {ranges}".strip())
        if extra:
            page.text("\n".join(extra), size=7.5, gap=0.12)
        page.heading("What identifies the runs, and how to reproduce this briefing", size=10)
        page.text("\n".join(identity_lines(runs, batch, report)), size=7.5, gap=0.12)
        if formats:
            page.text(f"Every figure is also saved full size beside this PDF ({out.stem}-<figure>."
                      f"{'/'.join(formats)}), with the map of where each scenario moves people against the baseline "
                      f"({out.stem}-route-difference-map), which is not printed here.", size=7.5, colour="#444444")

    return _fitting(write)
