"""``sim levers`` end to end: the table, levers.parquet, the tornado chart, resume and the report.

One small study (two seeds, a short crackdown, three levers) runs in-process through typer's
CliRunner; ``sim report``, ``sim verify`` and ``sim rerun`` then read its folder. Bad input is
refused with one line and exit code 2.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from PIL import Image
from typer.testing import CliRunner

from sim.analysis.levers import EFFECTS_FILE, EFFECTS_SCHEMA
from sim.cli import app

runner = CliRunner()
ARGS = ("crackdown", "--seeds", "2", "--months", "12", "--lever", "capacity", "--lever",
        "fine_rate", "--lever", "blocked_share", "--workers", "1")  # fmt: skip


def invoke(*args: str) -> tuple[int, str, str]:
    """Run ``sim ARGS`` in-process; return exit code, stdout and stderr."""
    result = runner.invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("cli") / "study"
    code, stdout, stderr = invoke("levers", *ARGS, "--out", str(out))
    assert code == 0, stdout + stderr
    return out, stdout


def test_prints_the_lever_table(study: tuple[Path, str]) -> None:
    _, stdout = study
    for text in ("capacity", "fine_rate", "verdict", "step down", "step up",
                 "dead levers", "n/a", "10/10 runs done"):  # fmt: skip
        assert text in stdout, text


def test_writes_levers_parquet_and_the_tornado(study: tuple[Path, str]) -> None:
    out, _ = study
    assert pq.read_schema(out / EFFECTS_FILE).names == EFFECTS_SCHEMA.names
    png = out / "figures" / "tornado.png"
    with Image.open(png) as image:
        assert image.format == "PNG" and image.width >= 1500 and image.height >= 600


def test_running_again_resumes(study: tuple[Path, str]) -> None:
    out, _ = study
    code, stdout, stderr = invoke("levers", *ARGS, "--out", str(out), "--quiet")
    assert code == 0, stdout + stderr
    assert "(10 done before)" in stdout


def test_report_includes_the_tornado_and_the_table(study: tuple[Path, str]) -> None:
    out, _ = study
    code, stdout, stderr = invoke("report", str(out))
    assert code == 0, stdout + stderr
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="fig-tornado"' in html and "data:image/png;base64," in html
    assert "Levers: change of the expected outcomes" in html and "capacity" in html


def test_verify_and_rerun_read_a_lever_study(study: tuple[Path, str]) -> None:
    out, _ = study
    code, stdout, stderr = invoke("verify", str(out))
    assert code == 0, stdout + stderr
    runs = pq.read_table(out / "runs.parquet").to_pandas()
    variant = runs.loc[runs["lever"] == "capacity", "run_id"].iloc[-1]
    code, stdout, stderr = invoke("rerun", str(out), "--run-id", str(variant))
    assert code == 0, stdout + stderr


@pytest.mark.parametrize(("args", "text"), [
    (("crackdown", "--lever", "fine_rates"), "did you mean 'fine_rate'"),
    (("no_such_scenario",), "no_such_scenario"),
    (("crackdown", "--set", "regulators.XYZ.fine_rate=0.1"), "XYZ"),
])  # fmt: skip
def test_bad_input_is_one_line(args: tuple[str, ...], text: str, tmp_path: Path) -> None:
    code, stdout, stderr = invoke("levers", *args, "--out", str(tmp_path / "o"))
    lines = stderr.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), stdout + stderr
    assert text in lines[0]
    assert not (tmp_path / "o").exists()


def test_too_few_seeds_is_a_usage_error(tmp_path: Path) -> None:
    code, _, stderr = invoke("levers", "crackdown", "--seeds", "1", "--out", str(tmp_path / "o"))
    assert code == 2 and stderr.startswith("error: --seeds:") and len(stderr.splitlines()) == 1
