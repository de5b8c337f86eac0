"""Scenario discovery on a sweep: which parameter ranges lead to an outcome above (or below) X.

Each finished run of a sweep is one case: its design point's parameter values, and whether its
outcome passes the threshold (a case of interest). Three methods of the EMA Workbench
(:mod:`ema_workbench.analysis`) look for the parameters that explain the cases of interest:

* PRIM (the patient rule induction method) peels the parameter space down to boxes that hold
  many cases of interest (coverage: the share of all cases of interest inside the box) and few
  others (density: the share of the box's cases that are of interest). Each box's peeling
  trajectory trades one against the other; the box reported is the densest step whose coverage is
  at least ``min_coverage``, less its restrictions that may be chance (quasi-p above 0.05).
* CART splits the space into leaves, each with its coverage and density.
* Extra-trees feature scoring ranks the parameters by how much they explain.

The EMA Workbench is the field's reference implementation of these methods (maintained, tested,
used in the scenario-discovery literature it comes from); it is an optional dependency (the
``ema`` extra).
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from sim.errors import ResultsError
from sim.model.metrics import numeric_outcomes
from sim.results.load import load_results

log = logging.getLogger(__name__)

DISCOVERY_FILE = "discovery.json"
MIN_COVERAGE = 0.5
MAX_BOXES = 3
MASS_MIN = 0.05
MAX_QP = 0.05
"""A restriction whose quasi-p value is above this may be chance."""
SCORE_SEED = 0


@dataclass
class Box:
    """One PRIM box.

    Attributes:
        coverage: Share of all cases of interest inside the box.
        density: Share of the box's cases that are of interest.
        mass: Share of all cases inside the box.
        n: Cases inside the box.
        limits: One row per restricted parameter: ``parameter``, ``lower``, ``upper`` (the box),
            ``minimum``, ``maximum`` (the design's range) and ``qp`` (the quasi-p value of the
            restriction: small means it is unlikely to be chance).
        trajectory: The peeling trajectory: ``coverage``, ``density``, ``mass``, ``res_dim`` at
            each step.
        chosen: The step of the trajectory the box starts from.
        dropped: Restrictions of that step dropped as insignificant (the box is the step without
            them).
    """

    coverage: float
    density: float
    mass: float
    n: int
    limits: pd.DataFrame
    trajectory: pd.DataFrame
    chosen: int
    dropped: list[str] = field(default_factory=list)


@dataclass
class Discovery:
    """What :func:`discover` found.

    Attributes:
        folder: The sweep folder.
        outcome: The run-level outcome.
        direction: ``above`` or ``below``.
        threshold: The threshold.
        n_cases: Finished runs used.
        n_interest: Runs whose outcome passes the threshold.
        parameters: The swept parameters.
        boxes: PRIM's boxes, the first explains the most.
        cart: CART's leaves: ``coverage``, ``density``, ``mass``, ``rule``, densest first.
        scores: Feature scores of the parameters, highest first.
        partial: The sweep did not finish: only its finished runs are used.
    """

    folder: Path
    outcome: str
    direction: Literal["above", "below"]
    threshold: float
    n_cases: int
    n_interest: int
    parameters: list[str]
    boxes: list[Box] = field(default_factory=list)
    cart: pd.DataFrame = field(default_factory=pd.DataFrame)
    scores: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    partial: bool = False

    @property
    def base_density(self) -> float:
        """Share of all cases that are of interest (the density of the whole design)."""
        return self.n_interest / self.n_cases if self.n_cases else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Return the findings as plain JSON data (what ``discovery.json`` holds)."""
        return {
            "outcome": self.outcome,
            "direction": self.direction,
            "threshold": self.threshold,
            "n_cases": self.n_cases,
            "n_interest": self.n_interest,
            "partial": self.partial,
            "parameters": self.parameters,
            "boxes": [
                {
                    "coverage": b.coverage,
                    "density": b.density,
                    "mass": b.mass,
                    "n": b.n,
                    "chosen_step": b.chosen,
                    "dropped": b.dropped,
                    "limits": b.limits.to_dict(orient="records"),
                }
                for b in self.boxes
            ],
            "cart": self.cart.to_dict(orient="records"),
            "scores": {str(k): float(v) for k, v in self.scores.items()},
        }


