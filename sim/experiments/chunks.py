"""What a worker does with its share of a batch: run a chunk of runs and encode their results.

A batch hands its runs to the workers in chunks (consecutive runs of the canonical order), so that
a worker returns once per chunk, not once per run, and the folder gets one Parquet file per chunk
and dataset instead of one per run. :func:`execute_chunk` runs every run of a chunk through
:func:`execute_run` and joins their tables; :func:`run_tables` is what ``sim rerun`` compares with
the stored rows.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.model.runner import RunResult, run_scenario
from sim.results.folder import DATE_TYPE
from sim.scenario.loader import with_overrides

if TYPE_CHECKING:
    from sim.experiments.plan import RunSpec
    from sim.scenario.schema import Scenario

log = logging.getLogger(__name__)

DETAIL = ("stakeholders", "network")
"""The datasets kept only for the runs marked ``detail`` (replicate 0)."""


@dataclass(frozen=True)
class RunOutcome:
    """One run's record and its tables.

    Attributes:
        ok: Whether the run succeeded.
        record: ``{"index", "run": the runs.parquet row, "summary": outcomes or None, "rows":
            rows per dataset}``.
        tables: Dataset name (``timeseries``, ``stakeholders``, ``network``) to its rows.
    """

    ok: bool
    record: dict[str, Any]
    tables: dict[str, pa.Table] = field(default_factory=dict)


@dataclass(frozen=True)
class ChunkOutcome:
    """What a worker sends back for a chunk: each run's record and each dataset as Parquet bytes.

    Attributes:
        records: One record per run that ran, in the chunk's order.
        parts: Dataset name to the Parquet bytes of every run's rows, in the chunk's order.
    """

    records: list[dict[str, Any]]
    parts: dict[str, bytes]

    @property
    def failed(self) -> int:
        """How many of the chunk's runs failed."""
        return sum(r["run"]["status"] != "ok" for r in self.records)


def run_record(spec: RunSpec, error: str | None, wall_s: float, summary: Any = None
               ) -> dict[str, Any]:  # fmt: skip
    """Return a run's record: its place, its runs.parquet row and its outcomes."""
    run = {
        **spec.ids(),
        "scenario_hash": spec.scenario_hash,
        **dict(spec.params),
        "status": "failed" if error else "ok",
        "error": error,
        "wall_s": round(wall_s, 6),
    }
    return {"index": spec.index, "run": run, "summary": summary, "rows": {}}


def arrow_table(frame: pd.DataFrame | Mapping[str, Any], ids: dict[str, Any]) -> pa.Table:
    """Return a run's table as Arrow, its identifying columns first.

    Columns go to Arrow one by one (numbers and dates straight from their NumPy arrays). Dates
    are stored as :data:`~sim.results.folder.DATE_TYPE` whatever pandas' own resolution. The
    table may be given as its columns (name to array or index), which skips pandas' cost of
    reading each column of a DataFrame.
    """
    names = list(frame.keys())
    first = frame if isinstance(frame, pd.DataFrame) or not names else frame[names[0]]
    n = len(first)
    columns = [pa.repeat(pa.scalar(v, type=_id_type(v)), n) for v in ids.values()]
    for name in names:
        col = frame[name]
        if col.dtype.kind == "M":
            columns.append(pa.array(np.asarray(col)).cast(DATE_TYPE))
        else:
            columns.append(pa.array(np.asarray(col) if col.dtype.kind in "biuf" else col))
    return pa.Table.from_arrays(columns, names=[*ids, *map(str, names)])


def _id_type(value: Any) -> pa.DataType:
    """Return the Arrow type of an identifying column or a swept parameter's value."""
    if isinstance(value, bool | np.bool_):
        return pa.bool_()
    if isinstance(value, int | np.integer):
        return pa.int64()
    if isinstance(value, float | np.floating):
        return pa.float64()
    return pa.string()


