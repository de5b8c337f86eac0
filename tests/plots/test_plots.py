"""Figures from stored batch and sweep folders: sim.plots.render and its figure functions."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.colors import to_hex

from sim.errors import ResultsError
from sim.plots.centre import CENTRE_ONLY
from sim.plots.compare import HEADLINE_METRICS, standard_outcomes
from sim.plots.data import Event, load_batch
from sim.plots.influence import network_dates
from sim.plots.plan import plan_figures
from sim.plots.render import (
    comparison_figure,
    influence_network_figure,
    plot_results,
    render,
    sobol_figure,
    stakeholder_positions_figure,
    timeseries_figure,
)
from sim.plots.style import SCENARIO_COLORS, scenario_colors
from tests.plots.conftest import BATCH_SCENARIOS, copy_folder, mark_failed
from tests.plots.images import assert_nontrivial_png, overlapping_texts

METRICS = ["domestic_compute_share"]


def test_batch_figures_are_written_and_are_real_images(batch_dir: Path, tmp_path: Path) -> None:
    folder = copy_folder(batch_dir, tmp_path / "b")
    paths = plot_results(folder, metrics=METRICS)
    names = {p.stem for p in paths}
    expected = {f"timeseries_{m}" for m in METRICS} | {
        f"difference_timeseries_{m}" for m in METRICS
    }
    assert names == expected | {"comparison", "difference_from_baseline"}
    assert all(p.parent == folder / "figures" and p.suffix == ".png" for p in paths)
    for path in paths:
        assert_nontrivial_png(path)
    assert not list((folder / "figures").glob(".*.tmp"))  # atomic writes leave no temporaries


def test_the_default_figures_cover_every_metric_and_the_stakeholders(batch_dir: Path) -> None:
    data = load_batch(batch_dir)
    names = [s.name for s in plan_figures(data)]
    assert [n for n in names if n.startswith("timeseries_")] == [
        f"timeseries_{m}" for m in data.metrics if m not in CENTRE_ONLY]  # fmt: skip
    assert "centre" in names  # the centre's self-reliance and pulls are drawn there
    stakeholders = {"stakeholders_platform_stringency", "stakeholders_self_reliance"}
    assert stakeholders | {f"network_{s}" for s in BATCH_SCENARIOS} <= set(names)


def test_stakeholder_figures_are_real_images(batch_dir: Path, tmp_path: Path) -> None:
    folder = copy_folder(batch_dir, tmp_path / "b")
    data = load_batch(folder)
    specs = [s for s in plan_figures(data) if s.section == "Stakeholders"]
    chosen = [s for s in specs if s.name in ("stakeholders_self_reliance", "network_crackdown")]
    paths, notes = render(data, chosen)
    assert notes == [] and len(paths) == 2
    for path in paths:
        assert_nontrivial_png(path)


def test_timeseries_figure_has_units_dates_events_and_fixed_colours(batch_dir: Path) -> None:
    data = load_batch(batch_dir)
    fig = timeseries_figure(data.timeseries(), "market_value_usd", events=data.events,
                            scenarios=data.scenarios)  # fmt: skip
    ax = fig.axes[0]
    assert ax.get_ylabel() == "US$ trillion"
    assert ax.xaxis.get_major_formatter().fmt == "%Y"  # real dates, labelled by year
    lines = {line.get_label(): to_hex(line.get_color()) for line in ax.get_lines()
             if not line.get_label().startswith("_")}  # fmt: skip
    assert lines == {s: SCENARIO_COLORS[s].lower() for s in BATCH_SCENARIOS}
    legend_labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend_labels[0] == "baseline"
    # Only the marked events inside the 24 simulated months are numbered, 1..n, with a key.
    lo, hi = data.timeseries()["date"].min(), data.timeseries()["date"].max()
    inside = [e for e in data.events if lo <= e.date <= hi]
    assert inside, "the fixture should cover marked events"
    numbers = sorted(int(t.get_text()) for t in ax.texts)
    assert numbers == list(range(1, len(inside) + 1))
    key = [t.get_text() for t in fig.legends[-1].get_texts()]
    assert key == [f"{e.date:%Y-%m}  {e.label}" for e in inside]
    assert overlapping_texts(fig) == []


def test_share_metrics_are_shown_in_percent(batch_dir: Path) -> None:
    data = load_batch(batch_dir)
    fig = timeseries_figure(data.timeseries(), "domestic_compute_share")
    ax = fig.axes[0]
    assert ax.get_ylabel() == "%"
    top = max(float(line.get_ydata().max()) for line in ax.get_lines())
    stored = data.timeseries()["domestic_compute_share"].max()
    assert top == pytest.approx(stored * 100, rel=0.5)  # a mean of shares, scaled to percent


def test_close_events_are_staggered_without_overlap(batch_dir: Path) -> None:
    data = load_batch(batch_dir)
    monthly = [Event(d, f"event {i}", ("baseline",)) for i, d in
               enumerate(pd.date_range("2020-03-01", periods=12, freq="MS"))]  # fmt: skip
    fig = timeseries_figure(data.timeseries(), "market_value_usd", events=monthly)
    assert len(fig.axes[0].texts) == 12
    assert overlapping_texts(fig) == []


def test_colours_are_fixed_for_shipped_scenarios_and_distinct_for_others() -> None:
    shipped = scenario_colors(SCENARIO_COLORS)
    assert shipped == SCENARIO_COLORS
    names = ["mine", "yours", "crackdown", "ours", "theirs"]
    colors = scenario_colors(names)
    assert colors["crackdown"] == SCENARIO_COLORS["crackdown"]
    assert len(set(colors.values())) == len(names)
    assert scenario_colors(reversed(names)) == colors  # the order given does not matter
    assert scenario_colors(["mine"])["mine"] == colors["mine"]


def test_comparison_panels_have_units_and_readable_titles(batch_dir: Path) -> None:
    data = load_batch(batch_dir)
    outcomes = standard_outcomes(HEADLINE_METRICS, data.metrics, data.summary.columns)
    assert "peak_to_trough_loss_usd" in outcomes and "final_market_value_usd" in outcomes
    fig = comparison_figure(data.summary, outcomes, infos=data.metrics)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == len(outcomes)
    labels = {ax.get_xlabel() for ax in visible}
    assert "US$ trillion" in labels and "%" in labels
    assert [t.get_text() for t in visible[0].get_yticklabels()] == list(BATCH_SCENARIOS)
    assert overlapping_texts(fig) == []


def test_difference_from_baseline_pairs_runs_by_seed(batch_dir: Path) -> None:
    data = load_batch(batch_dir)
    specs = {s.name: s for s in plan_figures(data, ["market_value_usd"])}
    fig = specs["difference_from_baseline"].build()
    ax = next(a for a in fig.axes if "Market value, end" in a.get_title(loc="left"))
    s = data.summary.set_index(["scenario", "seed"])["final_market_value_usd"]
    expected = (s["crackdown"] - s["baseline"]).mean() / 1e12  # same seeds in both scenarios
    means = [line.get_xdata()[0] for line in ax.get_lines() if line.get_marker() == "o"]
    assert any(m == pytest.approx(expected) for m in means)
    assert "baseline" not in [t.get_text() for t in ax.get_yticklabels()]


def test_other_formats_are_written(batch_dir: Path, tmp_path: Path) -> None:
    folder = copy_folder(batch_dir, tmp_path / "b")
    data = load_batch(folder)
    spec = next(s for s in plan_figures(data, ["market_value_usd"]) if s.name == "comparison")
    (svg,), _ = render(data, [spec], "svg")
    (pdf,), _ = render(data, [spec], "pdf")
    assert svg.read_text()[:200].lstrip().startswith("<?xml") and "<svg" in svg.read_text()
    assert pdf.read_bytes()[:5] == b"%PDF-"
    with pytest.raises(ResultsError, match="png, svg, pdf"):
        plot_results(folder, fmt="jpg")


def test_stakeholder_positions_and_network(batch_dir: Path) -> None:
    data = load_batch(batch_dir)
    holders, network = data.optional("stakeholders"), data.optional("network")
    assert holders is not None and network is not None
    fig = stakeholder_positions_figure(holders, "platform_stringency", events=data.events)
    titles = [ax.get_title(loc="left") for ax in fig.axes if ax.get_visible()]
    assert titles == list(BATCH_SCENARIOS)
    assert all(ax.get_ylim() == (0.0, 1.0) for ax in fig.axes if ax.get_visible())
    dates = network_dates(network.loc[network["scenario"] == "crackdown"])
    assert dates[0] == network["date"].min() and dates[-1] == network["date"].max()
    fig = influence_network_figure(network, holders, "crackdown")
    assert not overlapping_texts(fig)
    movers, ties = fig.axes[0], fig.axes[1]
    net = network.loc[(network["scenario"] == "crackdown")
                      & (network["listener"] != network["speaker"])]  # fmt: skip
    weights = net.pivot_table(index=["speaker", "listener"], columns="date", values="weight",
                              aggfunc="sum").fillna(0.0)  # fmt: skip
    received = weights.groupby(level="speaker").sum()
    change = received[dates[-1]] - received[dates[0]]
    # top: who gained or lost weight, each line named at its end and ending at its change
    named = {t.get_text(): t for t in movers.texts}
    biggest = change.abs().idxmax()
    assert biggest in named
    line = next(ln for ln in movers.get_lines()
                if ln.get_color() == named[biggest].get_color()
                and abs(ln.get_ydata()[-1] - change[biggest]) < 1e-9)  # fmt: skip
    assert line.get_ydata()[0] == 0.0
    # bottom: the ties that changed most, one row each, a column per date, weights written in
    spans = (weights[dates].max(axis=1) - weights[dates].min(axis=1)).sort_values(ascending=False)
    rows = [t.get_text() for t in ties.get_yticklabels()]
    speaker, listener = spans.index[0]
    assert rows[0] == f"{speaker} \u2192 {listener}"
    assert [t.get_text() for t in ties.get_xticklabels()] == [f"{d:%Y-%m}" for d in dates]
    assert ties.images[0].get_array().shape == (len(rows), len(dates))
    with pytest.raises(ResultsError, match="no network stored at 2020-06"):
        influence_network_figure(network, holders, "crackdown", dates=["2020-06-01"])


def test_grid_sweep_gives_response_curves_and_heatmaps(grid_dir: Path, tmp_path: Path) -> None:
    folder = copy_folder(grid_dir, tmp_path / "g")
    declared = json.loads((folder / "manifest.json").read_text())["design"]["outcomes"]
    data = load_batch(folder)
    specs = plan_figures(data)  # the sweep file's outcomes by default
    assert {s.name for s in specs} == {
        f"sweep_{k}_{o}" for k in ("response", "heatmap") for o in declared}  # fmt: skip
    chosen = [s for s in specs if s.name.endswith("_final_market_value_usd")]
    paths, _ = render(data, chosen)
    assert len(paths) == 2
    for path in paths:
        assert_nontrivial_png(path)


def test_sobol_and_morris_sweeps_give_sensitivity_figures(
    sobol_dir: Path, morris_dir: Path, tmp_path: Path
) -> None:
    for source, kind in ((sobol_dir, "sobol"), (morris_dir, "morris")):
        folder = copy_folder(source, tmp_path / kind)
        data = load_batch(folder)
        specs = [s for s in plan_figures(data) if s.section == "Sensitivity"]
        assert [s.name for s in specs] == [kind]
        (path,), notes = render(data, specs)
        assert notes == []
        assert_nontrivial_png(path)
        assert not any(s.name.startswith("sweep_heatmap") for s in plan_figures(data))


def test_sobol_figure_marks_outcomes_that_do_not_vary() -> None:
    table = pd.DataFrame({"parameter": ["a", "b"], "S1": [0.6, 0.1], "S1_conf": [0.1, 0.05],
                          "ST": [0.8, 0.2], "ST_conf": [0.1, 0.05]})  # fmt: skip
    flat = table.assign(S1=float("nan"), ST=float("nan"))
    fig = sobol_figure({"final_market_value_usd": table, "total_fines_count": flat})
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert texts == ["does not vary\nover the design"]
    assert overlapping_texts(fig) == []


# -- errors ---------------------------------------------------------------------------------


def test_missing_and_empty_folders_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="no such folder"):
        plot_results(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ResultsError, match=r"not a batch or sweep folder \(no manifest.json\)"):
        plot_results(tmp_path / "empty")
    assert not (tmp_path / "empty" / "figures").exists()


def test_a_single_run_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"kind": "run"}))
    with pytest.raises(ResultsError, match="allowed: batch, sweep"):
        plot_results(folder)


def test_a_folder_of_failed_runs_is_a_clear_error(batch_dir: Path, tmp_path: Path) -> None:
    folder = copy_folder(batch_dir, tmp_path / "b")
    mark_failed(folder)
    with pytest.raises(ResultsError, match="no completed runs .*first error: RuntimeError"):
        plot_results(folder)
    assert not (folder / "figures").exists()


def test_failed_runs_are_left_out(batch_dir: Path, tmp_path: Path) -> None:
    folder = copy_folder(batch_dir, tmp_path / "b")
    mark_failed(folder, 1)
    data = load_batch(folder)
    assert len(data.summary) == len(load_batch(batch_dir).summary) - 1
    assert data.timeseries()["run_id"].nunique() == len(data.summary)


def test_an_unknown_metric_suggests_the_closest(batch_dir: Path) -> None:
    with pytest.raises(ResultsError, match="did you mean 'market_value_usd'"):
        plot_results(batch_dir, metrics=["market_value"])
