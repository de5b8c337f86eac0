"""The terminal and the process table after a batch: no Dask chatter, no orphaned workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.processes import HAS_PROC, descendants, still_running

ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def test_the_local_dask_cluster_logs_nothing_unless_verbose(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    command = [sys.executable, "-m", "sim", "batch", "crackdown", "--replicates", "1",
               "--months", "3", "--executor", "dask", "--workers", "1", "--quiet"]  # fmt: skip
    quiet = subprocess.run([*command, "--out", str(tmp_path / "q")], capture_output=True,
                           text=True, timeout=240, env=ENV)  # fmt: skip
    assert quiet.returncode == 0, quiet.stderr
    assert "distributed" not in quiet.stderr, quiet.stderr
    assert quiet.stdout.strip().startswith("batch crackdown: 1/1 runs done")
    verbose = subprocess.run([sys.executable, "-m", "sim", "--verbose", *command[3:],
                              "--out", str(tmp_path / "v")], capture_output=True, text=True,
                             timeout=240, env=ENV)  # fmt: skip
    assert verbose.returncode == 0, verbose.stderr
    assert "INFO distributed.scheduler" in verbose.stderr


# A worker's heartbeat can race the scheduler's close; the worker then logs the failure at ERROR.
# Here a worker logs an ERROR of its own as the executor shuts the local cluster down.
TEARDOWN = """
import logging
from sim.experiments import dask_cluster
from sim.experiments.dask_cluster import DaskExecutor

def late_error():
    print("in a worker at teardown", flush=True)
    logging.getLogger("distributed.worker").error("heartbeat failed (teardown)")

if "verbose" in __import__("sys").argv:
    logging.getLogger("sim").setLevel(logging.INFO)  # what `sim -v` sets
ex = DaskExecutor(1)
assert ex.submit(abs, -3).result() == 3
told = dask_cluster._log_only_critical
dask_cluster._log_only_critical = lambda: (told(), late_error())
ex.shutdown()
"""


def test_a_local_clusters_teardown_errors_are_quiet_unless_verbose() -> None:
    pytest.importorskip("distributed")
    quiet = subprocess.run([sys.executable, "-c", TEARDOWN], capture_output=True, text=True,
                           timeout=240, env=ENV)  # fmt: skip
    assert quiet.returncode == 0, quiet.stderr
    assert "in a worker at teardown" in quiet.stdout  # the shutdown told the worker
    assert "heartbeat failed" not in quiet.stderr, quiet.stderr
    # Without the quieting, the same error reaches the terminal.
    loud = subprocess.run([sys.executable, "-c", TEARDOWN.replace(
        "told(), late_error()", "late_error()"), ], capture_output=True, text=True, timeout=240,
        env=ENV)  # fmt: skip
    assert loud.returncode == 0, loud.stderr
    assert "heartbeat failed (teardown)" in loud.stderr
    # With `sim -v` the workers are left to log as they do.
    verbose = subprocess.run([sys.executable, "-c", TEARDOWN, "verbose"], capture_output=True,
                             text=True, timeout=240, env=ENV)  # fmt: skip
    assert verbose.returncode == 0, verbose.stderr
    assert "in a worker at teardown" not in verbose.stdout


def wait_until(condition, timeout_s: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


# Enough runs that the pool's workers start before the batch process has run them all itself
# (the test kills the batch as soon as they run).
THREADED_BATCH = """
import sys, threading, time
threading.Thread(target=time.sleep, args=(600,), daemon=True).start()
import sim
sim.run_batch(["crackdown", "thaw"], replicates=100, workers=2, out=sys.argv[1])
"""


@pytest.mark.skipif(not HAS_PROC, reason="reads the Linux process table")
@pytest.mark.parametrize(
    ("how", "least"),
    [("cli", 2),  # a process with one thread forks its 2 workers
     ("threaded", 4)],  # one with another thread: resource tracker, fork server, 2 workers
)  # fmt: skip
def test_killing_a_batch_leaves_no_forkserver_or_worker_behind(
    tmp_path: Path, how: str, least: int
) -> None:
    out = str(tmp_path / "b")
    command = (
        [sys.executable, "-m", "sim", "batch", "--all", "--replicates", "20", "--workers", "2",
         "--quiet", "--out", out]
        if how == "cli" else [sys.executable, "-c", THREADED_BATCH, out]
    )  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=ENV)  # fmt: skip
    children: set[int] = set()
    try:

        def workers_started() -> bool:
            children.update(descendants(process.pid))
            return process.poll() is None and len(children) >= least

        wait_until(workers_started, 120, "the batch never started its workers")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        wait_until(lambda: not still_running(children), 30,
                   f"left running after SIGKILL: {sorted(still_running(children))}")  # fmt: skip
    finally:
        if process.poll() is None:
            process.kill()
        for pid in still_running(children):
            os.kill(pid, signal.SIGKILL)
