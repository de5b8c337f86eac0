"""Statistics over replicates for figures and reports: means, confidence intervals, sensitivity.

Confidence intervals are Student-t intervals for the mean across replicates (a group of one run has
no interval). Differences from the baseline are paired: replicate ``k`` of every scenario uses the
same seed, so the interval is that of the mean of per-seed differences, which removes the noise the
scenarios share. Sobol and Morris indices are computed with SALib from a sweep's design and each
design point's outcome averaged over its replicates.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from sim.errors import ResultsError

CONFIDENCE = 0.95


UNBOUNDED = (-math.inf, math.inf)


def mean_ci(
    values: Sequence[float] | np.ndarray,
    confidence: float = CONFIDENCE,
    bounds: tuple[float, float] = UNBOUNDED,
) -> tuple[float, float, float, int]:
    """Return the mean, the lower and upper confidence bounds and the number of finite values.

    The interval is Student's t interval for the mean, clipped to ``bounds``: the range the
    values, and so their mean, cannot leave (a count is never negative, a share stays in [0, 1]).
    Clipping keeps the coverage, since the true mean lies within the bounds, and never shows a
    negative number of freezes. Near a bound the clipped interval is still wider on the open side.

    Args:
        values: One number per replicate (NaN values are left out).
        confidence: Confidence level of the Student-t interval.
        bounds: The lowest and highest value the mean can take.

    Returns:
        ``(mean, low, high, n)``; the bounds are NaN when fewer than two values are finite.

    Example:
        >>> mean, low, high, n = mean_ci([0, 0, 0, 1], bounds=(0.0, math.inf))
        >>> mean, low >= 0.0
        (0.25, True)
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return float("nan"), float("nan"), float("nan"), 0
    mean = float(x.mean())
    if n < 2:
        return mean, float("nan"), float("nan"), n
    half = float(sps.t.ppf(0.5 + confidence / 2, n - 1) * x.std(ddof=1) / np.sqrt(n))
    low, high = bounds
    return mean, max(mean - half, low), min(mean + half, high), n


def grouped_ci(
    frame: pd.DataFrame, by: str | list[str], columns: Sequence[str],
    confidence: float = CONFIDENCE,
) -> pd.DataFrame:  # fmt: skip
    """Return mean and confidence bounds of ``columns`` per group, vectorized.

    Args:
        frame: One row per run (and date, when grouping by date).
        by: Grouping column(s), e.g. ``["scenario", "date"]``.
        columns: Numeric columns to summarize.
        confidence: Confidence level.

    Returns:
        One row per group with ``<col>_mean``, ``<col>_low``, ``<col>_high`` and ``n``.
    """
    keys = [by] if isinstance(by, str) else list(by)
    grouped = frame.groupby(keys, sort=False, observed=True)[list(columns)]
    mean, sd, n = grouped.mean(), grouped.std(ddof=1), grouped.count()
    t = sps.t.ppf(0.5 + confidence / 2, np.maximum(n.to_numpy() - 1, 1))
    half = pd.DataFrame(t * sd.to_numpy() / np.sqrt(n.to_numpy()), index=mean.index,
                        columns=mean.columns).where(n >= 2)  # fmt: skip
    out = pd.concat(
        [mean.add_suffix("_mean"), (mean - half).add_suffix("_low"),
         (mean + half).add_suffix("_high")], axis=1,
    )  # fmt: skip
    out["n"] = n.max(axis=1) if len(columns) else 0
    return out.reset_index()


def paired_differences(
    frame: pd.DataFrame, columns: Sequence[str], baseline: str,
    index: Sequence[str] = ("seed",),
) -> pd.DataFrame:  # fmt: skip
    """Return each scenario's per-seed difference from the baseline run with the same seed.

    Args:
        frame: One row per run (and date) with ``scenario``, the ``index`` columns and ``columns``.
        columns: Outcomes to difference.
        baseline: The baseline scenario's name.
        index: Columns that pair runs: ``seed``, plus ``date`` for time series.

    Returns:
        Rows of every non-baseline scenario whose seed (and date) the baseline also has, with
        ``columns`` replaced by ``scenario value - baseline value``.
    """
    keys = list(index)
    base = frame.loc[frame["scenario"] == baseline, [*keys, *columns]]
    base = base.groupby(keys, observed=True).mean().reset_index()
    others = frame.loc[frame["scenario"] != baseline, ["scenario", *keys, *columns]]
    merged = others.merge(base, on=keys, suffixes=("", "__base"), how="inner")
    for col in columns:
        merged[col] = merged[col] - merged[f"{col}__base"]
    return merged[["scenario", *keys, *columns]].reset_index(drop=True)


def point_means(runs: pd.DataFrame, summary: pd.DataFrame, outcome: str) -> pd.Series:
    """Return a sweep outcome averaged over replicates, per design point.

    Args:
        runs: The sweep's runs (``run_id``, ``point_id``, ``status``).
        summary: Per-run outcomes with ``run_id``.
        outcome: The outcome column.

    Returns:
        Mean outcome indexed by ``point_id`` (points without a completed run are missing).
    """
    ok = runs.loc[runs["status"] == "ok", ["run_id", "point_id"]]
    merged = ok.merge(summary[["run_id", outcome]], on="run_id", how="inner")
    return merged.groupby("point_id")[outcome].mean()


