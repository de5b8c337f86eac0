"""The dashboard page, served by Solara: ``solara run sim.dashboard.app`` (``sim dashboard``).

The page is Mesa's ``SolaraViz`` (its Controls card with Reset, Play/Pause and Step, its Model
Parameters card built from ``model_params``, and a grid of components) with a scenario picker
above it in the sidebar. Picking another scenario (or loading a YAML file) builds a new
``SolaraViz`` whose controls start at that scenario's values.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

import solara
from mesa.visualization import SolaraViz

from sim.dashboard.components import COMPONENTS
from sim.dashboard.live import DashboardModel
from sim.dashboard.params_ui import model_params
from sim.errors import PolicysimError
from sim.scenario.loader import list_scenarios, load_scenario
from sim.scenario.schema import Scenario

log = logging.getLogger(__name__)

ENV_SCENARIO = "POLICYSIM_DASHBOARD_SCENARIO"
"""Environment variable naming the scenario (name or YAML path) the page opens with."""

DEFAULT_SCENARIO = "crackdown"
PLAY_INTERVAL_MS = 150


def initial_source() -> str:
    """Return the scenario the page opens with: ``$POLICYSIM_DASHBOARD_SCENARIO`` or the default."""
    return os.environ.get(ENV_SCENARIO) or DEFAULT_SCENARIO


def initial_values(params: Mapping[str, Any]) -> dict[str, Any]:
    """Return the keyword arguments Mesa passes to the model for ``model_params`` as first shown.

    Args:
        params: Mesa ``model_params``: fixed values, or input specs with a ``value``.

    Returns:
        Parameter name to value.
    """
    return {
        k: (v["value"] if isinstance(v, Mapping) and "type" in v else v) for k, v in params.items()
    }


def open_scenario(source: str) -> tuple[str, Scenario]:
    """Load the scenario the page opens with, falling back to the default when it is invalid.

    Args:
        source: Scenario name or YAML path.

    Returns:
        The source actually used and its scenario.
    """
    try:
        return source, load_scenario(source)
    except PolicysimError as exc:
        log.warning("cannot open %s (%s); opening %s", source, exc, DEFAULT_SCENARIO)
        return DEFAULT_SCENARIO, load_scenario(DEFAULT_SCENARIO)


@solara.component
def ScenarioPicker(source: solara.Reactive[str], scenario: Scenario) -> None:
    """Sidebar card: pick a shipped scenario or load a YAML file, and read its description."""
    names = solara.use_memo(lambda: [i.name for i in list_scenarios()], [])
    path_text, set_path_text = solara.use_state("" if source.value in names else source.value)
    error, set_error = solara.use_state("")

    def choose(value: str | None) -> None:
        if not value:
            return
        try:
            load_scenario(value)
        except PolicysimError as exc:
            set_error(f"error: {exc}")
            return
        set_error("")
        source.set(value)

    with solara.Sidebar(), solara.Card("Scenario"):
        solara.Select(
            "shipped scenario",
            values=names,
            value=source.value if source.value in names else None,
            on_value=choose,
        )
        with solara.Row(style={"align-items": "center"}):
            solara.InputText("or a scenario YAML file", value=path_text, on_value=set_path_text)
            solara.Button("Load", on_click=lambda: choose(path_text.strip()), outlined=True)
        if error:
            solara.Error(error, classes=["policysim-picker-error"])
        solara.v.Html(tag="div", class_="policysim-description",
                      children=[scenario.description or "(no description)"])  # fmt: skip
        solara.Text(
            "Change the model parameters below, then press Reset to rebuild the run.",
            style={"font-size": "0.85em", "color": "#666"},
        )


@solara.component
def Page() -> None:
    """The dashboard: the scenario picker and Mesa's SolaraViz for the chosen scenario."""
    first = solara.use_memo(lambda: open_scenario(initial_source()), [])
    source = solara.use_reactive(first[0])
    scenario = solara.use_memo(
        lambda: first[1] if source.value == first[0] else load_scenario(source.value),
        [source.value],
    )
    params = solara.use_memo(lambda: model_params(source.value, scenario), [source.value])
    model = solara.use_memo(lambda: DashboardModel(**initial_values(params)), [source.value])
    ScenarioPicker(source, scenario)
    SolaraViz(
        model,
        components=COMPONENTS,
        model_params=params,
        name="policysim",
        play_interval=PLAY_INTERVAL_MS,
    ).key(f"viz-{source.value}")
