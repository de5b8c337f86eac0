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

import pandas as pd
from matplotlib.figure import Figure

from sim.analysis.levers import lever_effects
from sim.errors import ResultsError, Spelling
from sim.plots.centre import CENTRE_ONLY, centre_figure
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
        from sim.plots.plan_sweeps import plan_sweep  # it builds on FigureSpec, defined here

        return plan_sweep(data, chosen)
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
    # The centre's self-reliance and pulls are drawn together, in the centre figure, unless chosen.
    for metric in chosen or [m for m in data.metrics if m not in CENTRE_ONLY]:

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
    if "centre_pull_growth" in data.metrics:

        def centre() -> Figure:
            return centre_figure(data.timeseries(), events=data.events, scenarios=data.scenarios,
                                 colors=colors)  # fmt: skip

        specs.append(FigureSpec(
            "centre", "Stakeholders",
            "The pulls on the centre's platform stringency (its priorities, the growth and jobs "
            "gaps, market value's fall, the AI gap and the stakeholders), their sum and the "
            "centre's position; mean over replicates.", centre, optional=True,
        ))  # fmt: skip
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
