"""Validation targets: the shipped file, its checks on real runs, and errors in a targets file."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from sim.analysis.target_checks import (
    decimal_year,
    describe_check,
    evaluate,
    fines_frame,
    read_value,
    target_passed,
)
from sim.analysis.targets import CompareCheck, DateCheck, RangeCheck, Read, load_targets
from sim.errors import ScenarioError
from tests.helpers import run

REQUIRED = (
    "crackdown_loss", "peak_in_2021", "trough_in_2022", "partial_recovery", "baseline_no_loss",
    "fines_share_of_revenue", "enforcement_wave_2021", "fines_fade", "deals_surge_2023",
    "compliance_rises", "expansion_falls", "foreign_compute_falls", "domestic_compute_rises",
    "golden_shares_spread",
)  # fmt: skip


@pytest.fixture(scope="module")
def runs() -> dict[str, object]:
    """The history and baseline runs of seed 0 (cached across the suite)."""
    return {"history_2020_2025": run("history_2020_2025", 0), "baseline": run("baseline", 0)}


def write(tmp_path: Path, text: str) -> Path:
    """Write a targets file and return its path."""
    path = tmp_path / "targets.yaml"
    path.write_text(text, encoding="utf-8")
    return path


TARGET = """\
scenario: baseline
targets:
  t:
    fact: 1
    description: d
    observed: rises
    tolerance: any
    source: s
    checks:
