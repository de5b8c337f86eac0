"""Batches started from a user's script: a script without the ``__main__`` guard, or from stdin.

Worker processes run only ``sim``'s code; they never run the user's script again. Each test
starts a real Python process, as a user does with ``python cmp.py``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = """\
from sim import run_batch

res = run_batch(["crackdown", "thaw"], replicates=2, seed=1, months=6, workers=2,
                executor="processes", out="cmp")
print("runs", len(res.runs), "failed", res.manifest["counts"]["failed"])
"""


def _python(
    tmp_path: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the interpreter in ``tmp_path``; return the finished process."""
    return subprocess.run([sys.executable, *args], cwd=tmp_path, input=stdin, text=True,
                          capture_output=True, timeout=300, check=False)  # fmt: skip


def test_a_script_without_the_main_guard_runs_a_parallel_batch(tmp_path: Path) -> None:
    (tmp_path / "cmp.py").write_text(SCRIPT, encoding="utf-8")
    done = _python(tmp_path, "cmp.py")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "runs 4 failed 0" in done.stdout
    assert "Traceback" not in done.stderr


def test_a_batch_piped_to_python_runs_on_worker_processes(tmp_path: Path) -> None:
    done = _python(tmp_path, "-", stdin=SCRIPT)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "runs 4 failed 0" in done.stdout
