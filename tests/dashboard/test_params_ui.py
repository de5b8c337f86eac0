"""The dashboard's parameter-to-scenario mapping: controls from the schema, values to ``--set``."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.dashboard.live import DashboardModel
from sim.dashboard.params_ui import (
    BASELINE_KEY,
    MAIN_FIELDS,
    SEED_KEY,
    build_scenario,
    cli_command,
    control_for,
    controls_for,
    model_params,
    overrides_from_values,
    parse_seed,
)
from sim.errors import ScenarioError
from sim.scenario.loader import scenario_dict
from sim.scenario.schema import Scenario
from tests.helpers import scenario

MESA_INPUT_TYPES = {"SliderInt", "SliderFloat", "InputText", "Checkbox", "Select"}


def _json_schema_field(path: str) -> dict[str, Any]:
    """Follow a ``--set`` path through pydantic's own JSON schema of a scenario."""
    schema = Scenario.model_json_schema()
    node: dict[str, Any] = schema
    for part in path.split("."):
        while "$ref" in node:
            node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
        node = (
            node["properties"][part]
            if part in node.get("properties", {})
            else (node["additionalProperties"])
        )
    while "$ref" in node:
        node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _value(sc: Scenario, path: str) -> Any:
    node: Any = scenario_dict(sc)
    for part in path.split("."):
        node = node[part]
    return node


@pytest.mark.parametrize("name", ["baseline", "crackdown", "export_controls"])
def test_controls_take_bounds_help_and_values_from_the_schema(name: str) -> None:
    sc = scenario(name)
    controls = controls_for(sc)
    assert [c.path for c in controls][: len(MAIN_FIELDS)] == list(MAIN_FIELDS)
    assert {f"regulators.{r}.fine_rate" for r in sc.regulators} <= {c.path for c in controls}
    for c in controls:
        field = _json_schema_field(c.path)
        assert (c.lo, c.hi) == (field["minimum"], field["maximum"]), c.path
        assert field["description"] in c.help, c.path
        assert str(field["minimum"]).removesuffix(".0") in c.help.replace(",", "")
        assert c.value == _value(sc, c.path) or c.value == str(_value(sc, c.path)), c.path
        if c.kind != "text":
            assert c.lo <= c.value <= c.hi and c.step is not None and 0 < c.step < c.hi - c.lo


def test_wide_integer_fields_get_a_text_box_and_floats_a_slider() -> None:
    sc = scenario("baseline")
    assert control_for(sc, "n_synthetic_firms").kind == "text"
    assert control_for(sc, "params.firms.pressure_response").kind == "float"


@pytest.mark.parametrize("path", ["params.firms", "params.firms.no_such_field", "name"])
def test_a_control_needs_a_bounded_number_field(path: str) -> None:
    with pytest.raises(ScenarioError, match="dashboard"):
        control_for(scenario("baseline"), path)


def test_model_params_are_mesa_inputs_starting_at_the_scenario() -> None:
    sc = scenario("crackdown")
    params = model_params("crackdown", sc, seed=5)
    assert params["source"] == "crackdown"
    assert params[SEED_KEY]["value"] == "5"
    assert params[BASELINE_KEY]["type"] == "Checkbox"
    inputs = {k: v for k, v in params.items() if isinstance(v, dict)}
    assert {v["type"] for v in inputs.values()} <= MESA_INPUT_TYPES
    for spec in inputs.values():
        if spec["type"].startswith("Slider"):
            assert spec["min"] <= spec["value"] <= spec["max"]
    values = {k: v["value"] for k, v in inputs.items()}
    assert overrides_from_values(sc, values) == []  # untouched controls change nothing


def test_baseline_checkbox_is_off_for_the_baseline_itself() -> None:
    assert model_params("baseline", scenario("baseline"))[BASELINE_KEY]["value"] is False


def test_only_changed_values_become_overrides() -> None:
    sc = scenario("crackdown")
    samr = sc.regulators["SAMR"].fine_rate
    values = {
        "regulators.SAMR.fine_rate": samr + 0.01,
        "regulators.CAC.fine_rate": sc.regulators["CAC"].fine_rate,
        "n_synthetic_firms": " 250 ",
        "months": str(sc.months),
        SEED_KEY: "3",
        BASELINE_KEY: True,
        "source": "crackdown",
    }
    overrides = overrides_from_values(sc, values)
    expected = [f"regulators.SAMR.fine_rate={round(samr + 0.01, 12)!r}", "n_synthetic_firms=250"]
    assert overrides == expected
    built = build_scenario("crackdown", overrides)
    assert built.regulators["SAMR"].fine_rate == pytest.approx(samr + 0.01)
    assert built.n_synthetic_firms == 250


def test_float_noise_from_a_slider_is_rounded_away() -> None:
    sc = scenario("crackdown")
    overrides = overrides_from_values(sc, {"regulators.SAMR.fine_rate": 0.1 + 0.2})
    assert overrides == ["regulators.SAMR.fine_rate=0.3"]


@pytest.mark.parametrize(
    "override",
    [
        "regulators.SAMR.fine_rate=0.3",  # above SAMR's legal cap: a cross-field rule
        "n_synthetic_firms=-5",
        "months=0",
        "months=soon",
    ],
)
def test_invalid_values_are_refused_with_the_cli_message(override: str) -> None:
    path, value = override.split("=")
    model = DashboardModel(source="crackdown", **{path: value})
    assert model.error is not None and model.error.startswith("error: ")
    assert not model.running
    cli = CliRunner().invoke(app, ["run", "crackdown", "--set", override, "--out", "unused"])
    assert cli.exit_code == 2
    assert model.error in cli.output.splitlines()


@pytest.mark.parametrize("text", ["-1", "1.5", "abc", "", str(2**63)])
def test_a_bad_seed_is_refused(text: str) -> None:
    with pytest.raises(ScenarioError, match="seed must be an integer"):
        parse_seed(text)


def test_a_good_seed_is_read() -> None:
    assert parse_seed(" 42 ") == 42
    assert parse_seed(7) == 7


def test_cli_command_quotes_what_needs_quoting() -> None:
    command = cli_command("my file.yaml", 3, ["firms.Ant Group.compliance=0.5"])
    assert shlex.split(command) == [
        "sim", "run", "my file.yaml", "--seed", "3", "--set", "firms.Ant Group.compliance=0.5",
    ]  # fmt: skip


def test_the_command_shown_reproduces_the_run(tmp_path: Path) -> None:
    model = DashboardModel(
        source="crackdown",
        seed="11",
        **{"months": "12", "params.firms.pressure_response": 7.5},
    )
    for _ in range(12):
        model.step()
    args = shlex.split(model.command())[1:] + ["--out", str(tmp_path / "run"), "--quiet"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    written = pd.read_parquet(tmp_path / "run" / "timeseries.parquet")
    pd.testing.assert_frame_equal(written, model.timeseries(), check_dtype=False)
