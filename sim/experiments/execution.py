"""Executing a plan: each run on a worker, each result streamed to the folder as it lands.

:func:`run_plan` opens (or resumes) the folder, skips runs already recorded, hands the rest to an
executor a window at a time, writes every outcome at once (:class:`sim.results.folder.BatchFolder`),
rebuilds ``runs.parquet``, ``summary.parquet`` and the manifest every few seconds, and records
the final status: ``complete``, ``failed`` (some runs raised) or ``interrupted``.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import functools
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.errors import ResultsError
from sim.experiments.executors import (
    ExecutorError,
    RunExecutor,
    WorkersLostError,
    executor_kind,
    make_executor,
)
from sim.model.runner import run_scenario
from sim.results.folder import (
    DATE_TYPE,
    BatchFolder,
    default_folder,
    find_resumable,
    open_folder,
    runs_schema,
)
from sim.results.layout import DESIGN
from sim.results.load import Results, load_results
from sim.results.store import provenance, write_parquet
from sim.scenario.loader import scenario_dict, scenario_hash, with_overrides

if TYPE_CHECKING:
    from sim.experiments.plan import Plan, RunSpec

log = logging.getLogger(__name__)

Progress = Callable[[int, int, int], None]
"""Called with (runs done, runs failed, total runs) at the start and after every run."""

RESULTS_ROOT = Path("results")
_P = ParamSpec("_P")


@dataclass(frozen=True)
class RunOutcome:
    """What a worker sends back: the run's record and its dataset parts, ready to write.

    Attributes:
        ok: Whether the run succeeded.
        record: ``{"run": the runs.parquet row, "summary": outcomes or None}``.
        parts: Dataset name (``timeseries``, ``stakeholders``, ``network``) to Parquet bytes.
    """

    ok: bool
    record: dict[str, Any]
    parts: dict[str, bytes] = field(default_factory=dict)


def _record(spec: RunSpec, error: str | None, wall_s: float, summary: Any = None) -> dict[str, Any]:
    """Return a run's record: its runs.parquet row and its outcomes."""
    run = {
        **spec.ids(),
        "scenario_hash": spec.scenario_hash,
        **dict(spec.params),
        "status": "failed" if error else "ok",
        "error": error,
        "wall_s": round(wall_s, 6),
    }
    return {"run": run, "summary": summary}


def _parquet(frame: pd.DataFrame, ids: dict[str, Any]) -> bytes:
    """Encode a run's table, its identifying columns first, as Parquet bytes.

    Columns go to Arrow one by one (numbers and dates straight from their NumPy arrays), which
    costs about half of ``DataFrame.to_parquet`` for these small tables. Dates are stored as
    :data:`~sim.results.folder.DATE_TYPE` whatever pandas' own resolution.
    """
    n = len(frame)
    columns = [pa.array([v] * n, type=_id_type(v)) for v in ids.values()]
    for name in frame.columns:
        col = frame[name]
        if col.dtype.kind == "M":
            columns.append(pa.array(col.to_numpy()).cast(DATE_TYPE))
        else:
            columns.append(pa.array(col.to_numpy() if col.dtype.kind in "biuf" else col))
    table = pa.Table.from_arrays(columns, names=[*ids, *map(str, frame.columns)])
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return bytes(sink.getvalue().to_pybytes())


def _id_type(value: Any) -> pa.DataType:
    """Return the Arrow type of an identifying column or a swept parameter's value."""
    if isinstance(value, bool | np.bool_):
        return pa.bool_()
    if isinstance(value, int | np.integer):
        return pa.int64()
    if isinstance(value, float | np.floating):
        return pa.float64()
    return pa.string()


def execute_run(spec: RunSpec) -> RunOutcome:
    """Run one planned run and encode its results; an exception becomes a failed outcome.

    Args:
        spec: The run.

    Returns:
        The outcome (small and picklable: it travels back from worker processes).
    """
    started = time.perf_counter()
    try:
        scenario = with_overrides(spec.base, spec.overrides) if spec.overrides else spec.base
        result = run_scenario(scenario, spec.seed)
    except Exception as exc:  # a failing run is recorded and the batch goes on
        log.debug("run %s failed", spec.run_id, exc_info=True)
        error = f"{type(exc).__name__}: {exc}"
        return RunOutcome(False, _record(spec, error, time.perf_counter() - started))
    ids = spec.ids()
    parts = {"timeseries": _parquet(result.timeseries, {**ids, **dict(spec.params)})}
    if spec.detail:
        parts["stakeholders"] = _parquet(result.stakeholders, ids)
        parts["network"] = _parquet(result.network, ids)
    wall_s = time.perf_counter() - started
    return RunOutcome(True, _record(spec, None, wall_s, result.summary), parts)


