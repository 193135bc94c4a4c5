"""(c) The peers case in Flee 3.1 (PyPI `flee`, the serial `flee.flee.Ecosystem`), running its own
movement rules on our network.

`write_inputs` turns the case file (common.write_case) into Flee's input folder:

- locations.csv: one location a place of our network: entry places as `conflict_zone` (conflict
  from day 0; Flee's source locations), our destinations as `camp` (capacity left empty: no
  capacity effect, like our case), every other place as `town`; region and country our country
  code, gps_x / gps_y our latitude / longitude, population empty;
- routes.csv: one link per pair of places joined by an edge of ours (Flee's links go both
  ways; where we have both directions or two modes the shorter distance is kept), distance in km,
  no forced redirection;
- closures.csv: none; conflicts.csv: the entry places in conflict (1) on every day;
- simsetting.yml: Flee's defaults (awareness level 1, 360 km a day, camps attract x1, conflict
  zones x1/sqrt(10), ...) except `default_movechance` = 1 - our rest probability (0.65), so
  that a Flee town holds its people about as long as a place of ours holds someone who rests, and
  spawning switched off (we insert the case's entrants ourselves).

`run` builds the Ecosystem the way Flee's own run scripts do (SimulationSettings.ReadFromYML,
InputGeography reading locations, routes, closures and conflicts, StoreInputGeographyInEcosystem)
and runs one day at a time: new conflict zones (AddNewConflictZones), the case's entrants of the
day added at their entry place with `Ecosystem.addAgent` (what Flee's spawning does for each new
agent), border closures, `Ecosystem.evolve()`. Flee never removes an agent: someone who reached a
camp stays an agent and is stepped each day (with the camp's move chance of 0.001). Its
agent-steps are therefore counted as agents present times days: the sum over days of
len(ecosystem.agents) after that day's entrants, i.e. the agents that day's evolve() steps.

Flee's movement rule differs from ours (route weights from distance and location type, up to
awareness level 1 links ahead, movement by km per day), so its rate is Flee running its own
rules on this network; its answers are not expected to match ours.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import random
import sys
from pathlib import Path


def write_inputs(case: dict, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    places, kinds, countries = case["places"], case["place_kind"], case["place_country"]
    with open(folder / "locations.csv", "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["#name", "region", "country", "gps_x", "gps_y", "location_type", "conflict_date", "pop/cap"])
        for i, name in enumerate(places):
            if kinds[i] == "entry":
                kind, conflict_date = "conflict_zone", "0"
            elif kinds[i] == "destination":
                kind, conflict_date = "camp", ""
            else:
                kind, conflict_date = "town", ""
            out.writerow([name, countries[i], countries[i], f"{case['latitude'][i]:.4f}",
                          f"{case['longitude'][i]:.4f}", kind, conflict_date, ""])
    links: dict[tuple[str, str], float] = {}
    for a, b, km in zip(case["edge_from"], case["edge_to"], case["distance_km"]):
        key = tuple(sorted((places[a], places[b])))
        links[key] = min(km, links.get(key, float("inf")))
    with open(folder / "routes.csv", "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["#name1", "name2", "distance", "forced_redirection"])
        for (a, b), km in links.items():
            out.writerow([a, b, f"{km:.1f}", "0"])
    with open(folder / "closures.csv", "w", newline="") as f:
        csv.writer(f).writerow(["#closure_type", "name1", "name2", "closure_start", "closure_end"])
    sources = [name for name, kind in zip(places, kinds) if kind == "entry"]
    with open(folder / "conflicts.csv", "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["#Day", *sources])
        for day in range(case["days"] + 1):
            out.writerow([day, *(["1"] * len(sources))])
    (folder / "simsetting.yml").write_text(f"""\
# Flee 3.1 settings for the balkansim peers benchmark (benchmarks/peers/flee_run.py)
log_levels:
  agent: 0
  link: 0
  camp: 0
  init: 0
  conflict: 0
  idp_totals: 0
spawn_rules:
  take_from_population: False
  insert_day0: False
  conflict_zone_spawning_only: True
move_rules:
  default_movechance: {1.0 - case['rest_probability']:.4f}
conflict_input_file: "{folder / 'conflicts.csv'}"
""")
    return folder


class FleeRun:
    """A Flee Ecosystem on the case's inputs, stepped one day at a time."""

    def __init__(self, case: dict, folder: Path, seed: int) -> None:
        from flee import InputGeography, flee
        from flee.SimulationSettings import SimulationSettings

        random.seed(seed)  # Flee draws from `random` and numpy's global generator
        import numpy as np
        np.random.seed(seed % 2**32)
        self.case = case
        with _quiet():
            SimulationSettings.ReadFromYML(str(folder / "simsetting.yml"))
            ig = InputGeography.InputGeography()
            ig.ReadConflictInputCSV(str(folder / "conflicts.csv"))
            ig.ReadLocationsFromCSV(str(folder / "locations.csv"))
            ig.ReadLinksFromCSV(str(folder / "routes.csv"))
            ig.ReadClosuresFromCSV(str(folder / "closures.csv"))
            e = flee.Ecosystem()
            e.print_location_output = False
            e, lm = ig.StoreInputGeographyInEcosystem(e)
        self.ig, self.e, self.lm = ig, e, lm
        self.locations = [lm[name] for name in case["places"]]
        self.day = 0
        self.agent_steps = 0

    def step(self) -> None:
        e, day = self.e, self.day
        with _quiet():
            self.ig.AddNewConflictZones(e, day)
            for place, people in enumerate(self.case["entrants"][day]):
                location = self.locations[place]
                for _ in range(people):
                    e.addAgent(location=location, attributes={})
            e.enact_border_closures(day)
            self.agent_steps += len(e.agents)  # agents present, each stepped by evolve()
            e.evolve()
        self.day += 1

    def at_destinations(self) -> int:
        return sum(self.lm[name].numAgents for name in self.case["destinations"])


@contextlib.contextmanager
def _quiet():
    """Flee prints its settings and every location; keep the benchmark's output readable."""
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        yield


def main() -> int:
    import argparse
    import tempfile
    import time

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("case")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", help="write Flee's inputs to this folder (default: a temporary one)")
    args = parser.parse_args()
    with open(args.case) as f:
        case = json.load(f)
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="balkansim-flee-"))
    write_inputs(case, folder)
    run = FleeRun(case, folder, args.seed)
    started = time.perf_counter()
    for _ in range(case["days"]):
        run.step()
    seconds = time.perf_counter() - started
    print(f"Flee: {case['people']:,} people, {case['days']} days: {seconds:.2f} s, {run.agent_steps:,} agent-steps, "
          f"{run.at_destinations():,} at destinations (camps); inputs in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
