"""Sweep files: designs of the right size inside their bounds, clear errors, a sweep end to end."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sim import load_results, run_sweep
from sim.cli import app
from sim.errors import ResultsError, ScenarioError
from sim.experiments.plan import plan_sweep
from sim.experiments.sweep import load_sweep
from sim.scenario.loader import parse_override
from sim.scenario.overrides import format_override_value
from sim.scenario.search import PACKAGE_SCENARIOS

FLOAT_P = {"path": "regulators.SAMR.fine_rate", "range": [0.01, 0.09]}
LOG_P = {
    "path": "params.influence.center_clout",
    "range": [2.0, 50.0],
    "distribution": "loguniform",
}
INT_P = {"path": "regulators.CAC.freeze_months", "range": [1, 4]}
LEVEL_P = {"path": "timeline.controls_2022.blocked_share", "levels": [0.2, 0.5, 0.9]}
PARAMS = {"fine": FLOAT_P, "clout": LOG_P, "freeze": INT_P, "blocked": LEVEL_P}


def write(tmp_path: Path, **fields: object) -> Path:
    """Write a sweep file over export_controls with the given fields replaced."""
    data = {
        "name": "t",
        "base": "export_controls",
        "parameters": PARAMS,
        "design": {"kind": "lhs", "samples": 16},
        "replicates": 1,
        "outcomes": ["final_market_value_usd"],
        **fields,
    }
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def check_bounds(points: list[dict]) -> None:
    for p in points:
        assert 0.01 <= p["fine"] <= 0.09 and isinstance(p["fine"], float)
        assert 2.0 <= p["clout"] <= 50.0
        assert p["freeze"] in (1, 2, 3, 4) and isinstance(p["freeze"], int)
        assert p["blocked"] in (0.2, 0.5, 0.9)


@pytest.mark.parametrize(
    ("design", "size"),
    [
        ({"kind": "lhs", "samples": 20}, 20),
        ({"kind": "sobol", "samples": 16}, 16 * (4 + 2)),
        ({"kind": "sobol", "samples": 8, "second_order": True}, 8 * (2 * 4 + 2)),
        ({"kind": "sobol", "samples": 32, "saltelli": False}, 32),
        ({"kind": "morris", "samples": 5, "num_levels": 4}, 5 * (4 + 1)),
    ],
)
def test_sampled_designs_have_the_right_size_and_bounds(
    tmp_path: Path, design: dict, size: int
) -> None:
    sweep = load_sweep(write(tmp_path, design=design))
    points = sweep.points()
    assert len(points) == size
    check_bounds(points)
    assert points == load_sweep(write(tmp_path, design=design)).points()  # seeded


def test_lhs_fills_every_stratum_once(tmp_path: Path) -> None:
    params = {"fine": FLOAT_P}
    points = load_sweep(write(tmp_path, parameters=params, design={"kind": "lhs", "samples": 10}))
    strata = sorted(int((p["fine"] - 0.01) / 0.08 * 10) for p in points.points())
    assert strata == list(range(10))


def test_loguniform_is_uniform_in_log_space(tmp_path: Path) -> None:
    params = {"clout": LOG_P}
    sweep = load_sweep(write(tmp_path, parameters=params, design={"kind": "lhs", "samples": 8}))
    logs = sorted(math.log(p["clout"]) for p in sweep.points())
    width = (math.log(50.0) - math.log(2.0)) / 8
    assert [int((v - math.log(2.0)) / width) for v in logs] == list(range(8))


def test_grid_is_the_product_of_levels(tmp_path: Path) -> None:
    params = {"fine": {**FLOAT_P, "n": 3}, "freeze": {**INT_P, "n": 4}, "blocked": LEVEL_P}
    sweep = load_sweep(write(tmp_path, parameters=params, design={"kind": "grid"}))
    points = sweep.points()
    assert len(points) == 3 * 4 * 3
    assert sorted({p["fine"] for p in points}) == pytest.approx([0.01, 0.05, 0.09])
    assert sorted({p["freeze"] for p in points}) == [1, 2, 3, 4]
    assert len({tuple(p.values()) for p in points}) == len(points)


def test_morris_points_lie_on_the_level_grid(tmp_path: Path) -> None:
    params = {"fine": FLOAT_P}
    sweep = load_sweep(write(tmp_path, parameters=params, design={"kind": "morris", "samples": 4}))
    allowed = np.linspace(0.01, 0.09, 4)
    assert all(np.isclose(allowed, p["fine"]).any() for p in sweep.points())


def test_csv_design_reads_points_relative_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "pts.csv").write_text("freeze,fine\n1,0.02\n3,0.05\n")
    params = {"freeze": {"path": INT_P["path"]}, "fine": {"path": FLOAT_P["path"]}}
    sweep = load_sweep(
        write(tmp_path, parameters=params, design={"kind": "csv", "file": "pts.csv"})
    )
    assert sweep.points() == [{"freeze": 1, "fine": 0.02}, {"freeze": 3, "fine": 0.05}]


@pytest.mark.parametrize(
    ("name", "points"),
    [("crackdown_intensity", 16), ("behaviour_sobol", 64 * 8), ("chip_controls", 16)],
)
def test_shipped_sweeps_are_valid(name: str, points: int) -> None:
    sweep = load_sweep(name)
    assert len(sweep.points()) == points
    assert (PACKAGE_SCENARIOS / "sweeps" / f"{name}.yaml").is_file()


@pytest.mark.parametrize(
    ("fields", "field", "needle"),
    [
        ({"desing": {"kind": "grid"}}, "desing", "did you mean 'design'"),
        ({"design": {"kind": "grid", "sample": 3}}, "design.sample", "did you mean 'samples'"),
        ({"design": {"kind": "factorial"}}, "design.kind", "'grid', 'lhs', 'sobol'"),
        ({"design": {"kind": "sobol", "samples": 10}}, "design.samples", "power of 2"),
        ({"design": {"kind": "lhs"}}, "design.samples", "needs samples"),
        ({"design": {"kind": "csv"}}, "design.file", "needs file"),
        (
            {"parameters": {"fine": {"path": "regulators.SAMR.fine_rat", "levels": [0.1]}}},
            "parameters.fine.path",
            "did you mean 'fine_rate'",
        ),
        (
            {"parameters": {"fine": {"path": "regulators.SAMR", "levels": [0.1]}}},
            "parameters.fine.path",
            "group of fields",
        ),
        (
            {"parameters": {"fine": {**FLOAT_P, "range": [0.01, 0.3]}}},
            "parameters.fine.range",
            "fine_rate 0.3 is above legal_cap",
        ),
        (
            {"parameters": {"fine": {**FLOAT_P, "range": [0.05, 0.01]}}},
            "parameters.fine.range",
            "lowest < highest",
        ),
        (
            {"parameters": {"t": {"path": INT_P["path"], "levels": [1, 2.5]}}},
            "parameters.t.levels",
            "integer field",
        ),
        (
            {"parameters": {"t": {"path": INT_P["path"], "range": [0.5, 3]}}},
            "parameters.t.range",
            "integer field",
        ),
        (
            {"parameters": {"fine": {**FLOAT_P, "levels": [0.1]}}},
            "parameters.fine.levels",
            "not both",
        ),
        ({"parameters": {"seed": FLOAT_P}}, "parameters.seed", "identifier other than"),
        ({"parameters": {"fine": {"path": FLOAT_P["path"]}}}, "parameters.fine", "levels or range"),
        ({"design": {"kind": "grid"}}, "parameters.fine.n", "needs n"),
        ({"outcomes": ["peak_to_trough_loss"]}, "outcomes[0]", "did you mean"),
        ({"outcomes": ["peak_date"]}, "outcomes[0]", "unknown outcome"),
        ({"base": "nosuch"}, "base", "unknown scenario"),
        ({"replicates": 0}, "replicates", "greater than or equal to 1"),
    ],
)
def test_bad_sweep_files_get_clear_errors(
    tmp_path: Path, fields: dict, field: str, needle: str
) -> None:
    path = write(tmp_path, **fields)
    with pytest.raises(ScenarioError) as info:
        load_sweep(path)
    assert info.value.file == str(path)
    assert info.value.field == field
    assert needle in str(info.value)


def test_csv_with_wrong_columns_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pts.csv").write_text("freeze,fin\n1,0.02\n")
    params = {"freeze": {"path": INT_P["path"]}, "fine": {"path": FLOAT_P["path"]}}
    path = write(tmp_path, parameters=params, design={"kind": "csv", "file": "pts.csv"})
    with pytest.raises(ScenarioError, match="one column per parameter"):
        load_sweep(path).points()


def test_point_the_schema_refuses_is_reported_before_running(tmp_path: Path) -> None:
    params = {
        "cap": {"path": "regulators.SAMR.legal_cap", "levels": [0.04, 0.1]},
        "fine": {"path": FLOAT_P["path"], "levels": [0.01, 0.05]},
    }
    path = write(tmp_path, parameters=params, design={"kind": "grid"})
    with pytest.raises(ScenarioError, match="design point 1 .*above legal_cap"):
        plan_sweep(path)


def test_planning_reports_the_design_points_it_has_checked() -> None:
    calls: list[tuple[int, int]] = []
    plan = plan_sweep("behaviour_sobol", replicates=1, progress=lambda *c: calls.append(c))
    assert calls[0] == (0, 512) and calls[-1] == (512, 512)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert len(calls) == 512 // 64 + 1 and len(plan.specs) == 512


@settings(max_examples=200, deadline=None)
@given(
    st.floats(allow_nan=False, allow_infinity=False)
    | st.integers(-(10**9), 10**9)
    | st.booleans()
    | st.text(max_size=20)
)
def test_override_values_round_trip_exactly(value: object) -> None:
    _, parsed = parse_override(f"x={format_override_value(value)}")  # type: ignore[arg-type]
    assert parsed == value and type(parsed) is type(value)


def test_sweep_end_to_end(tmp_path: Path) -> None:
    (tmp_path / "pts.csv").write_text("freeze,fine\n1,0.02\n3,0.05\n")
    params = {"freeze": {"path": INT_P["path"]}, "fine": {"path": FLOAT_P["path"]}}
    path = write(
        tmp_path, parameters=params, design={"kind": "csv", "file": "pts.csv"}, replicates=2
    )
    res = run_sweep(path, months=4, seed=2, executor="serial", out=tmp_path / "out")
    assert res.complete and res.kind == "sweep"
    assert res.design.to_dict("records") == [
        {"point_id": 0, "freeze": 1, "fine": 0.02},
        {"point_id": 1, "freeze": 3, "fine": 0.05},
    ]
    runs = res.runs
    assert runs[["point_id", "replicate", "freeze", "fine"]].values.tolist() == [
        [0, 0, 1, 0.02],
        [0, 1, 1, 0.02],
        [1, 0, 3, 0.05],
        [1, 1, 3, 0.05],
    ]
    assert runs.groupby("replicate")["seed"].nunique().eq(1).all()  # common random numbers
    assert {"point_id", "freeze", "fine", "final_market_value_usd"} <= set(res.summary.columns)
    assert res.stakeholders["point_id"].unique().tolist() == [0, 1]
    design = res.manifest["design"]
    assert design["kind"] == "csv" and design["n_points"] == 2
    assert design["parameters"]["freeze"] == {"path": INT_P["path"], "type": "int"}
    assert design["outcomes"] == ["final_market_value_usd"]
    assert res.manifest["resolved_scenarios"]["export_controls"]["months"] == 4


def test_a_sweep_without_detail_keeps_series_and_summaries_only(tmp_path: Path) -> None:
    (tmp_path / "pts.csv").write_text("fine\n0.02\n0.05\n")
    path = write(tmp_path, parameters={"fine": {"path": FLOAT_P["path"]}},
                 design={"kind": "csv", "file": "pts.csv"}, replicates=2)  # fmt: skip
    kept = run_sweep(path, months=4, seed=2, executor="serial", out=tmp_path / "kept")
    bare = run_sweep(path, months=4, seed=2, executor="serial", out=tmp_path / "bare",
                     detail=False)  # fmt: skip
    assert bare.complete and bare.manifest["design"]["detail"] is False
    assert kept.manifest["design"]["detail"] is True
    assert bare.stakeholders.empty and bare.network.empty
    assert not (tmp_path / "bare" / "stakeholders").exists()
    assert kept.stakeholders["point_id"].unique().tolist() == [0, 1]
    # The runs themselves are the same: the same time series and summaries, bit for bit.
    pd.testing.assert_frame_equal(bare.timeseries, kept.timeseries, check_exact=True)
    pd.testing.assert_frame_equal(bare.summary, kept.summary, check_exact=True)
    # A folder never mixes runs kept with and without the tables: the two plans differ.
    plans = [plan_sweep(path, months=4, seed=2, detail=d) for d in (True, False)]
    assert plans[0].spec_hash != plans[1].spec_hash
    assert [s.run_id for s in plans[0].specs] == [s.run_id for s in plans[1].specs]
    with pytest.raises(ResultsError, match="force"):
        run_sweep(path, months=4, seed=2, executor="serial", out=tmp_path / "kept", detail=False)


def test_sim_sweep_no_detail_from_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "pts.csv").write_text("fine\n0.03\n")
    path = write(tmp_path, parameters={"fine": {"path": FLOAT_P["path"]}},
                 design={"kind": "csv", "file": "pts.csv"})  # fmt: skip
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["sweep", str(path), "--months", "3", "--no-detail", "--workers", "1", "--quiet",
              "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    res = load_results(out)
    assert res.complete and len(res.timeseries) == 3 and res.stakeholders.empty
