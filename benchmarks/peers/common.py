"""The one place that defines the peers benchmark's case: network, inflow and the movement rules
with the levers off, used by all three implementations (benchmarks/peers/README section in
benchmarks/README.md).

The case is the bundled baseline (scenarios/baseline.toml: its network, its transit groups'
shares and destination shares, its border detection, pushback and detention settings, its
route-choice parameters) with everything switched off that the idiomatic Mesa model does not
implement:

- inflow: N people over June 2015 (30 days) at the six sea entry places, split by the baseline's
  sea-series entry_shares (exactly as benchmarks/engine_speed.py), period from 2015-06-01;
- no Western Balkan nationals (their groups are dropped), no levers, no government responses;
- no money limits: fares 0 EUR/km on every mode, budgets 1,000,000 EUR (log-sd 0), so everyone
  can pay every edge and every smuggler's fee; informal earnings never matter;
- smugglers: smuggler_use_probability 0 (nobody asks for a smuggler where one is optional); the
  seven Aegean boat edges still need one (smuggler_required in edges.csv), with 10,000,000 seats
  a day in every country, so a seat is always free, and a smuggling market that never changes
  prices (both elasticities 0);
- no reception-capacity effects: rough_sleeping_rest_factor 1 (resting does not depend on a
  reception place) and crowding_cost_eur 0 (route costs do not depend on crowding), so the edge
  costs, cost-to-go and softmax tables are the same every day;
- no transit asylum claims (transit_asylum_claim_probability_per_day 0), no assisted return and
  no readmission (the scenario's defaults), retry after a pushback at once (the default 1).

What remains, and what the Mesa model reproduces in distribution (simulation/kernels.py,
`decide_day` and `seat_smugglers`):

1. entrants: each day's people appear at their entry place; group by the groups' shares,
   destination by the group's destination shares;
2. an agent at a place rests (ends its day) with rest_probability_per_day (0.35), drawn once, on
   its first decision of the day;
3. otherwise it picks an out-edge by the softmax over generalised cost + cost-to-go to its
   destination (our tables, simulation/routing.py: the cumulative probabilities per place and
   destination);
4. a border edge without a smuggler: detected with the entered country's
   border_detection_probability; a detected person is pushed back (stays, day over; tries again
   tomorrow), detained at the far side for detention_days (2) or registered and let through, by
   the country's pushback_share and detention_share;
5. a smuggler-required edge (the Aegean boats): the day's decision ends there; the person then
   crosses with detection x smuggled_detection_factor (same outcomes as 4), and a person let
   through travels the edge with a whole day's time and stops for the day on arrival;
6. travel: an edge that fits in the time left is done today and the agent may go on (at most 8
   moves a day; no second rest draw); a longer one leaves it in transit for the remaining days,
   and on the day it arrives it goes on with the time left, without a rest draw;
7. arrival at its own destination finishes the agent (counted as an arrival there that day);
   another destination on the way is just a place.

Travel time: an edge fits when travel <= time left + eps (kernels._EPS, 1e-5 of a day). Our
engine stores the time left on an edge as float32; the Mesa model keeps it in float64. Up to
2026-11-26 eps was 1e-9, below float32 rounding, and our engine then let about 0.75 % fewer
agent-steps happen than exact arithmetic (this check found it: z = -4.5 over 15 replicates of
5,000 people, 40 days); with eps above float32 rounding the two agree without the Mesa model
copying the rounding.

Outputs shared by (a) and (b): arrivals by destination and day, successful crossings by border
(pair of countries) and day, entrants by day, and agent-steps (active agents stepped, summed
over days).

Import this module only where `simulation` may be imported (the parent process and our engine's
child); the Mesa and Flee children read the case from the JSON file that `write_case` makes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # benchmarks/, for engine_speed's helpers
from engine_speed import INFLOW_MONTH, PERIOD_START, split_largest_remainder  # noqa: E402

BUDGET_EUR = 1_000_000.0
SEATS = 10_000_000


def benchmark_scenario(people: int, days: int, seed: int | None = None, base=None):
    """The case as one of our scenarios (see the module docstring for every change), made from the
    loaded baseline `base` (default: loaded here; benchmarks/loop_ab.py passes one loaded by another
    version of the package)."""
    if base is None:
        import simulation

        base = simulation.load_scenario(simulation.DEFAULT_SCENARIO)
    data = base.data()
    shares = dict(base.spec.inflow.series[0].entry_shares)
    data["inflow"] = {"monthly": [{"month": INFLOW_MONTH, "entry": place, "people": n}
                                  for place, n in split_largest_remainder(people, shares).items()]}
    data["period"] = {"start": PERIOD_START, "days": days}
    if seed is not None:
        data["seed"] = int(seed)
    data["name"] = "peers_benchmark"
    groups = {}
    for name, group in data["groups"].items():
        if group.get("population", "transit") != "transit":
            continue  # no Western Balkan nationals
        group = dict(group)
        group["budget"] = {"median_eur": BUDGET_EUR, "log_sd": 0.0, "source": "peers benchmark: no money limits"}
        groups[name] = group
    data["groups"] = groups
    behaviour = dict(data["behaviour"])
    behaviour.update({
        "fare_eur_per_km": {mode: 0.0 for mode in behaviour["fare_eur_per_km"]},
        "rough_sleeping_rest_factor": 1.0,
        "transit_asylum_claim_probability_per_day": 0.0,
        "smuggler_use_probability": 0.0,
        "crowding_cost_eur": 0.0,
        "retry_probability_per_day_after_turned_back": 1.0,
    })
    data["behaviour"] = behaviour
    data["smuggling_market"] = {"demand_price_elasticity": 0.0, "risk_price_elasticity": 0.0}
    countries = {}
    for code, settings in data["countries"].items():
        settings = dict(settings)
        if code == "default" or "smuggler_seats_per_day" in settings:
            settings["smuggler_seats_per_day"] = SEATS
        countries[code] = settings
    data["countries"] = countries
    data["levers"] = []
    data["responses"] = []
    return type(base).from_dict(data, file=base.file)


def border_labels(network) -> tuple[list[str], np.ndarray]:
    """Borders (pairs of countries, e.g. 'TR-GR', in order of first edge) and each edge's border
    index (-1 inside a country)."""
    labels: list[str] = []
    of_edge = np.full(network.n_edges, -1, dtype=np.int64)
    for e in range(network.n_edges):
        if network.crosses_border[e]:
            label = (f"{network.countries[network.place_country[network.edge_from[e]]]}-"
                     f"{network.countries[network.place_country[network.edge_to[e]]]}")
            if label not in labels:
                labels.append(label)
            of_edge[e] = labels.index(label)
    return labels, of_edge


def case_data(people: int, days: int) -> dict:
    """Everything the Mesa model (and the Flee input writer) needs, as plain JSON-able data,
    computed with our own scenario, policy and routing code (so the tables are ours)."""
    import simulation
    from simulation import kernels
    from simulation.inflow import daily_arrivals
    from simulation.routing import edge_costs, route_tables

    scenario = benchmark_scenario(people, days)
    network = scenario.network
    model = simulation.MigrationModel(scenario)  # for its governments' policy and static arrays
    policy = model.policy_today()
    pressure = np.zeros(network.n_places)
    cost = edge_costs(network, scenario.spec.behaviour, model.edge_fare, policy, pressure)
    to_go, cumulative, _, need_eur, _ = route_tables(network, cost, model.edge_fare, policy.smuggling_fee_eur,
                                                     model.destination_places,
                                                     scenario.spec.behaviour.route_choice_sharpness_per_eur,
                                                     policy.open)
    if float(np.min(model.budget_log_median)) < np.log(np.nanmax(need_eur[np.isfinite(need_eur)])):
        raise SystemExit("peers case: budgets do not cover every option")

    # Route table per destination and place: the out-edges with positive probability and the
    # running (cumulative) probability, as the kernel's fast path reads them.
    routes = []
    for d in range(len(model.destination_places)):
        per_place = []
        for p in range(network.n_places):
            edges, running = [], []
            previous = 0.0
            for e in range(network.out_start[p], network.out_start[p + 1]):
                value = float(cumulative[d, e])
                if value > previous:
                    edges.append(e)
                    running.append(value)
                previous = value
            per_place.append([edges, running])
        routes.append(per_place)

    arrivals = daily_arrivals(scenario)[:days]
    n_groups = len(scenario.spec.groups)
    if arrivals[:, :, :n_groups].any():
        raise SystemExit("peers case: expected every entrant's group to be drawn by the shares")
    labels, border_of_edge = border_labels(network)
    b = scenario.spec.behaviour
    return {
        "people": int(people),
        "days": int(days),
        "seed": int(scenario.seed),
        "places": list(network.place_ids),
        "place_country": [network.countries[c] for c in network.place_country],
        "place_kind": list(network.place_kind),
        "latitude": network.latitude.tolist(),
        "longitude": network.longitude.tolist(),
        "destinations": [network.place_ids[p] for p in model.destination_places],
        "destination_places": model.destination_places.tolist(),
        "group_cumulative_share": model.group_cumulative_share.tolist(),
        "destination_cumulative_share": model.destination_cumulative_share.tolist(),
        "entrants": arrivals.sum(axis=2).tolist(),  # [day][place]
        "edge_from": network.edge_from.tolist(),
        "edge_to": network.edge_to.tolist(),
        "distance_km": network.distance_km.tolist(),
        "travel_days": network.travel_days.tolist(),
        "crossing": network.crosses_border.tolist(),
        "smuggler_required": network.smuggler_required.tolist(),
        "detection": policy.detection.tolist(),
        "pushback": policy.pushback_share.tolist(),
        "detention": policy.detention_share.tolist(),
        "smuggled_detection": policy.smuggled_detection.tolist(),
        "border_of_edge": border_of_edge.tolist(),
        "borders": labels,
        "routes": routes,  # [destination][place] -> [edges, running probabilities]
        "rest_probability": b.rest_probability_per_day,
        "detention_days": b.detention_days,
        "max_moves_per_day": kernels.MAX_MOVES_PER_DAY,
        "eps": kernels._EPS,
    }


def write_case(people: int, days: int, path: Path) -> Path:
    path.write_text(json.dumps(case_data(people, days)))
    return path


def engine_outputs(model) -> dict:
    """Our engine's shared outputs after a run: arrivals [day, destination], crossings
    [day, border], entrants [day]."""
    from simulation import kernels

    network = model.network
    labels, border_of_edge = border_labels(network)
    days = model.day
    arrived_total = model.record_stocks[:days][:, model.destination_places, kernels.ST_ARRIVED]
    arrivals = np.diff(np.vstack([np.zeros((1, arrived_total.shape[1]), dtype=np.int64), arrived_total]), axis=0)
    crossings = np.zeros((days, len(labels)), dtype=np.int64)
    flows = model.record_departures[:days]
    for e in np.flatnonzero(border_of_edge >= 0):
        crossings[:, border_of_edge[e]] += flows[:, e]
    return {
        "arrivals": arrivals,
        "crossings": crossings,
        "entrants": model.record_events[:days, :, kernels.EV_ENTRIES].sum(axis=1),
        "agent_steps": int(model.agent_steps),
    }


def run_engine(people: int, days: int, seed: int, scenario=None) -> dict:
    """One run of our engine on the case (in this process), with this seed."""
    import simulation

    scenario = benchmark_scenario(people, days) if scenario is None else scenario
    model = simulation.MigrationModel(scenario, seed=seed)
    first_cost = None
    for _ in range(days):
        model.step()
        if first_cost is None:
            first_cost = model._last_edge_cost.copy()
    if not np.array_equal(first_cost, model._last_edge_cost):
        raise SystemExit("peers case: our edge costs changed during the run; the Mesa model assumes fixed tables")
    return engine_outputs(model)
