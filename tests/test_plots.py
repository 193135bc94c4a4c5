"""Briefing figures on a small real comparison batch (the tiny network, two scenarios, two
replicates): each figure has the titles, axes, legend entries and marks a reader needs."""

from __future__ import annotations

import io

import matplotlib.text
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection
from matplotlib.image import AxesImage

from simulation import plots, style
from simulation.compare import Comparison, compare
from simulation.results import simulate
from simulation.runset import from_batch

from .conftest import tiny_scenario

CHECKS_FROM_5_JANUARY = [{"type": "border_enforcement", "name": "Bulgaria checks", "countries": ["BG"],
                          "detection_probability": 0.5, "pushback_share": 1.0, "start": "2020-01-05"}]


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    folder = tmp_path_factory.mktemp("plots") / "batch"
    scenarios = [tiny_scenario(), tiny_scenario(name="tiny_bulgaria_checks", levers=CHECKS_FROM_5_JANUARY)]
    comparison = compare(scenarios, replicates=2, workers=1, out=folder, progress=False)
    assert comparison.outcome.ok
    return folder


def texts(figure) -> list[str]:
    return [t.get_text().replace("\n", " ") for t in figure.findobj(matplotlib.text.Text) if t.get_text()]


def legend_labels(figure) -> list[str]:
    return [t.get_text() for legend in figure.legends for t in legend.get_texts()]


def visible_axes(figure):
    return [a for a in figure.axes if a.get_visible() and a.get_label() != "<colorbar>"]


def test_route_map_draws_every_link_and_marks_places_over_capacity(batch):
    figure = plots.route_map(from_batch(batch))
    axis = visible_axes(figure)[0]
    assert "'tiny', 1 Jan 2020 – 10 Jan 2020" in " ".join(texts(figure))
    assert len(axis.get_lines()) == 5  # one line per link of the tiny network
    widths = sorted(line.get_linewidth() for line in axis.get_lines())
    assert widths[-1] > widths[0]  # width follows the people along the link
    labels = legend_labels(figure)
    assert "over capacity on some day" in labels and any(label.endswith(" people") for label in labels)
    # 'mid' has 10 reception places for 3,100 people: ringed as over capacity.
    rings = [c for c in axis.collections if isinstance(c, PathCollection) and np.allclose(c.get_facecolors()[:, 3], 0)]
    assert any(len(r.get_offsets()) >= 1 for r in rings)
    assert any(t.startswith("Middle ") for t in texts(figure))  # the most crowded places are named
    assert any("transit pressure" in a.get_ylabel() for a in figure.axes)  # the colour bar says what colour means
    for code in ("GREECE", "AUSTRIA", "BULGARIA", "NORTH MACEDONIA"):
        assert code in texts(figure)


def test_difference_map_has_a_panel_per_scenario_besides_the_baseline(batch):
    figure = plots.route_difference_map(batch)
    assert [a.get_title() for a in visible_axes(figure)] == ["tiny_bulgaria_checks"]
    assert "against 'tiny'" in texts(figure)[0] or any("against 'tiny'" in t for t in texts(figure))
    assert any("place over capacity" in label for label in legend_labels(figure))


def test_monthly_flows_band_per_scenario_and_policy_events_marked(batch):
    figure = plots.monthly_flows(batch, countries=["MK", "BG"])
    axes = visible_axes(figure)
    assert [a.get_title(loc="left") for a in axes] == ["into North Macedonia (MK)", "into Bulgaria (BG)"]
    assert all(a.get_ylabel() == "people per month" for a in axes)
    labels = legend_labels(figure)
    assert labels == ["tiny (baseline)", "tiny_bulgaria_checks", "5–95 % of replicates"]
    everything = " ".join(texts(figure))
    assert "1 Jan 2020 – 10 Jan 2020" in everything
    assert "A 5 Jan 2020: Bulgaria checks starts (tiny_bulgaria_checks)" in everything
    # The dashed event line sits on the lever's start date in each panel.
    event_lines = [line for line in axes[0].get_lines() if line.get_linestyle() not in ("-", "None")
                   and len(line.get_xdata()) == 2 and line.get_xdata()[0] == line.get_xdata()[1]]
    assert event_lines and pd.Timestamp(event_lines[0].get_xdata()[0]) == pd.Timestamp("2020-01-05")


def test_pressure_heatmap_rows_are_places_and_over_capacity_cells_are_marked(batch):
    figure = plots.pressure_heatmap(batch)
    axis = visible_axes(figure)[0]
    assert [t.get_text() for t in axis.get_yticklabels()] == ["Middle (GR)", "Goal (AT)"]  # south to north
    assert any(isinstance(image, AxesImage) for image in axis.get_images())
    dots = [c for c in axis.collections if isinstance(c, PathCollection)]
    assert dots and len(dots[0].get_offsets()) >= 1  # 'mid' over capacity in some week
    assert any("over capacity" in label for label in legend_labels(figure))
    assert any("'tiny'" in t and "Transit pressure by place and week" in t for t in texts(figure))
    assert axis.get_xlabel() == "week starting (Monday)"


