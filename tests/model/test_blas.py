"""A run's results do not depend on how many threads BLAS may use."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from sim.model import blas
from sim.model.policy_model import PolicyModel
from sim.model.runner import run_scenario
from tests.helpers import short

ROOT = Path(__file__).resolve().parents[2]

#: Runs a population at which two BLAS threads give other bits than one (without the limit),
#: and prints a digest of its time series.
CHILD = """
import hashlib
from sim.model.runner import run_scenario
from tests.helpers import short
result = run_scenario(short("crackdown", "n_synthetic_firms=100003", months=3), seed=4)
print(hashlib.sha256(result.timeseries.to_csv().encode()).hexdigest())
"""


#: Runs a batch on 2 forked workers with two BLAS threads allowed, then prints whether each
#: OpenBLAS pool runs, its thread count, and whether a product on two threads is right.
AFTER_FORK = """
import json, tempfile
import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits
from sim import run_batch
from sim.model import blas
with threadpool_limits(limits=2, user_api="blas"):
    before = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    with tempfile.TemporaryDirectory() as tmp:
        run_batch(["baseline"], replicates=2, months=2, executor="processes", workers=2,
                  out=tmp + "/b")
    after = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    running = [avail.value for avail, _ in blas._openblas_pools()]
    a = np.random.default_rng(0).random((400, 400))
    product = a @ a
    with threadpool_limits(limits=1, user_api="blas"):
        alone = a @ a
    again = [avail.value for avail, _ in blas._openblas_pools()]
print(json.dumps({"before": before, "after": after, "running": running, "again": again,
                  "close": bool(np.allclose(product, alone))}))
"""


def _blas_threads() -> list[int]:
    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


def test_a_model_runs_on_one_blas_thread_and_the_limit_is_given_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[list[int]] = []
    step = PolicyModel.step

    def watched(self: PolicyModel) -> None:
        seen.append(_blas_threads())
        step(self)

    monkeypatch.setattr(PolicyModel, "step", watched)
    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_threads()
        run_scenario(short("baseline", months=3), seed=1)
        assert _blas_threads() == before
    assert seen and all(threads == [1] * len(threads) for threads in seen)


def test_nested_limits_give_back_the_first_limit_when_the_last_one_leaves() -> None:
    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_threads()
        with blas.one_blas_thread():
            with blas.one_blas_thread():
                assert set(_blas_threads()) <= {1}
            assert set(_blas_threads()) <= {1}
        assert _blas_threads() == before


def test_a_large_run_is_the_same_with_one_or_two_blas_threads() -> None:
    digests = []
    for threads in ("1", "2"):
        env = {**os.environ, "OPENBLAS_NUM_THREADS": threads, "PYTHONPATH": str(ROOT)}
        out = subprocess.run([sys.executable, "-c", CHILD], env=env, cwd=ROOT, check=True,
                             capture_output=True, text=True, timeout=600)  # fmt: skip
        digests.append(out.stdout.strip())
    assert digests[0] == digests[1]


@pytest.mark.skipif(
    sys.platform != "linux" or (os.cpu_count() or 1) < 2,
    reason="forked workers and two BLAS threads: Linux with 2 cores or more",
)
def test_giving_the_limit_back_after_a_fork_does_not_start_blas_threads() -> None:
    # The pool forks its workers while the limit is held; OpenBLAS stops its threads before the
    # fork. Giving the limit back leaves them stopped (they would spin for 0.1 s each as they
    # start), and the next product that needs them starts them and is right.
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    env["PYTHONPATH"] = str(ROOT)
    out = subprocess.run([sys.executable, "-c", AFTER_FORK], env=env, cwd=ROOT, check=True,
                         capture_output=True, text=True, timeout=600)  # fmt: skip
    seen = json.loads(out.stdout)
    if not seen["running"]:
        pytest.skip("no OpenBLAS with its own threads is loaded")
    assert seen["after"] == seen["before"]
    assert seen["running"] == [0] * len(seen["running"])
    assert seen["close"]
    assert 1 in seen["again"]  # the product started its library's threads again
