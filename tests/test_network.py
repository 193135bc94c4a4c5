"""The bundled route network: size, the real alternatives the issue names, and its two views."""

import networkx as nx
import numpy as np
import pytest

from simulation import SCENARIO_DIR, load_network

NETWORK = SCENARIO_DIR / "network"


@pytest.fixture(scope="module")
def network():
    return load_network(NETWORK / "places.csv", NETWORK / "edges.csv")


def test_size_and_kinds(network):
    assert network.n_places >= 45
    assert network.n_edges >= 70
    assert set(network.place_kind) == {"entry", "transit_town", "border_crossing_point", "reception_centre", "destination"}
    assert {"AT", "DE", "CH"} <= {network.country_of(d) for d in network.destinations}


def test_every_figure_has_a_source(network):
    assert all(source.strip() for source in network.capacity_source)
    assert all(source.strip() for source in network.edge_source)


@pytest.mark.parametrize("path", [
    ["ayvalik", "lesvos", "piraeus", "athens"],
    ["cesme", "chios"], ["kusadasi", "samos"], ["bodrum", "kos"],
    ["idomeni", "gevgelija", "skopje"],
    ["tabanovce", "presevo"],
    ["horgos_rs", "roszke_hu"],
    ["hegyeshalom", "nickelsdorf"],
    ["sentilj", "spielfeld"],
    ["passau", "munich"],
])
def test_real_alternatives_are_edges(network, path):
    graph = network.graph()
    for a, b in zip(path, path[1:]):
        assert graph.has_edge(a, b), f"missing edge {a} -> {b}"


@pytest.mark.parametrize("origin,target,through", [
    ("edirne", "munich", None),                   # Evros land border
    ("kirklareli", "belgrade", "sofia"),          # Turkey - Bulgaria - Serbia
    ("thessaloniki", "presevo", "tabanovce"),     # the corridor through North Macedonia
    ("belgrade", "zagreb", "bihac"),              # through Bosnia and Herzegovina
    ("athens", "podgorica", "tirana"),            # Greece - Albania - Montenegro
    ("zagreb", "vienna", "spielfeld"),            # Croatia - Slovenia - Austria
    ("vienna", "zurich", None),
])
def test_routes_exist(network, origin, target, through):
    graph = nx.DiGraph(network.graph())
    if through is None:
        assert nx.has_path(graph, origin, target)
    else:
        assert nx.has_path(graph, origin, through) and nx.has_path(graph, through, target)


def test_western_balkan_capitals_exist(network):
    for capital in ("pristina", "belgrade", "sarajevo", "tirana", "podgorica", "skopje"):
        assert capital in network.index


def test_csr_matches_edge_list(network):
    for place in range(network.n_places):
        out = range(network.out_start[place], network.out_start[place + 1])
        assert all(network.edge_from[e] == place for e in out)
    assert network.out_start[-1] == network.n_edges
    assert np.all(np.diff(network.edge_from) >= 0)


def test_border_edges_join_two_countries(network):
    for e in range(network.n_edges):
        a, b = network.place_country[network.edge_from[e]], network.place_country[network.edge_to[e]]
        assert network.crosses_border[e] == (a != b)