def test_comparison_chart_one_panel_per_measure_with_unit_and_baseline_value(batch):
    comparison = Comparison.from_folder(batch)
    figure = comparison.plot(measures=[("irregular_crossings_into_eu", "all"), ("pushbacks", "all")])
    axes = visible_axes(figure)
    assert [a.get_title(loc="left").split("\n")[0] for a in axes] == ["Irregular crossings into the EU", "Pushbacks"]
    assert all(a.get_title(loc="left").split("\n")[1].startswith("baseline ") for a in axes)
    assert all([t.get_text() for t in a.get_yticklabels()] == ["tiny_bulgaria_checks"] for a in axes)
    assert axes[1].get_xlabel() == "difference from tiny (people)"
    # Bulgaria's pushbacks: the scenario's difference is above zero.
    summary = comparison.summary().set_index(["measure", "where", "scenario"])
    assert summary.loc[("pushbacks", "all", "tiny_bulgaria_checks"), "difference_median"] > 0
    assert any("5–95 %" in label for label in legend_labels(figure))


def test_the_same_scenario_has_the_same_colour_in_every_figure(batch):
    looks = style.scenario_looks(["tiny", "tiny_bulgaria_checks"])
    monthly = plots.monthly_flows(batch, countries=["BG"])
    colours = {line.get_label(): line.get_color() for line in visible_axes(monthly)[0].get_lines()
               if line.get_label() in looks}
    assert colours == {name: look.colour for name, look in looks.items()}
    chart = plots.comparison_chart(Comparison.from_folder(batch), measures=[("pushbacks", "all")])
    marker_colours = {line.get_color() for line in visible_axes(chart)[0].get_lines() if line.get_marker() not in (None, "None", "")}
    assert looks["tiny_bulgaria_checks"].colour in marker_colours


def test_scenario_looks_differ_in_shape_as_well_as_colour():
    names = [f"s{k}" for k in range(8)]
    looks = style.scenario_looks(names)
    assert looks["s0"].colour == style.BASELINE_COLOUR
    assert len({look.colour for look in looks.values()}) == 8
    # In greyscale some colours are alike, so markers and line styles must tell them apart.
    assert len({(look.marker, str(look.linestyle)) for look in looks.values()}) == 8


def calibration_table() -> pd.DataFrame:
    months = pd.date_range("2015-07-01", periods=6, freq="MS")
    frame = pd.DataFrame({"series": np.repeat(["arrivals in Greece", "crossings into Hungary"], 6),
                          "month": list(months) * 2, "observed": np.arange(12) * 1000.0 + 500,
                          "fitted": [True] * 4 + [False] * 2 + [True] * 4 + [False] * 2})
    frame["simulated_median"] = frame.observed * 1.1
    frame["simulated_low"], frame["simulated_high"] = frame.observed * 0.9, frame.observed * 1.3
    frame["source"] = "IOM DTM"
    return frame


def test_calibration_fit_tells_fitted_from_out_of_sample_months():
    figure = plots.calibration_fit(calibration_table())
    axes = visible_axes(figure)
    assert [a.get_title(loc="left") for a in axes] == ["arrivals in Greece", "crossings into Hungary"]
    for axis in axes:
        markers = [line for line in axis.get_lines() if line.get_marker() == "o"]
        filled = [m for m in markers if m.get_markerfacecolor() != "white"]
        hollow = [m for m in markers if m.get_markerfacecolor() == "white"]
        assert len(filled[0].get_xdata()) == 4 and len(hollow[0].get_xdata()) == 2
        assert len(axis.patches) == 1  # the two out-of-sample months shaded as one span
        assert axis.get_yscale() == "linear"  # simulated within 30 % of observed
    labels = legend_labels(figure)
    assert "observed, month used in fitting" in labels
    assert any("out of sample" in label for label in labels)
    assert any("Observed data: IOM DTM" in t for t in texts(figure))
    with pytest.raises(ValueError, match="missing: fitted"):
        plots.calibration_fit(calibration_table().drop(columns="fitted"))


