"""The dashboard page rendered by Solara without a browser: controls, components, picker, save."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

solara = pytest.importorskip("solara", reason="the dashboard needs the viz extra")

import ipyvuetify as v  # noqa: E402
import ipywidgets  # noqa: E402
from mesa.visualization.solara_viz import _check_model_params  # noqa: E402

from sim.dashboard.app import ENV_SCENARIO, Page, initial_values  # noqa: E402
from sim.dashboard.components import COMPONENTS, RunStatus  # noqa: E402
from sim.dashboard.live import DashboardModel  # noqa: E402
from sim.dashboard.params_ui import model_params  # noqa: E402
from sim.errors import ScenarioError  # noqa: E402
from sim.scenario.loader import load_scenario  # noqa: E402
from tests.helpers import scenario  # noqa: E402


class Page_:  # noqa: N801 - a handle on a rendered page
    """A rendered dashboard page and helpers to read and use it."""

    def __init__(self, rc: Any) -> None:
        self.rc = rc

    def text(self, css_class: str) -> str:
        found = self.rc.find(v.Html, class_=css_class).widgets
        return " ".join(str(c) for w in found for c in w.children)

    def alert(self, css_class: str) -> str:
        found = self.rc.find(v.Alert, class_=css_class).widgets
        return " ".join(str(c) for w in found for c in w.children)

    def click(self, label: str) -> None:
        self.rc.find(v.Btn, children=[label]).widget.click()

    def heading(self) -> str:
        return str(self.rc.find(v.Html, tag="h3").widgets[0].children[0])

    def charts(self) -> list[bytes]:
        return [w.value for w in self.rc.find(ipywidgets.Image).widgets]

    def set(self, widget: type, label: str, value: object) -> None:
        self.rc.find(widget, label=label).widget.v_model = value

    def type_text(self, label: str, text: str) -> None:
        """Type into a text box and leave it (a text box reports its value when it loses focus)."""
        box = self.rc.find(v.TextField, label=label).widget
        box.v_model = text
        box.fire_event("focusout")


@pytest.fixture
def page(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Page_]:
    """The whole page (scenario picker and SolaraViz) for a 12-month crackdown file."""
    monkeypatch.chdir(tmp_path)
    source = tmp_path / "short.yaml"
    source.write_text("name: short\nextends: crackdown\nmonths: 12\n"
                      "description: The crackdown, one year.\n")  # fmt: skip
    monkeypatch.setenv(ENV_SCENARIO, str(source))
    _, rc = solara.render(solara.AppLayout(children=[Page()]), handle_error=False)
    try:
        yield Page_(rc)
    finally:
        rc.close()


def test_mesa_accepts_the_model_params() -> None:
    params = model_params("crackdown", scenario("crackdown"))
    _check_model_params(DashboardModel.__init__, params)
    model = DashboardModel(**initial_values(params))
    assert model.overrides == [] and model.error is None


def test_every_component_renders_for_a_stepped_model() -> None:
    model = DashboardModel(source="crackdown", months="6", show_baseline=True)
    model.step()
    for component, page_number in COMPONENTS:
        assert page_number == 0
        _, rc = solara.render(solara.Column(children=[component(model)]), handle_error=False)
        rc.close()


def test_step_moves_the_date_and_redraws_the_charts(page: Page_) -> None:
    assert "not started (0 of 12 months)" in page.text("policysim-date")
    assert page.heading() == "short"
    before = page.charts()
    assert len(before) == 5  # four charts and the network
    page.click("Step")
    page.click("Step")
    assert page.text("policysim-date").startswith("2020-02 · month 2 of 12")
    after = page.charts()
    assert all(a != b for a, b in zip(before, after, strict=True))


def test_a_changed_parameter_takes_effect_on_reset(page: Page_) -> None:
    page.set(v.Slider, "regulators.SAMR.fine_rate", 0.07)
    page.type_text("seed", "8")
    page.click("Reset")
    command = str(page.rc.find(v.Html, tag="pre").widget.children[0])
    assert "--seed 8" in command and "--set regulators.SAMR.fine_rate=0.07" in command
    page.click("Step")
    assert "month 1 of 12" in page.text("policysim-date")


def test_an_invalid_value_is_refused_with_the_cli_message(page: Page_) -> None:
    page.set(v.Slider, "regulators.SAMR.fine_rate", 0.3)
    page.click("Reset")
    with pytest.raises(ScenarioError) as info:
        load_scenario("crackdown", ["regulators.SAMR.fine_rate=0.3"])
    message = f"error: {info.value}"
    assert page.alert("policysim-error") == message
    page.click("Step")  # refused: the model does not move
    assert "not started" in page.text("policysim-date")


def test_the_picker_switches_scenario_and_refuses_a_missing_file(page: Page_) -> None:
    page.set(v.Select, "shipped scenario", "thaw")
    assert page.heading() == "thaw"
    slider = page.rc.find(v.Slider, label="regulators.SAMR.fine_rate").widget
    assert slider.v_model == scenario("thaw").regulators["SAMR"].fine_rate
    page.type_text("or a scenario YAML file", "no/such/file.yaml")
    page.click("Load")
    assert page.alert("policysim-picker-error") == "error: no such scenario file: no/such/file.yaml"
    assert page.heading() == "thaw"


def test_save_writes_the_run_so_far(page: Page_, tmp_path: Path) -> None:
    for _ in range(3):
        page.click("Step")
    page.click("Save results")
    saved = tmp_path / "results" / "short" / "seed-0"
    assert "saved 3 months to" in page.alert("policysim-saved")
    assert json.loads((saved / "manifest.json").read_text())["months"] == 3


def test_run_status_lists_the_marked_events() -> None:
    model = DashboardModel(source="crackdown")
    _, rc = solara.render(RunStatus(model), handle_error=False)
    items = [str(w.children[0]) for w in rc.find(v.Html, tag="li").widgets]
    assert items and items[0].startswith("2020-11")
    rc.close()
