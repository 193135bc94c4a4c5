"""Sweep files: designs, parameter values reaching the runs, one dataset readable by pandas and
DuckDB, and readable errors for bad sweep files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation.errors import InputError
from simulation.sweep import load_sweep

from .conftest import TINY

DETECTION = "countries.default.border_detection_probability"


def write_sweep(folder: Path, design: str, parameters: str, extra: str = "") -> Path:
    path = folder / "sweep.toml"
    path.write_text(f'name = "test_sweep"\nbase = "{TINY / "tiny.toml"}"\n{extra}\n[design]\n{design}\n{parameters}\n')
    return path


def test_grid_random_and_sobol_designs(tmp_path):
    grid = load_sweep(write_sweep(tmp_path, 'kind = "grid"', f"""
[parameters."{DETECTION}"]
values = [0.0, 0.25, 0.5]
[parameters."behaviour.detention_days"]
min = 1
max = 5
points = 3"""))
    assert len(grid.design) == 9
    assert sorted(set(grid.design[DETECTION])) == [0.0, 0.25, 0.5]
    # detention_days is a whole number in the base scenario, so it stays one.
    assert grid.design["behaviour.detention_days"].dtype == np.int64
    assert sorted(set(grid.design["behaviour.detention_days"])) == [1, 3, 5]

    random = load_sweep(write_sweep(tmp_path, 'kind = "random"\nsamples = 12\nseed = 3', f"""
[parameters."{DETECTION}"]
min = 0.1
max = 0.2"""))
    assert len(random.design) == 12 and random.design[DETECTION].between(0.1, 0.2).all()
    again = load_sweep(write_sweep(tmp_path, 'kind = "random"\nsamples = 12\nseed = 3', f"""
[parameters."{DETECTION}"]
min = 0.1
max = 0.2"""))
    pd.testing.assert_frame_equal(random.design, again.design)  # the design's own seed fixes it

    sobol = load_sweep(write_sweep(tmp_path, 'kind = "sobol"\nsamples = 8\nseed = 1', f"""
[parameters."{DETECTION}"]
min = 0.0
max = 0.5
[parameters."behaviour.smuggler_use_probability"]
min = 0.0
max = 1.0"""))
    assert len(sobol.design) == 8 * (2 + 2)  # Saltelli without second-order terms: N (D + 2)
    assert sobol.salib_problem()["bounds"] == [[0.0, 0.5], [0.0, 1.0]]


def test_sweep_values_reach_the_runs_and_the_dataset_reads_as_one_table(tmp_path):
    import duckdb

    sweep = load_sweep(write_sweep(tmp_path, 'kind = "grid"', f"""
