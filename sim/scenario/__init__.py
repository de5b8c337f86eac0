"""Stage 1, scenarios: the schema, parameters, layers, overrides, safe YAML and loading.

A scenario is read and validated here and nowhere else; every later stage takes a
:class:`Scenario`.
"""

from sim.scenario.loader import (
    BASELINE,
    ScenarioInfo,
    list_scenarios,
    load_scenario,
    scenario_dict,
    scenario_hash,
    scenario_yaml,
    with_overrides,
)
from sim.scenario.schema import Scenario
from sim.scenario.search import find_scenario

__all__ = [
    "BASELINE",
    "Scenario",
    "ScenarioInfo",
    "find_scenario",
    "list_scenarios",
    "load_scenario",
    "scenario_dict",
    "scenario_hash",
    "scenario_yaml",
    "with_overrides",
]
