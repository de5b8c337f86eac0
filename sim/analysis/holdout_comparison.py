"""Does the posterior predict? The held-out comparison of a posterior with the current values.

Two splits keep the comparison out of sample, both reproducible from the master seed and the
free-parameters file:

- **seeds**: ``SeedSequence(master).spawn`` gives the fit seeds first and the held-out seeds
  after them (:func:`sim.analysis.abc_smc.run_abc`); ABC-SMC never runs a held-out seed;
- **targets**: the targets ``held_out`` in ``sim/data/free_parameters.yaml`` are left out of the
  distance; the others are fitted.

On the held-out seeds, three arms are run against every target (fitted and held out): the
**posterior** predictive (``draws`` particles drawn by weight, each on every held-out seed), the
**medians** (the posterior medians, what ``calibration.yaml`` would hold) and the **current**
values (the hand calibration: the defaults of ``sim/scenario/params.py``, or the shipped
``sim/data/calibration.yaml``). Per arm and target: the share of runs meeting the target with a
Wilson 95% interval; per arm: the held-out loss (the loss of :func:`sim.analysis.calibration.score`
over every target, a (draw, seed) pair counting as one run).

**No worse** (:func:`verdict`): the posterior and the medians each have a held-out loss no
higher than the current values', and no target on which either is significantly worse than the
current values: the 95% interval of the difference of the two shares (Newcombe's hybrid score
interval, built from the two Wilson intervals) lies wholly below 0. Only a folder whose
comparison says no worse may ship (``sim calibrate --ship``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from sim.analysis.calibration import score
from sim.analysis.free_parameters import CalibrationSpec
from sim.analysis.targets import TargetSet
from sim.analysis.validation import wilson_interval

CURRENT = -1
"""Tag of the current values' runs in the predictive check."""
MEDIANS = -2
"""Tag of the posterior medians' runs in the predictive check."""
ARMS = ("posterior", "medians", "current")
"""The arms of the comparison, in table order."""
COMPARISON_FILE = "comparison.parquet"
VERDICT_FILE = "comparison.json"
CANDIDATE_FILE = "calibration.yaml"


def arm_of(tag: int) -> str:
    """Return the arm of a predictive-check tag (a draw's tag is its index, 0 and up)."""
    return {CURRENT: "current", MEDIANS: "medians"}.get(tag, "posterior")


def _runs(checks: pd.DataFrame) -> pd.DataFrame:
    """Return the checks with one ``seed`` key per run: a (draw, seed) pair is one run."""
    return checks.assign(seed=checks["tag"].astype(str) + ":" + checks["seed"].astype(str))


def compare(checks: pd.DataFrame, spec: CalibrationSpec, targets: TargetSet) -> pd.DataFrame:
    """Return the per-target comparison of the three arms on the held-out seeds.

    Args:
        checks: The predictive check's rows (``tag``: draw, :data:`MEDIANS` or :data:`CURRENT`).
        spec: The free parameters (which targets are held out).
        targets: The targets.

    Returns:
        One row per target: ``target``, ``fact``, ``held_out``, and per arm ``<arm>_passed``,
        ``<arm>_n``, ``<arm>_rate``, ``<arm>_low``, ``<arm>_high``; ``<arm>_diff_high`` (the
        upper 95% limit of the arm's share minus the current values', see
        :func:`difference_upper`); ``worse``: that limit is below 0 for the posterior or the
        medians.
    """
    runs = _runs(checks)
    passed = runs.groupby(["tag", "seed", "target"], sort=False)["passed"].all().reset_index()
    passed["arm"] = passed["tag"].map(arm_of)
    rows = []
    for name, target in targets.targets.items():
        row: dict[str, Any] = {"target": name, "fact": target.fact,
                               "held_out": name in spec.held_out}  # fmt: skip
        for arm in ARMS:
            mine = passed[(passed["target"] == name) & (passed["arm"] == arm)]["passed"]
            k, n = int(mine.sum()), len(mine)
            low, high = wilson_interval(k, n)
            row.update({f"{arm}_passed": k, f"{arm}_n": n,
                        f"{arm}_rate": k / n if n else float("nan"),
                        f"{arm}_low": low, f"{arm}_high": high})  # fmt: skip
        for arm in ("posterior", "medians"):
            row[f"{arm}_diff_high"] = difference_upper(
                (row[f"{arm}_rate"], row[f"{arm}_high"]),
                (row["current_rate"], row["current_low"]))  # fmt: skip
        row["worse"] = bool(row["posterior_diff_high"] < 0 or row["medians_diff_high"] < 0)
        rows.append(row)
    return pd.DataFrame(rows)