[parameters."{DETECTION}"]
values = [0.0, 0.5]
[parameters."countries.default.pushback_share"]
values = [0.0, 1.0]""", extra="replicates = 2"))
    batch = sweep.batch(out=tmp_path / "out")
    assert len(batch.tasks) == 8
    outcome = batch.run(workers=2, progress=False)
    assert outcome.ok and len(outcome.completed) == 8

    measures = pd.read_parquet(tmp_path / "out" / "measures")
    assert {"run_id", "seed", "point", "replicate", DETECTION, "countries.default.pushback_share", "measure",
            "where", "value", "unit"} <= set(measures.columns)
    assert len(measures) == 8 * measures.groupby("run_id").size().iloc[0]
    apprehended = measures[(measures.measure == "apprehensions") & (measures["where"] == "all")]
    assert (apprehended[apprehended[DETECTION] == 0.0].value == 0).all()
    assert (apprehended[apprehended[DETECTION] == 0.5].value > 0).all()
    pushed = measures[(measures.measure == "pushbacks") & (measures["where"] == "all")]
    assert (pushed[(pushed[DETECTION] == 0.5) & (pushed["countries.default.pushback_share"] == 1.0)].value > 0).all()
    assert (pushed[pushed["countries.default.pushback_share"] == 0.0].value == 0).all()
    # Replicate i uses the base seed + i at every design point.
    assert set(measures.groupby("replicate").seed.unique().map(tuple)) == {(1,), (2,)}

    dataset = str(tmp_path / "out" / "measures" / "**" / "*.parquet")
    connection = duckdb.connect()
    [rows] = connection.execute(f"select count(*), count(distinct run_id), count(distinct point) from "
                      f"read_parquet('{dataset}', hive_partitioning = true)").fetchall()
    assert rows == (len(measures), 8, 4)
    by_duckdb = connection.execute(f"""select "{DETECTION}" as detection, sum(value) as apprehensions
        from read_parquet('{dataset}', hive_partitioning = true)
        where measure = 'apprehensions' and "where" = 'all' group by 1 order by 1""").fetchall()
    by_pandas = apprehended.groupby(DETECTION).value.sum()
    assert by_duckdb == list(by_pandas.items())


@pytest.mark.parametrize("design, parameters, key", [
    ('kind = "sobol"', '[parameters."behaviour.rest_probability_per_day"]\nmin = 0.1\nmax = 0.2', "design.samples"),
    ('kind = "grid"', '[parameters."behaviour.rest_probability_per_day"]\nmin = 0.3\nmax = 0.2\npoints = 2',
     "parameters"),
    ('kind = "random"\nsamples = 4', '[parameters."behaviour.rest_probability_per_day"]\nvalues = [0.1]', "parameters"),
    ('kind = "lattice"', '[parameters."behaviour.rest_probability_per_day"]\nvalues = [0.1]', "design.kind"),
    ('kind = "grid"', '[parameters."nowhere.at_all"]\nvalues = [0.1]', "parameters.nowhere.at_all"),
    ('kind = "grid"', '[parameters."levers[no such lever].seat_factor"]\nvalues = [0.1]', "parameters.levers"),
])
def test_bad_sweep_files_name_the_file_and_key(tmp_path, design, parameters, key):
    path = write_sweep(tmp_path, design, parameters)
    with pytest.raises(InputError) as caught:
        load_sweep(path).batch(out=tmp_path / "never")
    message = str(caught.value)
    assert str(path) in message and key in message
    assert not (tmp_path / "never").exists()


@pytest.mark.parametrize("parameter", [f'[parameters."{DETECTION}"]\nvalues = [0.5, 1.5]',
                                       f'[parameters."{DETECTION}"]\nmin = -0.5\nmax = 0.5\npoints = 2',
                                       '[parameters."behaviour.smuggler_use_probabilty"]\nvalues = [0.5]'])
def test_a_value_or_key_the_scenario_refuses_is_named(tmp_path, parameter):
    path = write_sweep(tmp_path, 'kind = "grid"', parameter)
    with pytest.raises(InputError) as caught:
        load_sweep(path)
    message = str(caught.value)
    assert str(path) in message and f"parameters.{parameter.split(chr(34))[1]}" in message


def test_the_bundled_sweep_file_is_valid():
    from simulation import SCENARIO_DIR

    sweep = load_sweep(SCENARIO_DIR / "sweeps" / "serbia_anti_smuggling.toml")
    batch = sweep.batch(out="unused")
    assert len(batch.tasks) == 8 * (3 + 2) * 2
    assert not Path("unused").exists()


@pytest.mark.parametrize("kind, samples, main_index", [("morris", 6, "mu_star"), ("sobol", 8, "ST")])
def test_sensitivity_ranks_the_parameter_that_matters_first(tmp_path, kind, samples, main_index):
    from simulation.sensitivity import analyse, run_sensitivity

    path = write_sweep(tmp_path, f'kind = "{kind}"\nsamples = {samples}\nseed = 2', f"""
[parameters."{DETECTION}"]
min = 0.0
max = 0.8
[parameters."behaviour.informal_earnings_eur_per_day"]
min = 5.0
max = 50.0""")
    table, batch, outcome = run_sensitivity(path, out=tmp_path / "out", workers=2, progress=False)
    assert outcome.ok and (tmp_path / "out" / "sensitivity.parquet").is_file()
    assert set(table.columns) == {"parameter", "output", "index", "value", "confidence"}
    # Apprehensions depend on detection; everyone can pay, so informal earnings change nothing.
    sweep = load_sweep(path)
    apprehensions = analyse(sweep, batch.measures(), outputs=[("apprehensions", "all")])
    main = apprehensions[apprehensions["index"] == main_index].set_index("parameter").value
    assert main[DETECTION] > 0 and main["behaviour.informal_earnings_eur_per_day"] == pytest.approx(0, abs=1e-9) \
        or main[DETECTION] > 10 * abs(main["behaviour.informal_earnings_eur_per_day"])
