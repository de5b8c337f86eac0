"""Checksums in the manifest, ``sim verify``, and ``sim rerun`` reproducing a run bit for bit."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from sim import load_results, run_batch, run_sweep
from sim.cli import app
from sim.experiments.rerun import first_difference, rerun
from sim.results.verify import file_digest, verify_folder

runner = CliRunner()
BATCH = {"replicates": 2, "seed": 21, "months": 12}
SWEEP = {
    "name": "rerun_sweep", "base": "crackdown", "set": ["months=12"],
    "parameters": {
        "fine_rate": {"path": "regulators.SAMR.fine_rate", "levels": [0.02, 0.06]},
        "clout": {"path": "params.influence.center_clout", "range": [4.0, 30.0],
                  "distribution": "loguniform"},
        "listed": {"path": "firms.ByteDance.listed", "levels": [True, False]},
    },
    "design": {"kind": "lhs", "samples": 3, "seed": 2}, "replicates": 2,
    "outcomes": ["peak_to_trough_loss_usd"],
}  # fmt: skip


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small finished batch."""
    out = tmp_path_factory.mktemp("batch") / "b"
    return run_batch(["crackdown", "thaw"], executor="serial", out=out, **BATCH).folder


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small finished sweep (float, loguniform and bool parameters)."""
    folder = tmp_path_factory.mktemp("sweep")
    path = folder / "rerun_sweep.yaml"
    path.write_text(yaml.safe_dump(SWEEP), encoding="utf-8")
    return run_sweep(path, executor="serial", out=folder / "s").folder


@pytest.fixture
def copy_of(batch: Path, tmp_path: Path) -> Path:
    """A copy of the batch that a test may change."""
    return Path(shutil.copytree(batch, tmp_path / "copy"))


def manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


def header(folder: Path) -> dict:
    """The compacted record's first line: the compacted files and their checksums."""
    return json.loads((folder / "parts" / "compacted.jsonl").read_text().splitlines()[0])


def test_a_finished_batch_has_one_file_per_dataset(batch: Path) -> None:
    for name in ("timeseries", "stakeholders", "network"):
        assert [p.name for p in (batch / name).iterdir()] == ["part-000.parquet"]
    assert [p.name for p in (batch / "parts").iterdir()] == ["compacted.jsonl"]
    runs = load_results(batch).runs
    order = pd.read_parquet(batch / "timeseries")["run_id"].drop_duplicates().tolist()
    assert order == runs["run_id"].tolist()  # canonical run order


def test_the_manifest_holds_the_checksum_of_every_file(batch: Path) -> None:
    files = manifest(batch)["checksums"]["files"]
    on_disk = {str(p.relative_to(batch)) for p in batch.rglob("*")
               if p.is_file() and p.name != "manifest.json"}  # fmt: skip
    assert set(files) == on_disk
    for rel, expected in files.items():
        assert file_digest(batch / rel) == expected, rel
    assert set(header(batch)["checksums"]) <= set(files)


def test_verify_passes_on_an_intact_folder(batch: Path) -> None:
    report = verify_folder(batch)
    assert report.ok and report.checked == len(manifest(batch)["checksums"]["files"])
    result = runner.invoke(app, ["verify", str(batch)])
    assert result.exit_code == 0 and "all checksums match" in result.stdout


def test_verify_reports_changed_missing_and_unrecorded_files(copy_of: Path) -> None:
    (copy_of / "network" / "part-000.parquet").unlink()
    part = copy_of / "timeseries" / "part-000.parquet"
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0x01  # one flipped bit
    part.write_bytes(bytes(data))
    (copy_of / "summary.parquet").write_bytes(b"")
    report = verify_folder(copy_of)
    problems = "\n".join(report.problems)
    assert "network/part-000.parquet: missing" in problems
    assert "timeseries/part-000.parquet: checksum mismatch" in problems
    assert "summary.parquet: checksum mismatch" in problems
    assert len(report.problems) == 3
    result = runner.invoke(app, ["verify", str(copy_of)])
    assert result.exit_code == 1 and "3 of" in result.stderr


