"""The PDF briefing of a small real comparison batch: at most five pages with and without the
calibration and sensitivity tables, what each page says, figures beside it, and the
`balkansim report` command."""

from __future__ import annotations

import itertools
import shutil

import pandas as pd
from pypdf import PdfReader

from simulation.cli import main
from simulation.report import MAX_PAGES, PAIRS, calibration_status, make_report, plan_pages
from simulation.runset import from_batch

from .test_plots import batch, validation_table  # noqa: F401 (the module-scoped batch fixture)


def page_texts(path) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(path).pages]


def sensitivity_table() -> pd.DataFrame:
    """Morris indices as `balkansim sensitivity` writes them: several outputs, sweep keys as names."""
    rows = []
    parameters = ("behaviour.rest_probability_per_day", "behaviour.smuggler_use_probability",
                  "levers[Bulgaria checks].detection_probability")
    for k, output in enumerate(("irregular_crossings_into_eu / all", "arrivals / all", "peak_transit_pressure / all",
                                "days_over_capacity / all", "smuggler_revenue_eur / all", "returns / all",
                                "median_days_in_transit / all")):
        for j, parameter in enumerate(parameters):
            value = 10.0 ** k * (j + 1)
            rows += [{"parameter": parameter, "output": output, "index": "mu_star", "value": value,
                      "confidence": value / 4},
                     {"parameter": parameter, "output": output, "index": "sigma", "value": value / 2,
                      "confidence": float("nan")}]
    return pd.DataFrame(rows)


def test_briefing_pages_say_what_a_reader_needs(batch, tmp_path, capsys, monkeypatch):  # noqa: F811
    monkeypatch.chdir(tmp_path)  # no calibration/fitted/validation.parquet of the checkout in the current folder
    assert main(["report", str(batch), "--out", str(tmp_path / "briefing.pdf")]) == 0
    assert "(5 pages)" in capsys.readouterr().out
    briefing_pdf = tmp_path / "briefing.pdf"
    pages = page_texts(briefing_pdf)
    assert len(pages) == 5  # front, comparison, monthly crossings, map and heat map, assumptions
    front, last = pages[0], pages[-1]
    for expected in ("Summary", "Headline measures", "The scenarios", "tiny_bulgaria_checks", "About the model",
                     "In this briefing", "No calibration output was found", "page 1 of 5"):
        assert expected in front, expected
    assert "Page 4: where people travelled" in front and "Page 5: assumptions" in front
    assert "How each scenario changes the headline measures" in pages[1]
    assert "Border crossings per month" in pages[2]
    assert "Where people travelled" in pages[3] and "Transit pressure by place and week" in pages[3]
    for expected in ("Assumptions, sources and how to reproduce", "Scenarios and their policy levers",
                     "Bulgaria checks", "Data sources", "seeds 1, 2", "--replicates 2", "balkansim report"):
        assert expected in last, expected
    for name in ("comparison", "route-map", "monthly-crossings", "pressure-heatmap", "route-difference-map"):
        for suffix in ("png", "svg"):
            path = tmp_path / f"briefing-{name}.{suffix}"
            assert path.exists() and path.stat().st_size > 1000, path


def test_calibration_and_sensitivity_keep_the_briefing_within_five_pages(batch, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "batch"
    shutil.copytree(batch, folder)
    (folder / "calibration" / "fitted").mkdir(parents=True)
    validation_table().to_parquet(folder / "calibration" / "fitted" / "validation.parquet")
    sensitivity_table().to_parquet(folder / "sensitivity.parquet")
    briefing = make_report(folder, formats=())
    pages = page_texts(briefing.pdf)
    assert briefing.pdf == folder / "briefing.pdf" and len(pages) == briefing.pages == 5
    assert briefing.layout == [["comparison", "monthly-crossings"], ["route-map", "pressure-heatmap"],
                               ["calibration-fit", "sensitivity"]]
    assert "How each scenario changes" in pages[1] and "Border crossings per month" in pages[1]
    assert "Calibration: observed and simulated" in pages[3] and "Observed data: IOM DTM" in pages[3]
    assert "out-of-sample test" in pages[3]
    assert "Which parameters drive the results" in pages[3] and "rest probability per day" in pages[3]
    # No calibrated.toml beside the table: the summary cannot say whether the scenarios use the fit.
    assert "calibration fit (page 4)" in pages[0] and "not recorded" in pages[0]
    assert "Assumptions, sources and how to reproduce" in pages[4]


def test_pages_are_planned_within_five_for_every_set_of_figures():
    optional = ["calibration-fit", "sensitivity"]
    for k in range(len(optional) + 1):
        for chosen in itertools.combinations(optional, k):
            names = ["comparison", "monthly-crossings", "route-map", "pressure-heatmap", *chosen]
            groups = plan_pages(names, MAX_PAGES - 2)
            assert len(groups) + 2 <= MAX_PAGES
            assert sorted(n for group in groups for n in group) == sorted(names)
            assert all(len(group) == 1 or tuple(group) in PAIRS for group in groups)
    assert plan_pages(["comparison", "monthly-crossings", "route-map"], 3) == [
        ["comparison"], ["monthly-crossings"], ["route-map"]]  # a page each while they fit


def test_calibration_status_compares_the_fitted_values_with_the_baseline(batch, tmp_path):  # noqa: F811
    runs = from_batch(batch)
    validation = tmp_path / "validation.parquet"
    assert calibration_status(runs, validation) == "unknown"
    value = runs.scenario_data[runs.baseline]["behaviour"]["rest_probability_per_day"]
    (tmp_path / "calibrated.toml").write_text(f"[behaviour]\nrest_probability_per_day = {value}\n")
    assert calibration_status(runs, validation) == "uses"
    (tmp_path / "calibrated.toml").write_text(f"[behaviour]\nrest_probability_per_day = {value / 2 + 0.01}\n")
    assert calibration_status(runs, validation) == "differs"


def test_report_command_refuses_a_folder_that_is_not_a_batch(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "not a batch folder" in capsys.readouterr().err
