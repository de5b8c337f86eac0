"""Every visible jump has its event in the key; overlapping lines get a difference panel."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.plots.data import load_batch
from sim.plots.render import timeseries_figure
from sim.plots.timeseries import overlapping


def _key(events: list) -> dict[str, str]:  # type: ignore[type-arg]
    return {f"{e.date:%Y-%m}": e.label for e in events}


def test_a_metric_s_own_events_are_marked_with_freeze_ends(batch_dir: Path) -> None:
    data = load_batch(batch_dir)
    marked = _key(data.events)
    fines = _key(data.events_for("fines_value_usd"))
    # the history's fines on Ant Group and Tenpay (the centre's stance changes after Mar 2021 are
    # its own, not marked events)
    assert fines["2023-07"] == "fined: Ant Group, Tencent"
    assert fines["2021-10"] == "fined: Meituan" and "2021-10" not in marked
    freezes = _key(data.events_for("freezes_active"))
    # the Ant IPO halt's 60 months run out in 2025-11: the model ends the freeze, no timeline does
    assert freezes["2025-11"] == "listing halt ends: Ant Group"
    assert freezes["2022-04"] == "licence freeze ends: Tencent, NetEase"
    assert "fined:" not in " ".join(freezes.values())
    assert _key(data.events_for("ai_capability")) == marked


def test_the_key_of_a_figure_names_its_jumps(batch_dir: Path) -> None:
    data = load_batch(batch_dir)
    fig = timeseries_figure(data.timeseries(), "fines_value_usd",
                            events=data.events_for("fines_value_usd"))  # fmt: skip
    key = [t.get_text() for t in fig.legends[-1].get_texts()]
    assert "2021-10  fined: Meituan" in key  # inside the 24 months drawn
    assert not any(text.startswith("2023-07") for text in key)  # after them


def test_overlapping_lines_get_a_panel_of_differences(batch_dir: Path) -> None:
    data = load_batch(batch_dir)
    ts = data.timeseries()
    fig = timeseries_figure(ts, "ai_capability")
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 2
    assert axes[1].get_ylabel() == "index, minus baseline"
    lines = {ln.get_label(): ln for ln in axes[1].get_lines() if not ln.get_label().startswith("_")}
    assert set(lines) == {"crackdown", "history_2020_2025"}
    # the lower panel is the mean paired difference, replicate k minus the baseline's replicate k
    wide = ts.pivot_table(index=["seed", "date"], columns="scenario", values="ai_capability")
    expected = (wide["crackdown"] - wide["baseline"]).groupby("date").mean()
    assert abs(lines["crackdown"].get_ydata()[-1] - expected.iloc[-1]) < 1e-12
    # lines that stand apart keep a single panel
    assert len([ax for ax in timeseries_figure(ts, "market_value_usd").axes
                if ax.get_visible()]) == 1  # fmt: skip


def test_overlap_is_judged_on_the_spread_of_the_means() -> None:
    dates = pd.date_range("2020-01-01", periods=3, freq="MS")
    close = pd.DataFrame({"date": [*dates, *dates], "scenario": ["a"] * 3 + ["b"] * 3,
                          "mean": [0.0, 5.0, 10.0, 0.5, 5.5, 10.5]})  # fmt: skip
    assert overlapping(close)  # 0.5 apart on a range of 10.5
    apart = close.assign(mean=[0.0, 5.0, 10.0, 2.0, 7.0, 12.0])
    assert not overlapping(apart)
    assert not overlapping(close.loc[close["scenario"] == "a"])
