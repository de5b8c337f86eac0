"""Reproduce one run of a batch, sweep or lever study from its manifest, compared bit for bit.

:func:`rerun` rebuilds the run's scenario from the manifest (the resolved scenario, plus the
design point's overrides in a sweep or the variant's overrides in a lever study), checks that it
hashes to the recorded ``scenario_hash``, runs it with the recorded seed through the same code path
as the batch (:func:`sim.experiments.chunks.execute_run`) and compares the run's rows of every
dataset and its outcomes with what is stored, bit for bit. Nothing is written to the folder.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.errors import ResultsError, ScenarioError
from sim.results.layout import read_manifest
from sim.results.records import RecordLog, Source
from sim.scenario.loader import Layer, scenario_hash, validate, with_overrides
from sim.scenario.schema import Scenario

_RUN_ID = re.compile(r"[0-9A-Za-z_]{1,64}")


@dataclass
class RerunReport:
    """What :func:`rerun` found.

    Attributes:
        run_id: The run.
        scenario: Its scenario's name.
        seed: Its seed.
        compared: What was compared, one short line each.
        differences: One line per difference; empty when the run was reproduced exactly.
        notes: Remarks that do not make the run differ (another git commit, another Parquet
            encoder).
    """

    run_id: str
    scenario: str
    seed: int
    compared: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        """Whether every stored value was reproduced bit for bit."""
        return not self.differences


def find_record(folder: Path, run_id: str) -> tuple[Source, dict[str, Any]]:
    """Return the record that holds run ``run_id`` and the run's entry in it.

    Raises:
        ResultsError: When there is no such run (the message shows some run ids).
    """
    if not _RUN_ID.fullmatch(run_id):
        raise ResultsError.about(lambda a: f"{a('run_id', run_id)}: not a run id; allowed: the "
                                 "run_id column of runs.parquet (letters and digits)")  # fmt: skip
    log = RecordLog(folder)
    found = log.find(run_id)
    if found is None:
        known = [str(e["run"]["run_id"]) for _, e in islice(log.entries(), 3)]
        raise ResultsError(
            f"{folder}: no run {run_id!r}; allowed: a run_id of runs.parquet"
            + (f", e.g. {', '.join(known)}" if known else " (no run is recorded yet)")
        )
    source, entry = found
    run = entry.get("run")
    if not isinstance(run, dict) or not all(k in run for k in ("seed", "replicate", "scenario")):
        raise ResultsError(f"{folder / source.rel}: unreadable run record (no run, seed or "
                           "replicate)")  # fmt: skip
    return source, entry


def run_scenario_of(manifest: dict[str, Any], run: dict[str, Any]) -> tuple[Scenario, list[str]]:
    """Rebuild a run's base scenario and overrides from the manifest.

    Args:
        manifest: The folder's manifest.
        run: The run's row (its record's ``run``).

    Returns:
        The base scenario and the design point's or lever variant's ``path=value`` overrides
        (empty in a batch).

    Raises:
        ResultsError: When the manifest lacks the scenario or it no longer validates.
    """
    from sim.scenario.overrides import format_override_value

    name = run.get("scenario")
    data = manifest.get("resolved_scenarios", {}).get(name)
    if not isinstance(data, dict):
        raise ResultsError(f"the manifest holds no resolved scenario {name!r}")
    try:
        base = validate(data, [Layer(f"manifest scenario {name}", data, {})])
    except ScenarioError as exc:
        raise ResultsError(f"the manifest's scenario {name!r} no longer validates: {exc}") from None
    overrides = []
    design = manifest.get("design", {})
    if manifest.get("kind") == "sweep":
        for param, spec in design.get("parameters", {}).items():
            overrides.append(f"{spec['path']}={format_override_value(run[param])}")
    elif manifest.get("kind") == "levers":
        variants = {v["point_id"]: v for v in design.get("variants", [])}
        if run.get("point_id") not in variants:
            raise ResultsError(f"the manifest holds no lever variant {run.get('point_id')!r}")
        overrides = list(variants[run["point_id"]]["overrides"])
    return base, overrides


def rerun(folder: str | Path, run_id: str) -> RerunReport:
    """Run one recorded run again and compare it with what is stored, bit for bit.

    Args:
        folder: A batch or sweep folder.
        run_id: The run (the ``run_id`` column of ``runs.parquet``).

    Returns:
        The comparison; ``.identical`` tells whether it was reproduced exactly.

    Raises:
        ResultsError: When the folder, the run or its scenario cannot be read.
    """
    from sim import __version__
    from sim.experiments.chunks import DETAIL, execute_run
    from sim.experiments.plan import RunSpec
    from sim.results.store import git_commit

    path = Path(folder)
    manifest = read_manifest(path)
    source, record = find_record(path, run_id)
    run = record["run"]
    report = RerunReport(run_id, str(run.get("scenario")), int(run["seed"]))
    if manifest.get("git_commit") not in (None, git_commit()):
        report.notes.append(f"the batch ran at git commit {manifest.get('git_commit')}, this is "
                            f"{git_commit()}")  # fmt: skip
    if manifest.get("versions", {}).get("policysim") not in (None, __version__):
        report.notes.append("the batch ran another policysim version")
    base, overrides = run_scenario_of(manifest, run)
    try:
        scenario = with_overrides(base, overrides) if overrides else base
    except ScenarioError as exc:
        raise ResultsError(f"the run's design point no longer validates: {exc}") from None
    h = scenario_hash(scenario)
    if h != run.get("scenario_hash"):
        report.differences.append(f"scenario hash {h[:12]}... differs from the recorded "
                                  f"{str(run.get('scenario_hash'))[:12]}...")  # fmt: skip
        return report
    rows: dict[str, int] = record.get("rows") or {}
    spec = RunSpec(
        index=int(record["index"]), run_id=run_id, scenario=report.scenario, base=base,
        overrides=tuple(overrides), scenario_hash=h, replicate=int(run["replicate"]),
        seed=report.seed, point_id=run.get("point_id"),
        params=tuple((p, run[p]) for p in _param_columns(manifest)),
        detail=any(rows.get(name) for name in DETAIL),
    )  # fmt: skip
    outcome = execute_run(spec)
    fresh_run = outcome.record["run"]
    if (fresh_run["status"], fresh_run["error"]) != (run.get("status"), run.get("error")):
        report.differences.append(
            f"status {fresh_run['status']!r} ({fresh_run['error']}), recorded "
            f"{run.get('status')!r} ({run.get('error')})"
        )
        return report
    for name, table in outcome.tables.items():
        _compare_rows(path, source.file_of(name), run_id, table, report)
    _compare_summary(record.get("summary"), outcome.record.get("summary"), report)
    return report


def _compare_rows(folder: Path, rel: str | None, run_id: str, fresh: pa.Table,
                  report: RerunReport) -> None:  # fmt: skip
    """Compare a run's fresh rows of a dataset with its stored rows, bit for bit."""
    if not fresh.num_rows:
        return
    if rel is None or not (folder / rel).is_file():
        report.differences.append(f"{rel or 'a dataset'}: not stored")
        return
    try:
        table = pq.read_table(folder / rel, filters=[("run_id", "=", run_id)])
    except (OSError, ValueError, pa.ArrowException) as exc:
        report.differences.append(f"{rel}: the stored file cannot be read ({exc})")
        return
    stored, new = table.to_pandas(), fresh.to_pandas()
    report.compared.append(f"{rel}: run {run_id} ({len(new)} rows x {new.shape[1]} columns)")
    difference = first_difference(stored, new)
    if difference:
        report.differences.append(f"{rel}: {difference}")


