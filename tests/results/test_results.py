"""Batch folders: resume after Ctrl-C or a killed process, refusals, and reading results back."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim import load_results, run_batch
from sim.errors import ResultsError
from sim.experiments.execution import find_resumable
from sim.experiments.plan import plan_batch
from sim.results.folder import BatchFolder, open_folder
from tests.helpers import SIM_A_RUN_A_CHUNK

SCENARIOS = ["baseline", "crackdown", "thaw"]
COMMON = {"replicates": 3, "seed": 11, "months": 6}


def _same_results(a: Path, b: Path) -> None:
    """Assert two batch folders hold the same runs, rows and files (wall times aside)."""
    ra, rb = load_results(a), load_results(b)
    for name in ("runs", "summary", "timeseries", "stakeholders", "network"):
        ta, tb = getattr(ra, name), getattr(rb, name)
        if name == "runs":
            ta, tb = ta.drop(columns="wall_s"), tb.drop(columns="wall_s")
        pd.testing.assert_frame_equal(ta, tb, check_exact=True, obj=name)
    for sub in ("timeseries", "stakeholders", "network"):
        files_a = {p.name: hashlib.sha256(p.read_bytes()).digest() for p in (a / sub).iterdir()}
        files_b = {p.name: hashlib.sha256(p.read_bytes()).digest() for p in (b / sub).iterdir()}
        assert files_a == files_b, sub
    assert sorted(p.name for p in (a / "parts").iterdir()) == sorted(
        p.name for p in (b / "parts").iterdir()
    )


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The batch run without interruption."""
    out = tmp_path_factory.mktemp("ref") / "batch"
    return run_batch(SCENARIOS, executor="serial", out=out, **COMMON).folder


