"""The figure plan of a sweep: response curves, heatmaps and sensitivity indices."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from sim.analysis.stats import morris_indices, point_means, sobol_indices
from sim.errors import ResultsError
from sim.plots.compare import (
    HEADLINE_METRICS,
    standard_outcomes,
)
from sim.plots.data import BatchData
from sim.plots.plan import FigureSpec, _slug
from sim.plots.style import outcome_label, scenario_colors
from sim.plots.sweeps import (
    is_grid,
    morris_figure,
    sobol_figure,
    sweep_frame,
    sweep_heatmap_figure,
    sweep_response_figure,
)

log = logging.getLogger(__name__)


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


def plan_sweep(data: BatchData, chosen: list[str] | None) -> list[FigureSpec]:
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
