"""Stage 6, figures and the report: every figure reads stored results, never the model."""

from sim.plots.centre import centre_figure
from sim.plots.compare import baseline_difference_figure, comparison_figure
from sim.plots.data import BatchData, load_batch
from sim.plots.influence import influence_network_figure, stakeholder_positions_figure
from sim.plots.render import plot_results
from sim.plots.report import write_report
from sim.plots.sweeps import (
    morris_figure,
    sobol_figure,
    sweep_heatmap_figure,
    sweep_response_figure,
)
from sim.plots.timeseries import difference_timeseries_figure, timeseries_figure

__all__ = [
    "BatchData",
    "baseline_difference_figure",
    "centre_figure",
    "comparison_figure",
    "difference_timeseries_figure",
    "influence_network_figure",
    "load_batch",
    "morris_figure",
    "plot_results",
    "sobol_figure",
    "stakeholder_positions_figure",
    "sweep_heatmap_figure",
    "sweep_response_figure",
    "timeseries_figure",
    "write_report",
]
