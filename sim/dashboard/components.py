"""The dashboard's Solara components, each a function of the model as Mesa's ``SolaraViz`` expects.

Every component reads :data:`mesa.visualization.utils.update_counter`, as Mesa's own components
do, so it is drawn again after each step. :data:`COMPONENTS` is the list handed to ``SolaraViz``.
Text is written with plain HTML elements (never ``solara.Markdown``, which fetches a maths
renderer from a CDN and so stalls a page that has no internet access).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import solara
from mesa.visualization.utils import update_counter

from sim.dashboard.figures import PANELS, Panel, metrics_figure, network_figure
from sim.dashboard.live import (
    DashboardModel,
    default_folder,
    marked_events,
    save_run,
)
from sim.dashboard.params_ui import controls_for
from sim.errors import PolicysimError

CARD_HEIGHT = "370px"
"""Height of a component's card: the height of one cell of Mesa's initial grid layout."""

_MUTED = {"color": "#777"}


def _card_style(height: str = CARD_HEIGHT) -> dict[str, str]:
    return {"height": height, "overflow-y": "auto", "width": "100%"}


def _heading(text: str) -> None:
    solara.v.Html(tag="h3", children=[text], style_="margin-bottom: 4px")


def _table(frame: pd.DataFrame, css_class: str) -> None:
    """Write a small DataFrame as a compact HTML table (text left, numbers right)."""
    cell = "padding: 1px 6px; border-bottom: 1px solid #eee; white-space: nowrap"
    with solara.v.Html(tag="table", class_=css_class,
                       style_="border-collapse: collapse; font-size: 0.8em"):  # fmt: skip
        with solara.v.Html(tag="tr"):
            for name in frame.columns:
                solara.v.Html(tag="th", children=[str(name)], style_=cell + "; text-align: left")
        for row in frame.itertuples(index=False):
            with solara.v.Html(tag="tr"):
                for value in row:
                    align = "right" if isinstance(value, int | float) else "left"
                    solara.v.Html(tag="td", children=[f"{value:,}" if align == "right" else
                                                      str(value)],
                                  style_=f"{cell}; text-align: {align}")  # fmt: skip


@solara.component
def RunStatus(model: DashboardModel) -> None:
    """Show the scenario, the current date, any refused value, the policy events and Save."""
    update_counter.get()
    scenario = model.scenario
    view = model.view
    with solara.Card(style=_card_style()):
        _heading(scenario.name)
        solara.Text(scenario.description, style=_MUTED)
        solara.v.Html(tag="div", class_="policysim-date", children=[view.date_text],
                      style_="font-size: 1.35em; font-weight: bold; margin: 8px 0")  # fmt: skip
        if model.error is not None:
            solara.Error(model.error, classes=["policysim-error"])
        events = marked_events(scenario)
        if events:
            with solara.v.Html(tag="ol", style_="margin: 4px 0 8px 0; font-size: 0.9em"):
                for event in events:
                    past = view.date is not None and event.date <= view.date
                    solara.v.Html(tag="li", children=[f"{event.date:%Y-%m}  {event.label}"],
                                  style_="" if past else "color: #999")  # fmt: skip
        solara.Text("The same run from the command line:", style=_MUTED)
        solara.Preformatted(model.command(view.months_done),
                            style_="white-space: pre-wrap; font-size: 0.85em")  # fmt: skip
        SaveButton(model, view.months_done).key(f"save-{id(model)}")


@solara.component
def SaveButton(model: DashboardModel, months_done: int) -> None:
    """A folder box and a button that write the run so far as ``sim run`` does.

    Args:
        model: The model.
        months_done: Months simulated (passed so that the button is drawn again after a step).
    """
    folder, set_folder = solara.use_state(str(default_folder(model)))
    message, set_message = solara.use_state(("", ""))

    def save() -> None:
        try:
            out = save_run(model, Path(folder))
        except PolicysimError as exc:
            set_message(("error", f"error: {exc}"))
        else:
            set_message(("ok", f"saved {months_done} months to {out.resolve()}"))

    with solara.Row(style={"align-items": "center"}):
        solara.InputText("results folder", value=folder, on_value=set_folder)
        solara.Button("Save results", on_click=save, color="primary",
                      disabled=months_done == 0 or model.error is not None)  # fmt: skip
    kind, text = message
    if kind == "ok":
        solara.Success(text, classes=["policysim-saved"])
    elif kind == "error":
        solara.Error(text, classes=["policysim-save-error"])


@solara.component
def MetricChart(model: DashboardModel, panels: Sequence[Panel]) -> None:
    """Charts of key metrics so far, the baseline beside them and the policy events numbered."""
    update_counter.get()
    view = model.view
    fig = metrics_figure(
        view.timeseries,
        panels,
        start=model.start.to_timestamp(),
        months=model.scenario.months,
        scenario=model.scenario.name,
        baseline=model.baseline,
        events=marked_events(model.scenario),
    )
    with solara.Card(style=_card_style()):
        solara.FigureMatplotlib(fig, format="png", dependencies=[id(model), view.months_done])


@solara.component
def FirmsTable(model: DashboardModel) -> None:
    """The named firms' market value, compliance, alignment, golden share and compute mix."""
    update_counter.get()
    view = model.view
    with solara.Card(style=_card_style()):
        _heading(f"Firms, {view.date_text}")
        _table(view.firms, "policysim-firms")


