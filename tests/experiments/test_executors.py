"""Executors: the same batch gives bitwise-identical results in series, on processes and on Dask."""

from __future__ import annotations

import gc
import hashlib
import json
import re
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest

from sim import run_batch
from sim.errors import ResultsError
from sim.experiments.executors import (
    ExecutorError,
    ProcessExecutor,
    SerialExecutor,
    executor_kind,
    make_executor,
)

SCENARIOS = ["crackdown", "export_controls"]


def _square(x: int) -> int:
    return x * x


def _digests(folder: Path) -> dict[str, str]:
    """Hash every dataset part and record, by relative path."""
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.parent != folder:
            text = path.read_bytes()
            if path.suffix in (".json", ".jsonl"):  # records hold the run's wall time; drop it
                text = re.sub(rb'"wall_s": [0-9.e-]+', b"", text)
            out[str(path.relative_to(folder))] = hashlib.sha256(text).hexdigest()
    return out


def _tables(folder: Path) -> dict[str, pd.DataFrame]:
    from sim import load_results

    res = load_results(folder)
    return {
        "runs": res.runs.drop(columns="wall_s"),
        "summary": res.summary,
        "timeseries": res.timeseries,
        "stakeholders": res.stakeholders,
        "network": res.network,
    }


def test_serial_processes_and_dask_are_bitwise_identical(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    common = {"replicates": 2, "seed": 3, "months": 12}
    folders = {
        "serial": run_batch(SCENARIOS, executor="serial", out=tmp_path / "s", **common).folder,
        "processes": run_batch(
            SCENARIOS, executor="processes", workers=2, out=tmp_path / "p", **common
        ).folder,
        "dask": run_batch(
            SCENARIOS, executor="dask", workers=2, out=tmp_path / "d", **common
        ).folder,
    }
    reference = _tables(folders["serial"])
    assert len(reference["runs"]) == 4 and (reference["runs"]["status"] == "ok").all()
    for kind in ("processes", "dask"):
        for name, table in _tables(folders[kind]).items():
            pd.testing.assert_frame_equal(table, reference[name], check_exact=True, obj=name)
        assert _digests(folders[kind]) == _digests(folders["serial"]), kind
    kinds = [
        json.loads((f / "manifest.json").read_text())["executor"]["kind"] for f in folders.values()
    ]
    assert kinds == ["serial", "processes", "dask"]


def test_compacted_files_do_not_depend_on_chunking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sim.experiments.chunking as chunking
    import sim.results.compact as compact

    monkeypatch.setattr(compact, "ROW_GROUP", 10)  # many row groups from a few 6-month runs
    common = {"replicates": 3, "seed": 5, "months": 6, "executor": "serial"}
    timed, digests = chunking.Chunks.size, []
    for size in (None, 1, 4, 2):  # None: chunks cut to the runs' time
        monkeypatch.setattr(chunking.Chunks, "size",
                            timed if size is None else lambda self, size=size: size)  # fmt: skip
        out = tmp_path / f"c{size}"
        res = run_batch(SCENARIOS, out=out, **common)
        assert res.manifest["counts"]["done"] == 6
        digests.append(_digests(out))
    assert all(d == digests[0] for d in digests)
    assert any(name.startswith("timeseries/") for name in digests[0])


@pytest.mark.skipif(sys.platform != "linux", reason="workers fork only on Linux")
def test_workers_fork_from_a_lone_thread_and_use_the_fork_server_beside_others(
    tmp_path: Path,
) -> None:
    common = {"replicates": 2, "seed": 3, "months": 12, "workers": 2}
    reference = _tables(run_batch(SCENARIOS, executor="serial", out=tmp_path / "s",
                                  **{k: v for k, v in common.items() if k != "workers"}).folder)
    alone = subprocess.run(
        [sys.executable, "-c", "from sim.experiments.executors import ProcessExecutor as P\n"
         "with P(2) as ex: print(ex.start_method, ex.submit(abs, -7).result())"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert alone.stdout.split() == ["fork", "7"]
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        with ProcessExecutor(2) as ex:
            assert ex.start_method == "forkserver"
        threaded = run_batch(SCENARIOS, executor="processes", out=tmp_path / "t", **common)
    finally:
        stop.set()
    for name, table in _tables(threaded.folder).items():
        pd.testing.assert_frame_equal(table, reference[name], check_exact=True, obj=name)


@pytest.mark.skipif(sys.platform != "linux", reason="workers fork only on Linux")
def test_forked_workers_start_with_the_kernels_loaded(tmp_path: Path) -> None:
    # In a fresh process that has run no model, a forking pool loads the compiled kernels before
    # it forks: its workers hold them, the draws of probes and deals included, before any run.
    # The warm-up runs the shipped baseline, not a broken one of that name in ./scenarios.
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "baseline.yaml").write_text("name: [not a scenario\n")
    script = (
        "import sys\n"
        "from sim.experiments.executors import ProcessExecutor\n"
        "def loaded():\n"
        "    from sim.model import draw_kernels, sum_kernels\n"
        "    kernels = (draw_kernels.draw_one, draw_kernels.draw_rows, sum_kernels.metric_sums)\n"
        "    return [len(getattr(k, 'overloads', ())) for k in kernels]\n"
        "with ProcessExecutor(2) as ex:\n"
        "    print(ex.start_method, *ex.submit(loaded).result())\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=300, check=True, cwd=tmp_path)  # fmt: skip
    method, *counts = out.stdout.split()
    assert method == "fork"
    assert all(int(c) >= 1 for c in counts), out.stdout


def _frozen_objects() -> int:
    return gc.get_freeze_count()


@pytest.mark.parametrize("kind", ["serial", "processes"])
def test_an_executor_in_use_keeps_the_heap_frozen_and_thaws_it_after(kind: str) -> None:
    assert gc.get_freeze_count() == 0
    with make_executor(kind, workers=2) as ex:
        assert gc.get_freeze_count() > 0
        forked = getattr(ex, "start_method", None) == "fork"
        if kind == "serial" or forked:
            # This process loaded the compiled kernels before it froze (a pool whose workers
            # come from a worker server leaves them to the server).
            from sim.model import sum_kernels

            assert getattr(sum_kernels.metric_sums, "overloads", None)
        got = ex.submit(_frozen_objects).result()
        if forked:
            assert got > 0  # workers forked with the heap frozen
    assert gc.get_freeze_count() == 0


def _blas_threads() -> int:
    from threadpoolctl import threadpool_info

    return max(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")


@pytest.mark.parametrize("kind", ["serial", "processes"])
def test_an_executor_in_use_holds_blas_to_one_thread_and_gives_it_back(kind: str) -> None:
    # Held for the whole batch: a forked worker starts with one BLAS thread instead of starting
    # (and spinning) a second one when its first run gives the parent's two back.
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_threads()
        if before < 2:
            pytest.skip("BLAS has one thread on this machine")
        with make_executor(kind, workers=2) as ex:
            assert _blas_threads() == 1
            assert ex.submit(_blas_threads).result() == 1
        assert _blas_threads() == before


def test_a_heap_frozen_by_the_caller_stays_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    # The frozen count is no witness: a frozen object freed by its last reference (a cache
    # dropping its oldest entry, another test's pool thread ending) leaves the count lower. What
    # must not happen is a thaw.
    thawed: list[bool] = []
    gc.freeze()
    try:
        monkeypatch.setattr(gc, "unfreeze", lambda: thawed.append(True))
        with SerialExecutor() as ex:
            ex.submit(int, "3").result()
        assert not thawed and gc.get_freeze_count() > 0
    finally:
        monkeypatch.undo()
        gc.unfreeze()


def _pid_after(seconds: float) -> int:
    import os
    import time

    time.sleep(seconds)
    return os.getpid()


def test_released_workers_stop_before_the_executor_is_left() -> None:
    import os
    import time

    with make_executor("processes", workers=2) as ex:
        pids = {f.result() for f in [ex.submit(_pid_after, 0.2) for _ in range(4)]}
        ex.release()  # a batch's last run has landed: the workers go while it writes
        deadline = time.monotonic() + 30
        alive = set(pids)
        while alive and time.monotonic() < deadline:
            for pid in list(alive):
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    alive.discard(pid)
            time.sleep(0.02)
        assert pids and not alive


def test_leaving_a_released_executor_waits_for_its_workers() -> None:
    # Told not to wait, the pool forgets the thread that joins its workers: leaving the
    # executor still waits for it, so the workers are gone and the pool's threads ended.
    import os

    before = threading.active_count()
    with make_executor("processes", workers=2) as ex:
        pids = {f.result() for f in [ex.submit(_pid_after, 0.2) for _ in range(4)]}
        ex.release()
    assert pids
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert threading.active_count() == before


def test_imap_unordered_keeps_a_window_and_returns_every_item() -> None:
    with make_executor("processes", workers=2) as ex:
        got = {item: fut.result() for item, fut in ex.imap_unordered(_square, range(20), 3)}
    assert got == {i: i * i for i in range(20)}


def test_serial_executor_returns_errors_through_the_future() -> None:
    with SerialExecutor() as ex:
        future = ex.submit(int, "not a number")
    with pytest.raises(ValueError):
        future.result()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((None, None, None), "processes"),
        ((None, 1, None), "serial"),
        ((None, None, "tcp://h:8786"), "dask"),
        (("dask", 2, None), "dask"),
    ],
)
def test_executor_kind_defaults(args: tuple, expected: str) -> None:
    assert executor_kind(*args) == expected


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("threads", None, None), "allowed: serial, processes, dask"),
        (("processes", 0, None), "workers=0: must be at least 1"),
        (("serial", None, "tcp://h:8786"), "scheduler= needs executor='dask'"),
    ],
)
def test_bad_executor_options(args: tuple, needle: str) -> None:
    with pytest.raises(ExecutorError, match=needle):
        executor_kind(*args)


