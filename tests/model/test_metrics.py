"""The declared metrics: one column each, units, and the run summary."""

from __future__ import annotations

import mesa
import numpy as np
import pandas as pd
import pytest

from sim.model.metrics import (
    METRIC_NAMES,
    METRICS,
    METRICS_BY_NAME,
    month_values,
    numeric_outcomes,
    reporters,
    summarize,
    summary_types,
)
from sim.model.policy_model import PolicyModel
from sim.model.runner import run_scenario
from sim.scenario.loader import load_scenario
from tests.helpers import SHIPPED, run

SHARES = [m.name for m in METRICS if m.unit == "share" and m.name != "mean_discount_rate"]
COUNTS = [m.name for m in METRICS if m.unit == "count"]


def test_metrics_are_declared_once_with_unit_description_and_kind() -> None:
    assert len(set(METRIC_NAMES)) == len(METRICS)
    assert set(METRICS_BY_NAME) == set(METRIC_NAMES)
    assert set(reporters()) == set(METRIC_NAMES)
    for metric in METRICS:
        assert metric.name.isidentifier() and metric.name.islower()
        assert metric.unit and metric.description.strip()
        assert metric.kind in ("stock", "flow")
        if metric.unit == "USD":
            assert metric.name.endswith("_usd"), metric.name


@pytest.mark.parametrize("name", SHIPPED)
def test_every_metric_is_a_column_of_the_time_series(name: str) -> None:
    result = run(name)
    ts = result.timeseries
    assert list(ts.columns) == ["date", *METRIC_NAMES]
    assert pd.api.types.is_datetime64_any_dtype(ts["date"])
    start = pd.Timestamp(result.scenario.start + "-01")
    expected = pd.date_range(start, periods=result.scenario.months, freq="MS")
    assert list(ts["date"]) == list(expected)
    values = ts[list(METRIC_NAMES)].to_numpy(dtype=float)
    assert np.all(np.isfinite(values))


@pytest.mark.parametrize("name", SHIPPED)
def test_shares_counts_and_money_are_in_range(name: str) -> None:
    ts = run(name).timeseries
    for column in SHARES:
        assert ts[column].between(0.0, 1.0).all(), column
    for column in COUNTS:
        values = ts[column].to_numpy()
        assert np.all(values >= 0) and np.all(values == np.round(values)), column
    for metric in METRICS:
        if metric.unit == "USD":
            assert (ts[metric.name] >= 0).all(), metric.name
    np.testing.assert_allclose(ts["foreign_compute_share"] + ts["domestic_compute_share"], 1.0)
    assert ts["hhi"].between(0.0, 10_000.0).all()
    assert ts["ai_capability"].iloc[0] > 0


def test_flows_reset_each_month() -> None:
    ts = run("crackdown").timeseries
    # Alibaba's fine (2021-04) is in one month's flow, not carried into the next.
    fines = ts.set_index("date")["fines_count"]
    assert fines.loc["2021-04-01"] >= 1
    assert fines.sum() < len(fines) * fines.max()


def _frame() -> pd.DataFrame:
    dates = pd.date_range("2021-01-01", periods=6, freq="MS")
    data: dict[str, object] = {"date": dates}
    for i, name in enumerate(METRIC_NAMES):
        data[name] = np.arange(6, dtype=float) + i
    data["market_value_usd"] = [5.0, 8.0, 10.0, 4.0, 6.0, 7.0]
    return pd.DataFrame(data)


def test_summarize_totals_flows_and_takes_the_last_stock() -> None:
    frame = _frame()
    summary = summarize(frame)
    for metric in METRICS:
        column = frame[metric.name]
        if metric.kind == "flow":
            assert summary[f"total_{metric.name}"] == column.sum()
            assert f"final_{metric.name}" not in summary
        else:
            assert summary[f"final_{metric.name}"] == column.iloc[-1]
            assert f"total_{metric.name}" not in summary


def test_summarize_finds_peak_and_trough_after_it() -> None:
    summary = summarize(_frame())
    assert summary["peak_market_value_usd"] == 10.0
    assert summary["peak_date"] == pd.Timestamp("2021-03-01")
    assert summary["trough_market_value_usd"] == 4.0
    assert summary["trough_date"] == pd.Timestamp("2021-04-01")
    assert summary["peak_to_trough_loss_usd"] == 6.0
    assert summary["max_drawdown"] == pytest.approx(0.6)
    assert summary["recovery_from_trough"] == pytest.approx(7.0 / 4.0 - 1.0)


def test_summarize_a_rising_series_has_no_loss() -> None:
    frame = _frame()
    frame["market_value_usd"] = np.linspace(1.0, 2.0, 6)
    summary = summarize(frame)
    assert summary["peak_date"] == summary["trough_date"] == pd.Timestamp("2021-06-01")
    assert summary["peak_to_trough_loss_usd"] == 0.0
    assert summary["max_drawdown"] == 0.0


def test_summarize_handles_zero_value() -> None:
    frame = _frame()
    frame["market_value_usd"] = 0.0
    summary = summarize(frame)
    assert summary["max_drawdown"] == 0.0
    assert summary["recovery_from_trough"] == 0.0


@pytest.mark.parametrize("name", SHIPPED)
def test_run_summaries_agree_with_their_time_series(name: str) -> None:
    result = run(name)
    assert result.summary == summarize(result.timeseries)


def test_counts_are_integers_and_dates_timestamps_in_series_and_summaries() -> None:
    result = run_scenario(load_scenario("crackdown"), 0)
    ts, summary = result.timeseries, result.summary
    for metric in METRICS:
        kind = ts[metric.name].dtype.kind
        assert kind == ("i" if metric.unit == "count" else "f"), metric.name
        key = f"total_{metric.name}" if metric.kind == "flow" else f"final_{metric.name}"
        assert type(summary[key]) is (int if metric.unit == "count" else float), key
    assert ts["date"].dtype.kind == "M"
    assert isinstance(summary["peak_date"], pd.Timestamp)
    assert summary["peak_date"] in set(ts["date"]) and summary["trough_date"] in set(ts["date"])
    types = summary_types()
    assert types["total_fines_count"] == types["final_golden_shares"] == "int"
    assert types["peak_date"] == types["trough_date"] == "timestamp"
    assert "peak_date" not in numeric_outcomes() and "total_deals_signed" in numeric_outcomes()


def test_each_reporter_alone_gives_the_recorded_value() -> None:
    model = PolicyModel(scenario=load_scenario("history_2020_2025"), rng=3)
    for _ in range(14):
        model.step()
    recorded = model.datacollector.model_vars
    for metric in METRICS:
        value = metric.compute(model)
        assert type(value) is (int if metric.unit == "count" else float), metric.name
        assert value == recorded[metric.name][-1], metric.name
    assert list(month_values(model)) == list(METRIC_NAMES)


def test_a_collector_of_other_reporters_calls_them_each_month() -> None:
    model = PolicyModel(scenario=load_scenario("history_2020_2025"), rng=3)
    hhi = METRICS_BY_NAME["hhi"].compute
    model.datacollector = mesa.DataCollector(
        model_reporters={"firms": lambda m: m.firms.n, "hhi": hhi, "month": lambda m: m.month}
    )
    for _ in range(3):
        model.step()
    frame = model.datacollector.get_model_vars_dataframe()
    assert list(frame.columns) == ["firms", "hhi", "month"]
    assert frame["firms"].tolist() == [model.firms.n] * 3
    assert frame["month"].tolist() == [0, 1, 2]
    assert frame["hhi"].iloc[-1] == hhi(model)