@solara.component
def NetworkView(model: DashboardModel) -> None:
    """The stakeholders' positions and influence ties at the current step."""
    update_counter.get()
    view = model.view
    fig = network_figure(view.network)
    with solara.Card(style=_card_style()):
        _heading(f"Stakeholders' positions and influence, {view.date_text}")
        solara.FigureMatplotlib(fig, format="png", dependencies=[id(model), view.months_done])


@solara.component
def ParameterTable(model: DashboardModel) -> None:
    """The controls' values in this run, their allowed ranges and meanings, from the schema."""
    rows = solara.use_memo(lambda: controls_for(model.scenario), [id(model)])
    changed = {o.split("=", 1)[0] for o in model.overrides}
    cell = "padding: 2px 8px; vertical-align: top; border-bottom: 1px solid #eee"
    with solara.Card(style=_card_style()):
        _heading("Parameters of this run")
        solara.Text("Bold: changed from the scenario file. Ranges and meanings come from the "
                    "scenario schema.", style=_MUTED)  # fmt: skip
        with solara.v.Html(tag="table", style_="border-collapse: collapse; font-size: 0.85em"):
            for c in rows:
                weight = "font-weight: bold;" if c.path in changed else ""
                with solara.v.Html(tag="tr"):
                    solara.v.Html(tag="td", children=[c.path], style_=cell + weight)
                    solara.v.Html(tag="td", children=[str(c.value)], style_=cell + weight)
                    solara.v.Html(tag="td", children=[c.help], style_=cell)


def _chart(panels: Sequence[Panel]) -> Callable[[DashboardModel], Any]:
    """Return a SolaraViz component function drawing ``panels``."""

    def Chart(model: DashboardModel) -> Any:  # noqa: N802 - a component, named as Mesa's are
        return MetricChart(model, panels)

    return Chart


def _wrap(component: Callable[[DashboardModel], Any]) -> Callable[[DashboardModel], Any]:
    """Wrap a component so that SolaraViz calls it with the model."""

    def Wrapped(model: DashboardModel) -> Any:  # noqa: N802 - a component, named as Mesa's are
        return component(model)

    return Wrapped


COMPONENTS: list[tuple[Callable[[DashboardModel], Any], int]] = [
    (_wrap(RunStatus), 0),
    (_chart(PANELS[0:2]), 0),
    (_chart(PANELS[2:4]), 0),
    (_chart(PANELS[4:6]), 0),
    (_chart(PANELS[6:8]), 0),
    (_wrap(NetworkView), 0),
    (_wrap(FirmsTable), 0),
    (_wrap(ParameterTable), 0),
]
"""The page's components for ``SolaraViz``: status, four charts (the last: the centre's position
and what pulls on it), network, firms, parameters."""
