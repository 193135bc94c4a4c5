"""The look of every briefing figure: one font family, scenario colours that stay apart for
colour-blind readers and in greyscale print, and the same colour, marker and line for the same
scenario in every figure.

Colours are the Okabe-Ito palette (Okabe & Ito 2008, "Color Universal Design"), which stays
distinct under the common colour-vision deficiencies. Some of its colours have nearly the same
lightness, so each scenario also gets its own marker and line style: in greyscale the shapes
tell scenarios apart. The baseline is always black."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Iterator, Sequence

import matplotlib as mpl
import matplotlib.colors as mcolors

FONT_FAMILY = "DejaVu Sans"  # ships with matplotlib, so every machine renders the same glyphs
BASELINE_COLOUR = "#000000"
# Okabe-Ito without black (kept for the baseline), darkest and most distinct first; the yellow
# is last because it is faint on white paper.
PALETTE = ("#E69F00", "#0072B2", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)), (0, (1, 1)), (0, (8, 2)))
BAND_ALPHA = 0.2
OBSERVED_COLOUR = "#000000"
EVENT_COLOUR = "#555555"
# Transit pressure: light (room to spare) to dark (crowded), lightness falling throughout so
# that greyscale print keeps the order; the over-capacity threshold (1) is drawn as an outline.
PRESSURE_CMAP = "magma_r"
BAND_NOTE = "median over replicates; band: 5–95 % of replicates"

RC = {
    "font.family": "sans-serif",
    "font.sans-serif": [FONT_FAMILY],
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.labelsize": 9,
    "figure.titlesize": 12,
    "figure.titleweight": "bold",
    "legend.fontsize": 8,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "figure.dpi": 100,
    "savefig.dpi": 200,
    "svg.fonttype": "none",  # text stays text in SVG, editable and searchable
    "pdf.fonttype": 42,  # TrueType in PDFs, so text can be copied
}


@dataclass(frozen=True)
class ScenarioLook:
    colour: str
    marker: str
    linestyle: object


def scenario_looks(scenarios: Sequence[str], baseline: str | None = None) -> dict[str, ScenarioLook]:
    """A look per scenario by its position in the comparison (baseline first and black), so one
    batch's figures agree with each other."""
    baseline = baseline if baseline is not None else (scenarios[0] if scenarios else None)
    others = [s for s in scenarios if s != baseline]
    looks = {}
    if baseline is not None:
        looks[baseline] = ScenarioLook(BASELINE_COLOUR, MARKERS[0], LINESTYLES[0])
    for k, name in enumerate(others):
        looks[name] = ScenarioLook(PALETTE[k % len(PALETTE)], MARKERS[(k + 1) % len(MARKERS)],
                                   LINESTYLES[(k + 1) % len(LINESTYLES)])
    return looks


def pressure_cmap() -> mcolors.Colormap:
    return mpl.colormaps[PRESSURE_CMAP]


@contextlib.contextmanager
def context() -> Iterator[None]:
    """Matplotlib settings for briefing figures, for the duration of a `with` block."""
    with mpl.rc_context(RC):
        yield


def styled(function):
    """Run a figure function inside the briefing style."""
    import functools

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with context():
            return function(*args, **kwargs)

    return wrapper