def run_tables(spec: RunSpec, result: RunResult) -> dict[str, pa.Table]:
    """Return the dataset tables one run contributes (the detail tables only for ``detail``)."""
    ids = spec.ids()
    tables = {"timeseries": arrow_table(result.columns, {**ids, **dict(spec.params)})}
    if spec.detail:
        tables["stakeholders"] = arrow_table(result.stakeholders, ids)
        tables["network"] = arrow_table(result.network, ids)
    return tables


#: The scenarios with overrides built last: (base's id, overrides) -> (base, scenario).
_with: dict[tuple[int, tuple[str, ...]], tuple[Scenario, Scenario]] = {}
#: The most kept (the oldest is dropped first); a chunk's runs come a design point at a time.
MAX_KEPT = 8
_lock = threading.Lock()


def scenario_of(spec: RunSpec) -> Scenario:
    """Return the scenario a run runs: its base with its overrides, one object per process.

    The replicates of a sweep's design point or of a lever's variant share one overridden
    scenario: validated once, not once a run, and the same object, so that its later runs take
    the start the first one solved (:mod:`sim.model.start_cache` keeps it per scenario object).
    The scenario is a pure function of the base and the overrides, so the runs are the same.
    """
    if not spec.overrides:
        return spec.base
    key = (id(spec.base), spec.overrides)
    kept = _with.get(key)
    if kept is None or kept[0] is not spec.base:
        kept = (spec.base, with_overrides(spec.base, spec.overrides))
        with _lock:
            if len(_with) >= MAX_KEPT:
                _with.pop(next(iter(_with)), None)
            _with[key] = kept
    return kept[1]


def execute_run(spec: RunSpec) -> RunOutcome:
    """Run one planned run and build its tables; an exception becomes a failed outcome.

    Args:
        spec: The run.

    Returns:
        The outcome.
    """
    started = time.perf_counter()
    try:
        result = run_scenario(scenario_of(spec), spec.seed, detail=spec.detail)
    except Exception as exc:  # a failing run is recorded and the batch goes on
        log.debug("run %s failed", spec.run_id, exc_info=True)
        error = f"{type(exc).__name__}: {exc}"
        return RunOutcome(False, run_record(spec, error, time.perf_counter() - started))
    tables = run_tables(spec, result)
    record = run_record(spec, None, time.perf_counter() - started, result.summary)
    record["rows"] = {name: t.num_rows for name, t in tables.items()}
    return RunOutcome(True, record, tables)


def execute_chunk(specs: Sequence[RunSpec], fail_fast: bool = False) -> ChunkOutcome:
    """Run a chunk of planned runs and encode each dataset of the chunk as one Parquet file.

    Args:
        specs: The runs, in canonical order.
        fail_fast: Stop at the first failed run (the runs after it are not run, nor recorded).

    Returns:
        The outcome (small and picklable: it travels back from worker processes).
    """
    records: list[dict[str, Any]] = []
    tables: dict[str, list[pa.Table]] = {}
    for spec in specs:
        outcome = execute_run(spec)
        records.append(outcome.record)
        for name, table in outcome.tables.items():
            if table.num_rows:
                tables.setdefault(name, []).append(table)
        if fail_fast and not outcome.ok:
            break
    return ChunkOutcome(records, {name: encode(parts) for name, parts in tables.items()})


def encode(tables: list[pa.Table]) -> bytes:
    """Return tables of the same columns, one after the other, as the bytes of one Parquet file.

    The file holds a chunk's rows until the batch ends and compacts them into one file per
    dataset (written with statistics, and every column but the floats dictionary-encoded:
    :func:`sim.results.store.dictionary_columns`). A chunk's file is always read whole, so it
    has no column statistics and no dictionary encoding, which cost about a third of writing a
    chunk's small tables. Read back, its rows and schema are the same.
    """
    table = pa.concat_tables(tables, promote_options="default") if len(tables) > 1 else tables[0]
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, use_dictionary=False, write_statistics=False)
    return bytes(sink.getvalue().to_pybytes())
