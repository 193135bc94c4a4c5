"""The model frame: a `mesa.Model` that owns the network, the migrant arrays, one government
agent a country and the day loop. Migrants are arrays stepped by the Numba kernels; Mesa
carries the governments and the daily aggregates (DataCollector)."""

from __future__ import annotations

import datetime as dt

import mesa
import numba
import numpy as np
from tqdm import tqdm

from . import invariants, kernels, resources
from .counter_rng import day_streams, seed_key
from .errors import InputError
from .government import OBSERVED, Government, observe as observe_countries, transit_pressure
from .inflow import daily_arrivals
from .policy import GOVERNMENT_SETTINGS, DailyPolicy
from .population import BYTES_PER_AGENT, Population
from .routing import edge_costs, edge_fares, route_tables, unfamiliarity_costs
from .pathways import PathwayPools
from .scenario import Scenario
from .smuggling import SmugglingMarket

# Reported to Mesa's DataCollector each day (the results' `daily` table): people on the route,
# entered so far, kernels.day_totals's four, and the places over capacity the governments counted.
DAILY_TOTALS = ("people_on_route", "entered_total", "arrived_total", "claimed_asylum_in_transit_total",
                "in_reception", "outside_reception", "places_over_capacity")


# Compact the agent arrays when finished slots exceed 1/COMPACTION_SLACK of the people on route.
COMPACTION_SLACK = 4


