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
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec

import pandas as pd

from sim.errors import ResultsError
from sim.experiments.chunking import Chunks
from sim.experiments.chunks import ChunkOutcome, execute_chunk, run_record
from sim.experiments.executors import (
    ExecutorError,
    RunExecutor,
    WorkersLostError,
    executor_kind,
    make_executor,
)
from sim.results.compact import CompactionStream, compact, forget, remove_unrecorded
from sim.results.folder import (
    BatchFolder,
    default_folder,
    find_resumable,
    open_folder,
    runs_schema,
)
from sim.results.layout import DESIGN
from sim.results.load import Results, load_results
from sim.results.store import provenance, write_parquet

if TYPE_CHECKING:
    from sim.experiments.plan import Plan, RunSpec

log = logging.getLogger(__name__)

Progress = Callable[[int, int, int], None]
"""Called with (runs done, runs failed, total runs) at the start and as each chunk of runs lands."""

RESULTS_ROOT = Path("results")
_P = ParamSpec("_P")


def _manifest(
    plan: Plan,
    ex: dict[str, Any],
    started: str,
    status: str,
    counts: dict[str, int],
    prov: dict[str, Any],
    prior: dict[str, Any] | None,
) -> dict[str, Any]:
    """Assemble the manifest.

    Its fixed parts are the same objects every time, which the manifest's writer encodes once
    (see :meth:`~sim.results.folder.BatchFolder.write_manifest`).
    """
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
        "scenario_hashes": plan.scenario_hashes,
        "design": plan.design,
        "executor": ex,
        "metrics": _metrics(),
        **prov,
        "resolved_scenarios": plan.resolved_scenarios,
    }
    if prior is not None:
        out["first_created"] = prior.get("first_created", prior.get("created"))
    return out


@functools.cache
def _metrics() -> list[dict[str, str]]:
    """Return what the manifest records of each metric."""
    from sim.model.metrics import METRICS

    return [{"name": m.name, "unit": m.unit, "description": m.description, "kind": m.kind}
            for m in METRICS]  # fmt: skip


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
        progress: Called with (done, failed, total) at the start and as each chunk of runs lands
            (:mod:`sim.experiments.chunking`: about half a second of runs a chunk).

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
    if resumed:
        remove_unrecorded(path)
    finished = folder.finished() if resumed else {}
    todo = [s for s in plan.specs if finished.get((s.index, s.run_id)) != "ok"]
    forget(path, {s.index for s in todo if (s.index, s.run_id) in finished})
    kind = executor_kind(executor, workers, scheduler)
    with contextlib.ExitStack() as stack:
        ex = None
        if todo:
            try:
                ex = stack.enter_context(_EnteredLater(make_executor(kind, workers, scheduler)))
            except ExecutorError:
                if not resumed:  # nothing ran: leave nothing behind
                    folder.clear()
                    if created:
                        shutil.rmtree(path, ignore_errors=True)
                raise
        _execute(plan, folder, ex, todo, kind, workers, scheduler, resumed, fail_fast, progress)
    return load_results(path)


class _EnteredLater:
    """An executor that :func:`_execute` enters once the batch's manifest is written.

    Entering a local pool forks its workers (:class:`sim.experiments.executors.ProcessExecutor`):
    entered after the manifest, they start on their first runs at once, instead of waiting while
    this process writes it (and this process writes it before its memory is shared with them).
    Leaving gives the executor back as leaving it would; one never entered is shut down.
    """

    def __init__(self, ex: RunExecutor) -> None:
        self.ex = ex
        self.entered = False

    def __enter__(self) -> _EnteredLater:
        return self

    def enter(self) -> None:
        """Enter the executor (once)."""
        if not self.entered:
            self.ex.__enter__()
            self.entered = True

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if self.entered:
            self.ex.__exit__(exc_type, exc, tb)
        else:
            self.ex.shutdown(cancel=True)


def _execute(
    plan: Plan,
    folder: BatchFolder,
    later: _EnteredLater | None,
    todo: list[RunSpec],
    kind: str,
    workers: int | None,
    scheduler: str | None,
    resumed: bool,
    fail_fast: bool,
    progress: Progress | None,
) -> None:
    """Run ``todo`` into the folder, recording the manifest before, during and after.

    The executor is entered once the manifest is written, before the first progress call (a
    progress bar's thread starts then, and a local pool forks its workers where no other thread
    runs).
    """
    path = folder.path
    ex = later.ex if later is not None else None
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
    stream = None
    try:
        if later is not None:
            later.enter()
        if progress:
            progress(done, failed, total)
        if ex is not None:
            if not resumed:  # compacted as the chunks land (a resumed batch, from its files)
                stream = CompactionStream(path, todo[0].index)
            _drain(plan, folder, ex, todo, schema, done, fail_fast, progress,
                   lambda c: _manifest(plan, ex_info, started, "running", c, prov, prior), stream)
            ex.release()  # the workers stop while the results are written
        counts = folder.consolidate(schema)
        if counts["done"] == total:
            compact(path, stream)
        status = "complete" if counts["done"] == total and not counts["failed"] else "failed"
    finally:
        if stream is not None:
            stream.discard()  # unless compact used its files
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
    stream: CompactionStream | None = None,
) -> None:
    """Execute the runs still to do, writing each as it lands (and to ``stream``, if given).

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

    source = Chunks(todo, ex.n_workers)  # each chunk cut when handed out, to the runs' time
    task = functools.partial(execute_chunk, fail_fast=fail_fast)
    chunks = ex.imap_unordered(task, source, on_idle=flush_if_behind)
    while True:
        try:
            chunk, future = next(chunks)
        except StopIteration:
            return
        except WorkersLostError as exc:
            raise lost(str(exc)) from None
        try:
            outcome = future.result()
        except cf.BrokenExecutor as exc:
            raise lost(f"the worker processes stopped ({exc})") from None
        except Exception as exc:  # the worker itself was lost (e.g. a killed Dask worker)
            error = f"{type(exc).__name__}: {exc}"
            outcome = ChunkOutcome([run_record(spec, error, 0.0) for spec in chunk], {})
        source.landed(outcome.records)
        stem = folder.stem(chunk[0].index, chunk[0].run_id)
        entries = folder.write_chunk(stem, outcome.records, outcome.parts)
        if stream is not None:
            stream.add(stem, chunk[0].index, chunk[-1].index + 1, entries, outcome.parts)
        done += len(outcome.records)
        failed += outcome.failed
        unflushed += 1
        if progress:
            progress(done, failed, len(plan.specs))
        if fail_fast and outcome.failed:
            chunks.close()  # cancels the chunks in flight
            return
        if time.monotonic() - last_flush >= flush_every:
            flush()
