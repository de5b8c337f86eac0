"""Which standard figures apply to a batch, sweep or lever-study folder, and how each is drawn.

:func:`plan_figures` returns a :class:`FigureSpec` per figure (file name, report section, caption
and a function that draws it) without drawing anything, so :mod:`sim.plots.render` can write them
all and :mod:`sim.plots.report` can redraw only the missing ones.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from sim.analysis.levers import lever_effects
from sim.analysis.stats import morris_indices, point_means, sobol_indices
from sim.errors import ResultsError, Spelling
from sim.plots.compare import (
    HEADLINE_METRICS,
    baseline_difference_figure,
    comparison_figure,
    standard_outcomes,
)
from sim.plots.data import BatchData
from sim.plots.influence import influence_network_figure, stakeholder_positions_figure
from sim.plots.levers import TORNADO, TORNADO_CAPTION, study_title, tornado_figure
from sim.plots.style import outcome_label, scenario_colors
from sim.plots.sweeps import (
    is_grid,
    morris_figure,
    sobol_figure,
    sweep_frame,
    sweep_heatmap_figure,
    sweep_response_figure,
)
from sim.plots.timeseries import difference_timeseries_figure, timeseries_figure
from sim.scenario.base import DIMENSIONS
from sim.scenario.fields import suggest_path
from sim.scenario.loader import BASELINE

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class FigureSpec:
    """One standard figure of a folder: where it goes, what it shows and how to draw it.

    Attributes:
        name: File name without extension.
        section: Report section it belongs to.
        caption: One-sentence caption.
        build: Draws the figure.
        optional: Skip (with a logged warning) rather than fail when the data do not allow it.
    """

    name: str
    section: str
    caption: str
    build: Callable[[], Figure]
    optional: bool = False


def _slug(text: str) -> str:
    """Return ``text`` safe for a file name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "figure"


def check_metrics(data: BatchData, metrics: Sequence[str] | None) -> list[str] | None:
    """Check that every requested metric is declared.

    Raises:
        ResultsError: For an unknown metric, suggesting the closest name.
    """
    if not metrics:
        return None
    known = list(data.metrics)
    unknown = next((name for name in metrics if name not in data.metrics), None)
    if unknown is not None:
        hint = f"unknown metric{suggest_path(unknown, known)}; known: {', '.join(known)}"

        def message(a: Spelling) -> str:
            return f"{a('metric', unknown)}: {hint}"

        raise ResultsError.about(message)
    return list(dict.fromkeys(metrics))


def plan_figures(data: BatchData, metrics: Sequence[str] | None = None) -> list[FigureSpec]:
    """Return the standard figures that apply to a folder, without drawing them.

    Batches get time series, the scenario comparison, differences from the baseline (when
    there is one) and, unless metrics are chosen, the stakeholder figures; sweeps get response
    curves, heatmaps (two parameters on a grid) and Sobol or Morris indices (for those designs);
    lever studies get their tornado chart.

    Args:
        data: The loaded folder.
        metrics: Metrics to show (default: every metric in time series, headline ones elsewhere,
            and the stakeholder figures).

    Returns:
        The figures in report order.

    Raises:
        ResultsError: For an unknown metric.
    """
    chosen = check_metrics(data, metrics)
    if data.kind == "sweep":
        return _plan_sweep(data, chosen)
    if data.kind == "levers":
        return _plan_levers(data)
    return _plan_batch(data, chosen)


def _plan_levers(data: BatchData) -> list[FigureSpec]:
    """The tornado chart of a lever study."""
    return [FigureSpec(TORNADO, "Lever study", TORNADO_CAPTION, lambda: tornado_figure(
        lever_effects(data.results), infos=data.metrics, title=study_title(data.manifest)))]


