"""What a worker does with its share of a batch: run a chunk of runs and encode their results.

A batch hands its runs to the workers in chunks (consecutive runs of the canonical order), so that
a worker returns once per chunk, not once per run, and the folder gets one Parquet file per chunk
and dataset instead of one per run. :func:`execute_chunk` runs every run of a chunk and joins their
rows (:func:`joined_table`); :func:`execute_run` runs one and builds its tables
(:func:`run_tables`), which is what ``sim rerun`` compares with the stored rows.
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
    n = _length(frame)
    columns = [pa.repeat(pa.scalar(v, type=_id_type(v)), n) for v in ids.values()]
    for name in names:
        col = frame[name]
        if col.dtype.kind == "M":
            columns.append(pa.array(np.asarray(col)).cast(DATE_TYPE))
        else:
            columns.append(pa.array(np.asarray(col) if col.dtype.kind in "biuf" else col))
    return pa.Table.from_arrays(columns, names=[*ids, *map(str, names)])


def _length(frame: pd.DataFrame | Mapping[str, Any]) -> int:
    """Return the rows of a run's table given as a frame or as its columns."""
    names = list(frame.keys())
    if isinstance(frame, pd.DataFrame) or not names:
        return len(frame)
    return len(frame[names[0]])


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
    return {"timeseries": arrow_table(result.columns, _timeseries_ids(spec)),
            **_detail_tables(spec, result)}  # fmt: skip


def _timeseries_ids(spec: RunSpec) -> dict[str, Any]:
    """Return the identifying columns of a run's ``timeseries`` rows (with swept parameters)."""
    return {**spec.ids(), **dict(spec.params)}


def _detail_tables(spec: RunSpec, result: RunResult) -> dict[str, pa.Table]:
    """Return a run's :data:`DETAIL` tables (none unless the run keeps them)."""
    if not spec.detail:
        return {}
    return {name: arrow_table(getattr(result, name), spec.ids()) for name in DETAIL}


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


def _attempt(spec: RunSpec) -> tuple[RunResult | None, dict[str, Any]]:
    """Run one planned run; return its result (None when it raised) and its record.

    The record's ``rows`` are left empty, for the caller to fill in, and its ``wall_s`` is the
    run's own time.
    """
    started = time.perf_counter()
    try:
        result = run_scenario(scenario_of(spec), spec.seed, detail=spec.detail)
    except Exception as exc:  # a failing run is recorded and the batch goes on
        log.debug("run %s failed", spec.run_id, exc_info=True)
        error = f"{type(exc).__name__}: {exc}"
        return None, run_record(spec, error, time.perf_counter() - started)
    return result, run_record(spec, None, time.perf_counter() - started, result.summary)


def execute_run(spec: RunSpec) -> RunOutcome:
    """Run one planned run and build its tables; an exception becomes a failed outcome.

    Args:
        spec: The run.

    Returns:
        The outcome.
    """
    result, record = _attempt(spec)
    if result is None:
        return RunOutcome(False, record)
    tables = run_tables(spec, result)
    record["rows"] = {name: t.num_rows for name, t in tables.items()}
    return RunOutcome(True, record, tables)


def execute_chunk(specs: Sequence[RunSpec], fail_fast: bool = False) -> ChunkOutcome:
    """Run a chunk of planned runs and encode each dataset of the chunk as one Parquet file.

    The chunk's ``timeseries`` rows are joined a column at a time (:func:`joined_table`), the
    same table as the runs' own tables (:func:`run_tables`) one after the other.

    Args:
        specs: The runs, in canonical order.
        fail_fast: Stop at the first failed run (the runs after it are not run, nor recorded).

    Returns:
        The outcome (small and picklable: it travels back from worker processes).
    """
    records: list[dict[str, Any]] = []
    tables: dict[str, list[pa.Table]] = {}
    frames: list[Mapping[str, Any]] = []
    ids: list[dict[str, Any]] = []
    for spec in specs:
        result, record = _attempt(spec)
        records.append(record)
        if result is None:
            if fail_fast:
                break
            continue
        rows = record["rows"]
        if (n := _length(result.columns)) > 0:
            frames.append(result.columns)
            ids.append(_timeseries_ids(spec))
        rows["timeseries"] = n
        for name, table in _detail_tables(spec, result).items():
            rows[name] = table.num_rows
            if table.num_rows:
                tables.setdefault(name, []).append(table)
    parts = {name: encode(parts) for name, parts in tables.items()}
    if frames:
        parts = {"timeseries": encode([joined_table(frames, ids)]), **parts}
    return ChunkOutcome(records, parts)


def joined_table(frames: Sequence[pd.DataFrame | Mapping[str, Any]],
                 ids: Sequence[dict[str, Any]]) -> pa.Table:  # fmt: skip
    """Return several runs' rows as one table, built a column at a time.

    The same table (its schema and every value) as the runs' :func:`arrow_table` one after the
    other, which costs tens of conversions a run (about 0.35 ms of a 10 ms run). Runs whose
    columns differ in names or types, or hold other than numbers, booleans and dates, are
    joined through :func:`arrow_table` run by run.

    Args:
        frames: Each run's table (a DataFrame, or its columns by name), in order.
        ids: Each run's identifying columns (the same names for every run).
    """
    names = list(frames[0].keys())
    columns = [[np.asarray(frame[name]) for frame in frames] for name in names]
    keys = list(ids[0])
    uniform = (
        all(list(frame.keys()) == names for frame in frames)
        and all(list(i) == keys for i in ids)
        and all(len({a.dtype for a in arrays}) == 1 and arrays[0].dtype.kind in "biufM"
                for arrays in columns)
    )  # fmt: skip
    id_types = [{_id_type(i[key]) for i in ids} for key in keys]
    if not uniform or any(len(types) > 1 for types in id_types):
        return pa.concat_tables([arrow_table(f, i) for f, i in zip(frames, ids, strict=True)],
                                promote_options="default")  # fmt: skip
    runs = pa.array(np.repeat(np.arange(len(frames)), [_length(frame) for frame in frames]))
    out = [pa.array([i[key] for i in ids], type=types.pop()).take(runs)
           for key, types in zip(keys, id_types, strict=True)]  # fmt: skip
    for arrays in columns:
        joined = np.concatenate(arrays)
        array = pa.array(joined)
        out.append(array.cast(DATE_TYPE) if joined.dtype.kind == "M" else array)
    return pa.Table.from_arrays(out, names=[*keys, *map(str, names)])


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
