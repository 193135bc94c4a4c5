"""(b) The peers case as an idiomatic Mesa 3 model: one `mesa.Agent` per migrant, a plain Python
`step()` per agent, every draw from the model's numpy Generator (`self.model.rng`), the agents
stepped in random order each day with `self.agents.shuffle_do("step")`, and an agent that reaches
its destination leaves the model (`self.remove()`).

It implements the movement rules listed in benchmarks/peers/common.py (rest, softmax route choice
from our route tables, border detection with pushback / detention / registration, smuggled
Aegean crossings, multi-day edges, several short edges a day, arrival), reading the route tables
and the inflow from the case file that common.write_case made; it imports neither `simulation`
nor Numba. Agents do not interact (no capacities bind in this case), so the order of stepping
does not change the distribution of the outputs.

    python benchmarks/peers/mesa_model.py CASE.json [--seed N]   # one run, prints a summary
"""

from __future__ import annotations

import bisect
import json
import sys

import mesa

AT_PLACE, IN_TRANSIT, DETAINED = 0, 1, 2


class Migrant(mesa.Agent):
    """One person on the route."""

    def __init__(self, model: "RouteModel", place: int, destination: int) -> None:
        super().__init__(model)
        self.place = place
        self.destination = destination  # index into the model's destinations
        self.state = AT_PLACE
        self.edge = -1
        self.remaining_days = 0.0
        self.detention_days_left = 0

    def step(self) -> None:
        model = self.model
        if self.state == DETAINED:
            self.detention_days_left -= 1
            if self.detention_days_left <= 0:
                self.state = AT_PLACE  # released; moves on from tomorrow
            return
        time_left = 1.0
        first_decision = True
        if self.state == IN_TRANSIT:
            left = self.remaining_days - 1.0
            if left > model.eps:
                self.remaining_days = left
                return
            if self.arrive(model.edge_to[self.edge]):
                return
            time_left = -left  # goes on with what is left of the day, without a rest draw
            first_decision = False
        for _ in range(model.max_moves_per_day):
            if time_left <= model.eps:
                return
            if first_decision:
                if model.rng.random() < model.rest_probability:
                    return  # rests today
                first_decision = False
            edge = self.choose_edge()
            if edge < 0:
                return  # no way on to the destination from here
            if model.crossing[edge]:
                if model.smuggler_required[edge]:
                    self.cross_with_smuggler(edge)
                    return
                if self.stopped_at_border(edge, model.detection[edge]):
                    return
            time_left = self.travel(edge, time_left)
            if time_left < 0.0:
                return

    def choose_edge(self) -> int:
        """Softmax on generalised cost + cost-to-go, from the precomputed cumulative table."""
        edges, running = self.model.routes[self.destination][self.place]
        if not edges:
            return -1
        k = bisect.bisect_right(running, self.model.rng.random())
        return edges[min(k, len(edges) - 1)]

    def stopped_at_border(self, edge: int, detection: float) -> bool:
        """Detected with `detection`; a detected person is pushed back (stays here), detained on
        the far side, or registered and let through. True when the person does not cross."""
        model = self.model
        if model.rng.random() >= detection:
            return False
        outcome = model.rng.random()
        if outcome < model.pushback[edge]:
            return True  # pushed back: waits here and tries again tomorrow
        if outcome < model.pushback[edge] + model.detention[edge]:
            self.place = model.edge_to[edge]
            self.state = DETAINED
            self.detention_days_left = model.detention_days
            return True
        return False

    def cross_with_smuggler(self, edge: int) -> None:
        """A smuggler-required crossing: a seat is always free in this case; detection is
        multiplied by the smuggled-detection factor; the crossing takes the day."""
        model = self.model
        if self.stopped_at_border(edge, model.detection[edge] * model.smuggled_detection[edge]):
            return
        self.travel(edge, 1.0)

    def travel(self, edge: int, time_left: float) -> float:
        """Take `edge`; returns the time left after arriving, or -1.0 when the day is over."""
        model = self.model
        border = model.border_of_edge[edge]
        if border >= 0:
            model.crossings[model.day][border] += 1
        travel = model.travel_days[edge]
        if travel <= time_left + model.eps:
            if self.arrive(model.edge_to[edge]):
                return -1.0
            return time_left - travel
        self.state = IN_TRANSIT
        self.edge = edge
        self.remaining_days = travel - time_left  # exact: our tolerance (eps) is above float32 rounding
        return -1.0

    def arrive(self, place: int) -> bool:
        """Reach `place`; at the own destination the journey ends and the agent leaves the model."""
        self.place = place
        self.state = AT_PLACE
        self.edge = -1
        if place != self.model.destination_places[self.destination]:
            return False
        self.model.arrivals[self.model.day][self.destination] += 1
        self.remove()
        return True


