"""The changes a lever study measured: paired differences, 95% intervals and verdicts.

:func:`lever_effects` reads a folder written by ``sim levers`` (kind ``levers``). For each lever
and headline outcome it pairs every variant's run with the unmoved scenario's run on the same
seed and gives the mean change of a step down, of a step up and of the whole swing (up minus
down), each with a Student-t 95% confidence interval over the paired seeds
(:func:`sim.analysis.stats.mean_ci`). The verdict compares the swing with the direction declared
in :data:`~sim.experiments.lever_table.LEVERS`:

``agrees`` / ``opposite``
    the interval excludes zero, on the expected side or the other one;
``moves``
    the interval excludes zero and no direction is expected;
``not significant``
    the outcome changes on some seeds but the interval includes zero;
``dead``
    the outcome is identical, bit for bit, on every paired seed;
``n/a``
    the scenario has no field the lever moves.

The table is written to ``levers.parquet`` in the folder (:data:`EFFECTS_SCHEMA`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from sim.analysis.stats import mean_ci
from sim.errors import ResultsError
from sim.experiments.lever_table import DIRECTIONS
from sim.experiments.levers import BASE, run_levers
from sim.results.load import Results
from sim.results.store import write_table

EFFECTS_FILE = "levers.parquet"
VERDICTS = ("agrees", "opposite", "moves", "not significant", "dead", "n/a")
SIGNIFICANT = frozenset({"agrees", "opposite", "moves"})

_STATS = ("mean", "low", "high")
EFFECTS_SCHEMA = pa.schema(
    [("scenario", pa.string()), ("lever", pa.string()), ("label", pa.string()),
     ("path", pa.string()), ("step", pa.string()), ("fields", pa.int64()),
     ("outcome", pa.string()), ("expected", pa.int64()), ("base_mean", pa.float64())]
    + [(f"{side}_{s}", pa.float64()) for side in ("down", "up", "swing") for s in _STATS]
    + [("n", pa.int64()), ("verdict", pa.string())]
)  # fmt: skip
"""Columns of ``levers.parquet``: one row per lever and outcome.

``expected`` is +1 or -1 (the sign expected when the lever goes up) or 0 (none stated);
``down_*`` and ``up_*`` are the mean change from the unmoved scenario and its interval,
``swing_*`` the change from the step down to the step up; ``n`` counts the paired seeds.
"""


def verdict(swing: np.ndarray, low: float, high: float, expected: int) -> str:
    """Return the verdict on one lever and outcome from its per-seed swings and interval.

    Args:
        swing: Up minus down, one value per paired seed.
        low: Lower bound of the mean swing's interval (NaN with one seed).
        high: Upper bound.
        expected: +1, -1 or 0.

    Returns:
        One of :data:`VERDICTS` but ``n/a``.
    """
    if not np.any(swing != 0.0):
        return "dead"
    if not (math.isfinite(low) and math.isfinite(high)) or low <= 0.0 <= high:
        return "not significant"
    sign = 1 if low > 0.0 else -1
    if expected == 0:
        return "moves"
    return "agrees" if sign == expected else "opposite"


def _side(frame: pd.DataFrame, lever: str, direction: str, outcomes: list[str]) -> pd.DataFrame:
    """Return one variant's outcomes indexed by seed (empty when it was not run)."""
    rows = frame.loc[(frame["lever"] == lever) & (frame["direction"] == direction)]
    return rows.set_index("seed")[outcomes].sort_index()


def _row(lever: dict[str, Any], scenario: str, outcome: str) -> dict[str, Any]:
    """Return the identifying columns of one row."""
    return {
        "scenario": scenario, "lever": lever["name"], "label": lever.get("label", lever["name"]),
        "path": lever.get("path", ""), "step": lever.get("step", ""),
        "fields": len(lever.get("fields") or []), "outcome": outcome,
        "expected": int((lever.get("expect") or {}).get(outcome, 0)),
    }  # fmt: skip


