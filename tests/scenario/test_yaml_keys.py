"""A key given twice in one YAML mapping is refused, naming both lines (YAML forbids it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.errors import ScenarioError
from sim.scenario.yamlio import parse_yaml, read_yaml


def test_a_duplicated_key_is_refused_naming_both_lines(tmp_path: Path) -> None:
    path = tmp_path / "twice.yaml"
    path.write_text("name: twice\nextends: baseline\nmonths: 12\ndescription: x\nmonths: 24\n")
    with pytest.raises(ScenarioError) as info:
        read_yaml(path)
    text = str(info.value)
    assert "twice.yaml:5" in text and "months" in text and "line 3" in text


def test_a_duplicated_nested_key_names_its_field_path() -> None:
    with pytest.raises(ScenarioError) as info:
        parse_yaml("regulators:\n  SAMR:\n    fine_rate: 0.04\n    fine_rate: 0.06\n", "f.yaml")
    assert "regulators.SAMR.fine_rate" in str(info.value) and "line 3" in str(info.value)


def test_the_same_key_in_different_mappings_is_fine() -> None:
    data, _ = parse_yaml("a: {x: 1}\nb: {x: 2}\n", "f.yaml")
    assert data == {"a": {"x": 1}, "b": {"x": 2}}


def test_a_merge_key_with_an_explicit_override_is_fine() -> None:
    data, _ = parse_yaml("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  x: 3\n", "f.yaml")
    assert data["other"] == {"x": 3, "y": 2}


def test_sim_run_refuses_a_scenario_with_a_duplicated_key(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from sim.cli import app

    path = tmp_path / "twice.yaml"
    path.write_text("name: twice\nextends: baseline\nmonths: 12\nmonths: 24\n")
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert line.startswith("error: ") and "\n" not in line
    assert "twice.yaml:4: months: is given twice, on line 3 and on line 4" in line
    assert not (tmp_path / "out").exists()