class RouteModel(mesa.Model):
    """The peers case: `step()` is one day."""

    def __init__(self, case: dict, rng=None, rest_probability: float | None = None) -> None:
        super().__init__(rng=rng)
        self.days = case["days"]
        self.entrants = case["entrants"]  # [day][place]
        self.group_cumulative_share = case["group_cumulative_share"]
        self.destination_cumulative_share = case["destination_cumulative_share"]
        self.destination_places = case["destination_places"]
        self.routes = case["routes"]
        self.edge_to = case["edge_to"]
        self.travel_days = case["travel_days"]
        self.crossing = case["crossing"]
        self.smuggler_required = case["smuggler_required"]
        self.detection = case["detection"]
        self.pushback = case["pushback"]
        self.detention = case["detention"]
        self.smuggled_detection = case["smuggled_detection"]
        self.border_of_edge = case["border_of_edge"]
        self.rest_probability = case["rest_probability"] if rest_probability is None else rest_probability
        self.detention_days = case["detention_days"]
        self.max_moves_per_day = case["max_moves_per_day"]
        self.eps = case["eps"]
        n_destinations, n_borders = len(self.destination_places), len(case["borders"])
        self.arrivals = [[0] * n_destinations for _ in range(self.days)]
        self.crossings = [[0] * n_borders for _ in range(self.days)]
        self.entered = [0] * self.days
        self.day = 0
        self.agent_steps = 0

    def add_entrants(self) -> None:
        groups = self.group_cumulative_share
        for place, people in enumerate(self.entrants[self.day]):
            for _ in range(people):
                group = min(bisect.bisect_right(groups, self.rng.random()), len(groups) - 1)
                shares = self.destination_cumulative_share[group]
                destination = min(bisect.bisect_right(shares, self.rng.random()), len(shares) - 1)
                Migrant(self, place, destination)
            self.entered[self.day] += people

    def step(self) -> None:
        self.add_entrants()
        self.agent_steps += len(self.agents)  # every agent on the route is stepped once a day
        self.agents.shuffle_do("step")
        self.day += 1

    def outputs(self) -> dict:
        return {"arrivals": self.arrivals[: self.day], "crossings": self.crossings[: self.day],
                "entrants": self.entered[: self.day], "agent_steps": self.agent_steps}


def load_case(path) -> dict:
    with open(path) as f:
        return json.load(f)


def main() -> int:
    import argparse
    import time

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("case")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    case = load_case(args.case)
    model = RouteModel(case, rng=args.seed)
    started = time.perf_counter()
    for _ in range(case["days"]):
        model.step()
    seconds = time.perf_counter() - started
    arrived = [sum(day[d] for day in model.arrivals) for d in range(len(case["destinations"]))]
    print(f"{case['people']:,} people, {case['days']} days: {seconds:.2f} s, {model.agent_steps:,} agent-steps, "
          f"arrived {dict(zip(case['destinations'], arrived))}, still on the route {len(model.agents):,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
