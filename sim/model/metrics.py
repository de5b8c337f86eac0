"""The outcome metrics, declared once.

Each :class:`Metric` has a name, a unit, a description, whether it is a monthly flow or a stock, and
the function that computes it from a model (its DataCollector reporter). :func:`month_values` gives
every metric's value of the month from the row of numbers the metrics read
(:mod:`sim.model.metric_rows`, where the formulas are; a run's own collector keeps that row a month
and computes its months at once); a metric's function returns its value there. The DataCollector,
the stored tables, the summaries, the plots and the docs all read :data:`METRICS`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from sim.model import metric_rows
from sim.model.centre import PULLS

if TYPE_CHECKING:
    from sim.model.policy_model import PolicyModel

TURN_DROP = 0.05
"""Fall of the centre's platform stringency below its peak that dates its turn (position units)."""


@dataclass(frozen=True)
class Metric:
    """A declared outcome metric.

    Attributes:
        name: Column name in the time series.
        unit: Unit, e.g. ``USD``, ``share`` (0-1), ``count``, ``index``.
        description: What it measures.
        kind: ``stock`` (a level at the end of the month) or ``flow`` (a monthly total).
        compute: Function of the model returning the value for the current month (an ``int``
            for a ``count``, else a ``float``).
    """

    name: str
    unit: str
    description: str
    kind: Literal["stock", "flow"]
    compute: Callable[[PolicyModel], float | int]


def month_values(m: PolicyModel) -> dict[str, float | int]:
    """Return every declared metric's value this month, by name, in the order of :data:`METRICS`.

    The month's row of numbers (:func:`sim.model.metric_rows.capture`) and the metrics computed
    from it (:func:`sim.model.metric_rows.row_values`: the formulas a run's records apply to all
    its months at once). Counts are ``int``, other values ``float``.
    """
    row = np.empty(metric_rows.N_ROW)
    metric_rows.capture(m, row)
    return metric_rows.row_values(m, row)


def _reporter(name: str) -> Callable[[PolicyModel], float | int]:
    """Return the reporter of metric ``name``: its value in :func:`month_values`."""

    def compute(m: PolicyModel) -> float | int:
        return month_values(m)[name]

    compute.__name__ = compute.__qualname__ = name
    return compute


def _metric(name: str, unit: str, description: str, kind: Literal["stock", "flow"]) -> Metric:
    """Declare a metric whose value is computed by :func:`month_values`."""
    return Metric(name, unit, description, kind, _reporter(name))


PULL_TEXT = (
    "its priorities (anchor)", "the growth gap", "the jobs gap", "market value's fall from peak",
    "the AI gap to rivals", "the stakeholders",
)  # fmt: skip


