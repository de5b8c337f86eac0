"""A Dask cluster that loses every worker, or cannot be reached, never leaves a batch hanging.

* A real scheduler and one worker run as separate processes; the worker is killed with SIGKILL
  once two runs have landed. The batch stops with one line that says what happened, how many runs
  are recorded and how to resume; the manifest's counts are the records on disk; the same command
  with workers back (here: in this process) finishes the batch, equal to an uninterrupted one.
* An unreachable scheduler stops the batch before anything is written: no folder is left.

Each waits a bounded time: the cluster's no-worker grace is cut to a few seconds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import sim.experiments.dask_cluster as dask_cluster
import sim.experiments.executors as executors
from sim import load_results, run_batch
from sim.experiments.executors import ExecutorError, WorkersLostError
from sim.results.verify import verify_folder

pytest.importorskip("distributed")

BATCH = {"scenarios": ["crackdown"], "replicates": 8, "months": 12, "seed": 3}
START_TIMEOUT_S = 60


def _start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    """Start a Dask command-line program, its output going to ``log``."""
    with log.open("wb") as fh:
        return subprocess.Popen([sys.executable, "-m", *args], stdout=fh, stderr=subprocess.STDOUT)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A scheduler and one single-thread worker, each its own process (no nanny to restart it)."""
    info = tmp_path / "scheduler.json"
    scheduler = _start(["distributed.cli.dask_scheduler", "--scheduler-file", str(info), "--host",
                        "127.0.0.1", "--port", "0", "--no-dashboard"], tmp_path / "scheduler.log")
    worker = None
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not info.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(info.read_text())["address"]
        worker = _start(["distributed.cli.dask_worker", "--scheduler-file", str(info),
                         "--nthreads", "1", "--no-nanny", "--no-dashboard"],
                        tmp_path / "worker.log")  # fmt: skip
        yield address, worker
    finally:
        for proc in (worker, scheduler):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)


def test_a_cluster_without_workers_stops_the_batch_with_a_way_to_resume(
    cluster: tuple[str, subprocess.Popen[bytes]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    address, worker = cluster
    monkeypatch.setattr(executors, "POLL_S", 0.5)
    monkeypatch.setattr(dask_cluster, "DASK_NO_WORKER_S", 3.0)
    out = tmp_path / "batch"

    def kill_the_worker(done: int, failed: int, total: int) -> None:
        if done >= 2 and worker.poll() is None:
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)

    started = time.monotonic()
    with pytest.raises(WorkersLostError) as info:
        run_batch(**BATCH, executor="dask", scheduler=address, out=out, progress=kill_the_worker)
    assert time.monotonic() - started < 120  # it stopped by itself, after the grace period
    message = str(info.value)
    assert "\n" not in message
    assert f"every Dask worker of {address} is gone" in message
    assert "run the same command to resume" in message
    recorded = sum(len(json.loads(p.read_text())["runs"]) for p in (out / "parts").glob("*.json"))
    assert 2 <= recorded < 8
    assert f"{recorded} of 8 runs are recorded" in message

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    assert manifest["counts"] == {"total": 8, "done": recorded, "failed": 0}
    assert verify_folder(out).ok
    partial = load_results(out)
    assert partial.partial and len(partial.runs) == recorded

    resumed = run_batch(**BATCH, executor="serial", out=out)
    reference = run_batch(**BATCH, executor="serial", out=tmp_path / "reference")
    assert resumed.complete and resumed.manifest["counts"]["done"] == 8
    for name in ("summary", "timeseries"):
        pd.testing.assert_frame_equal(getattr(resumed, name), getattr(reference, name),
                                      check_exact=True, obj=name)  # fmt: skip


def test_an_unreachable_scheduler_leaves_nothing_behind(tmp_path: Path) -> None:
    out = tmp_path / "batch"
    with pytest.raises(ExecutorError) as info:
        run_batch(**BATCH, executor="dask", scheduler="tcp://127.0.0.1:9", out=out)
    assert "cannot reach the Dask scheduler tcp://127.0.0.1:9" in str(info.value)
    assert not out.exists()

    out.mkdir()  # a folder the user made stays, empty as it was
    with pytest.raises(ExecutorError):
        run_batch(**BATCH, executor="dask", scheduler="tcp://127.0.0.1:9", out=out)
    assert out.is_dir() and not any(out.iterdir())