def difference_upper(arm: tuple[float, float], current: tuple[float, float]) -> float:
    """Return the upper 95% limit of a difference of two shares, arm minus current.

    Newcombe's hybrid score interval (Newcombe 1998, method 10), from each share and the
    relevant limit of its Wilson interval: ``d + sqrt((arm_high - arm)^2 + (current -
    current_low)^2)`` with ``d = arm - current``. Below 0, the arm is significantly worse.

    Args:
        arm: The arm's share and the upper limit of its Wilson interval.
        current: The current values' share and the lower limit of its Wilson interval.
    """
    (p1, u1), (p2, l2) = arm, current
    return float((p1 - p2) + ((u1 - p1) ** 2 + (p2 - l2) ** 2) ** 0.5)


def holdout_losses(checks: pd.DataFrame, spec: CalibrationSpec, targets: TargetSet
                   ) -> dict[str, dict[str, float]]:  # fmt: skip
    """Return each arm's held-out loss: over every target, the fitted ones and the held-out ones.

    The loss is the declared one (:func:`sim.analysis.calibration.score`, weights from the
    targets and free-parameters files) on the held-out seeds; for the posterior, every (draw,
    seed) run counts once.
    """
    runs = _runs(checks)
    arms = runs["tag"].map(arm_of)
    fitted = [n for n in targets.targets if n not in spec.held_out]
    groups = {"all": list(targets.targets), "fitted": fitted, "held_out": list(spec.held_out)}
    out: dict[str, dict[str, float]] = {}
    for arm in ARMS:
        mine = runs[arms == arm]
        out[arm] = {key: float(score(mine, targets, names, spec.loss)["loss"])
                    for key, names in groups.items()}  # fmt: skip
    return out


def verdict(table: pd.DataFrame, losses: Mapping[str, Mapping[str, float]]
            ) -> tuple[bool, list[str]]:  # fmt: skip
    """Apply the no-worse rule; return it and its reasons (see the module docstring)."""
    reasons = []
    for arm in ("posterior", "medians"):
        mine, now = losses[arm]["all"], losses["current"]["all"]
        if mine > now:
            reasons.append(f"{arm}: held-out loss {mine:.4g} is higher than the current "
                           f"values' {now:.4g}")  # fmt: skip
    for r in table[table["worse"]].to_dict("records"):
        reasons.append(f"{r['target']}: significantly lower share, posterior "
                       f"{r['posterior_rate']:.0%} and medians {r['medians_rate']:.0%} against "
                       f"the current values' {r['current_rate']:.0%}")  # fmt: skip
    if reasons:
        return False, reasons
    return True, [f"held-out loss: posterior {losses['posterior']['all']:.4g}, medians "
                  f"{losses['medians']['all']:.4g}, current {losses['current']['all']:.4g}; "
                  "no target's share significantly lower"]


def verdict_line(no_worse: bool, reasons: list[str]) -> str:
    """Return the one line that says whether the posterior is no worse than the current values."""
    head = ("posterior no worse than the current values on held-out seeds: "
            + ("yes" if no_worse else "no"))  # fmt: skip
    return f"{head} ({'; '.join(reasons)})"
