"""What a new user meets in the first hour of the command line.

One-line errors, output paths checked first, honest help, tables that fit an 80-column terminal,
labelled run summaries and one scenario name everywhere.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "option"),
    [(("--replicates", "-1"), "--replicates"), (("--workers", "0"), "--workers")],
)
def test_option_parser_errors_are_one_error_line(args: tuple[str, ...], option: str,
                                                 tmp_path: Path) -> None:  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "sim", "batch", "crackdown", *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"error: {option}: ") and "sim batch --help" in lines[0]