def _compare_summary(stored: Any, fresh: Any, report: RerunReport) -> None:
    """Compare the run's outcomes exactly (as the record stores them, in JSON)."""
    if stored is None and fresh is None:
        return
    report.compared.append(f"summary ({len(fresh or {})} outcomes)")
    a = json.loads(json.dumps(stored, default=str))
    b = json.loads(json.dumps(fresh, default=str))
    if a != b:
        keys = sorted(set(a or {}) | set(b or {}))
        key = next((k for k in keys if (a or {}).get(k) != (b or {}).get(k)), "?")
        report.differences.append(f"summary: {key}: stored {(a or {}).get(key)!r}, rerun "
                                  f"{(b or {}).get(key)!r}")  # fmt: skip


def first_difference(stored: pd.DataFrame, fresh: pd.DataFrame) -> str | None:
    """Return where two frames first differ bit for bit (columns, types, values), or None.

    Floats are compared by their bits, so ``-0.0`` differs from ``0.0`` and NaNs must match.
    """
    if list(stored.columns) != list(fresh.columns):
        return f"columns differ: stored {list(stored.columns)}, rerun {list(fresh.columns)}"
    if len(stored) != len(fresh):
        return f"stored {len(stored)} rows, rerun {len(fresh)}"
    for column in stored.columns:
        a, b = stored[column].to_numpy(), fresh[column].to_numpy()
        if a.dtype != b.dtype:
            return f"{column}: stored type {a.dtype}, rerun {b.dtype}"
        if a.dtype.kind in "fiumM" and a.dtype.itemsize in (1, 2, 4, 8):
            bits = np.dtype(f"u{a.dtype.itemsize}")
            same = np.ascontiguousarray(a).view(bits) == np.ascontiguousarray(b).view(bits)
        else:
            same = np.array([x == y for x, y in zip(a, b, strict=True)], dtype=bool)
        if not same.all():
            row = int(np.flatnonzero(~same)[0])
            return f"{column}: row {row}: stored {_show(a[row])}, rerun {_show(b[row])}"
    return None


def _show(value: Any) -> str:
    """Return a value as plain Python shows it (``-0.0``, not ``np.float64(-0.0)``)."""
    if isinstance(value, np.datetime64):
        return str(value)
    return repr(value.item() if isinstance(value, np.generic) else value)


def _param_columns(manifest: dict[str, Any]) -> tuple[str, ...]:
    """Return the columns that carry a run's design point: swept parameters or lever variant."""
    if manifest.get("kind") == "levers":
        from sim.experiments.levers import VARIANT_COLUMNS

        return VARIANT_COLUMNS
    return tuple(manifest.get("design", {}).get("parameters", {}))