class MigrationModel(mesa.Model):
    """One run of a scenario. `step()` is one day; `run()` runs the whole period."""

    def __init__(self, scenario: Scenario, seed: int | None = None, days: int | None = None):
        self.run_seed = scenario.seed if seed is None else int(seed)
        super().__init__(rng=self.run_seed)
        self.scenario = scenario
        self.network = network = scenario.network
        self.behaviour = scenario.spec.behaviour
        self.n_days = scenario.days if days is None else int(days)
        if not 1 <= self.n_days <= scenario.days:
            raise InputError(scenario.file, "days to run (--days)",
                             f"1 to the scenario's period.days ({scenario.days})", self.n_days)
        self._dates = [self.date(day) for day in range(self.n_days)]  # the levers ask every day
        self.key = np.uint64(seed_key(self.run_seed))  # keep it unsigned: half of all keys exceed int64
        self.arrivals = daily_arrivals(scenario)[: self.n_days]
        # Entries by day and country, from the inflow (data): counted here once, not every day.
        self.entries_by_country = np.zeros((self.n_days, len(network.countries)), dtype=np.int64)
        np.add.at(self.entries_by_country.T, network.place_country, self.arrivals.sum(axis=2).T)
        self.entries_by_day = self.entries_by_country.sum(axis=1)
        people = int(self.arrivals.sum())
        # The size guard: refuse before allocating when the run would not fit in memory.
        self.estimated_bytes = resources.check_memory(
            people, self.n_days, network.n_places, network.n_edges, len(network.countries), kernels.N_STOCKS,
            f"scenario '{scenario.name}' ({scenario.file or 'built in code'})")
        self.population = Population(people)
        self.day = 0
        self.check_level = invariants.level_from_environment()

        self._setup_static_arrays()
        # Every government's settings (country x setting; government.py keeps each in its row).
        self.government_settings = np.zeros((len(network.countries), len(GOVERNMENT_SETTINGS)))
        # What each government observes each day (worst pressure, places over capacity, entries).
        self.government_observed = np.zeros((len(network.countries), len(OBSERVED)))
        self._base_policy: DailyPolicy | None = None  # the policy the settings give, and the settings it came from
        self._base_settings: np.ndarray | None = None
        self._levered: tuple | None = None  # ((active levers, active responses), the policy they made)
        self._tables: tuple = ()  # _policy_tables's tables, and the _levered entry they were made from
        self._tables_made_from: tuple | None = None
        self.governments = [Government(self, c, scenario.country_settings(c), scenario.responses_of(c))
                            for c in network.countries]
        self.market = SmugglingMarket(network, scenario.spec.smuggling_market)
        self.levers = scenario.levers()
        for lever in self.levers:
            lever.bind(network)
            if hasattr(lever, "bind_groups"):
                lever.bind_groups(self.group_names, self.group_origin_countries)
        self.pathways = PathwayPools(self.levers)
        # Only governments with response rules change anything when they step or respond.
        self._responding = self.agents.select(lambda government: bool(government.rules))
        self.record_pathways = np.zeros((self.n_days, len(self.pathways.levers), 2), dtype=np.int64)
        self._setup_records()
        # The day's headline totals (DAILY_TOTALS), reported to Mesa's DataCollector. They are
        # computed in one compiled pass a day; seven numpy reductions cost ~25 us more.
        self.daily_totals = (0,) * len(DAILY_TOTALS)
        self.datacollector = mesa.DataCollector(model_reporters={
            name: (lambda m, column=column: m.daily_totals[column]) for column, name in enumerate(DAILY_TOTALS)})

    # ------------------------------------------------------------------ setup
    def _setup_static_arrays(self) -> None:
        network, spec = self.network, self.scenario.spec
        self.destination_places = np.array([network.index[d] for d in network.destinations], dtype=np.int64)
        self.destination_of_place = np.full(network.n_places, -1, dtype=np.int16)
        self.destination_of_place[self.destination_places] = np.arange(len(self.destination_places))
        self.edge_entered_country = network.edge_entered_country
        self.edge_fare = edge_fares(network, self.behaviour.fare_eur_per_km)
        self.edge_fee = network.smuggling_fee_eur.copy()
        # Route knowledge: crossings off the known borders cost extra in route choice until people
        # on the irregular route have crossed there (so far, per edge, from the daily departures;
        # visa-free nationals crossing with their passports show nobody the way).
        self.crossed_so_far = np.zeros(network.n_edges)
        self.unfamiliar_edges = network.crosses_border & ~np.isin(
            network.edge_border, spec.route_knowledge.known_borders)
        self._no_unfamiliarity = np.zeros(network.n_edges)  # read-only: what the edge costs add without the rule
        groups = list(spec.groups.values())
        self.group_names = list(spec.groups)
        self.group_cumulative_share = np.cumsum([g.share for g in groups])
        self.destination_cumulative_share = np.zeros((len(groups), len(self.destination_places)))
        for gi, group in enumerate(groups):
            shares = [group.destinations.get(d, 0.0) for d in network.destinations]
            self.destination_cumulative_share[gi] = np.cumsum(shares)
        self.budget_log_median = np.log([g.budget.median_eur for g in groups])
        self.budget_log_sd = np.array([g.budget.log_sd for g in groups], dtype=np.float64)
        self.group_origin_countries = [network.country_of(g.origin) if g.origin else None for g in groups]
        # Per-group parameters for the kernels; the pathway columns are filled in each day.
        self.group_params = np.zeros((len(groups), kernels.N_GP))
        for gi, group in enumerate(groups):
            self.group_params[gi, kernels.GP_PROTECTION] = group.protection_need
            self.group_params[gi, kernels.GP_WESTERN_BALKAN] = group.population == "western_balkan"
            self.group_params[gi, kernels.GP_ORIGIN] = network.index[group.origin] if group.origin else -1
            self.group_params[gi, kernels.GP_IRREGULAR] = group.irregular_departure_probability
            self.group_params[gi, kernels.GP_REDEPARTURE] = group.redeparture_probability_per_day
            self.group_params[gi, kernels.GP_DECISION_DAYS] = group.asylum_decision_days
            self.group_params[gi, kernels.GP_VISA_FREE] = group.visa_free_travel
        b = self.behaviour
        params = np.zeros(kernels.N_PARAMS)
        params[kernels.P_SHARPNESS] = b.route_choice_sharpness_per_eur
        params[kernels.P_REST] = b.rest_probability_per_day
        params[kernels.P_ROUGH_FACTOR] = b.rough_sleeping_rest_factor
        params[kernels.P_CLAIM] = b.transit_asylum_claim_probability_per_day
        params[kernels.P_SMUGGLER_USE] = b.smuggler_use_probability
        params[kernels.P_EARNINGS] = b.informal_earnings_eur_per_day
        params[kernels.P_DETENTION_DAYS] = b.detention_days
        params[kernels.P_RETRY] = b.retry_probability_per_day_after_turned_back
        params[kernels.P_GIVE_UP] = b.give_up_probability_per_day_when_stranded
        self.params = params

    def _setup_records(self) -> None:
        n_days, n_places, n_edges = self.n_days, self.network.n_places, self.network.n_edges
        n_countries = len(self.network.countries)
        self.events_buffer = np.zeros((kernels.N_CHUNKS, n_countries, kernels.N_EVENTS), dtype=np.int64)
        # Departures per chunk, everyone (kernels.DEP_ALL) and on the irregular route (DEP_IRREGULAR).
        self.departures_buffer = np.zeros((kernels.N_CHUNKS, 2, n_edges), dtype=np.int64)
        # Arrivals at their destination by days since their journey began, per chunk, for the
        # whole run (the last bin collects journeys as long as the run or longer).
        self.transit_days_buffer = np.zeros((kernels.N_CHUNKS, n_days + 1), dtype=np.int64)
        # Today's smuggler requests per chunk and departure country (decide_day counts them) and
        # who is present where per chunk (seat_smugglers's pass counts them for allocate_reception).
        self.requests_buffer = np.zeros((kernels.N_CHUNKS, n_countries), dtype=np.int64)
        self.present_buffer = np.zeros((kernels.N_CHUNKS, 2, n_places), dtype=np.int64)
        self.revenue_today = np.zeros(n_countries)
        self.smuggler_requests = np.zeros(n_countries, dtype=np.int64)
        self.smuggler_seated = np.zeros(n_countries, dtype=np.int64)
        self.stocks = np.zeros((n_places, kernels.N_STOCKS), dtype=np.int64)
        self.present = np.zeros(n_places, dtype=np.int64)
        self.in_reception = np.zeros(n_places, dtype=np.int64)
        self.capacity_today = self.network.reception_capacity.copy()
        self.entered_total = 0
        self.agent_steps = 0
        # Daily records, preallocated: the results are built from these after the run.
        self.record_events = np.zeros((n_days, n_countries, kernels.N_EVENTS), dtype=np.int64)
        self.record_revenue = np.zeros((n_days, n_countries))
        self.record_departures = np.zeros((n_days, n_edges), dtype=np.int64)
        self.record_stocks = np.zeros((n_days, n_places, kernels.N_STOCKS), dtype=np.int64)
        self.record_present = np.zeros((n_days, n_places), dtype=np.int64)
        self.record_in_reception = np.zeros((n_days, n_places), dtype=np.int64)
        self.record_capacity = np.zeros((n_days, n_places), dtype=np.int64)
        # smuggling market by country: seats, requests, seated, price multiplier, mean fee
        self.record_smuggling = np.zeros((n_days, n_countries, 5))
        self._last_edge_cost: np.ndarray | None = None
        self.cost_to_go: np.ndarray | None = None

    # -------------------------------------------------------------- policies
    def policy_today(self) -> DailyPolicy:
        """The governments' settings, changed by the levers active today (in file order) and the
        governments' active responses, checked; then today's smuggling prices."""
        # Each statement here runs every day on caches the kernels have just swept, so the common
        # cases (no levers, no responding governments, unchanged settings) take the shortest way.
        if self.levers:
            today = self._dates[self.day]
            active = tuple(lever for lever in self.levers if lever.active(today))
        else:
            active = ()
        responses = tuple(tuple(government.active) for government in self._responding) if self._responding else ()
        # The same settings as the base policy's: equal bytes (np.array_equal costs ~8 times as much).
        if self._base_policy is None or self._base_settings.tobytes() != self.government_settings.tobytes():
            self._base_policy = DailyPolicy.from_governments(self)
            self._base_settings = self.government_settings.copy()
            self._levered = None
        key = (active, responses)
        if self._levered is not None and self._levered[0] == key:
            # The same pure levers and responses as yesterday. Only the market writes into a levered
            # policy, so without price moves it is yesterday's policy itself.
            policy = self._levered[1].repriced() if self.market.moves_prices else self._levered[1]
        else:
            policy = self._base_policy.copy()  # levers change today's copy
            for lever in active:
                lever.apply(policy, self)
            for government in self._responding:
                government.apply_responses(policy, self)
            policy.check()
            # Responses are border-enforcement changes, which are pure.
            self._levered = (key, policy.copy()) if all(lever.pure for lever in active) else None
        self.market.price(policy)
        return policy

    def _policy_tables(self, policy: DailyPolicy) -> tuple:
        """The kernels' tables made from the day's policy (group parameters, country policy), and
        whether any crossing is capped or any pathway pool open. They depend only on the levered
        policy, so while policy_today reuses yesterday's (the same `_levered` entry; only the
        smuggling fees are priced anew) they are yesterday's too."""
        if self._levered is None or self._levered is not self._tables_made_from:
            self._tables = (self._group_params(policy), self._country_policy(policy),
                            bool(policy.daily_cap.max() >= 0), bool(policy.pathway_pool.max() >= 0))
            self._tables_made_from = self._levered
        return self._tables

    def _group_params(self, policy: DailyPolicy) -> np.ndarray:
        params = self.group_params.copy()
        params[:, kernels.GP_POOL] = policy.pathway_pool
        params[:, kernels.GP_ELIGIBLE] = policy.pathway_eligible_share
        params[:, kernels.GP_AWARE] = policy.pathway_awareness
        params[:, kernels.GP_DETERRENCE] = policy.pathway_deterrence
        return params

    def _country_policy(self, policy: DailyPolicy) -> np.ndarray:
        table = np.zeros((len(self.network.countries), kernels.N_CP))
        table[:, kernels.CP_CLAIM] = policy.asylum_claim_factor
        table[:, kernels.CP_READMISSION] = policy.readmission_share
        table[:, kernels.CP_TO_ORIGIN] = policy.readmission_to_origin_share
        table[:, kernels.CP_TAKES_BACK] = policy.takes_back_own_nationals_share
        table[:, kernels.CP_AVR_REJECTED] = policy.rejected_taking_assisted_return_share
        table[:, kernels.CP_READMISSION_DAYS] = policy.readmission_days
        table[:, kernels.CP_AVR] = policy.assisted_return_uptake_per_day
        table[:, kernels.CP_AVR_DAYS] = policy.assisted_return_full_after_days
        # Each reintegration_eur_halving_redeparture EUR of support halves re-departure.
        table[:, kernels.CP_REINTEGRATION] = 0.5 ** (
            policy.reintegration_support_eur / self.behaviour.reintegration_eur_halving_redeparture)
        return table

    def _update_routes(self, policy: DailyPolicy) -> np.ndarray:
        network = self.network
        # Yesterday's people present against today's capacity: people hear of crowding.
        cost = edge_costs(network, self.behaviour, self.edge_fare, policy, self.transit_pressure(),
                          self._unfamiliarity())
        # Compared as bytes, as policy_today compares the settings (np.array_equal costs ~9 times as much).
        if self._last_edge_cost is None or cost.tobytes() != self._last_edge_cost.tobytes():
            # The kernel reads the running shares as integer thresholds (route_tables' `threshold`).
            self.cost_to_go, _, self.route_threshold, self.route_need_eur, self.route_least_need_eur = route_tables(
                network, cost, self.edge_fare, policy.smuggling_fee_eur, self.destination_places,
                self.behaviour.route_choice_sharpness_per_eur, policy.open)
            self._last_edge_cost = cost
        return cost

    def _unfamiliarity(self) -> np.ndarray:
        """Today's unfamiliarity cost per edge (zeros when the rule is off)."""
        b = self.behaviour
        if b.unfamiliar_crossing_cost_eur == 0:
            return self._no_unfamiliarity
        return unfamiliarity_costs(b.unfamiliar_crossing_cost_eur, self.crossed_so_far,
                                   b.crossers_to_learn_a_crossing, self.unfamiliar_edges)

    # ------------------------------------------------------------------ day
    def step(self) -> None:
        day = self.day
        network, population = self.network, self.population
        policy = self.policy_today()
        self.policy = policy
        self.capacity_today = policy.reception_capacity
        cost = self._update_routes(policy)

        arrivals_today = self.arrivals[day]
        self.entered_total += int(self.entries_by_day[day])
        arrays = population.arrays()
        streams = day_streams(self.key, day)  # the first half of every draw today (counter_rng)
        population.n_active, population.next_id = kernels.add_entrants(
            *arrays, population.n_active, population.next_id, arrivals_today, streams, day,
            self.group_cumulative_share, self.destination_cumulative_share,
            self.budget_log_median, self.budget_log_sd)
        # The kernels write today's counts into the first `chunks` rows only (chunks depend on
        # the number of slots), so only those are cleared and summed.
        chunks = kernels.chunks_for(population.n_active)
        kernels.start_day(chunks, self.events_buffer, self.departures_buffer, self.requests_buffer,
                          self.present_buffer, self.revenue_today, self.smuggler_requests, self.smuggler_seated,
                          self.entries_by_country[day])
        self.agent_steps += population.n_on_route  # everyone on the route is stepped once a day
        group_params, country_policy, any_cap, any_pool = self._policy_tables(policy)
        kernels.decide_day(
            *arrays, population.n_active, streams, day,
            network.out_start, network.edge_from, network.edge_to, network.travel_days, self.edge_fare, cost,
            policy.open,
            self.edge_entered_country, network.smuggler_required, policy.smuggling_fee_eur,
            network.place_country, self.destination_of_place, self.destination_places, self.cost_to_go,
            self.route_threshold, self.route_need_eur, self.route_least_need_eur, policy.detection,
            policy.pushback_share, policy.detention_share, policy.refused, policy.daily_cap, country_policy,
            policy.rest_factor, group_params,
            self.params, self.events_buffer, self.departures_buffer, self.transit_days_buffer, self.requests_buffer,
            numba.get_num_threads())
        # The two serial passes below scan every slot; without a capped crossing or an open
        # pathway pool today they have nobody to serve (no one can be queued at a cap or applying).
        if any_cap:
            kernels.admit_at_capped_crossings(
                population.place, population.edge, population.remaining_days, population.state, population.sheltered,
                population.state_days, population.group, population.destination, population.budget_eur,
                population.n_active, network.edge_to, network.travel_days, self.edge_fare, self.edge_entered_country,
                policy.daily_cap, self.destination_of_place, network.place_country, group_params, self.events_buffer,
                self.departures_buffer, population.entry_day, day, self.transit_days_buffer)
        if any_pool:
            kernels.grant_pathway_slots(
                population.agent_id, population.state, population.state_days, population.group, population.destination,
                population.place, population.n_active, streams, day, group_params, self.pathways.remaining,
                self.pathways.processing_days, self.pathways.destination, self.pathways.issued,
                network.place_country, self.events_buffer)
        kernels.seat_smugglers(
            *arrays, population.n_active, streams, day,
            network.edge_from, network.edge_to, network.travel_days, self.edge_fare, self.edge_entered_country,
            policy.smuggling_fee_eur, network.place_country, self.destination_of_place,
            policy.detection, policy.pushback_share, policy.detention_share, policy.smuggled_detection,
            policy.smuggler_seats_per_day, group_params, country_policy,
            self.params, self.events_buffer, self.departures_buffer, self.revenue_today, self.requests_buffer,
            self.smuggler_requests, self.smuggler_seated, self.transit_days_buffer, self.present_buffer)
        self.market.observe(self.smuggler_requests, policy.smuggler_seats_per_day)
        population.n_gone += kernels.allocate_reception(
            population.place, population.state, population.sheltered, population.n_active,
            self.capacity_today, self.present_buffer, self.present, self.in_reception, self.stocks)
        if population.n_gone * COMPACTION_SLACK > population.n_on_route:
            population.n_active = kernels.compact(*arrays, population.n_active)
            population.n_gone = 0

        kernels.record_day(day, chunks, self.events_buffer, self.departures_buffer, self.revenue_today, self.stocks,
                           self.present, self.in_reception, self.capacity_today, policy.smuggler_seats_per_day,
                           self.smuggler_requests, self.smuggler_seated, self.market.price_multiplier,
                           self.market.mean_fee(policy), self.record_events,
                           self.record_departures, self.record_revenue, self.record_stocks, self.record_present,
                           self.record_in_reception, self.record_capacity, self.record_smuggling, self.crossed_so_far)
        invariants.check_day(self, self.check_level)
        n_pools = len(self.pathways.levers)
        if n_pools:
            self.record_pathways[day, :, 0] = self.pathways.issued[:n_pools]  # running total
            self.record_pathways[day, :, 1] = self.pathways.remaining[:n_pools]
        places_over = self._governments_observe(day)
        if self._responding:  # the others' step does nothing (and an empty AgentSet's do costs ~2 us)
            self._responding.do("step")
        self.daily_totals = (population.n_on_route, self.entered_total) + kernels.day_totals(
            self.stocks, self.present, self.in_reception) + (places_over,)
        self.datacollector.collect(self)
        self.day += 1

    def transit_pressure(self) -> np.ndarray:
        """People present at each place over its reception capacity today; 0 at places without
        reception (there is nothing to crowd)."""
        return transit_pressure(self.present, self.capacity_today)

    def _governments_observe(self, day: int) -> int:
        """Each government sees its own places' worst transit pressure (among places with reception
        capacity; 0 if none), how many are over capacity, and the crossings into the country
        (government.OBSERVED: the columns of government_observed, one row a government). Returns the
        number of places over capacity."""
        return observe_countries(self.network.place_country, self.present, self.capacity_today,
                                 self.record_events[day, :, kernels.EV_CROSSINGS], self.government_observed)

    def run(self, progress: bool = False) -> "MigrationModel":
        days = range(self.day, self.n_days)
        for _ in tqdm(days, desc=f"{self.scenario.name} (seed {self.run_seed})", unit="day",
                      disable=not progress, mininterval=0.5, leave=False):
            self.step()
        return self

    def date(self, day: int) -> dt.date:
        return self.scenario.start + dt.timedelta(days=day)

    @property
    def bytes_per_agent(self) -> int:
        return BYTES_PER_AGENT
