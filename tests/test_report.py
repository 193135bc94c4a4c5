"""The PDF briefing of a small real comparison batch: its pages read back, figures beside it,
optional calibration and sensitivity pages, and the `balkansim report` command."""

from __future__ import annotations

import shutil

import pytest
from pypdf import PdfReader

from simulation.cli import main
from simulation.report import make_report

from .test_plots import batch, calibration_table  # noqa: F401 (the module-scoped batch fixture)


def page_texts(path) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(path).pages]


def test_briefing_pages_say_what_a_reader_needs(batch, tmp_path, capsys):  # noqa: F811
    assert main(["report", str(batch), "--out", str(tmp_path / "briefing.pdf")]) == 0
    assert "(5 pages)" in capsys.readouterr().out
    briefing_pdf = tmp_path / "briefing.pdf"
    pages = page_texts(briefing_pdf)
    assert len(pages) == 5  # front page, comparison, map, monthly crossings, heat map
    front = pages[0]
    for expected in ("Summary", "Headline measures", "Scenarios and their policy levers", "Data sources",
                     "To reproduce this briefing", "tiny_bulgaria_checks", "Bulgaria checks",
                     "seeds 1, 2", "--replicates 2", "No calibration output was found"):
        assert expected in front, expected
    assert "How each scenario changes the headline measures" in pages[1]
    assert "Where people travelled" in pages[2]
    assert "Border crossings per month" in pages[3]
    assert "Transit pressure by place and week" in pages[4]
    for name in ("comparison", "route-map", "monthly-crossings", "pressure-heatmap", "route-difference-map"):
        for suffix in ("png", "svg"):
            path = tmp_path / f"briefing-{name}.{suffix}"
            assert path.exists() and path.stat().st_size > 1000, path


def test_calibration_and_sensitivity_pages_only_when_their_tables_exist(batch, tmp_path):  # noqa: F811
    import pandas as pd

    folder = tmp_path / "batch"
    shutil.copytree(batch, folder)
    (folder / "calibration" / "fitted").mkdir(parents=True)
    calibration_table().to_parquet(folder / "calibration" / "fitted" / "validation.parquet")
    pd.DataFrame([{"parameter": "seat_factor", "output": "arrivals", "index": "ST", "value": 0.5, "confidence": 0.1},
                  {"parameter": "seat_factor", "output": "arrivals", "index": "S1", "value": 0.3, "confidence": 0.1}]
                 ).to_parquet(folder / "sensitivity.parquet")
    briefing = make_report(folder, formats=())
    pages = page_texts(briefing.pdf)
    assert briefing.pdf == folder / "briefing.pdf" and len(pages) == 7
    assert "Calibration: observed and simulated" in pages[5] and "Observed data: IOM DTM" in pages[5]
    assert "Which parameters drive the results" in pages[6]
    assert "calibrated (see the calibration page)" in pages[0]


def test_report_command_refuses_a_folder_that_is_not_a_batch(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "not a batch folder" in capsys.readouterr().err
