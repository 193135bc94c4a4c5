"""balkansim: an agent-based simulation of migration along the Western Balkan route.

    from simulation import load_scenario, simulate
    result = simulate(load_scenario("scenarios/baseline.toml"))
    result.events.head()
"""

from pathlib import Path

from .errors import InputError
from .model import MigrationModel
from .network import Network, load_network
from .results import RunResult, simulate
from .scenario import Scenario, load_scenario

REPO_DIR = Path(__file__).resolve().parents[1]
SCENARIO_DIR = REPO_DIR / "scenarios"
DEFAULT_SCENARIO = SCENARIO_DIR / "baseline.toml"

__all__ = [
    "DEFAULT_SCENARIO", "InputError", "MigrationModel", "Network", "RunResult", "SCENARIO_DIR",
    "Scenario", "load_network", "load_scenario", "simulate",
]