def test_runs_recorded_after_the_manifest_are_checked_against_their_records(
    copy_of: Path,
) -> None:
    data = manifest(copy_of)
    dropped = ["parts/compacted.jsonl", *header(copy_of)["checksums"]]
    for key in dropped:
        del data["checksums"]["files"][key]
    (copy_of / "manifest.json").write_text(json.dumps(data))
    report = verify_folder(copy_of)
    assert report.ok and any("after the manifest" in note for note in report.notes)
    part = copy_of / "timeseries" / "part-000.parquet"
    part.write_bytes(part.read_bytes() + b"x")
    assert not verify_folder(copy_of).ok  # still checked, against the record


def test_a_part_without_a_record_is_not_read(copy_of: Path) -> None:
    first = sorted((copy_of / "timeseries").glob("*.parquet"))[0]
    shutil.copy(first, copy_of / "timeseries" / "000099-0000000000000000.parquet")
    results = load_results(copy_of)
    assert len(results.timeseries) == len(results.runs) * BATCH["months"]
    assert any("no run record" in note for note in verify_folder(copy_of).notes)


def test_repeated_batches_write_identical_parts(batch: Path, tmp_path: Path) -> None:
    again = run_batch(["crackdown", "thaw"], executor="serial", out=tmp_path / "again", **BATCH)

    def parts(folder: Path) -> dict[str, str]:
        files = manifest(folder)["checksums"]["files"]
        return {k: v for k, v in files.items() if k.endswith(".parquet") and "/" in k}

    assert parts(again.folder) == parts(batch)


def test_rerun_reproduces_every_run_of_a_batch(batch: Path) -> None:
    runs = load_results(batch).runs
    for run_id in runs["run_id"]:
        report = rerun(batch, run_id)
        assert report.identical, report.differences
        assert any(c.startswith("timeseries/") for c in report.compared)
        assert any(c.startswith("summary") for c in report.compared)
    detailed = rerun(batch, runs["run_id"].iloc[0])  # replicate 0 keeps the detail tables
    assert {c.split("/")[0] for c in detailed.compared} >= {"stakeholders", "network"}


def test_rerun_reproduces_sweep_points(sweep: Path) -> None:
    runs = load_results(sweep).runs
    assert runs["listed"].nunique() == 2
    for run_id in runs["run_id"].iloc[::3]:
        assert rerun(sweep, run_id).identical
    result = runner.invoke(app, ["rerun", str(sweep), "--run-id", runs["run_id"].iloc[-1]])
    assert result.exit_code == 0 and "reproduced bit for bit" in result.stdout


def test_rerun_finds_a_changed_value(copy_of: Path) -> None:
    run_id = load_results(copy_of).runs["run_id"].iloc[1]
    part = copy_of / "timeseries" / "part-000.parquet"
    frame = pd.read_parquet(part)
    row = frame.index[frame["run_id"] == run_id][5]
    frame.loc[row, "fines_value_usd"] = frame.loc[row, "fines_value_usd"] + 1e-9
    frame.to_parquet(part, index=False)
    result = runner.invoke(app, ["rerun", str(copy_of), "--run-id", run_id])
    assert result.exit_code == 1
    assert "differs: timeseries/part-000.parquet: fines_value_usd: row 5" in result.stderr


def test_rerun_finds_a_changed_scenario(copy_of: Path) -> None:
    data = manifest(copy_of)
    data["resolved_scenarios"]["thaw"]["months"] = 13
    (copy_of / "manifest.json").write_text(json.dumps(data))
    run_id = load_results(copy_of).runs.set_index("scenario").loc["thaw", "run_id"].iloc[0]
    report = rerun(copy_of, run_id)
    assert not report.identical and "scenario hash" in report.differences[0]


def test_first_difference_compares_bits() -> None:
    a = pd.DataFrame({"x": [0.0, 1.0], "n": [1, 2]})
    assert first_difference(a, a.copy()) is None
    assert first_difference(a, a.assign(x=[-0.0, 1.0])) == "x: row 0: stored 0.0, rerun -0.0"
    assert "n: stored type int64" in (first_difference(a, a.assign(n=[1.0, 2.0])) or "")
    assert "columns differ" in (first_difference(a, a[["n", "x"]]) or "")