def _plan_batch(data: BatchData, chosen: list[str] | None) -> list[FigureSpec]:
    """Figures of a batch."""
    colors = scenario_colors(data.scenarios)
    names = data.scenarios
    specs: list[FigureSpec] = []
    for metric in chosen or list(data.metrics):

        def series(m: str = metric) -> Figure:
            return timeseries_figure(
                data.timeseries(),
                m,
                info=data.metrics[m],
                events=data.events_for(m),
                colors=colors,
                scenarios=names,
            )

        caption = f"{data.metrics[metric].description} Mean over replicates with its 95% CI."
        specs.append(FigureSpec(f"timeseries_{metric}", "Time series", caption, series))
    columns = list(data.summary.columns)
    outcomes = standard_outcomes(chosen or HEADLINE_METRICS, data.metrics, columns)

    def comparison() -> Figure:
        return comparison_figure(data.summary, outcomes, infos=data.metrics, colors=colors,
                                 scenarios=names)  # fmt: skip

    def difference() -> Figure:
        return baseline_difference_figure(data.summary, outcomes, infos=data.metrics,
                                          colors=colors, scenarios=names)  # fmt: skip

    if outcomes:
        specs.append(FigureSpec(
            "comparison", "Scenario comparison",
            "Run-level outcomes per scenario: mean (dot), 95% confidence interval (bar) and "
            "single runs (faint dots).", comparison,
        ))  # fmt: skip
    if BASELINE in names and len(names) > 1:
        specs.append(FigureSpec(
            "difference_from_baseline", "Difference from baseline",
            "Each scenario minus the baseline run with the same seed: the counterfactual cost "
            "or gain of a policy, with the 95% confidence interval of the paired mean.",
            difference, optional=True,
        ))  # fmt: skip
        for metric in [m for m in chosen or ["market_value_usd"] if m in data.metrics]:

            def paired(m: str = metric) -> Figure:
                return difference_timeseries_figure(
                    data.timeseries(), m, info=data.metrics[m], events=data.events_for(m),
                    colors=colors, scenarios=names)  # fmt: skip

            specs.append(FigureSpec(
                f"difference_timeseries_{metric}", "Difference from baseline",
                f"{outcome_label(metric)} minus the baseline run with the same seed, over time.",
                paired, optional=True,
            ))  # fmt: skip
    if chosen is None:  # chosen metrics ask for those metrics' figures only
        specs += _plan_stakeholders(data, colors)
    return specs


def _plan_stakeholders(data: BatchData, colors: dict[str, str]) -> list[FigureSpec]:
    """Stakeholder position and network figures (replicate 0 of each scenario)."""
    holders = data.optional("stakeholders")
    specs: list[FigureSpec] = []
    if holders is None:
        return specs
    for dim in [d for d in DIMENSIONS if d in holders.columns]:

        def positions(d: str = dim, h: pd.DataFrame = holders) -> Figure:
            return stakeholder_positions_figure(
                h, d, events=data.events, scenarios=data.scenarios, colors=colors
            )

        specs.append(FigureSpec(
            f"stakeholders_{dim}", "Stakeholders",
            "Stakeholder positions over time in replicate 0 of each scenario.", positions,
            optional=True,
        ))  # fmt: skip
    network = data.optional("network")
    if network is not None:
        for name in [n for n in data.scenarios if n in set(network["scenario"])]:

            def graph(n: str = name, net: pd.DataFrame = network,
                      h: pd.DataFrame = holders) -> Figure:  # fmt: skip
                return influence_network_figure(net, h, n)

            specs.append(FigureSpec(
                f"network_{_slug(name)}", "Stakeholders",
                f"How the influence network of {name} (replicate 0) changed from one December to "
                "the next: the stakeholders whose hearing changed most, and the ties that changed "
                "most.", graph,
                optional=True,
            ))  # fmt: skip
    return specs


@dataclass(frozen=True)
class SweepParameters:
    """A sweep's parameters as stored.

    Attributes:
        columns: Parameter columns of ``runs.parquet`` and ``design.parquet``, in design order.
        labels: Axis label of each column: its name and field path.
        aliases: Each parameter's name and path to its column.
        log: Columns sampled uniformly in log space (drawn on a log axis).
    """

    columns: list[str]
    labels: dict[str, str]
    aliases: dict[str, str]
    log: frozenset[str] = frozenset()


