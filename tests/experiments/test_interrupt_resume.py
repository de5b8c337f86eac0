"""Interrupted work is never lost: a killed batch and a full disk both resume to the full result.

* A real ``sim batch`` process is killed with SIGKILL twice, at different points, and run again
  each time; the finished folder equals an uninterrupted batch bit for bit, with every run once.
* A write that fails with ENOSPC ("no space left on device") after a few runs stops the batch with
  a one-line message (exit code 2 from the CLI); the runs recorded before it are intact, nothing
  half-written is left, and running the same command again completes the batch.
"""

from __future__ import annotations

import contextlib
import errno
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
from typer.testing import CliRunner

import sim.experiments.chunking
import sim.results.folder
import sim.results.store
from sim import load_results, run_batch
from sim.cli import app
from sim.errors import ResultsError
from sim.experiments.plan import plan_batch
from sim.results.verify import verify_folder
from tests.helpers import SIM_A_RUN_A_CHUNK

SCENARIOS = ["baseline", "crackdown", "thaw"]
COMMON = {"replicates": 4, "seed": 7, "months": 24}
TOTAL = len(SCENARIOS) * COMMON["replicates"]
CLI = [*SCENARIOS, "--replicates", "4", "--seed", "7", "--months", "24", "--workers", "1", "-q"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The batch run in one go."""
    out = tmp_path_factory.mktemp("reference") / "batch"
    return run_batch(SCENARIOS, executor="serial", out=out, **COMMON).folder


def assert_same_batch(folder: Path, reference: Path) -> None:
    """Every run once, and the same values and part files as the uninterrupted batch."""
    got, ref = load_results(folder), load_results(reference)
    assert got.complete and got.manifest["counts"] == {"total": TOTAL, "done": TOTAL, "failed": 0}
    assert got.runs["run_id"].is_unique and len(got.runs) == TOTAL  # none lost, none twice
    for name in ("runs", "summary", "timeseries", "stakeholders", "network"):
        a, b = getattr(got, name), getattr(ref, name)
        if name == "runs":
            a, b = a.drop(columns="wall_s"), b.drop(columns="wall_s")
        pd.testing.assert_frame_equal(a, b, check_exact=True, obj=name)
    assert part_checksums(got.manifest) == part_checksums(ref.manifest)
    report = verify_folder(folder)
    assert report.ok and not report.notes, report
    assert not list(folder.rglob("*.tmp"))


def part_checksums(manifest: dict[str, object]) -> dict[str, str]:
    """Return the manifest's checksums of dataset parts."""
    files = manifest["checksums"]["files"]  # type: ignore[index]
    return {k: v for k, v in files.items() if k.endswith(".parquet") and "/" in k}


def records(folder: Path) -> int:
    """Return how many runs are recorded (committed) in a batch folder."""
    count = 0
    for path in (folder / "parts").glob("*.json"):
        with contextlib.suppress(OSError, ValueError):
            count += len(json.loads(path.read_text())["runs"])
    return count


def run_and_kill(out: Path, after: int) -> None:
    """Start ``sim batch`` into ``out`` and SIGKILL it once ``after`` runs are recorded."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen([*SIM_A_RUN_A_CHUNK, "batch", *CLI, "--out", str(out)],
                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as proc:
        deadline = time.monotonic() + 300
        while records(out) < after and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""


def test_a_batch_killed_twice_resumes_to_the_uninterrupted_result(
    tmp_path: Path, reference: Path
) -> None:
    out = tmp_path / "batch"
    run_and_kill(out, after=3)
    first = records(out)
    assert 3 <= first < TOTAL
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"
    report = verify_folder(out)  # whatever the moment, nothing is recorded half-written
    assert report.ok, report.problems
    partial = load_results(out)  # the finished runs are readable, whatever the manifest says
    assert partial.partial and not partial.complete
    assert len(partial.runs) == len(partial.summary) == first and partial.runs["run_id"].is_unique
    assert partial.manifest["counts"] == {"total": TOTAL, "done": first, "failed": 0}
    assert set(partial.timeseries["run_id"]) == set(partial.runs["run_id"])

    # What a kill in the middle of writing a chunk leaves: a temporary file, and a part whose
    # record was never written. Neither counts; the resumed batch writes them again.
    plan = plan_batch(SCENARIOS, **COMMON)
    recorded = set(partial.runs["run_id"])
    pending = next(s for s in plan.specs if s.run_id not in recorded)
    (out / "timeseries" / f"{pending.index:06d}-{pending.run_id}.parquet").write_bytes(b"half")
    (out / "timeseries" / ".000011-x.parquet.tmp").write_bytes(b"half a file")
    report = verify_folder(out)
    assert report.ok and any("no run record" in note for note in report.notes)

    run_and_kill(out, after=first + 3)
    assert first + 3 <= records(out) < TOTAL

    again = subprocess.run([sys.executable, "-m", "sim", "batch", *CLI, "--out", str(out)],
                           capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert_same_batch(out, reference)


@contextlib.contextmanager
def disk_full_after(monkeypatch: pytest.MonkeyPatch, n_files: int) -> Iterator[list[Path]]:
    """Make every file write in a batch folder fail with ENOSPC after ``n_files`` succeeded.

    The failing write has put some bytes into its temporary file, as a real full disk would.
    """
    real = sim.results.store.atomic_path
    written: list[Path] = []

    @contextlib.contextmanager
    def full(target: Path) -> Iterator[Path]:
        with real(target) as tmp:
            yield tmp
            if len(written) >= n_files:
                with tmp.open("ab") as fh:
                    fh.write(b"\x00" * 64)
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))
            written.append(target)

    def full_bytes(target: Path, data: bytes) -> None:  # a landed chunk's files
        with full(target) as tmp:
            tmp.write_bytes(data)

    real_table = sim.results.folder.write_table

    def full_table(target: Path, table: object) -> None:  # runs.parquet and summary.parquet
        with monkeypatch.context() as patch:
            patch.setattr(sim.results.store, "atomic_path", full)
            real_table(target, table)

    real_bytes = sim.results.folder.write_bytes_atomic
    monkeypatch.setattr(sim.results.folder, "write_table", full_table)
    monkeypatch.setattr(sim.results.folder, "write_bytes_atomic", full_bytes)
    yield written
    monkeypatch.setattr(sim.results.folder, "write_table", real_table)
    monkeypatch.setattr(sim.results.folder, "write_bytes_atomic", real_bytes)


def test_a_full_disk_stops_the_batch_and_a_rerun_completes_it(
    tmp_path: Path, reference: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sim.experiments.chunking, "TARGET_S", 0.0)  # a run a chunk
    out = tmp_path / "batch"
    with disk_full_after(monkeypatch, n_files=9), pytest.raises(ResultsError) as info:
        run_batch(SCENARIOS, executor="serial", out=out, **COMMON)
    message = str(info.value)
    assert "\n" not in message and "No space left on device" in message
    assert "run the same command to resume" in message
    assert 0 < records(out) < TOTAL
    assert not list(out.rglob("*.tmp"))  # the failed write left nothing behind
    assert verify_folder(out).ok  # the runs recorded before the failure are intact

    resumed = run_batch(SCENARIOS, executor="serial", out=out, **COMMON)
    assert resumed.complete
    assert_same_batch(out, reference)


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EIO])
def test_the_cli_reports_a_write_error_on_one_line(
    code: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sim.experiments.chunking, "TARGET_S", 0.0)  # a run a chunk
    out = tmp_path / "batch"
    real = sim.results.store.atomic_path

    @contextlib.contextmanager
    def failing(target: Path) -> Iterator[Path]:
        if target.parent.name == "timeseries" and target.name.startswith("000002-"):
            raise OSError(code, os.strerror(code), str(target))
        with real(target) as tmp:
            yield tmp

    def failing_bytes(target: Path, data: bytes) -> None:  # a landed chunk's files
        with failing(target) as tmp:
            tmp.write_bytes(data)

    monkeypatch.setattr(sim.results.folder, "write_bytes_atomic", failing_bytes)
    result = CliRunner().invoke(app, ["batch", "crackdown", "--replicates", "4", "--months", "6",
                                      "--workers", "1", "--out", str(out), "-q"])  # fmt: skip
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: stopped: "), result.stderr
    assert os.strerror(code) in lines[0] and "000002-" in lines[0]
    assert records(out) == 2 and verify_folder(out).ok
