"""The peers benchmark (benchmarks/peers/): the idiomatic Mesa model gives our engine's answers on
the shared case, the same-answers check fails when a rule is changed, and Flee runs on the
inputs generated from our network. Skipped unless the `peers` extra (Flee) is installed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("flee", reason="the peers extra is not installed (pip install -e '.[peers]')")

PEERS = Path(__file__).resolve().parents[1] / "benchmarks" / "peers"
sys.path.insert(0, str(PEERS))

import common  # noqa: E402
import flee_run  # noqa: E402
import same_answers  # noqa: E402

PEOPLE, DAYS, REPLICATES = 2_000, 21, 6


@pytest.fixture(scope="module")
def case():
    return common.case_data(PEOPLE, DAYS)


@pytest.fixture(scope="module")
def ours():
    return same_answers.engine_replicates(PEOPLE, DAYS, REPLICATES, seed=11)


def test_case_switches_off_what_the_mesa_model_lacks(case, ours):
    scenario = common.benchmark_scenario(PEOPLE, DAYS)
    behaviour = scenario.spec.behaviour
    assert behaviour.smuggler_use_probability == 0 and behaviour.crowding_cost_eur == 0
    assert behaviour.transit_asylum_claim_probability_per_day == 0 and behaviour.rough_sleeping_rest_factor == 1
    assert not scenario.spec.levers and not scenario.spec.responses
    assert all(g.population == "transit" for g in scenario.spec.groups.values())
    # The same inflow: the case file's entrants by day are what our engine lets in.
    per_day = [sum(day) for day in case["entrants"]]
    assert all(list(run) == per_day for run in ours["entrants"])
    assert sum(per_day) == PEOPLE * DAYS // 30  # N people over a 30-day month, DAYS of it run


def test_mesa_model_gives_our_answers(case, ours):
    mesa = same_answers.mesa_replicates(case, REPLICATES, seed=11)
    rows = same_answers.compare(same_answers.results_of(case, ours, mesa, 11, case["rest_probability"]))
    assert [r["result"] for r in rows] == ["PASS"] * len(rows), rows


def test_check_fails_when_a_rule_changes(case, ours):
    rest = case["rest_probability"] + 0.2
    mesa = same_answers.mesa_replicates(case, REPLICATES, seed=11, rest_probability=rest)
    rows = same_answers.compare(same_answers.results_of(case, ours, mesa, 11, rest))
    assert any(r["result"] == "FAIL" for r in rows)
    assert {r["output"]: r["result"] for r in rows}["agent-steps per run"] == "FAIL"


def test_flee_runs_on_inputs_from_our_network(case, tmp_path):
    folder = flee_run.write_inputs(case, tmp_path / "flee")
    assert {p.name for p in folder.iterdir()} >= {"locations.csv", "routes.csv", "closures.csv", "conflicts.csv",
                                                  "simsetting.yml"}
    run = flee_run.FleeRun(case, folder, seed=3)
    for _ in range(3):
        run.step()
    entered = sum(sum(day) for day in case["entrants"][:3])
    assert len(run.e.agents) == entered
    assert run.agent_steps == sum(sum(sum(day) for day in case["entrants"][: d + 1]) for d in range(3))
    assert len(run.e.locations) == len(case["places"])