def _manifest(
    plan: Plan,
    ex: dict[str, Any],
    started: str,
    status: str,
    counts: dict[str, int],
    prov: dict[str, Any],
    prior: dict[str, Any] | None,
) -> dict[str, Any]:
    """Assemble the manifest."""
    from sim.model.metrics import METRICS

    finished = datetime.now(UTC).isoformat(timespec="seconds") if status != "running" else None
    out = {
        "kind": plan.kind,
        "name": plan.name,
        "status": status,
        "started": started,
        "finished": finished,
        "spec_hash": plan.spec_hash,
        "counts": {"total": len(plan.specs), **counts},
        "master_seed": plan.master_seed,
        "replicates": len(plan.seeds),
        "replicate_seeds": plan.seeds,
        "scenarios": list(plan.scenarios),
        "scenario_descriptions": {n: s.description for n, s in plan.scenarios.items()},
        "scenario_hashes": {n: scenario_hash(s) for n, s in plan.scenarios.items()},
        "design": plan.design,
        "executor": ex,
        "metrics": [
            {"name": m.name, "unit": m.unit, "description": m.description, "kind": m.kind}
            for m in METRICS
        ],
        **prov,
        "resolved_scenarios": {n: scenario_dict(s) for n, s in plan.scenarios.items()},
    }
    if prior is not None:
        out["first_created"] = prior.get("first_created", prior.get("created"))
    return out


def _stop_on_write_errors(func: Callable[_P, Results]) -> Callable[_P, Results]:
    """Turn a failed write (a full disk, a failing device) into a one-line ResultsError.

    Every file is written atomically and a run counts as done only once its record is written,
    so the runs recorded before the failure are intact and a new attempt resumes after them.
    """

    @functools.wraps(func)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> Results:
        try:
            return func(*args, **kwargs)
        except OSError as exc:
            where = f" ({exc.filename})" if exc.filename else ""
            raise ResultsError(
                f"stopped: {exc.strerror or exc}{where}; the runs recorded so far are kept: "
                "free space (or fix the cause) and run the same command to resume"
            ) from None

    return wrapper


@_stop_on_write_errors
def run_plan(
    plan: Plan,
    *,
    out: str | Path | None = None,
    executor: str | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = True,
    force: bool = False,
    fail_fast: bool = False,
    progress: Progress | None = None,
) -> Results:
    """Run a plan into a folder, skipping runs a previous attempt finished.

    Args:
        plan: From :func:`plan_batch` or :func:`plan_sweep`.
        out: Output folder; default ``results/<name>-<timestamp>``, or the newest unfinished
            folder of the same plan there (when ``resume``).
        executor: ``serial``, ``processes`` (default; ``serial`` when ``workers`` is 1) or
            ``dask``.
        workers: Worker processes (default: the number of CPU cores).
        scheduler: Address of a running Dask scheduler (``tcp://host:8786``).
        resume: Finish the same plan when the folder holds it.
        force: Replace a different batch in ``out``.
        fail_fast: Stop at the first failed run.
        progress: Called with (done, failed, total) at the start and after each run.

    Returns:
        The folder's results. Check ``results.manifest["counts"]["failed"]``.

    Raises:
        ResultsError: When ``out`` holds something else and ``force`` is not given, or a write
            fails (a full disk): the runs recorded so far are kept, run again to resume.
        ExecutorError: When the executor cannot start (``WorkersLostError`` when its workers
            stop mid-way).
        KeyboardInterrupt: After recording the runs done so far (run again to resume).
    """
    executor_kind(executor, workers, scheduler)  # bad options fail before the folder is made
    spec_hash = plan.spec_hash
    path = Path(out) if out is not None else None
    if path is None and resume:
        path = find_resumable(RESULTS_ROOT, plan.name, spec_hash)
    path = path or default_folder(RESULTS_ROOT, plan.name)
    created = not path.exists()
    resumed = open_folder(path, spec_hash=spec_hash, kind=plan.kind, resume=resume, force=force)
    folder = BatchFolder(path, plan.width)
    folder.clean_temporary()
    finished = folder.finished() if resumed else {}
    todo = [s for s in plan.specs if finished.get(folder.stem(s.index, s.run_id)) != "ok"]
    kind = executor_kind(executor, workers, scheduler)
    with contextlib.ExitStack() as stack:
        ex = None
        if todo:
            try:
                ex = stack.enter_context(make_executor(kind, workers, scheduler))
            except ExecutorError:
                if not resumed:  # nothing ran: leave nothing behind
                    folder.clear()
                    if created:
                        shutil.rmtree(path, ignore_errors=True)
                raise
        _execute(plan, folder, ex, todo, kind, workers, scheduler, resumed, fail_fast, progress)
    return load_results(path)