"""


def test_shipped_targets_cover_every_stylized_fact_with_a_source() -> None:
    targets = load_targets()
    assert set(REQUIRED) <= set(targets.targets)
    assert {t.fact for t in targets.targets.values()} == {1, 2, 3, 4, 5, 6}
    assert targets.scenarios() == ["history_2020_2025", "baseline"]
    assert 0 < targets.threshold <= 1
    for name, target in targets.targets.items():
        assert target.source.strip() and target.tolerance.strip(), name
        for check in target.checks:
            assert describe_check(check), name
    assert targets.targets["crackdown_loss"].magnitude == Read(summary="peak_to_trough_loss_usd")


def test_every_check_of_every_target_is_evaluated_on_real_runs(runs: dict) -> None:
    targets = load_targets()
    outcomes = evaluate(targets, runs)
    assert len(outcomes) == sum(len(t.checks) for t in targets.targets.values())
    passed = target_passed(outcomes)
    assert list(passed) == list(targets.targets)
    assert all(isinstance(p, bool) for p in passed.values())
    by_key = {(o.target, o.check): o for o in outcomes}
    loss = by_key[("crackdown_loss", 0)]
    assert loss.value == runs["history_2020_2025"].summary["peak_to_trough_loss_usd"]
    peak = by_key[("peak_in_2021", 0)]
    assert peak.value == decimal_year(f"{runs['history_2020_2025'].summary['peak_date']:%Y-%m}")


def test_a_metric_read_reduces_the_months_of_its_window(runs: dict) -> None:
    ts = runs["history_2020_2025"].timeseries
    in_2023 = ts[ts["date"].dt.year == 2023]
    read = Read(metric="deals_signed", window=("2023-01", "2023-12"), stat="sum")
    assert read_value(read, runs["history_2020_2025"]) == in_2023["deals_signed"].sum()
    change = Read(metric="mean_compliance", window=("2020-11", "2022-10"), stat="change")
    months = ts.set_index("date")["mean_compliance"]
    expected = months["2022-10-01"] - months["2020-11-01"]
    assert read_value(change, runs["history_2020_2025"]) == pytest.approx(expected)
    half = Read(metric="deals_signed", window=("2023-01", "2023-12"), stat="sum", scale=0.5)
    assert read_value(half, runs["history_2020_2025"]) == pytest.approx(
        0.5 * in_2023["deals_signed"].sum()
    )


def test_fines_are_recorded_against_revenue_and_the_legal_cap(runs: dict) -> None:
    fines = fines_frame(runs["history_2020_2025"])
    ts = runs["history_2020_2025"].timeseries
    assert len(fines) == ts["fines_count"].sum()
    assert (fines["share_of_revenue"] > 0).all()
    assert (fines["share_of_revenue"] <= fines["legal_cap"] + 1e-12).all()
    assert (fines["over_cap"] == 0).all()
    alibaba = fines[(fines["firm"] == "Alibaba") & (fines["date"] == "2021-04-01")]
    assert alibaba["amount_cny_bn"].iloc[0] == pytest.approx(18.228)
    assert set(fines["regulator"]) <= set(runs["history_2020_2025"].scenario.regulators)


def test_a_window_outside_the_run_never_passes(runs: dict) -> None:
    targets = load_targets()
    read = Read(metric="deals_signed", window=("2030-01", "2030-12"), stat="mean")
    assert math.isnan(read_value(read, runs["baseline"]))
    count = Read(fines="amount_cny_bn", window=("2030-01", "2030-12"), stat="count")
    assert read_value(count, runs["history_2020_2025"]) == 0
    check = CompareCheck(kind="compare", left=read, op=">", right=-1.0)
    custom = targets.model_copy(
        update={
            "targets": {
                "x": targets.targets["crackdown_loss"].model_copy(update={"checks": [check]})
            }
        }
    )
    assert evaluate(custom, runs)[0].passed is False


@pytest.mark.parametrize(
    ("checks", "message"),
    [
        ("      - {kind: range, value: {summary: peak_to_trough_loss}, min: 0}",
         "unknown outcome 'peak_to_trough_loss'"),
        ("      - {kind: range, value: {metric: deals_sined, window: [2021-01, 2021-12], "
         "stat: sum}, min: 0}", "unknown metric 'deals_sined'"),
        ("      - {kind: range, value: {metric: deals_signed, stat: sum}, min: 0}",
         "needs a window and a stat"),
        ("      - {kind: range, value: {metric: deals_signed, window: [2021-13, 2021-12], "
         "stat: sum}, min: 0}", "YYYY-MM"),
        ("      - {kind: range, value: {summary: final_hhi}}", "needs min, max or both"),
        ("      - {kind: date, key: peak_date, window: [2022-01, 2021-01]}", "from <= to"),
        ("      - {kind: compare, left: {summary: final_hhi}, op: '=>', right: 1}", "'=>'"),
        ("      - {kind: range, value: {summary: final_hhi, fines: amount_cny_bn}, min: 0}",
         "exactly one of summary, metric or fines"),
        ("      - {kind: range, value: {summary: final_hhi}, min: 0, color: red}",
         "unknown field 'color'"),
    ],
)  # fmt: skip
def test_a_bad_targets_file_names_the_file_line_and_field(
    tmp_path: Path, checks: str, message: str
) -> None:
    path = write(tmp_path, TARGET + checks + "\n")
    with pytest.raises(ScenarioError) as err:
        load_targets(path)
    text = str(err.value)
    assert message in text
    assert text.startswith(f"{path}:")
    assert "targets.t.checks" in text
    assert "\n" not in text


def test_a_numeric_observed_value_needs_a_range_check_first(tmp_path: Path) -> None:
    text = TARGET.replace("observed: rises", "observed: 2.5") + (
        "      - {kind: date, key: peak_date, window: [2021-01, 2021-12]}\n"
    )
    with pytest.raises(ScenarioError, match="first check must be a range check"):
        load_targets(write(tmp_path, text))


def test_a_missing_targets_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no such targets file"):
        load_targets(tmp_path / "none.yaml")


def test_checks_describe_themselves() -> None:
    rng = RangeCheck(kind="range", value=Read(summary="final_hhi", scenario="baseline"), min=1)
    assert describe_check(rng) == "final_hhi [baseline] >= 1"
    date = DateCheck(kind="date", key="trough_date", window=("2022-01", "2022-12"))
    assert describe_check(date) == "trough_date in 2022-01..2022-12"
    hhi = Read(metric="hhi", window=("2021-01", "2021-12"), stat="max")
    cmp = CompareCheck(kind="compare", op="<", right=2.0, left=hhi)
    assert describe_check(cmp) == "hhi max 2021-01..2021-12 < 2"


def test_every_target_is_documented_in_the_validation_doc() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "validation.md").read_text()
    missing = [name for name in load_targets().targets if f"`{name}`" not in doc]
    assert not missing, f"docs/validation.md does not describe {missing}"