METRICS: tuple[Metric, ...] = (
    _metric("market_value_usd", "USD", "Total market value of listed firms.", "stock"),
    _metric("unlisted_value_usd", "USD", "Total private value of unlisted firms.", "stock"),
    _metric("fines_count", "count", "Fines imposed this month.", "flow"),
    _metric("fines_value_usd", "USD", "Value of fines imposed this month.", "flow"),
    _metric("mean_compliance", "share", "Mean compliance of firms.", "stock"),
    _metric("mean_alignment", "share", "Mean alignment of firms with state goals.", "stock"),
    _metric("expansion_share", "share", "Revenue-weighted share of budgets spent on expansion.",
            "stock"),
    _metric("open_investigations", "count", "Investigations open at the end of the month.",
            "stock"),
    _metric("freezes_active", "count", "Freezes (listing halts, app removals, licence freezes) "
            "in force.", "stock"),
    _metric("deals_signed", "count", "City cooperation deals signed this month.", "flow"),
    _metric("subsidies_usd", "USD", "City subsidies paid this month.", "flow"),
    _metric("fund_capital_deployed_usd", "USD", "State fund capital deployed this month.",
            "flow"),
    _metric("golden_shares", "count", "Firms in which the state holds a golden share.", "stock"),
    _metric("rd_spend_usd", "USD", "R&D spend of all firms this month.", "flow"),
    _metric("ai_capability", "index", "Total AI capability, 1 at the start.", "stock"),
    _metric("foreign_compute_share", "share", "Foreign-chip share of the compute stock.",
            "stock"),
    _metric("domestic_compute_share", "share", "Domestic-chip share of the compute stock.",
            "stock"),
    _metric("chip_self_reliance", "share", "Domestic share of effective (performance-weighted) "
            "compute.", "stock"),
    _metric("domestic_performance_gap", "share", "Shortfall of domestic chips' performance.",
            "stock"),
    _metric("compute_shortfall_share", "share", "Share of the compute firms wanted this month "
            "that supply could not serve.", "stock"),
    _metric("effective_stringency", "share", "Effective policy on platform stringency.", "stock"),
    _metric("effective_self_reliance", "share", "Effective policy on self-reliance.", "stock"),
    _metric("central_stance", "share", "The central leadership's stance on platform "
            "stringency.", "stock"),
    _metric("mean_regulator_stringency", "share", "Mean stringency of the regulators.", "stock"),
    _metric("regulatory_uncertainty", "index", "Policy volatility plus recent sanctions.",
            "stock"),
    _metric("mean_discount_rate", "share", "Value-weighted discount rate investors apply to "
            "listed firms (per year).", "stock"),
    _metric("hhi", "index", "Revenue-weighted Herfindahl-Hirschman index of sectors "
            "(0-10,000).", "stock"),
    _metric("jobs_index", "index", "Jobs proxy: 100 x revenue^0.6 relative to the start, plus "
            "jobs from deals.", "stock"),
    _metric("central_self_reliance", "share", "The central leadership's stance on "
            "self-reliance.", "stock"),
    *(_metric(f"centre_pull_{source}", "pull", f"Pull of {what} on the centre's platform "
              "stringency this month (position units, before its speed; negative eases).",
              "stock")
      for source, what in zip(PULLS, PULL_TEXT, strict=True)),
)  # fmt: skip

METRIC_NAMES: tuple[str, ...] = tuple(m.name for m in METRICS)
#: Per metric, what :func:`summarize` gives of it: its name, the outcome's name, whether the
#: outcome is a total (a flow's) rather than the final value, and whether it is a count.
_OUTCOMES: tuple[tuple[str, str, bool, bool], ...] = tuple(
    (m.name, f"total_{m.name}" if m.kind == "flow" else f"final_{m.name}", m.kind == "flow",
     m.unit == "count")
    for m in METRICS
)  # fmt: skip
METRICS_BY_NAME: dict[str, Metric] = {m.name: m for m in METRICS}


def reporters() -> dict[str, Callable[[PolicyModel], float | int]]:
    """Return the Mesa DataCollector model reporters for every declared metric."""
    return {m.name: m.compute for m in METRICS}


def summarize(
    timeseries: pd.DataFrame | Mapping[str, Any],
) -> dict[str, float | int | pd.Timestamp]:
    """Summarize one run's time series into run-level outcomes.

    Flows are totalled; stocks give their final value. Market value also gives its maximum
    drawdown: the largest fall from a running peak to a later trough (``peak_to_trough_loss_usd``)
    with its peak and trough values and dates, the recovery from that trough to the end, and
    ``max_drawdown``, the largest relative fall from a running peak.

    Args:
        timeseries: One row per month with a ``date`` column and every metric (a DataFrame, or
            its columns as arrays: reading a DataFrame's columns costs more than the summary).

    Returns:
        Run-level outcomes: counts as integers, other numbers as floats, and the peak and trough
        dates as timestamps (the first day of the month, as in the time series).
    """
    out: dict[str, float | int | pd.Timestamp] = {}
    for name, key, flow, count in _OUTCOMES:
        col = np.asarray(timeseries[name])
        value = col.sum() if flow else col[-1]
        out[key] = int(value) if count else float(value)
    mv = np.asarray(timeseries["market_value_usd"], dtype=float)
    dates = _date_index(timeseries["date"])
    i_peak, i_trough = max_drawdown_span(mv)
    running_peak = np.maximum.accumulate(mv)
    relative = np.divide(mv, running_peak, out=np.ones_like(mv), where=running_peak > 0)
    out["peak_market_value_usd"] = float(mv[i_peak])
    out["peak_date"] = dates[i_peak]
    out["trough_market_value_usd"] = float(mv[i_trough])
    out["trough_date"] = dates[i_trough]
    out["peak_to_trough_loss_usd"] = float(mv[i_peak] - mv[i_trough])
    out["max_drawdown"] = float(1.0 - relative.min())
    out["recovery_from_trough"] = float(mv[-1] / mv[i_trough] - 1.0) if mv[i_trough] > 0 else 0.0
    out.update(centre_turn(np.asarray(timeseries["central_stance"], dtype=float), dates))
    return out