@pytest.mark.parametrize("kind", ["serial", "processes"])
def test_a_batch_enters_its_executor_once_the_manifest_is_written(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A local pool forks its workers when entered: after the manifest, they start on their first
    # runs at once. The first progress count comes after (a progress bar's thread starts then).
    from sim.experiments.executors import RunExecutor

    events: list[str] = []
    enter = RunExecutor.__enter__

    def watched(self: RunExecutor) -> RunExecutor:
        manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
        events.append(f"enter {manifest['status']}")
        return enter(self)

    monkeypatch.setattr(RunExecutor, "__enter__", watched)
    res = run_batch(["baseline"], replicates=2, months=2, executor=kind, workers=2,
                    out=tmp_path / "b", progress=lambda *c: events.append("progress"))  # fmt: skip
    assert events[:2] == ["enter running", "progress"]
    assert res.manifest["status"] == "complete"


def test_an_executor_never_entered_is_shut_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The manifest cannot be written: the batch stops before entering its executor, which is
    # shut down all the same (a Dask cluster would otherwise be left running).
    from sim.results.folder import BatchFolder

    stopped: list[bool] = []
    monkeypatch.setattr(ProcessExecutor, "shutdown",
                        lambda self, cancel=False: stopped.append(cancel))  # fmt: skip
    entered = []
    monkeypatch.setattr(ProcessExecutor, "__enter__", lambda self: entered.append(self))

    def full_disk(self: BatchFolder, manifest: dict) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(BatchFolder, "write_manifest", full_disk)
    with pytest.raises(ResultsError, match="No space left"):
        run_batch(["baseline"], replicates=2, months=2, executor="processes", workers=2,
                  out=tmp_path / "b")  # fmt: skip
    assert not entered
    assert stopped == [True]
