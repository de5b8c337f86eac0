"""The outcome metrics, declared once.

Each :class:`Metric` has a name, a unit, a description, whether it is a monthly flow or a stock, and
the vectorized reduction that computes it from a model. The DataCollector, the stored tables, the
summaries, the plots and the docs all read :data:`METRICS`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from sim.model import sum_kernels
from sim.model.centre import PULLS
from sim.model.kernels import contiguous
from sim.model.sum_kernels import METRIC_SUMS

if TYPE_CHECKING:
    from sim.model.policy_model import PolicyModel

BN = 1e9
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


def metric_sums(m: PolicyModel) -> np.ndarray:
    """Return the firm sums the metrics read, in one pass over the firms.

    In the order of :data:`sim.model.sum_kernels.METRIC_SUMS`; each has the bits of the NumPy
    reduction it stands for (:func:`sim.model.sum_kernels.metric_sums`).
    """
    f = m.firms
    return sum_kernels.metric_sums(
        f.compliance, f.alignment, contiguous(f.split[:, 2]), f.revenue, contiguous(f.rd_spend),
        f.ai_capability, f.compute_foreign, f.compute_domestic, 1.0 - m.chips.performance_gap,
        contiguous(f.market_value), f.discount_rate, f.listed, f.golden_share, f.freeze_until,
        int(m.month), f.sector, len(f.sector_names), f.buffers.empty("gathered value", (f.n,)),
    )  # fmt: skip


_AT = {name: i for i, name in enumerate(METRIC_SUMS)}


def _total(m: PolicyModel, name: str) -> float:
    """Return the firm sum ``name`` (of the month being recorded, else computed now)."""
    # The month's sums are kept as a list of floats: indexing it makes no NumPy scalar to convert.
    return (m.month_sums or metric_sums(m).tolist())[_AT[name]]


def _share(m: PolicyModel, num: str, den: str) -> float:
    total = _total(m, den)
    return _total(m, num) / total if total > 0 else 0.0


def _mean(m: PolicyModel, name: str) -> float:
    # ndarray.mean divides the sum by the count: the same float division.
    n = m.firms.n
    return _total(m, name) / n if n else float(np.mean(getattr(m.firms, name)))


def _pull(row: int) -> Callable[[PolicyModel], float]:
    """Return the reporter of the centre's pull ``row`` on platform stringency."""
    return lambda m: m.centre.pulls.item(row, 0)


PULL_TEXT = (
    "its priorities (anchor)", "the growth gap", "the jobs gap", "market value's fall from peak",
    "the AI gap to rivals", "the stakeholders",
)  # fmt: skip


def _usd(m: PolicyModel, cny_bn: float) -> float:
    return float(cny_bn * BN * m.params.valuation.usd_per_cny)


def _mean_stringency(m: PolicyModel) -> float:
    # np.mean of a handful of floats adds them in order, as sum() does, without building an array.
    if not m.regulators:
        return float(np.mean([]))
    return float(sum([r.stringency for r in m.regulators])) / len(m.regulators)