def validation_table() -> pd.DataFrame:
    """As calibration/fitted/validation.parquet: a full fit and an out-of-sample fit (its last two
    months not fitted), the model overshooting one series tenfold."""
    parts = []
    for fit in ("full", "out_of_sample"):
        part = calibration_table().assign(fit=fit, runs=8, fitted=True)
        part["series"] = part.series.map({"arrivals in Greece": "arrivals_in_greece",
                                          "crossings into Hungary": "western_balkan_route_detections"})
        if fit == "out_of_sample":
            part["fitted"] = part.month < pd.Timestamp("2015-11-01")
        overshoot = part.series == "western_balkan_route_detections"
        for column in ("simulated_median", "simulated_low", "simulated_high"):
            part.loc[overshoot, column] *= 10
        part["predictive_low"], part["predictive_high"] = part.simulated_low / 2, part.simulated_high * 2
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def test_calibration_fit_of_a_validation_table_has_a_row_per_fit_and_a_log_scale_when_needed():
    figure = plots.calibration_fit(validation_table())
    axes = visible_axes(figure)
    assert [a.get_title(loc="left") for a in axes] == [
        "Arrivals in greece\nfull fit", "Western Balkan route detections\nfull fit",
        "Arrivals in greece\nout-of-sample test", "Western Balkan route detections\nout-of-sample test"]
    assert all(a.get_yscale() == "log" for a in axes)  # the model overshoots tenfold: observed would lie flat
    assert axes[0].get_ylim() == axes[2].get_ylim()  # a series' two fits on the same scale
    assert [len(a.patches) for a in axes] == [0, 0, 1, 1]  # only the out-of-sample fit has unfitted months
    everything = " ".join(texts(figure))
    assert "Top row: full fit, parameters fitted to Jul – Dec 2015" in everything
    assert "Bottom row: out-of-sample test, parameters fitted to Jul – Oct 2015 and run on through Nov – Dec 2015" \
        in everything
    assert "Log scale" in everything and "over 8 runs per month" in everything
    assert "simulated, 90 % predictive band (adds observation error)" in legend_labels(figure)
    assert plots.calibration_fit(validation_table(), log=False).axes[0].get_yscale() == "linear"


def test_sensitivity_chart_ranks_parameters_by_total_index():
    rows = []
    for parameter, total in (("seat_factor", 0.7), ("detection", 0.1), ("smuggler_use", 0.4)):
        rows += [{"parameter": parameter, "output": "irregular_crossings_into_eu", "index": "ST", "value": total,
                  "confidence": 0.05},
                 {"parameter": parameter, "output": "irregular_crossings_into_eu", "index": "S1", "value": total / 2,
                  "confidence": 0.05}]
    figure = plots.sensitivity_chart(pd.DataFrame(rows))
    axis = visible_axes(figure)[0]
    # Largest at the top (the last tick on a horizontal bar chart).
    assert [t.get_text() for t in axis.get_yticklabels()] == ["detection", "smuggler use", "seat factor"]
    assert len(axis.patches) == 6
    labels = legend_labels(figure)
    assert labels[:2] == ["total (ST): alone and in interaction", "first-order (S1): alone"]
    assert any("Sobol" in t for t in texts(figure))


def test_run_result_plot_methods():
    result = simulate(tiny_scenario(levers=CHECKS_FROM_5_JANUARY), seed=3)
    assert visible_axes(result.plot_route_map())[0].get_lines()
    assert any("Bulgaria checks starts" in t for t in texts(result.plot_monthly_flows(countries=["BG"])))
    assert result.plot_pressure_heatmap().axes[0].get_images()


def test_figures_drawn_into_half_a_page_adapt_to_the_space(batch):
    """The briefing draws two figures on one A4 page: each into a SubFigure of its share."""
    from matplotlib.figure import Figure

    page = Figure(figsize=(8.27, 11.69), layout="constrained")
    top, bottom = page.subfigures(2, 1)
    top.planned_size = bottom.planned_size = (7.6, 4.0)  # too short for the two-column chart
    chart = plots.comparison_chart(Comparison.from_folder(batch), into=top)
    panels = visible_axes(page)  # axes of every subfigure of the page
    assert chart is top and len(panels) == 8
    assert {a.get_subplotspec().get_gridspec().ncols for a in panels} == {4}  # a full page would have 2
    assert any("baseline" in t and "tiny" not in t for t in texts(top))
    rows = [{"parameter": f"behaviour.p{k}", "output": f"m{j} / all", "index": index, "value": 1.0 + k,
             "confidence": 0.1} for k in range(5) for j in range(6) for index in ("mu_star", "sigma")]
    assert plots.sensitivity_chart(pd.DataFrame(rows), into=bottom) is bottom
    matrix = [a for a in visible_axes(page) if a not in panels]
    assert len(matrix) == 1 and matrix[0].get_images()[0].get_array().shape == (5, 6)  # parameters by outputs
    assert matrix[0].get_yticklabels()[0].get_text() == "p4"  # the most influential first
    page.savefig(io.BytesIO(), format="pdf")  # the page lays out and draws
