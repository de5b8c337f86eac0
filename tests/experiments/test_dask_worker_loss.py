"""A Dask worker killed mid-sweep does not lose the sweep.

A real two-worker :class:`distributed.LocalCluster` runs a small sweep; when the first runs have
landed, one worker process is killed with SIGKILL. Dask moves the dead worker's tasks to the other
worker (its nanny starts a new one), and the sweep finishes with every run, none twice, equal bit
for bit to the same sweep run serially.
"""

from __future__ import annotations

import logging
import os
import signal
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim import run_sweep
from sim.results.verify import verify_folder

distributed = pytest.importorskip("distributed")

SWEEP = {
    "name": "worker_loss",
    "base": "crackdown",
    "set": ["months=24"],
    "parameters": {
        "fine_rate": {"path": "regulators.SAMR.fine_rate", "levels": [0.01, 0.03, 0.05]},
        "peak": {"path": "timeline.stance_peak.platform_stringency", "levels": [0.6, 0.9]},
    },
    "design": {"kind": "grid"},
    "replicates": 2,
    "outcomes": ["peak_to_trough_loss_usd"],
}


@pytest.fixture
def sweep_file(tmp_path: Path) -> Path:
    """The sweep file: 6 points x 2 replicates = 12 runs."""
    path = tmp_path / "worker_loss.yaml"
    path.write_text(yaml.safe_dump(SWEEP), encoding="utf-8")
    return path


def test_a_killed_dask_worker_does_not_lose_the_sweep(sweep_file: Path, tmp_path: Path) -> None:
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
        silence_logs=logging.ERROR,
    )  # fmt: skip
    client = distributed.Client(cluster)
    try:
        pids = client.run(os.getpid)
        assert len(pids) == 2
        victim = sorted(pids.values())[0]
        killed: list[int] = []

        def kill_one_worker(done: int, failed: int, total: int) -> None:
            if done >= 2 and not killed:  # some runs landed, others are in flight
                os.kill(victim, signal.SIGKILL)
                killed.append(victim)

        res = run_sweep(sweep_file, seed=5, executor="dask", scheduler=cluster.scheduler_address,
                        out=tmp_path / "dask", progress=kill_one_worker)  # fmt: skip
        assert killed, "the sweep finished before a worker could be killed"
        assert victim not in client.run(os.getpid).values()  # that worker is gone
    finally:
        client.close()
        cluster.close()

    assert res.complete
    assert res.manifest["counts"] == {"total": 12, "done": 12, "failed": 0}
    assert res.runs["run_id"].is_unique and (res.runs["status"] == "ok").all()
    assert verify_folder(res.folder).ok

    serial = run_sweep(sweep_file, seed=5, executor="serial", out=tmp_path / "serial")
    for name in ("summary", "timeseries"):
        pd.testing.assert_frame_equal(getattr(res, name), getattr(serial, name),
                                      check_exact=True, obj=name)  # fmt: skip
    parts = {k: v for k, v in res.manifest["checksums"]["files"].items() if k.endswith(".parquet")
             and "/" in k}  # fmt: skip
    serial_parts = {k: v for k, v in serial.manifest["checksums"]["files"].items()
                    if k.endswith(".parquet") and "/" in k}  # fmt: skip
    assert parts == serial_parts