def test_resume_after_ctrl_c_equals_an_uninterrupted_batch(
    tmp_path: Path, reference: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sim.experiments.chunking as chunking

    monkeypatch.setattr(chunking, "TARGET_S", 0.0)  # a run a chunk: Ctrl-C lands mid-batch
    out = tmp_path / "batch"
    seen: list[int] = []

    def stop_after_four(done: int, failed: int, total: int) -> None:
        seen.append(done)
        if done >= 4:  # progress comes a chunk of runs at a time
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_batch(SCENARIOS, executor="serial", out=out, progress=stop_after_four, **COMMON)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    first = seen[-1]
    assert 4 <= first < 9
    assert manifest["counts"] == {"total": 9, "done": first, "failed": 0}
    assert len(pd.read_parquet(out / "runs.parquet")) == first  # a reader sees the runs so far

    seen.clear()
    res = run_batch(
        SCENARIOS,
        executor="processes",
        workers=2,
        out=out,
        progress=lambda done, failed, total: seen.append(done),
        **COMMON,
    )
    assert seen[0] == first and seen[-1] == 9  # starts from those done and runs only the rest
    assert seen == sorted(seen)
    assert res.complete and res.manifest["counts"] == {"total": 9, "done": 9, "failed": 0}
    _same_results(out, reference)


def test_killed_batch_resumes_with_the_same_command(tmp_path: Path) -> None:
    """Kill ``sim batch`` (SIGKILL) mid-way, run the same command again in the same place."""
    args = [
        "batch",
        *SCENARIOS,
        "--replicates",
        "3",
        "--seed",
        "11",
        "--months",
        "36",
        "--workers",
        "1",
        "-q",
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([*SIM_A_RUN_A_CHUNK, *args], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 120
    parts: list[Path] = []
    while proc.poll() is None and time.monotonic() < deadline and len(parts) < 2:
        parts = list(tmp_path.glob("results/*/parts/*.json"))
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    folders = list((tmp_path / "results").iterdir())
    assert len(folders) == 1
    killed = folders[0]
    if proc.returncode == 0:
        pytest.skip("the batch finished before it could be killed")
    assert json.loads((killed / "manifest.json").read_text())["status"] == "running"
    (killed / "timeseries" / ".000099-half.parquet.tmp").write_bytes(b"half a file")

    # Resumed with chunks cut to the runs' time: the chunking never changes the results.
    again = subprocess.run([sys.executable, "-m", "sim", *args], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=300)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert str(killed.name) in again.stdout  # resumed the same folder
    assert list((tmp_path / "results").iterdir()) == [killed]
    assert not list(killed.rglob("*.tmp"))
    ref36 = run_batch(
        SCENARIOS, executor="serial", out=tmp_path / "ref36", **{**COMMON, "months": 36}
    ).folder
    _same_results(killed, ref36)


def test_folder_refusals(tmp_path: Path, reference: Path) -> None:
    plan = plan_batch(SCENARIOS, **COMMON)
    other = plan_batch(SCENARIOS[:2], **COMMON)
    assert open_folder(reference, spec_hash=plan.spec_hash, kind="batch", resume=True, force=False)
    with pytest.raises(ResultsError, match="holds a different batch"):
        open_folder(reference, spec_hash=other.spec_hash, kind="batch", resume=True, force=False)
    with pytest.raises(ResultsError, match="pass resume=True to finish it"):
        open_folder(reference, spec_hash=plan.spec_hash, kind="batch", resume=False, force=False)
    stray = tmp_path / "stray"
    stray.mkdir()
    (stray / "notes.txt").write_text("mine")
    with pytest.raises(ResultsError, match="not empty"):
        open_folder(stray, spec_hash=plan.spec_hash, kind="batch", resume=True, force=False)
    assert not open_folder(stray, spec_hash=plan.spec_hash, kind="batch", resume=True, force=True)
    assert (stray / "notes.txt").exists()  # --force never removes files that are not the batch's


def test_force_replaces_a_different_batch(tmp_path: Path) -> None:
    out = tmp_path / "b"
    run_batch(["thaw"], replicates=2, months=3, executor="serial", out=out)
    with pytest.raises(ResultsError):
        run_batch(["baseline"], replicates=1, months=3, executor="serial", out=out)
    res = run_batch(["baseline"], replicates=1, months=3, executor="serial", out=out, force=True)
    assert res.runs["scenario"].tolist() == ["baseline"]
    assert len(list((out / "timeseries").iterdir())) == 1


def test_find_resumable_picks_the_unfinished_folder(tmp_path: Path) -> None:
    plan = plan_batch(["thaw"], replicates=1, months=3)
    done = tmp_path / "thaw-20250101-000000"
    run_batch(["thaw"], replicates=1, months=3, executor="serial", out=done)
    assert find_resumable(tmp_path, "thaw", plan.spec_hash) is None
    manifest = json.loads((done / "manifest.json").read_text())
    unfinished = tmp_path / "thaw-20250102-000000"
    unfinished.mkdir()
    BatchFolder(unfinished).write_manifest({**manifest, "status": "interrupted"})
    assert find_resumable(tmp_path, "thaw", plan.spec_hash) == unfinished
    assert find_resumable(tmp_path, "thaw", "another") is None


def test_a_manifest_rewritten_with_kept_values_is_the_text_json_writes() -> None:
    from sim.results.store import EncodedValues, indented_json

    fixed = {"b": [1, {"c": "x\ny", "d": []}], "e": {}, "f": 'q"\\', "g": {"h": {"i": 2.5}}}
    encoded: EncodedValues = {}
    for status in ("running", "complete"):
        data = {"status": status, "counts": {"done": 1}, **fixed, "empty": [], "n": None, "k": 3}
        assert indented_json(data, encoded) == json.dumps(data, indent=2, default=str)
    assert encoded["b"][0] is fixed["b"]
    changed = {**data, "b": [2]}
    assert indented_json(changed, encoded) == json.dumps(changed, indent=2, default=str)
    assert indented_json({}, encoded) == "{}"
    assert indented_json({1: "a"}, encoded) == json.dumps({1: "a"}, indent=2)