def describe_restriction(limit: dict[Any, Any]) -> str:
    """Return one restriction of a box as text: ``fine_rate 0.05 to 0.1 (qp 0.012)``.

    Args:
        limit: A row of :attr:`Box.limits` as a dict.
    """
    if limit["upper"] == "":
        span = f"in {{{limit['lower']}}}"
    else:
        span = f"{float(limit['lower']):.4g} to {float(limit['upper']):.4g}"
    return f"{limit['parameter']} {span} (qp {float(limit['qp']):.2g})"


def cases(folder: str | Path, outcome: str) -> tuple[pd.DataFrame, pd.Series, bool]:
    """Return a sweep's cases: the parameters of each finished run, and its outcome.

    Args:
        folder: A sweep folder.
        outcome: A numeric run-level outcome.

    Returns:
        The parameters (one row per successful run), the outcome, and whether the sweep is
        unfinished (then only its finished runs are used).

    Raises:
        ResultsError: When the folder is not a sweep, or the outcome is unknown.
    """
    res = load_results(folder)
    design = res.design
    if res.kind != "sweep" or design is None:
        raise ResultsError(
            f"{res.folder}: a {res.kind} folder has no design to discover from; "
            "run `sim discover` on a sweep folder (written by `sim sweep`)"
        )
    numeric = [c for c in numeric_outcomes() if c in res.summary.columns]
    if outcome not in numeric:
        raise ResultsError(f"--outcome: unknown outcome {outcome!r}; allowed: "
                           f"{', '.join(numeric)}")  # fmt: skip
    parameters = [c for c in design.columns if c != "point_id"]
    rows = res.summary[["point_id", outcome]].merge(design, on="point_id", how="left")
    rows = rows[np.isfinite(rows[outcome].to_numpy(dtype=float))].reset_index(drop=True)
    return rows[parameters], rows[outcome], res.partial


def _select(values: pd.Series, outcome: str, above: float | None,
            below: float | None) -> tuple[np.ndarray, Literal["above", "below"], float]:
    """Return the cases of interest, checking the threshold selects some but not all runs."""
    if (above is None) == (below is None):
        raise ResultsError("give one threshold: --above X or --below X")
    direction: Literal["above", "below"] = "above" if above is not None else "below"
    threshold = float(above if above is not None else below)  # type: ignore[arg-type]
    if not math.isfinite(threshold):
        raise ResultsError(f"--{direction}: must be a finite number, given {threshold}")
    y = values.to_numpy(dtype=float)
    interest = y > threshold if direction == "above" else y < threshold
    span = f"{outcome} ranges from {y.min():.4g} to {y.max():.4g} over {len(y)} runs"
    if not interest.any():
        raise ResultsError(f"--{direction} {threshold:g}: selects no run ({span}); "
                           "choose a threshold inside that range")  # fmt: skip
    if interest.all():
        raise ResultsError(f"--{direction} {threshold:g}: selects every run ({span}); "
                           "choose a threshold inside that range")  # fmt: skip
    return interest, direction, threshold


