"""Headline measures of one run: the numbers that scenario comparisons and sweeps report.

One row per measure and place of measurement (`where`: a country code, or "all" for the whole
network), in a fixed set of rows that depends only on the network and the period, so that the
runs of a batch line up row by row. Definitions (all over the whole run):

- irregular_crossings_into_eu: successful crossings on border edges from a country outside the
  EU into an EU member (membership on the scenario's first day, from the network's
  countries.csv), by EU country entered. Without a countries file this measure is left out;
- arrivals: people who reached their intended destination, by destination country;
- peak_transit_pressure / mean_transit_pressure: a country's transit pressure on a day is that
  of its worst place with reception capacity (present / capacity); the peak is its highest day,
  the mean its average over the run's days. "all" takes the worst place of the whole network;
- days_over_capacity: days on which at least one of the country's places was over capacity;
- returns (voluntary + forced), returns_voluntary, returns_forced: by the returning country;
- legal_departures: people who left through a legal pathway, by destination country;
- smuggler_revenue_eur: by the smugglers' country;
- asylum_claims, apprehensions, pushbacks: by the country where they happened;
- median_days_in_transit: median days from the start of a journey to arrival at the destination
  (NaN when nobody arrived)."""

from __future__ import annotations

import numpy as np
import pandas as pd

UNITS = {
    "irregular_crossings_into_eu": "people",
    "arrivals": "people",
    "peak_transit_pressure": "present / reception capacity",
    "mean_transit_pressure": "present / reception capacity",
    "days_over_capacity": "days",
    "returns": "people",
    "returns_voluntary": "people",
    "returns_forced": "people",
    "legal_departures": "people",
    "smuggler_revenue_eur": "EUR",
    "asylum_claims": "people",
    "apprehensions": "people",
    "pushbacks": "people",
    "median_days_in_transit": "days",
}
COLUMNS = ("measure", "where", "value", "unit")


def headline_measures(result) -> pd.DataFrame:
    """The measures of a RunResult as a long table (measure, where, value, unit)."""
    network = result.model.network
    countries = list(network.countries)
    rows: list[tuple[str, str, float]] = []

    def by_country(measure: str, values: pd.Series, where: list[str]) -> None:
        values = values.reindex(where, fill_value=0)
        rows.append((measure, "all", float(values.sum())))
        rows.extend((measure, country, float(values[country])) for country in where)

    eu_members = [c for c in countries
                  if c in result.scenario.countries and result.scenario.countries[c].in_eu_on(result.scenario.start)]
    if result.scenario.countries:
        # The flows table is day-major with one row per edge in network order.
        flows = result.flows.departures.to_numpy().reshape(-1, network.n_edges).sum(axis=0)
        from_country = network.place_country[network.edge_from]
        to_country = network.place_country[network.edge_to]
        eu = np.isin(np.asarray(countries), eu_members)
        external = network.crosses_border & ~eu[from_country] & eu[to_country]
        entered = pd.Series(flows[external], index=[countries[c] for c in to_country[external]])
        by_country("irregular_crossings_into_eu", entered.groupby(level=0).sum(),
                   sorted({countries[c] for c in to_country[external]}))

    events = result.events.groupby("country").sum(numeric_only=True)
    destination_countries = sorted({network.country_of(p) for p in network.destinations})
    by_country("arrivals", events.arrivals, destination_countries)

    pressure = result.pressure.dropna(subset=["worst_pressure"])
    with_capacity = sorted(pressure.country.unique())
    peak = pressure.groupby("country").worst_pressure.max()
    days = result.model.n_days
    # Mean over the run's days (a day without a figure cannot occur for a place with capacity).
    mean = pressure.groupby("country").worst_pressure.sum() / days
    network_worst = pressure.groupby("date").worst_pressure.max()
    for measure, values, overall in (("peak_transit_pressure", peak, network_worst.max()),
                                     ("mean_transit_pressure", mean, network_worst.sum() / days)):
        rows.append((measure, "all", float(overall) if len(network_worst) else float("nan")))
        rows.extend((measure, country, float(values.get(country, np.nan))) for country in with_capacity)
    over = result.pressure[result.pressure.places_over_capacity > 0]
    rows.append(("days_over_capacity", "all", float(over.date.nunique())))
    over_days = over.groupby("country").date.nunique()
    rows.extend(("days_over_capacity", country, float(over_days.get(country, 0))) for country in with_capacity)

    events = events.assign(returns=events.returns_voluntary + events.returns_forced)
    for measure in ("returns", "returns_voluntary", "returns_forced"):
        by_country(measure, events[measure], countries)
    by_country("legal_departures", events.legal_departures, destination_countries)
    by_country("smuggler_revenue_eur", events.smuggler_revenue_eur, countries)
    for measure in ("asylum_claims", "apprehensions", "pushbacks"):
        by_country(measure, events[measure], countries)

    rows.append(("median_days_in_transit", "all", median_from_histogram(result.transit_times.arrivals.to_numpy())))
    table = pd.DataFrame(rows, columns=["measure", "where", "value"])
    table["unit"] = table.measure.map(UNITS)
    return table


def median_from_histogram(counts: np.ndarray) -> float:
    """The median of values 0, 1, 2, ... given their counts (the lower median); NaN if empty."""
    total = counts.sum()
    if total == 0:
        return float("nan")
    return float(np.searchsorted(np.cumsum(counts), (total + 1) // 2))
