"""``sim dashboard``: its options, its one-line errors and serving the page until Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.dashboard.server import (
    ENV_SCENARIO,
    VIZ_HINT,
    free_port,
    missing_viz_packages,
    server_command,
    server_environment,
)
from tests.processes import HAS_PROC, descendants, port_free, still_running

runner = CliRunner()


def test_help_lists_the_options() -> None:
    result = runner.invoke(app, ["dashboard", "--help"])
    assert result.exit_code == 0
    for option in ("--port", "--scenario", "--host", "--no-browser"):
        assert option in result.output
    assert "8765" in result.output


def test_without_the_viz_extra_it_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "solara", None)  # as if solara were not installed
    assert "solara" in missing_viz_packages()
    result = runner.invoke(app, ["dashboard", "--no-browser"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [f"error: {VIZ_HINT}"]


def test_a_bad_scenario_fails_before_any_server_starts() -> None:
    pytest.importorskip("solara", reason="the dashboard needs the viz extra")
    result = runner.invoke(app, ["dashboard", "--scenario", "nope", "--no-browser"])
    assert result.exit_code == 2
    assert result.output.startswith("error: unknown scenario 'nope'")


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A local port something already listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield int(sock.getsockname()[1])


def test_a_busy_port_is_refused(busy_port: int) -> None:
    pytest.importorskip("solara", reason="the dashboard needs the viz extra")
    result = runner.invoke(app, ["dashboard", "--port", str(busy_port), "--no-browser"])
    assert result.exit_code == 2
    assert f"port {busy_port} on 127.0.0.1 is already in use" in result.output


def test_the_server_opens_a_name_or_an_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert server_environment("thaw", {})[ENV_SCENARIO] == "thaw"
    env = server_environment("mine/file.yaml", {})
    assert env[ENV_SCENARIO] == str(tmp_path / "mine" / "file.yaml")
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "false"
    command = server_command("127.0.0.1", 8765)
    assert command[:4] == [sys.executable, "-m", "solara", "run"]
    assert "--production" in command and "8765" in command


def test_sim_dashboard_serves_the_page_until_interrupted(tmp_path: Path) -> None:
    pytest.importorskip("solara", reason="the dashboard needs the viz extra")
    port = free_port()
    log = (tmp_path / "out.txt").open("w+b")
    process = subprocess.Popen(
        [sys.executable, "-m", "sim", "dashboard", "--port", str(port), "--no-browser"],
        cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        address = f"policysim dashboard: http://localhost:{port}"
        deadline = time.monotonic() + 120
        while address not in (tmp_path / "out.txt").read_text(errors="replace"):
            assert process.poll() is None, (tmp_path / "out.txt").read_text(errors="replace")
            assert time.monotonic() < deadline, "no address printed"
            time.sleep(0.3)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as response:
            assert response.status == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        with socket.socket() as sock:  # the server stopped with it
            assert sock.connect_ex(("127.0.0.1", port)) != 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()


def _start_dashboard(tmp_path: Path) -> tuple[subprocess.Popen[bytes], int, Path]:
    """Start ``sim dashboard`` and wait until it prints its address."""
    port = free_port()
    out = tmp_path / "out.txt"
    process = subprocess.Popen(
        [sys.executable, "-m", "sim", "dashboard", "--port", str(port), "--no-browser"],
        cwd=tmp_path, stdout=out.open("wb"), stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while f"http://localhost:{port}" not in out.read_text(errors="replace"):
        assert process.poll() is None, out.read_text(errors="replace")
        assert time.monotonic() < deadline, "no address printed"
        time.sleep(0.3)
    return process, port, out


@pytest.mark.skipif(not HAS_PROC, reason="reads the Linux process table")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_the_server_ends_with_sim_dashboard(sig: signal.Signals, tmp_path: Path) -> None:
    pytest.importorskip("solara", reason="the dashboard needs the viz extra")
    process, port, out = _start_dashboard(tmp_path)
    servers = descendants(process.pid)
    try:
        assert servers, "no server process found"
        process.send_signal(sig)
        process.wait(timeout=60)
        deadline = time.monotonic() + 60
        while still_running(servers) or not port_free(port):
            assert time.monotonic() < deadline, (still_running(servers), port_free(port),
                                                 out.read_text(errors="replace"))  # fmt: skip
            time.sleep(0.2)
        if sig == signal.SIGTERM:
            assert "dashboard stopped" in out.read_text(errors="replace")
    finally:
        if process.poll() is None:
            process.kill()
        for pid in still_running(servers):
            os.kill(pid, signal.SIGKILL)