def _execute(
    plan: Plan,
    folder: BatchFolder,
    ex: RunExecutor | None,
    todo: list[RunSpec],
    kind: str,
    workers: int | None,
    scheduler: str | None,
    resumed: bool,
    fail_fast: bool,
    progress: Progress | None,
) -> None:
    """Run ``todo`` on ``ex`` into the folder, recording the manifest before, during and after."""
    path = folder.path
    prior = folder.read_manifest() if resumed else None
    prov = provenance()
    if prior and prior.get("git_commit") != prov["git_commit"]:
        log.warning("%s was started at another git commit; results may mix model code", path)
    started = prior["started"] if prior else datetime.now(UTC).isoformat(timespec="seconds")
    schema = runs_schema(plan.param_types, sweep=plan.points is not None)
    if plan.points is not None and not (path / DESIGN).exists():
        design = pd.DataFrame(plan.points)
        design.insert(0, "point_id", range(len(design)))
        write_parquet(path / DESIGN, design)
    total, done, failed = len(plan.specs), len(plan.specs) - len(todo), 0
    # The counts follow the records on disk (a killed batch may have recorded more than its
    # manifest says): a resumed batch rebuilds its tables and counts from them first.
    counts = folder.consolidate(schema) if resumed else {"done": 0, "failed": 0}
    status = "interrupted"
    ex_info: dict[str, Any] = ex.describe() if ex is not None else {
        "kind": kind, "workers": workers, "scheduler": scheduler}
    folder.write_manifest(_manifest(plan, ex_info, started, "running", counts, prov, prior))
    if progress:
        progress(done, failed, total)
    try:
        if ex is not None:
            _drain(plan, folder, ex, todo, schema, done, fail_fast, progress,
                   lambda c: _manifest(plan, ex_info, started, "running", c, prov, prior))
        counts = folder.consolidate(schema)
        status = "complete" if counts["done"] == total and not counts["failed"] else "failed"
    finally:
        try:
            if status == "interrupted":
                counts = folder.consolidate(schema)
            folder.write_manifest(_manifest(plan, ex_info, started, status, counts, prov, prior))
        except OSError:
            if status != "interrupted":
                raise
            # Already stopping (e.g. the disk is full): the records are the truth, and the next
            # attempt rebuilds the tables and the manifest from them.
            log.warning("could not record the state of %s", path, exc_info=True)


def _drain(
    plan: Plan,
    folder: BatchFolder,
    ex: RunExecutor,
    todo: list[RunSpec],
    schema: Any,
    done: int,
    fail_fast: bool,
    progress: Progress | None,
    manifest: Callable[[dict[str, int]], dict[str, Any]],
) -> None:
    """Execute the runs still to do, writing each as it lands.

    The manifest is rewritten every few seconds while runs land, and while none lands (a long
    run, a cluster without workers) once the runs that landed since the last write are recorded.

    Raises:
        WorkersLostError: When the workers stop (a broken process pool, a Dask cluster left
            without workers): the message says how many runs are recorded and how to resume.
    """
    failed = 0
    last_flush, flush_every = time.monotonic(), 5.0
    unflushed = 0

    def flush() -> None:
        nonlocal last_flush, flush_every, unflushed
        tic = time.monotonic()
        folder.write_manifest(manifest(folder.consolidate(schema)))
        last_flush = time.monotonic()
        flush_every = max(5.0, 20 * (last_flush - tic))
        unflushed = 0

    def flush_if_behind() -> None:
        if unflushed:
            flush()

    def lost(reason: str) -> WorkersLostError:
        return WorkersLostError(
            f"{reason}; {done} of {len(plan.specs)} runs are recorded in {folder.path}: run the "
            "same command to resume" + (" once the cluster has workers" if ex.kind == "dask"
                                        else "")
        )  # fmt: skip

    runs = ex.imap_unordered(execute_run, todo, on_idle=flush_if_behind)
    while True:
        try:
            spec, future = next(runs)
        except StopIteration:
            return
        except WorkersLostError as exc:
            raise lost(str(exc)) from None
        try:
            outcome = future.result()
        except cf.BrokenExecutor as exc:
            raise lost(f"the worker processes stopped ({exc})") from None
        except Exception as exc:  # the worker itself was lost (e.g. a killed Dask worker)
            outcome = RunOutcome(False, _record(spec, f"{type(exc).__name__}: {exc}", 0.0))
        folder.write_run(folder.stem(spec.index, spec.run_id), outcome.record, outcome.parts)
        done += 1
        failed += not outcome.ok
        unflushed += 1
        if progress:
            progress(done, failed, len(plan.specs))
        if fail_fast and not outcome.ok:
            runs.close()  # cancels the runs in flight
            return
        if time.monotonic() - last_flush >= flush_every:
            flush()