def lever_effects(results: Results) -> pd.DataFrame:
    """Return the paired changes of each headline outcome for each lever of a study.

    Args:
        results: A folder of kind ``levers`` (see :func:`sim.experiments.levers.run_levers`).

    Returns:
        One row per lever and outcome, columns as :data:`EFFECTS_SCHEMA`, in the study's order.

    Raises:
        ResultsError: When the folder is not a lever study or its unmoved scenario has no run.
    """
    design = results.manifest.get("design") or {}
    if results.kind != "levers" or "levers" not in design:
        raise ResultsError(f"{results.folder}: not a lever study (made by `sim levers`)")
    outcomes = [o for o in design.get("outcomes", []) if o in results.summary.columns]
    ok = results.runs.loc[results.runs["status"] == "ok", ["run_id", "lever", "direction", "seed"]]
    frame = ok.merge(results.summary[["run_id", *outcomes]], on="run_id", how="inner")
    base = _side(frame, BASE, BASE, outcomes)
    if base.empty:
        raise ResultsError(f"{results.folder}: the unmoved scenario has no completed run")
    scenario = str(design.get("scenario", results.manifest.get("scenarios", ["?"])[0]))
    rows = []
    for lever in design["levers"]:
        sides = {d: _side(frame, lever["name"], d, outcomes) for d in DIRECTIONS}
        run = [d for d in DIRECTIONS if not sides[d].empty]
        seeds = base.index
        for d in run:
            seeds = seeds.intersection(sides[d].index)
        for outcome in outcomes:
            row = _row(lever, scenario, outcome)
            row["base_mean"] = float(base[outcome].mean())
            b = base.loc[seeds, outcome].to_numpy(float)
            moved = {d: sides[d].loc[seeds, outcome].to_numpy(float) if d in run else b
                     for d in DIRECTIONS}  # fmt: skip
            changes = {"down": moved["down"] - b, "up": moved["up"] - b,
                       "swing": moved["up"] - moved["down"]}  # fmt: skip
            for side, values in changes.items():
                stats = mean_ci(values) if side == "swing" or side in run else (math.nan,) * 3
                row.update({f"{side}_{s}": float(v) for s, v in zip(_STATS, stats, strict=False)})
            row["n"] = int(len(seeds)) if run else 0
            row["verdict"] = (verdict(changes["swing"], row["swing_low"], row["swing_high"],
                                      row["expected"]) if run else "n/a")  # fmt: skip
            rows.append(row)
    return pd.DataFrame(rows, columns=EFFECTS_SCHEMA.names)


def write_effects(effects: pd.DataFrame, folder: str | Path) -> Path:
    """Write a lever study's effects to ``<folder>/levers.parquet`` atomically.

    Returns:
        The file.
    """
    target = Path(folder) / EFFECTS_FILE
    table = pa.Table.from_pandas(effects, schema=EFFECTS_SCHEMA, preserve_index=False)
    write_table(target, table)
    return target


def dead_levers(effects: pd.DataFrame) -> dict[str, list[str]]:
    """Return each lever with an expected outcome that did not move at all, and those outcomes."""
    rows = effects.loc[(effects["expected"] != 0) & (effects["verdict"] == "dead")]
    return {str(k): list(v) for k, v in rows.groupby("lever", sort=False)["outcome"]}


def lever_study(
    scenario: str | Path,
    *,
    seeds: int = 10,
    seed: int = 0,
    levers: Sequence[str] | None = None,
    overrides: Sequence[str] = (),
    months: int | None = None,
    **execution: Any,
) -> tuple[Results, pd.DataFrame]:
    """Run a lever study, compute its effects and write them to the folder's ``levers.parquet``.

    Args:
        scenario: A scenario name or file.
        seeds: Paired seeds per variant (at least 2).
        seed: The master seed.
        levers: Names of the levers to study (default: all).
        overrides: ``path=value`` overrides applied to the scenario first.
        months: Months to simulate.
        **execution: As for :func:`sim.experiments.execution.run_plan`.

    Returns:
        The folder's results and the effects (see :func:`lever_effects`).
    """
    results = run_levers(scenario, seeds=seeds, seed=seed, levers=levers, overrides=overrides,
                         months=months, **execution)  # fmt: skip
    effects = lever_effects(results)
    write_effects(effects, results.folder)
    return results, effects
