"""The lever table and lever-study plans: levers resolve, steps stay in bounds, seeds are paired.

Checked: every declared lever names real outcomes and moves fields of its home scenario; every
step down and up validates there and stays inside the schema's bounds (and under a cap such as
``legal_cap``), also from values at the bounds (a Hypothesis property); a plan holds the unmoved
scenario and each lever's variants on the seeds of a batch; a study resumes without rerunning.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.errors import ScenarioError
from sim.experiments.execution import run_plan
from sim.experiments.lever_table import (
    DIRECTIONS,
    LEVERS,
    LEVERS_BY_NAME,
    OUTCOMES,
    Lever,
    scale,
    shift,
)
from sim.experiments.levers import (
    BASE,
    lever_members,
    lever_overrides,
    plan_levers,
    run_levers,
    select_levers,
)
from sim.experiments.plan import plan_batch
from sim.model.metrics import numeric_outcomes
from sim.scenario.loader import load_scenario, with_overrides


def test_outcomes_are_numeric_run_outcomes() -> None:
    assert set(OUTCOMES) <= set(numeric_outcomes())


def test_every_lever_is_declared_once_with_stated_directions() -> None:
    assert len(LEVERS_BY_NAME) == len(LEVERS)
    for lever in LEVERS:
        assert lever.expect, lever.name
        assert set(lever.expect) <= set(OUTCOMES), lever.name
        assert set(lever.expect.values()) <= {-1, 1}, lever.name


@pytest.mark.parametrize("lever", LEVERS, ids=lambda lever: lever.name)
def test_lever_moves_fields_of_its_home_scenario_within_bounds(lever: Lever) -> None:
    scenario = load_scenario(lever.home)
    members = lever_members(lever, scenario)
    assert members, f"{lever.name} matches no field of {lever.home}"
    for direction in DIRECTIONS:
        overrides = lever_overrides(lever, scenario, direction)
        assert overrides, f"{lever.name} cannot move {direction} in {lever.home}"
        with_overrides(scenario, overrides)  # the schema accepts every variant
        for member in members:
            assert member.low <= member.moved(lever, direction) <= member.high


def test_where_keeps_only_matching_mappings() -> None:
    scenario = load_scenario("crackdown")
    paths = [m.path for m in lever_members(LEVERS_BY_NAME["stance_stringency"], scenario)]
    assert paths and all(scenario.timeline[p.split(".")[1]].type == "stance" for p in paths)
    funds = [m.path for m in lever_members(LEVERS_BY_NAME["chip_fund_capital"], scenario)]
    assert funds == ["funds.BigFund.capital_cny_bn"]


def test_fine_rate_stays_under_the_legal_cap_and_integers_stay_integers() -> None:
    scenario = load_scenario("crackdown", ["regulators.CAC.fine_rate=0.04",
                                           "regulators.CAC.legal_cap=0.05"])  # fmt: skip
    up = lever_overrides(LEVERS_BY_NAME["fine_rate"], scenario, "up")
    assert "regulators.CAC.fine_rate=0.05" in up
    down = lever_overrides(LEVERS_BY_NAME["freeze_months"], scenario, "down")
    assert all(o.split("=")[1].isdigit() for o in down)


def test_a_lever_not_in_the_scenario_has_no_variant() -> None:
    scenario = load_scenario("crackdown")
    assert lever_members(LEVERS_BY_NAME["blocked_share"], scenario) == []
    plan = plan_levers("crackdown", seeds=2, months=3, levers=["blocked_share"])
    assert [v["lever"] for v in plan.design["variants"]] == [BASE]


@settings(max_examples=40, deadline=None)
@given(value=st.floats(0.0, 1.0), by=st.floats(0.01, 1.0), factor=st.floats(1.01, 5.0))
def test_steps_never_leave_the_schema_range(value: float, by: float, factor: float) -> None:
    scenario = load_scenario("baseline", ["months=1", f"regulators.SAMR.p_fine={value!r}"])
    for step in (shift(by), scale(1 / factor, factor)):
        lever = Lever("p", "p", "regulators.SAMR.p_fine", step, {OUTCOMES[0]: 1})
        for direction in DIRECTIONS:
            moved = with_overrides(scenario, lever_overrides(lever, scenario, direction))
            assert 0.0 <= moved.regulators["SAMR"].p_fine <= 1.0


def test_unknown_lever_is_refused_with_the_allowed_names() -> None:
    with pytest.raises(ScenarioError, match="allowed: fine_rate"):
        select_levers(["fine_rates"])
    with pytest.raises(ScenarioError, match=r"^seeds=1: must be an integer >= 2"):
        plan_levers("crackdown", seeds=1)


def test_plan_pairs_every_variant_with_the_batch_seeds() -> None:
    plan = plan_levers("crackdown", seeds=3, seed=7, months=4, levers=["capacity", "fine_rate"])
    batch = plan_batch(["crackdown"], replicates=3, seed=7, months=4)
    variants = [(v["lever"], v["direction"]) for v in plan.design["variants"]]
    assert variants == [(BASE, BASE), ("fine_rate", "down"), ("fine_rate", "up"),
                        ("capacity", "down"), ("capacity", "up")]  # fmt: skip
    base = [s for s in plan.specs if s.point_id == 0]
    assert [s.run_id for s in base] == [s.run_id for s in batch.specs]
    for pid in range(len(variants)):
        assert [s.seed for s in plan.specs if s.point_id == pid] == plan.seeds
    assert len({s.scenario_hash for s in plan.specs}) == len(variants)


def test_a_study_resumes_without_running_again(tmp_path: Path) -> None:
    out = tmp_path / "study"
    first = run_levers("crackdown", seeds=2, months=3, levers=["capacity"], executor="serial",
                       out=out)  # fmt: skip
    assert first.complete and len(first.runs) == 6
    seen: list[int] = []
    plan = plan_levers("crackdown", seeds=2, months=3, levers=["capacity"])
    again = run_plan(plan, out=out, executor="serial", progress=lambda d, f, t: seen.append(d))
    assert seen == [6] and again.complete