def centre_turn(
    stance: np.ndarray, dates: pd.Series | pd.DatetimeIndex
) -> dict[str, pd.Timestamp]:
    """Date the centre's peak on platform stringency and its turn.

    The peak is the start of the largest fall of the centre's stringency from a running peak; the
    turn is the first month after it at which the stringency is :data:`TURN_DROP` below that peak
    (the last month when it never falls that far).

    Args:
        stance: The centre's platform stringency per month.
        dates: The months.

    Returns:
        ``centre_peak_date`` and ``centre_turn_date``.
    """
    i_peak, _ = max_drawdown_span(stance)
    below = np.nonzero(stance[i_peak:] <= stance[i_peak] - TURN_DROP)[0]
    i_turn = i_peak + int(below[0]) if below.size else len(stance) - 1
    dates = _date_index(dates)
    return {"centre_peak_date": dates[i_peak], "centre_turn_date": dates[i_turn]}


def _date_index(dates: Any) -> pd.DatetimeIndex:
    """Return ``dates`` as a ``DatetimeIndex`` (itself when it is one: an index is immutable)."""
    return dates if isinstance(dates, pd.DatetimeIndex) else pd.DatetimeIndex(dates)


def max_drawdown_span(values: np.ndarray) -> tuple[int, int]:
    """Return the indices of the peak and the trough of the largest fall from a running peak.

    The trough is the month furthest below the highest value before it; the peak is that highest
    value's (first) month. A series that never falls has no drawdown: both indices are its
    (first) highest month.

    Args:
        values: A series in time order.

    Returns:
        ``(i_peak, i_trough)`` with ``i_peak <= i_trough``.
    """
    if values.size == 0:
        return 0, 0
    fall = np.maximum.accumulate(values) - values
    if fall.max() <= 0.0:
        top = int(np.argmax(values))
        return top, top
    i_trough = int(np.argmax(fall))
    return int(np.argmax(values[: i_trough + 1])), i_trough


@functools.cache
def summary_types() -> dict[str, str]:
    """Return each run-level outcome's name and type (``int``, ``float`` or ``timestamp``).

    Found by summarizing a two-month series of the declared metrics, so it follows
    :func:`sim.model.metrics.summarize` without repeating it.
    """
    columns: dict[str, Any] = {"date": pd.to_datetime(["2020-01-01", "2020-02-01"])}
    for metric in METRICS:  # columns as arrays: a DataFrame built a column at a time costs ms
        columns[metric.name] = np.array([2, 1] if metric.unit == "count" else [2.0, 1.0])
    return {k: _type_name(v) for k, v in summarize(columns).items()}


def _type_name(value: object) -> str:
    """Return the type name of a summary value: ``timestamp``, ``int`` or ``float``."""
    if isinstance(value, pd.Timestamp):
        return "timestamp"
    return "int" if isinstance(value, int) else "float"


def numeric_outcomes() -> list[str]:
    """Return the run-level outcomes that are numbers (those a sweep may name)."""
    return [k for k, t in summary_types().items() if t in ("int", "float")]