METRICS: tuple[Metric, ...] = (
    Metric("market_value_usd", "USD", "Total market value of listed firms.", "stock",
           lambda m: _total(m, "listed_value") * BN),
    Metric("unlisted_value_usd", "USD", "Total private value of unlisted firms.", "stock",
           lambda m: _total(m, "unlisted_value") * BN),
    Metric("fines_count", "count", "Fines imposed this month.", "flow",
           lambda m: int(m.flows["fines_count"])),
    Metric("fines_value_usd", "USD", "Value of fines imposed this month.", "flow",
           lambda m: _usd(m, m.flows["fines_value_cny_bn"])),
    Metric("mean_compliance", "share", "Mean compliance of firms.", "stock",
           lambda m: _mean(m, "compliance")),
    Metric("mean_alignment", "share", "Mean alignment of firms with state goals.", "stock",
           lambda m: _mean(m, "alignment")),
    Metric("expansion_share", "share", "Revenue-weighted share of budgets spent on expansion.",
           "stock", lambda m: _share(m, "expansion_revenue", "revenue")),
    Metric("open_investigations", "count", "Investigations open at the end of the month.", "stock",
           lambda m: sum([len(r.investigations) for r in m.regulators])),
    Metric("freezes_active", "count", "Freezes (listing halts, app removals, licence freezes) in "
           "force.", "stock", lambda m: int(_total(m, "freezes"))),
    Metric("deals_signed", "count", "City cooperation deals signed this month.", "flow",
           lambda m: int(m.flows["deals_signed"])),
    Metric("subsidies_usd", "USD", "City subsidies paid this month.", "flow",
           lambda m: _usd(m, m.flows["subsidies_cny_bn"])),
    Metric("fund_capital_deployed_usd", "USD", "State fund capital deployed this month.", "flow",
           lambda m: _usd(m, m.flows["fund_capital_deployed_cny_bn"])),
    Metric("golden_shares", "count", "Firms in which the state holds a golden share.", "stock",
           lambda m: int(_total(m, "golden_shares"))),
    Metric("rd_spend_usd", "USD", "R&D spend of all firms this month.", "flow",
           lambda m: _usd(m, _total(m, "rd_spend"))),
    Metric("ai_capability", "index", "Total AI capability, 1 at the start.", "stock",
           lambda m: _total(m, "ai_capability") / max(m.firms.ai_capability0, 1e-12)),
    Metric("foreign_compute_share", "share", "Foreign-chip share of the compute stock.", "stock",
           lambda m: _share(m, "compute_foreign", "compute_total")),
    Metric("domestic_compute_share", "share", "Domestic-chip share of the compute stock.", "stock",
           lambda m: _share(m, "compute_domestic", "compute_total")),
    Metric("chip_self_reliance", "share", "Domestic share of effective (performance-weighted) "
           "compute.", "stock",
           lambda m: _share(m, "effective_domestic", "effective_total")),
    Metric("domestic_performance_gap", "share", "Shortfall of domestic chips' performance.",
           "stock", lambda m: float(m.chips.performance_gap)),
    Metric("compute_shortfall_share", "share", "Share of the compute firms wanted this month "
           "that supply could not serve.", "stock", lambda m: float(m.chips.shortfall_share)),
    Metric("effective_stringency", "share", "Effective policy on platform stringency.", "stock",
           lambda m: m.policy.item(0)),
    Metric("effective_self_reliance", "share", "Effective policy on self-reliance.", "stock",
           lambda m: m.policy.item(1)),
    Metric("central_stance", "share", "The central leadership's stance on platform stringency.",
           "stock", lambda m: m.influence.position.item(0, 0)),
    Metric("mean_regulator_stringency", "share", "Mean stringency of the regulators.", "stock",
           lambda m: _mean_stringency(m)),
    Metric("regulatory_uncertainty", "index", "Policy volatility plus recent sanctions.", "stock",
           lambda m: float(m.uncertainty)),
    Metric("mean_discount_rate", "share", "Value-weighted discount rate investors apply to "
           "listed firms (per year).",
           "stock", lambda m: _share(m, "rate_listed_value", "listed_weight")),
    Metric("hhi", "index", "Revenue-weighted Herfindahl-Hirschman index of sectors (0-10,000).",
           "stock", lambda m: _total(m, "hhi")),
    Metric("jobs_index", "index", "Jobs proxy: 100 x revenue^0.6 relative to the start, plus "
           "jobs from deals.", "stock", lambda m: m.jobs_index(_total(m, "revenue"))),
    Metric("central_self_reliance", "share", "The central leadership's stance on self-reliance.",
           "stock", lambda m: m.influence.position.item(0, 1)),
    *(Metric(f"centre_pull_{source}", "pull", f"Pull of {what} on the centre's platform "
             "stringency this month (position units, before its speed; negative eases).",
             "stock", _pull(i))
      for i, (source, what) in enumerate(zip(PULLS, PULL_TEXT, strict=True))),
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
    frame = pd.DataFrame({"date": pd.to_datetime(["2020-01-01", "2020-02-01"])})
    for metric in METRICS:
        frame[metric.name] = [2, 1] if metric.unit == "count" else [2.0, 1.0]
    return {k: _type_name(v) for k, v in summarize(frame).items()}


def _type_name(value: object) -> str:
    """Return the type name of a summary value: ``timestamp``, ``int`` or ``float``."""
    if isinstance(value, pd.Timestamp):
        return "timestamp"
    return "int" if isinstance(value, int) else "float"


def numeric_outcomes() -> list[str]:
    """Return the run-level outcomes that are numbers (those a sweep may name)."""
    return [k for k, t in summary_types().items() if t in ("int", "float")]