def sweep_parameters(data: BatchData) -> SweepParameters:
    """Return a sweep's parameter columns, labels and aliases.

    The manifest's ``design.parameters`` may be a list of ``{name, path, ...}`` or a mapping of
    name to ``{path, ...}``; result columns may be named by either.

    Raises:
        ResultsError: When the sweep's parameters cannot be found.
    """
    design = data.optional("design")
    declared = (data.manifest.get("design") or {}).get("parameters") or []
    items = ([{"name": k, **v} for k, v in declared.items()] if isinstance(declared, dict)
             else [d for d in declared if isinstance(d, dict)])  # fmt: skip
    if design is not None:
        columns = [str(c) for c in design.columns if c != "point_id"]
    else:
        columns = [str(d.get("name") or d.get("path")) for d in items]
        columns = [c for c in columns if c in data.runs.columns]
    if not columns:
        raise ResultsError(f"{data.folder}: a sweep without parameters (no design.parquet and no "
                           "parameters in the manifest's design)")  # fmt: skip
    labels, aliases, log = {}, {}, set()
    for column in columns:
        item = next((d for d in items if column in (d.get("name"), d.get("path"))), {})
        path, name = item.get("path"), item.get("name")
        labels[column] = f"{name} ({path})" if name and path and name != path else column
        aliases.update({str(a): column for a in (name, path, column) if a})
        if item.get("distribution") == "loguniform":
            log.add(column)
    return SweepParameters(columns, labels, aliases, frozenset(log))


def sweep_outcomes(data: BatchData, chosen: list[str] | None) -> list[str]:
    """Return the outcomes a sweep's figures show.

    With metrics chosen: their final (or total) values, and the peak-to-trough loss for market
    value. Otherwise the sweep file's ``outcomes``, else those of the headline metrics.
    """
    columns = list(data.summary.columns)
    declared = [str(o) for o in (data.manifest.get("design") or {}).get("outcomes") or []]
    if not chosen and any(o in columns for o in declared):
        return [o for o in declared if o in columns]
    metrics = chosen or list(HEADLINE_METRICS)
    keep = {f"final_{m}" for m in metrics} | {f"total_{m}" for m in metrics}
    keep.add("peak_to_trough_loss_usd")
    return [o for o in standard_outcomes(metrics, data.metrics, columns) if o in keep]


def _raw_design(design: dict[str, Any]) -> dict[str, Any]:
    """The design block of the sweep file as recorded in the manifest (empty when absent)."""
    raw = (design.get("sweep") or {}).get("design") if isinstance(design.get("sweep"), dict) else {}
    return raw if isinstance(raw, dict) else {}


def _plan_sweep(data: BatchData, chosen: list[str] | None) -> list[FigureSpec]:
    """Figures of a sweep."""
    sp = sweep_parameters(data)
    params, labels = sp.columns, sp.labels
    frame = sweep_frame(data.runs, data.summary, params)
    colors = scenario_colors(data.scenarios)
    outcomes = sweep_outcomes(data, chosen)
    kind = str((data.manifest.get("design") or {}).get("kind", "")).lower()
    grid = kind == "grid" or (kind in ("", "csv") and is_grid(frame, params))
    specs: list[FigureSpec] = []
    for outcome in outcomes:

        def response(o: str = outcome) -> Figure:
            return sweep_response_figure(frame, o, params, labels=labels, infos=data.metrics,
                                         colors=colors, binned=not grid, log_x=sp.log)  # fmt: skip

        specs.append(FigureSpec(
            f"sweep_response_{outcome}", "Sweep responses",
            f"{outcome_label(outcome)} against each parameter: mean and 95% confidence interval "
            "over the runs at each value.", response,
        ))  # fmt: skip
    if grid and len(params) >= 2 and is_grid(frame, params[:2]):
        pair = (params[0], params[1])
        for outcome in outcomes:

            def heatmap(o: str = outcome) -> Figure:
                return sweep_heatmap_figure(frame, o, pair, labels=labels, infos=data.metrics)

            specs.append(FigureSpec(
                f"sweep_heatmap_{outcome}", "Sweep responses",
                f"{outcome_label(outcome)} over the grid of {labels[pair[0]]} and "
                f"{labels[pair[1]]}.", heatmap,
            ))  # fmt: skip
    specs += _plan_sensitivity(data, sp, outcomes)
    return specs


