"""Shared helpers: the tiny hand-checkable network and scenario, built as data so each test can
change one thing."""

from __future__ import annotations

import copy
import os
import shutil
import tomllib
from pathlib import Path

import numpy as np
import pytest

from simulation import Scenario, kernels
from simulation.population import FINISHED
from simulation.scenario import merge_tables

# Every model the tests build checks all its invariants every day (simulation/invariants.py);
# spawned workers inherit it.
os.environ["BALKANSIM_CHECKS"] = "full"

DATA = Path(__file__).parent / "data"
TINY = DATA / "tiny"
REPO = Path(__file__).resolve().parents[1]


def tiny_data() -> dict:
    data = tomllib.loads((TINY / "tiny.toml").read_text())
    data["network"] = {"places": str(TINY / "places.csv"), "edges": str(TINY / "edges.csv"),
                       "countries": str(TINY / "countries.csv")}
    return data


def deep_update(data: dict, changes: dict) -> dict:
    return merge_tables(copy.deepcopy(data), changes)


def tiny_scenario(**changes) -> Scenario:
    return Scenario.from_dict(deep_update(tiny_data(), changes))


@pytest.fixture
def tiny_copy(tmp_path: Path) -> Path:
    """A writable copy of the tiny network and scenario files."""
    target = tmp_path / "tiny"
    shutil.copytree(TINY, target)
    return target


def check_day_by_day(model) -> None:
    """Step a model through its period, checking conservation and limits every day."""
    entered = 0
    for day in range(model.n_days):
        model.step()
        entered += int(model.arrivals[day].sum())
        stocks = model.stocks
        assert stocks.min() >= 0
        assert int(stocks.sum()) == entered, f"day {day}: {stocks.sum()} counted, {entered} entered"
        assert np.all(model.in_reception <= model.capacity_today)
        assert np.all(model.in_reception <= model.present)
        active = model.population.n_on_route
        finished = int(stocks[:, kernels.ST_ARRIVED:].sum())  # every running total of people who finished
        assert active + finished == entered
        assert np.all(model.population.active("budget_eur") >= 0)
        assert np.all(model.population.active("state") < FINISHED)
        # finished agents are GONE (never stepped or counted again) and compacted away in time
        assert model.population.n_gone * 4 <= model.population.n_on_route or model.population.n_on_route == 0
