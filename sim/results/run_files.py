"""A single run's folder: ``timeseries.parquet``, ``summary.json`` and, last, ``manifest.json``.

A folder without a manifest is incomplete.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.model.runner import RunResult
from sim.results.store import ensure_writable_dir, provenance, write_json, write_parquet
from sim.scenario.loader import scenario_dict


def write_run(result: RunResult, out: Path) -> Path:
    """Write one run's results into ``out``: time series, summary, then the manifest.

    Args:
        result: The run.
        out: The folder (created if needed).

    Returns:
        The folder.
    """
    ensure_writable_dir(out)
    (out / "manifest.json").unlink(missing_ok=True)  # an old manifest must not vouch for new files
    write_parquet(out / "timeseries.parquet", result.timeseries)
    if result.firm_timeseries is not None:
        write_parquet(out / "firms.parquet", result.firm_timeseries)
    write_parquet(out / "stakeholders.parquet", result.stakeholders)
    write_parquet(out / "network.parquet", result.network)
    summary = {k: v.date().isoformat() if isinstance(v, pd.Timestamp) else v
               for k, v in result.summary.items()}  # fmt: skip
    write_json(out / "summary.json", summary)  # dates as ISO text: 2021-02-01
    manifest = {
        "kind": "run",
        "scenario": result.scenario.name,
        "scenario_hash": result.scenario_hash,
        "seed": result.seed,
        "months": result.scenario.months,
        "wall_s": round(result.wall_s, 4),
        **provenance(),
        "resolved_scenario": scenario_dict(result.scenario),
    }
    write_json(out / "manifest.json", manifest)
    return out