def discover(
    folder: str | Path,
    outcome: str,
    *,
    above: float | None = None,
    below: float | None = None,
    min_coverage: float = MIN_COVERAGE,
    max_boxes: int = MAX_BOXES,
) -> Discovery:
    """Find the parameter ranges of a sweep where an outcome is above (or below) a threshold.

    Args:
        folder: A sweep folder.
        outcome: A numeric run-level outcome (a column of ``summary.parquet``).
        above: Cases of interest are runs whose outcome is above this.
        below: Cases of interest are runs whose outcome is below this.
        min_coverage: The box reported from each peeling trajectory is the densest step whose
            coverage is at least this (0 to 1), less its insignificant restrictions.
        max_boxes: Most PRIM boxes to find.

    Returns:
        The boxes, CART's leaves and the feature scores.

    Raises:
        ResultsError: When the folder is not a sweep, the outcome is unknown, the threshold
            selects no run or every run, or the EMA Workbench is not installed.
    """
    if not 0.0 <= min_coverage <= 1.0:
        raise ResultsError(f"--min-coverage: allowed: 0 to 1, given {min_coverage}")
    if max_boxes < 1:
        raise ResultsError(f"--boxes: must be at least 1, given {max_boxes}")
    x, values, partial = cases(folder, outcome)
    interest, direction, threshold = _select(values, outcome, above, below)
    if partial:
        log.warning("%s: the sweep did not finish; discovering from its %d finished runs",
                    folder, len(x))  # fmt: skip
    prim, cart, scoring = _workbench()
    found = Discovery(Path(folder), outcome, direction, threshold, len(x), int(interest.sum()),
                      list(x.columns), partial=partial)  # fmt: skip
    x = _numeric(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the workbench's own deprecation and fit warnings
        found.boxes = _prim_boxes(prim, x, interest, min_coverage, max_boxes)
        found.cart = _cart_leaves(cart, x, interest)
        found.scores = _feature_scores(scoring, x, interest)
    return found


def _workbench() -> tuple[Any, Any, Any]:
    """Import the EMA Workbench's analysis modules, quietly."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "ipyparallel not installed" and similar
            from ema_workbench.analysis import cart, feature_scoring, prim
    except ImportError:
        raise ResultsError(
            "scenario discovery needs the EMA Workbench: pip install -e '.[ema]'"
        ) from None
    for name in ("EMA", "ema_workbench"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return prim, cart, feature_scoring


def _numeric(x: pd.DataFrame) -> pd.DataFrame:
    """Return the parameters with booleans as integers and text as categories."""
    out = x.copy()
    for col in out.columns:
        if out[col].dtype == bool:
            out[col] = out[col].astype(np.int64)
        elif not pd.api.types.is_numeric_dtype(out[col]):
            out[col] = out[col].astype("category")
        elif pd.api.types.is_integer_dtype(out[col]):
            out[col] = out[col].astype(np.int64)
        else:
            out[col] = out[col].astype(np.float64)
    return out


def _prim_boxes(
    prim: Any, x: pd.DataFrame, interest: np.ndarray, min_coverage: float, max_boxes: int
) -> list[Box]:
    """Run PRIM; return each box it finds, as reported (see :func:`_report`)."""
    base = float(interest.mean())
    algo = prim.Prim(x, interest.astype(int), threshold=base, mass_min=MASS_MIN)
    boxes = []
    for _ in range(max_boxes):
        box = algo.find_box()
        if box is None:
            break
        traj = box.peeling_trajectory.reset_index(drop=True)
        if len(traj) < 2 or float(traj["density"].max()) <= base:
            break  # a box no denser than the whole design explains nothing
        boxes.append(_report(box, x, traj, min_coverage))
    return boxes


def _report(box: Any, x: pd.DataFrame, traj: pd.DataFrame, min_coverage: float) -> Box:
    """Choose a step of the peeling trajectory and drop its insignificant restrictions.

    The step is the densest whose coverage is at least ``min_coverage`` (else the densest); then,
    one at a time, the restriction with the largest quasi-p value above :data:`MAX_QP` is
    dropped (it may be chance), as an analyst inspecting the box would.
    """
    covered = traj["coverage"].to_numpy() >= min_coverage - 1e-12
    density = traj["density"].to_numpy(dtype=float)
    chosen = int(np.argmax(np.where(covered, density, -np.inf) if covered.any() else density))
    box.select(chosen)
    current, dropped = chosen, []
    while True:
        qps = {name: _qp(v) for name, v in box.qp[current].items()}
        worst = max(qps, key=lambda name: qps[name], default=None)
        if worst is None or not qps[worst] > MAX_QP:
            break
        box.drop_restriction(worst, current)
        dropped.append(str(worst))
        current = len(box.box_lims) - 1
    return Box(
        coverage=float(box.coverage), density=float(box.density), mass=float(box.mass),
        n=int(box.peeling_trajectory["n"].iloc[current]), limits=_limits(box, x, current),
        trajectory=traj[["coverage", "density", "mass", "res_dim"]], chosen=chosen,
        dropped=dropped,
    )  # fmt: skip


def _limits(box: Any, x: pd.DataFrame, i: int) -> pd.DataFrame:
    """Return the restricted parameters of step ``i``: box limits, design range, quasi-p."""
    lims = box.box_lims[i]
    init = box.box_lims[0]
    qp = box.qp[i]
    rows = []
    for name in x.columns:
        lo, hi = lims[name].iloc[0], lims[name].iloc[1]
        lo0, hi0 = init[name].iloc[0], init[name].iloc[1]
        if isinstance(lo, set):
            if lo == lo0:
                continue
            rows.append({"parameter": name, "lower": ", ".join(sorted(map(str, lo))), "upper": "",
                         "minimum": "", "maximum": "", "qp": _qp(qp.get(name))})  # fmt: skip
            continue
        if lo == lo0 and hi == hi0:
            continue
        rows.append({"parameter": name, "lower": float(lo), "upper": float(hi),
                     "minimum": float(lo0), "maximum": float(hi0), "qp": _qp(qp.get(name))})
    return pd.DataFrame(rows, columns=["parameter", "lower", "upper", "minimum", "maximum", "qp"])


def _qp(value: Any) -> float:
    """Return the larger of a restriction's two quasi-p values (the one that limits it)."""
    if value is None:
        return float("nan")
    finite = [float(v) for v in value if v is not None and math.isfinite(float(v))]
    return max(finite) if finite else float("nan")


def _cart_leaves(cart: Any, x: pd.DataFrame, interest: np.ndarray) -> pd.DataFrame:
    """Fit CART; return its leaves with coverage, density, mass and their rule, densest first."""
    model = cart.CART(x, interest.astype(int), mass_min=MASS_MIN)
    model.build_tree()
    rows = []
    for stats, box in zip(model.stats, model.boxes, strict=True):
        rows.append({"coverage": float(stats["coverage"]), "density": float(stats["density"]),
                     "mass": float(stats["mass"]), "rule": _rule(box, x)})  # fmt: skip
    frame = pd.DataFrame(rows, columns=["coverage", "density", "mass", "rule"])
    return frame.sort_values(["density", "coverage"], ascending=False, kind="stable") \
        .reset_index(drop=True)


def _rule(box: pd.DataFrame, x: pd.DataFrame) -> str:
    """Describe a CART leaf's limits in words: ``fine_rate > 0.05 and peak <= 0.8``."""
    parts = []
    for name in x.columns:
        lo, hi = box[name].iloc[0], box[name].iloc[1]
        if isinstance(lo, set):
            full = set(x[name].astype(str).unique())
            if set(map(str, lo)) != full:
                parts.append(f"{name} in {{{', '.join(sorted(map(str, lo)))}}}")
            continue
        vmin, vmax = float(x[name].min()), float(x[name].max())
        if float(lo) > vmin:
            parts.append(f"{name} > {float(lo):.4g}")
        if float(hi) < vmax:
            parts.append(f"{name} <= {float(hi):.4g}")
    return " and ".join(parts) or "(everywhere)"


def _feature_scores(scoring: Any, x: pd.DataFrame, interest: np.ndarray) -> pd.Series:
    """Score the parameters with extra trees (seeded, so the scores are reproducible)."""
    from ema_workbench.analysis.scenario_discovery_util import RuleInductionType

    scores, _ = scoring.get_ex_feature_scores(
        x, interest.astype(int), mode=RuleInductionType.CLASSIFICATION, random_state=SCORE_SEED
    )
    series = scores.iloc[:, 0] if isinstance(scores, pd.DataFrame) else pd.Series(scores)
    return series.astype(float).sort_values(ascending=False, kind="stable")
