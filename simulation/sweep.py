"""Parameter sweeps from a sweep file (TOML): a base scenario, the parameters to vary by their
scenario keys, a design, replicates and a seed.

    name = "serbia_seat_factor"
    base = "../anti_smuggling_serbia.toml"      # relative to this file
    replicates = 2                               # replicate i uses seed + i at every point
    seed = 20150701                              # default: the base scenario's seed
    days = 365                                   # optional: run only the first N days
    keep_tables = false                          # default: keep only the measures of each run

    [design]
    kind = "sobol"                               # "grid", "random", "sobol" (Saltelli) or "morris" (SALib)
    samples = 16                                 # random: points; sobol: base samples N; morris: trajectories
    seed = 1                                     # the design's own random seed

    [parameters."levers[Serbia alone].seat_factor"]   # a lever by name (or levers[0] by position)
    min = 0.1
    max = 1.0
    [parameters."behaviour.smuggler_use_probability"]
    values = [0.2, 0.5, 0.8]                     # grid only: the values themselves
    [parameters."countries.RS.border_detection_probability"]
    min = 0.0
    max = 0.5
    points = 3                                   # grid only: evenly spaced points from min to max

A key is a dotted path into the scenario's data (after `extends`); `[...]` picks an entry of a
list such as [[levers]] by position or by its `name`. A parameter whose value in the base scenario
is a whole number stays one (or say `integer = true`). Every design point is checked like a
scenario before anything runs."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .batch import Batch
from .errors import InputError
from .scenario import Scenario, load_scenario_named_in, load_toml_spec
from .tasks import make_task, scenario_payload

_KEY_PART = re.compile(r"([^.\[\]]+)|\[([^\[\]]+)\]")
MAX_DESIGN_POINTS = 100_000  # more runs than any machine here does; a bigger design is a typo


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParameterRange(_Strict):
    min: float | None = None
    max: float | None = None
    values: list[float] | None = Field(default=None, min_length=1)
    points: int | None = Field(default=None, ge=2, le=1000)
    integer: bool | None = None  # default: whole numbers when the base scenario's value is one

    @model_validator(mode="after")
    def _range_or_values(self) -> "ParameterRange":
        if self.values is not None:
            if self.min is not None or self.max is not None or self.points is not None:
                raise ValueError("give either values, or min and max (with points for a grid), not both")
            if not all(np.isfinite(self.values)):
                raise ValueError("values must be finite numbers")
            return self
        if self.min is None or self.max is None:
            raise ValueError("give min and max, or values")
        if not (np.isfinite(self.min) and np.isfinite(self.max)) or self.min > self.max:
            raise ValueError(f"min must be a finite number at most max (got min {self.min}, max {self.max})")
        return self


class Design(_Strict):
    kind: Literal["grid", "random", "sobol", "morris"]
    samples: int | None = Field(default=None, ge=1, le=1_000_000)
    seed: int = Field(default=0, ge=0, lt=2**32)
    levels: int = Field(default=4, ge=2, le=100)  # morris: grid levels per parameter (an even number)


class SweepSpec(_Strict):
    name: str = Field(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    base: str
    replicates: int = Field(default=1, ge=1, le=10_000)
    seed: int | None = Field(default=None, ge=0, lt=2**63)
    days: int | None = Field(default=None, gt=0, le=3660)
    keep_tables: bool = False
    design: Design
    parameters: dict[str, ParameterRange] = Field(min_length=1)

    @model_validator(mode="after")
    def _design_fits(self) -> "SweepSpec":
        kind = self.design.kind
        if kind != "grid" and self.design.samples is None:
            raise ValueError(f"design.samples is needed for a {kind} design")
        for key, parameter in self.parameters.items():
            if kind != "grid" and (parameter.values is not None or parameter.points is not None):
                raise ValueError(f"parameters.{key}: values and points are for grid designs; give min and max")
            if kind == "grid" and parameter.values is None and parameter.points is None:
                raise ValueError(f"parameters.{key}: a grid needs values, or min, max and points")
            if kind in ("sobol", "morris") and parameter.min is not None and not parameter.min < parameter.max:
                raise ValueError(f"parameters.{key}: a {kind} design needs min below max "
                                 f"(got min {parameter.min}, max {parameter.max})")
        if kind == "grid":
            points = 1
            for parameter in self.parameters.values():
                points *= len(parameter.values) if parameter.values is not None else parameter.points
        else:
            points = self.design.samples * {"random": 1, "sobol": len(self.parameters) + 2,
                                            "morris": len(self.parameters) + 1}[kind]
        if points > MAX_DESIGN_POINTS:
            raise ValueError(f"design: at most {MAX_DESIGN_POINTS:,} design points (runs per replicate); "
                             f"this {kind} design has {points:,}")
        return self


class Sweep:
    """A validated sweep file with its base scenario and design points."""

    def __init__(self, spec: SweepSpec, file: Path, base: Scenario):
        self.spec, self.file, self.base = spec, file, base
        self.keys = list(spec.parameters)
        self.design = design_points(spec)
        self.integer = {key: _is_integer(base.data(), key, spec.parameters[key]) for key in self.keys}
        for key in self.keys:
            if self.integer[key]:
                self.design[key] = np.round(self.design[key]).astype(np.int64)

    @classmethod
    def load(cls, path: str | Path) -> "Sweep":
        path = Path(path)
        spec = load_toml_spec(path, SweepSpec)
        base = load_scenario_named_in(path, "base", spec.base)
        for key, parameter in spec.parameters.items():
            _check_parameter(path, base, key, parameter)
        return cls(spec, path, base)

    def scenario_at(self, point: int) -> Scenario:
        """The base scenario with the parameter values of one design point."""
        data = self.base.data()
        for key in self.keys:
            value = self.design.loc[point, key]
            set_value(data, key, int(value) if self.integer[key] else float(value))
        data["name"] = f"{self.base.name}"
        try:
            return Scenario.from_dict(data, file=self.base.file)
        except InputError as error:
            values = ", ".join(f"{k} = {self.design.loc[point, k]}" for k in self.keys)
            raise InputError(self.file, "parameters", f"values the scenario accepts (design point {point}: {values})",
                             str(error)) from None

    def batch(self, out: str | Path | None = None, days: int | None = None) -> Batch:
        seed = self.base.seed if self.spec.seed is None else self.spec.seed
        days = days or self.spec.days
        tasks = []
        for point in range(len(self.design)):
            payload = scenario_payload(self.scenario_at(point))
            values = {key: self.design.loc[point, key].item() for key in self.keys}
            for replicate in range(self.spec.replicates):
                run_id = f"p{point:05d}-r{replicate:03d}"
                tasks.append(make_task(payload, seed + replicate, days, Path("."), run_id,
                                       {"point": point, "replicate": replicate, **values},
                                       keep_tables=self.spec.keep_tables))
        definition = {"sweep_file": str(self.file), "sweep": self.spec.model_dump(mode="json"),
                      "base_scenario": self.base.file, "root_seed": seed, "days": days,
                      "salib_problem": self.salib_problem()}
        return Batch.in_folder(out, f"sweep-{self.spec.name}", "sweep", definition, tasks)

    def salib_problem(self) -> dict[str, Any]:
        bounds = []
        for key in self.keys:
            parameter = self.spec.parameters[key]
            low, high = (min(parameter.values), max(parameter.values)) if parameter.values else (parameter.min, parameter.max)
            bounds.append([low, high])
        return {"num_vars": len(self.keys), "names": self.keys, "bounds": bounds}


def _check_parameter(path: Path, base: Scenario, key: str, parameter: ParameterRange) -> None:
    """The key must lead into the base scenario, and the scenario must accept the parameter's
    lowest and highest value there: checked one parameter at a time, so the error names it."""
    low, high = (min(parameter.values), max(parameter.values)) if parameter.values else (parameter.min, parameter.max)
    integer = _is_integer(base.data(), key, parameter) if _key_exists(base.data(), key) else False
    for value in dict.fromkeys((low, high)):
        data = base.data()
        try:
            set_value(data, key, int(round(value)) if integer else float(value))
        except KeyError as error:
            raise InputError(path, f"parameters.{key}", "a key of the base scenario", error.args[0]) from None
        try:
            Scenario.from_dict(data, file=base.file)
        except InputError as error:
            raise InputError(path, f"parameters.{key}",
                             f"values the base scenario accepts there ({error.key}: expected {error.expected})",
                             value) from None


def _key_exists(data: dict[str, Any], key: str) -> bool:
    try:
        return _get_value(data, key) is not None
    except (KeyError, IndexError, TypeError):
        return False


def load_sweep(path: str | Path) -> Sweep:
    return Sweep.load(path)


def design_points(spec: SweepSpec) -> pd.DataFrame:
    """One row per design point, one column per parameter key."""
    keys = list(spec.parameters)
    kind, samples = spec.design.kind, spec.design.samples
    if kind == "grid":
        axes = []
        for key in keys:
            p = spec.parameters[key]
            axes.append(list(p.values) if p.values is not None else list(np.linspace(p.min, p.max, p.points)))
        points = np.array(list(itertools.product(*axes)), dtype=float)
    elif kind == "random":
        generator = np.random.default_rng(spec.design.seed)
        low = np.array([spec.parameters[k].min for k in keys])
        high = np.array([spec.parameters[k].max for k in keys])
        points = low + (high - low) * generator.random((samples, len(keys)))
    elif kind == "morris":
        from SALib.sample import morris

        # N trajectories of D + 1 points each (Morris elementary effects).
        points = morris.sample(_problem(spec, keys), samples, num_levels=spec.design.levels, seed=spec.design.seed)
    else:
        from SALib.sample import sobol

        # Saltelli's scheme without second-order terms: N * (D + 2) points; N a power of 2.
        points = sobol.sample(_problem(spec, keys), samples, calc_second_order=False, scramble=True,
                              seed=spec.design.seed)
    return pd.DataFrame(points, columns=keys)


def _problem(spec: SweepSpec, keys: list[str]) -> dict[str, Any]:
    return {"num_vars": len(keys), "names": keys,
            "bounds": [[spec.parameters[k].min, spec.parameters[k].max] for k in keys]}


def parse_key(key: str) -> list[str | tuple[str]]:
    """'levers[Serbia alone].seat_factor' -> ['levers', ('Serbia alone',), 'seat_factor']."""
    parts: list[str | tuple[str]] = []
    position = 0
    for match in _KEY_PART.finditer(key):
        if match.start() != position and key[position:match.start()] != ".":
            raise KeyError(key)
        parts.append(match.group(1) if match.group(1) is not None else (match.group(2).strip(),))
        position = match.end()
    if position != len(key) or not parts or isinstance(parts[0], tuple):
        raise KeyError(key)
    return parts


def set_value(data: dict[str, Any], key: str, value: Any) -> None:
    """Set a value at a key path; the tables and list entries on the way must exist."""
    parts = parse_key(key)
    target: Any = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(part, tuple):
            if not isinstance(target, list):
                raise KeyError(f"{key}: '[{part[0]}]' follows something that is not a list")
            index = _list_index(target, part[0], key)
            if last:
                target[index] = value
            else:
                target = target[index]
            continue
        if not isinstance(target, dict):
            raise KeyError(f"{key}: '{part}' follows something that is not a table")
        if last:
            target[part] = value
        else:
            if part not in target:
                if i >= 1 and i + 2 == len(parts) and not isinstance(parts[i + 1], tuple):
                    target[part] = {}  # e.g. countries.RS.<setting> for a country without settings yet
                else:
                    raise KeyError(f"{key}: no '{part}' in the scenario")
            target = target[part]


def _list_index(items: list, selector: str, key: str) -> int:
    if selector.lstrip("-").isdigit():
        index = int(selector)
        if not -len(items) <= index < len(items):
            raise KeyError(f"{key}: no entry {index} (the list has {len(items)})")
        return index
    named = [i for i, item in enumerate(items) if isinstance(item, dict) and item.get("name") == selector]
    if len(named) != 1:
        names = [item.get("name") for item in items if isinstance(item, dict) and item.get("name")]
        raise KeyError(f"{key}: {'no' if not named else 'more than one'} entry named '{selector}' "
                       f"(names: {', '.join(names) or 'none'})")
    return named[0]


def _get_value(data: dict[str, Any], key: str) -> Any:
    target: Any = data
    for part in parse_key(key):
        if isinstance(part, tuple):
            target = target[_list_index(target, part[0], key)]
        elif isinstance(target, dict) and part in target:
            target = target[part]
        else:
            return None
    return target


def _is_integer(data: dict[str, Any], key: str, parameter: ParameterRange) -> bool:
    if parameter.integer is not None:
        return parameter.integer
    current = _get_value(data, key)
    return isinstance(current, int) and not isinstance(current, bool)
