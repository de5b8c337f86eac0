"""Checking validation targets on one seed's runs.

:func:`evaluate` checks every target of a :class:`~sim.analysis.targets.TargetSet` on the runs of
one seed (one :class:`~sim.model.runner.RunResult` per scenario the targets read) and returns one
:class:`CheckOutcome` per check; :mod:`sim.analysis.validation` repeats that over many seeds. A
missing value (a window with no month in the run) never passes.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.analysis.targets import CompareCheck, DateCheck, RangeCheck, Read, Target, TargetSet
from sim.errors import ScenarioError
from sim.model.runner import RunResult

OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}  # fmt: skip


@dataclass(frozen=True)
class CheckOutcome:
    """One check of one target on one seed's runs.

    Attributes:
        target: The target's name.
        check: The check's position in the target (0-based).
        value: The number checked (a date check gives the date as a decimal year, 2021.083 for
            February 2021); NaN when the run has no such value.
        reference: What a compare check compared it with (NaN for other checks).
        text: The check as it came out, e.g. ``1.43e+12 in [1e+12, 2.5e+12]``.
        passed: Whether the check holds.
    """

    target: str
    check: int
    value: float
    reference: float
    text: str
    passed: bool


def _reduce(values: pd.Series, stat: str) -> float:
    """Reduce a window's values by ``stat`` (NaN when the window is empty, except ``count``)."""
    if stat == "count":
        return float(len(values))
    if values.empty:
        return float("nan")
    if stat == "first":
        return float(values.iloc[0])
    if stat == "last":
        return float(values.iloc[-1])
    if stat == "change":
        return float(values.iloc[-1] - values.iloc[0])
    return float(getattr(values, stat)())


def _in_window(dates: pd.Series, window: tuple[str, str] | None) -> np.ndarray:
    """Return a mask of the dates whose month lies in ``window`` (all when None)."""
    if window is None:
        return np.ones(len(dates), dtype=bool)
    months = pd.to_datetime(dates).dt.strftime("%Y-%m")
    return np.asarray((months >= window[0]) & (months <= window[1]))


def fines_frame(result: RunResult) -> pd.DataFrame:
    """Return the run's fines with the derived columns ``over_cap`` and ``cap_headroom``."""
    fines = result.fines
    if fines is None:
        raise ScenarioError("the run result has no fines table; run it with sim.run_scenario")
    out = fines.copy()
    out["over_cap"] = (out["share_of_revenue"] > out["legal_cap"] * (1 + 1e-9)).astype(float)
    out["cap_headroom"] = out["legal_cap"] - out["share_of_revenue"]
    return out


def read_value(read: Read, result: RunResult) -> float:
    """Return the number ``read`` takes from one run.

    Args:
        read: What to read.
        result: The run of the read's scenario.

    Returns:
        The number (NaN when the window holds no value).
    """
    if read.summary is not None:
        value = float(result.summary[read.summary])
    elif read.metric is not None:
        ts = result.timeseries
        value = _reduce(ts.loc[_in_window(ts["date"], read.window), read.metric], str(read.stat))
    else:
        fines = fines_frame(result)
        chosen = fines.loc[_in_window(fines["date"], read.window), str(read.fines)]
        value = _reduce(chosen, str(read.stat))
    return value * read.scale


def decimal_year(month: str) -> float:
    """Return ``YYYY-MM`` as a decimal year (``2021-02`` -> 2021.083)."""
    year, mon = month.split("-")
    return int(year) + (int(mon) - 1) / 12


def _band(lo: float | None, hi: float | None) -> str:
    """Return a range check's band as text: ``in [a, b]``, ``>= a`` or ``<= b``."""
    if lo is not None and hi is not None:
        return f"in [{lo:.4g}, {hi:.4g}]"
    return f">= {lo:.4g}" if lo is not None else f"<= {hi:.4g}"


def _check(
    targets: TargetSet, check: RangeCheck | DateCheck | CompareCheck,
    results: Mapping[str, RunResult],
) -> tuple[float, float, str, bool]:  # fmt: skip
    """Evaluate one check; return (value, reference, text, passed). NaN never passes."""

    def run(name: str | None) -> RunResult:
        return results[name or targets.scenario]

    nan = float("nan")
    if isinstance(check, DateCheck):
        date = f"{pd.Timestamp(run(check.scenario).summary[check.key]):%Y-%m}"
        start, end = check.window
        return decimal_year(date), nan, f"{date} in {start}..{end}", start <= date <= end
    if isinstance(check, RangeCheck):
        x = read_value(check.value, run(check.value.scenario))
        lo = -math.inf if check.min is None else check.min
        hi = math.inf if check.max is None else check.max
        return x, nan, f"{x:.4g} {_band(check.min, check.max)}", bool(lo <= x <= hi)
    left = read_value(check.left, run(check.left.scenario))
    right = (read_value(check.right, run(check.right.scenario))
             if isinstance(check.right, Read) else float(check.right))  # fmt: skip
    ok = math.isfinite(left) and math.isfinite(right) and OPS[check.op](left, right)
    return left, right, f"{left:.4g} {check.op} {right:.4g}", bool(ok)


def describe_check(check: RangeCheck | DateCheck | CompareCheck) -> str:
    """Return a check as one line of text, e.g. ``peak_date in 2021-01..2021-12``."""
    if isinstance(check, DateCheck):
        where = f" [{check.scenario}]" if check.scenario else ""
        return f"{check.key}{where} in {check.window[0]}..{check.window[1]}"
    if isinstance(check, RangeCheck):
        return f"{check.value.label()} {_band(check.min, check.max)}"
    right = check.right.label() if isinstance(check.right, Read) else f"{check.right:g}"
    return f"{check.left.label()} {check.op} {right}"


def evaluate(targets: TargetSet, results: Mapping[str, RunResult]) -> list[CheckOutcome]:
    """Check every target on one seed's runs.

    Args:
        targets: The targets.
        results: One run per scenario name in :meth:`TargetSet.scenarios` (same seed).

    Returns:
        One outcome per check, in file order.

    Raises:
        ScenarioError: When a scenario the targets read has no run.
    """
    missing = [n for n in targets.scenarios() if n not in results]
    if missing:
        raise ScenarioError(f"targets read scenario(s) {', '.join(missing)} that were not run")
    out = []
    for name, target in targets.targets.items():
        for i, check in enumerate(target.checks):
            value, reference, text, passed = _check(targets, check, results)
            out.append(CheckOutcome(name, i, value, reference, text, passed))
    return out


def target_passed(outcomes: list[CheckOutcome]) -> dict[str, bool]:
    """Return, per target, whether all its checks passed."""
    passed: dict[str, bool] = {}
    for o in outcomes:
        passed[o.target] = passed.get(o.target, True) and o.passed
    return passed


MISSING_ERROR = 10.0
"""Relative error counted when a run has no value for a target (a window with no month)."""


def relative_error(target: Target, median: float) -> float | None:
    """Return ``(median - observed) / observed`` of a target with a numeric magnitude.

    Args:
        target: The target.
        median: The median over seeds of its first check's value.

    Returns:
        The relative error (:data:`MISSING_ERROR` when the median is not finite), or None when the
        target has no numeric, non-zero observation to compare with.
    """
    if target.magnitude is None or not isinstance(target.observed, float) or not target.observed:
        return None
    if not np.isfinite(median):
        return MISSING_ERROR
    return (median - target.observed) / target.observed
