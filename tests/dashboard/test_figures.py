"""The dashboard's matplotlib figures: metric charts and the influence network."""

from __future__ import annotations

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection

from sim.dashboard.figures import (
    PANELS,
    Event,
    NetworkSnapshot,
    metrics_figure,
    network_figure,
)
from sim.dashboard.live import DashboardModel, marked_events
from sim.model.metrics import METRICS_BY_NAME


@pytest.fixture(scope="module")
def stepped() -> DashboardModel:
    model = DashboardModel(source="crackdown", months="24", show_baseline=True)
    for _ in range(15):
        model.step()
    return model


def test_the_panels_show_declared_metrics_of_one_unit_each() -> None:
    names = {m for panel in PANELS for m, _ in panel.metrics}
    assert names <= set(METRICS_BY_NAME)
    for panel in PANELS:
        assert len({METRICS_BY_NAME[m].unit for m, _ in panel.metrics}) == 1, panel.title
    for key in ("market_value_usd", "fines_count", "mean_compliance", "deals_signed",
                "domestic_compute_share", "effective_stringency"):  # fmt: skip
        assert key in names


def test_charts_span_the_whole_period_with_run_baseline_and_events(
    stepped: DashboardModel,
) -> None:
    view = stepped.view
    events = marked_events(stepped.scenario)
    fig = metrics_figure(view.timeseries, PANELS[:2], start=pd.Timestamp("2020-01-01"),
                         months=24, scenario="crackdown", baseline=stepped.baseline,
                         events=events)  # fmt: skip
    assert len(fig.axes) == 2
    for ax in fig.axes:
        lo, hi = (mdates.num2date(x).replace(tzinfo=None) for x in ax.get_xlim())
        assert lo < pd.Timestamp("2020-01-01") and hi > pd.Timestamp("2021-11-30")
        labels = [line.get_label() for line in ax.get_lines()]
        assert any(label.endswith(", baseline") for label in labels)
        run = [ln for ln in ax.get_lines() if not ln.get_label().endswith(", baseline")
               and not ln.get_label().startswith("_")]  # fmt: skip
        assert run and all(len(ln.get_xdata()) == 15 for ln in run)
        in_period = [e for e in events if e.date <= pd.Timestamp("2021-12-01")]
        numbers = [t.get_text() for t in ax.texts]
        assert numbers == [str(i) for i in range(1, len(in_period) + 1)]


def test_market_value_is_drawn_in_trillions(stepped: DashboardModel) -> None:
    fig = metrics_figure(stepped.view.timeseries, PANELS[:1], start=pd.Timestamp("2020-01-01"),
                         months=24, scenario="crackdown")  # fmt: skip
    ax = fig.axes[0]
    assert "trillion" in ax.get_ylabel()
    drawn = ax.get_lines()[0].get_ydata()
    np.testing.assert_allclose(drawn, stepped.view.timeseries["market_value_usd"] / 1e12)


def test_a_chart_before_the_first_step_draws_only_the_baseline(stepped: DashboardModel) -> None:
    empty = stepped.view.timeseries.iloc[:0]
    fig = metrics_figure(empty, PANELS[2:4], start=pd.Timestamp("2020-01-01"), months=24,
                         scenario="my_own", baseline=stepped.baseline)  # fmt: skip
    for ax in fig.axes:
        assert all(line.get_label().endswith(", baseline") for line in ax.get_lines()
                   if not line.get_label().startswith("_"))  # fmt: skip


def test_events_outside_the_period_are_not_drawn() -> None:
    frame = pd.DataFrame({"date": pd.to_datetime(["2020-01-01"]), "fines_count": [1.0]})
    events = [Event(pd.Timestamp("2020-06-01"), "in"), Event(pd.Timestamp("2030-01-01"), "out")]
    fig = metrics_figure(frame, PANELS[1:2], start=pd.Timestamp("2020-01-01"), months=12,
                         scenario="crackdown", events=events)  # fmt: skip
    assert [t.get_text() for t in fig.axes[0].texts] == ["1"]


def test_the_network_draws_every_stakeholder_and_the_ties_above_the_threshold() -> None:
    w = np.array([[0.5, 0.5, 0.0], [0.01, 0.9, 0.09], [0.0, 0.3, 0.7]])
    snap = NetworkSnapshot(
        names=("center", "SAMR", "Alibaba"), kinds=("center", "regulator", "firm"),
        clout=np.array([12.0, 2.0, 1.0]), position=np.array([[0.3, 0.4], [0.5, 0.5], [0.2, 0.3]]),
        weights=w, policy=np.array([0.35, 0.4]),
    )  # fmt: skip
    fig = network_figure(snap, min_weight=0.05)
    ax = fig.axes[0]
    ties = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(ties) == 1 and len(ties[0].get_segments()) == 3  # 0->1, 1->2, 2->1
    _, labels = ax.get_legend_handles_labels()
    assert labels == ["center", "regulator", "firm", "effective policy"]
    assert {t.get_text() for t in ax.texts} == {"center", "SAMR", "Alibaba"}  # one per kind


def test_the_network_of_a_live_model_draws(stepped: DashboardModel) -> None:
    fig = network_figure(stepped.view.network)
    assert fig.axes[0].get_xlim()[0] < 0 < 1 < fig.axes[0].get_xlim()[1]