def _design_matrix(
    design: pd.DataFrame, names: Sequence[str], columns: Sequence[str]
) -> np.ndarray:
    """Return the design's parameter values in the problem's order, sorted by ``point_id``.

    Non-numeric levels (text, booleans) are replaced by their rank among the column's values,
    which keeps the direction of each step that Morris elementary effects need.
    """
    missing = [c for c in columns if c not in design.columns]
    if missing:
        raise ResultsError(
            f"design.parquet has no column for parameter(s) {', '.join(missing)} of the problem "
            f"{list(names)}"
        )
    table = design.sort_values("point_id")[list(columns)]
    for col in columns:
        if not pd.api.types.is_numeric_dtype(table[col]) or pd.api.types.is_bool_dtype(table[col]):
            table[col] = table[col].rank(method="dense")
    return table.to_numpy(dtype=float)


def _outcome_vector(design: pd.DataFrame, means: pd.Series, outcome: str) -> np.ndarray:
    """Return the per-point outcome in design order; raise when a point has no completed run."""
    y = means.reindex(design.sort_values("point_id")["point_id"]).to_numpy(dtype=float)
    n_missing = int(np.count_nonzero(~np.isfinite(y)))
    if n_missing:
        raise ResultsError(
            f"{n_missing} of {y.size} design points have no completed run (or a non-finite "
            f"{outcome}); sensitivity indices need every point"
        )
    return y


def sobol_indices(
    problem: dict[str, Any], design: pd.DataFrame, means: pd.Series, outcome: str, *,
    columns: Sequence[str] | None = None, calc_second_order: bool = True, seed: int = 1,
) -> pd.DataFrame:  # fmt: skip
    """Compute first-order and total Sobol indices with SALib from a Sobol sweep.

    Args:
        problem: The SALib problem (``num_vars``, ``names``, ``bounds``).
        design: The sweep's ``design.parquet`` (``point_id`` in sampler order).
        means: Per-point outcome (see :func:`point_means`).
        outcome: The outcome's name (for messages).
        columns: The design columns of the problem's parameters, in order (default: its names).
        calc_second_order: Whether the sample was drawn with second-order terms.
        seed: Seed of SALib's bootstrap for the confidence intervals (SALib reads 0 as "no
            seed", so the default is 1: figures are the same on every redraw).

    Returns:
        One row per parameter: ``parameter``, ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` (the
        ``_conf`` values are half-widths of 95% intervals); all NaN when the outcome does not
        vary over the design.

    Raises:
        ResultsError: When the design does not match the problem or points are missing.
    """
    from SALib.analyze import sobol

    names = list(problem["names"])
    _design_matrix(design, names, columns or names)
    y = _outcome_vector(design, means, outcome)
    d = len(names)
    per = 2 * d + 2 if calc_second_order else d + 2
    if y.size % per:
        raise ResultsError(
            f"a Sobol design over {d} parameters needs a multiple of {per} points, has {y.size}"
        )
    if np.ptp(y) == 0:  # a constant outcome has no variance to share out
        nan = np.full(d, np.nan)
        return pd.DataFrame({"parameter": names, "S1": nan, "S1_conf": nan, "ST": nan,
                             "ST_conf": nan})  # fmt: skip
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        res = sobol.analyze(problem, y, calc_second_order=calc_second_order, seed=seed)
    return pd.DataFrame({"parameter": names, "S1": res["S1"], "S1_conf": res["S1_conf"],
                         "ST": res["ST"], "ST_conf": res["ST_conf"]})  # fmt: skip


def morris_indices(
    problem: dict[str, Any], design: pd.DataFrame, means: pd.Series, outcome: str, *,
    columns: Sequence[str] | None = None, num_levels: int = 4, seed: int = 1,
) -> pd.DataFrame:  # fmt: skip
    """Compute Morris elementary-effect statistics (mu*, its interval, sigma) with SALib.

    Args:
        problem: The SALib problem.
        design: The sweep's ``design.parquet`` (trajectories in sampler order).
        means: Per-point outcome (see :func:`point_means`).
        outcome: The outcome's name (for messages).
        columns: The design columns of the problem's parameters, in order (default: its names).
        num_levels: The sampler's number of grid levels.
        seed: Seed of SALib's bootstrap for the confidence intervals (SALib reads 0 as "no
            seed", so the default is 1: figures are the same on every redraw).

    Returns:
        One row per parameter: ``parameter``, ``mu_star``, ``mu_star_conf``, ``sigma``, ``mu``.
    """
    from SALib.analyze import morris

    names = list(problem["names"])
    x = _design_matrix(design, names, columns or names)
    y = _outcome_vector(design, means, outcome)
    if y.size % (len(names) + 1):
        raise ResultsError(
            f"a Morris design over {len(names)} parameters needs a multiple of "
            f"{len(names) + 1} points, has {y.size}"
        )
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        res = morris.analyze(problem, x, y, num_levels=num_levels, seed=seed)
    return pd.DataFrame({"parameter": names, "mu_star": res["mu_star"],
                         "mu_star_conf": res["mu_star_conf"], "sigma": res["sigma"],
                         "mu": res["mu"]})  # fmt: skip
