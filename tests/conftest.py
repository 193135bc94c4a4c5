"""Shared helpers: the tiny hand-checkable network and scenario, built as data so each test can
change one thing."""

from __future__ import annotations

import copy
import shutil
import tomllib
from pathlib import Path

import pytest

from simulation import Scenario
from simulation.scenario import merge_tables

DATA = Path(__file__).parent / "data"
TINY = DATA / "tiny"
REPO = Path(__file__).resolve().parents[1]


def tiny_data() -> dict:
    data = tomllib.loads((TINY / "tiny.toml").read_text())
    data["network"] = {"places": str(TINY / "places.csv"), "edges": str(TINY / "edges.csv")}
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