def _problem(data: BatchData, sp: SweepParameters) -> tuple[dict[str, Any], list[str]]:
    """Return the SALib problem of a sweep and the design columns of its names, in order."""
    problem = (data.manifest.get("design") or {}).get("problem")
    if not isinstance(problem, dict) or "names" not in problem:
        frame = data.optional("design")
        bounds = ([[float(frame[p].min()), float(frame[p].max())] for p in sp.columns]
                  if frame is not None else [[0.0, 1.0]] * len(sp.columns))  # fmt: skip
        problem = {"num_vars": len(sp.columns), "names": list(sp.columns), "bounds": bounds}
    return problem, [sp.aliases.get(str(n), str(n)) for n in problem["names"]]


def _short_name(column: str) -> str:
    """Return a parameter's short name: itself, or the last two parts of a field path."""
    return ".".join(column.split(".")[-2:])


def _second_order(design: dict[str, Any], n_points: int, d: int) -> bool:
    """Whether a Sobol sample was drawn with second-order terms (recorded, else inferred)."""
    for block in (design, _raw_design(design)):
        for key in ("calc_second_order", "second_order"):
            if key in block:
                return bool(block[key])
    return n_points % (2 * d + 2) == 0 and n_points % (d + 2) != 0


def _plan_sensitivity(
    data: BatchData, sp: SweepParameters, outcomes: list[str]
) -> list[FigureSpec]:
    """Sobol or Morris figures, one per scenario, when the design is of that kind."""
    design = data.manifest.get("design") or {}
    kind = str(design.get("kind", "")).lower()
    saltelli = design.get("saltelli", _raw_design(design).get("saltelli", True))
    if kind not in ("sobol", "morris") or (kind == "sobol" and saltelli is False):
        return []
    table = data.optional("design")
    if table is None:
        log.warning("%s: no design.parquet; sensitivity indices skipped", data.folder)
        return []
    problem, columns = _problem(data, sp)
    short = {n: _short_name(c) for n, c in zip(problem["names"], columns, strict=False)}
    specs = []
    for scenario in data.scenarios:
        runs = data.runs.loc[data.runs["scenario"] == scenario]
        suffix = "" if len(data.scenarios) == 1 else f"_{_slug(scenario)}"
        title_end = "" if len(data.scenarios) == 1 else f", {scenario}"

        def build(runs: pd.DataFrame = runs, title_end: str = title_end) -> Figure:
            if kind == "sobol":
                second = _second_order(design, len(table), len(columns))
                idx = {o: sobol_indices(problem, table, point_means(runs, data.summary, o), o,
                                        columns=columns, calc_second_order=second)
                       for o in outcomes}  # fmt: skip
                return sobol_figure(idx, labels=short, title=f"Sobol indices{title_end}")
            levels = int(design.get("num_levels", _raw_design(design).get("num_levels", 4)))
            idx = {
                o: morris_indices(
                    problem,
                    table,
                    point_means(runs, data.summary, o),
                    o,
                    columns=columns,
                    num_levels=levels,
                )
                for o in outcomes
            }
            return morris_figure(
                idx, labels=short, infos=data.metrics, title=f"Morris elementary effects{title_end}"
            )

        caption = ("First-order (S1) and total (ST) Sobol indices of each outcome, from each "
                   "point's mean over replicates, with 95% bootstrap intervals."
                   if kind == "sobol" else
                   "Morris mu* (mean absolute elementary effect) against sigma (spread) per "
                   "parameter, from each point's mean over replicates.")  # fmt: skip
        specs.append(FigureSpec(f"{kind}{suffix}", "Sensitivity", caption, build, optional=True))
    return specs
