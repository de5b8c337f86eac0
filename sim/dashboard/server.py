"""Starting and stopping the dashboard's Solara server.

The page (:mod:`sim.dashboard.app`) is served by ``solara run`` in a child process, in production
mode (no file watching), on one host and port. The scenario it opens with is passed in the
environment. Nothing here imports Solara, so the CLI can tell a user without the ``viz`` extra
what to install.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from sim.errors import PolicysimError
from sim.experiments.lifetime import end_with_parent

log = logging.getLogger(__name__)

APP_MODULE = "sim.dashboard.app"
ENV_SCENARIO = "POLICYSIM_DASHBOARD_SCENARIO"
VIZ_PACKAGES: tuple[str, ...] = ("solara", "altair", "matplotlib")
"""Modules Mesa's visualization needs (the ``viz`` extra installs them)."""

VIZ_HINT = "the dashboard needs the viz extra: pip install -e '.[viz]'"


class DashboardError(PolicysimError):
    """The dashboard cannot start (missing extra, port in use, server exited)."""


def missing_viz_packages() -> list[str]:
    """Return the modules of the ``viz`` extra that are not installed."""
    return [name for name in VIZ_PACKAGES if importlib.util.find_spec(name) is None]


def check_viz_installed() -> None:
    """Raise :class:`DashboardError` with the install hint when the ``viz`` extra is missing."""
    if missing_viz_packages():
        raise DashboardError(VIZ_HINT)


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free on ``host`` now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_in_use(host: str, port: int) -> bool:
    """Tell whether something already listens on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def server_command(host: str, port: int) -> list[str]:
    """Return the command that serves the dashboard on ``host:port``."""
    return [
        sys.executable, "-m", "solara", "run", APP_MODULE, "--host", host, "--port", str(port),
        "--production", "--no-open", "--log-level", "warning",
    ]  # fmt: skip


def server_environment(scenario: str, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return the server's environment: the scenario to open, no telemetry, no CDN waits.

    Args:
        scenario: Scenario name or YAML path (a path is made absolute).
        base: The environment to start from [default: this process's].

    Returns:
        The environment.
    """
    env = dict(os.environ if base is None else base)
    path = Path(scenario)
    is_path = path.suffix in {".yaml", ".yml"} or os.sep in scenario
    env[ENV_SCENARIO] = str(path.resolve()) if is_path else scenario
    env.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "false")
    env.setdefault("MPLBACKEND", "Agg")
    env.setdefault("SOLARA_CHECK_HOOKS", "off")  # Mesa's SolaraViz trips Solara's hook linter
    env.setdefault("PYTHONWARNINGS", "ignore:Cookies with samesite:UserWarning")
    return env


def start_server(
    *,
    host: str,
    port: int,
    scenario: str,
    cwd: Path | None = None,
    log_file: IO[bytes] | None = None,
) -> subprocess.Popen[bytes]:
    """Start the dashboard server in a child process.

    Args:
        host: Interface to listen on.
        port: Port to listen on.
        scenario: Scenario name or YAML path the page opens with.
        cwd: Working folder of the server (where "Save results" writes ``results/``).
        log_file: Where the server's output goes [default: this process's terminal].

    Returns:
        The running process.

    Raises:
        DashboardError: When the port is taken or the viz extra is missing.
    """
    check_viz_installed()
    if port_in_use(host, port):
        raise DashboardError(f"port {port} on {host} is already in use; choose another: --port N")
    command = server_command(host, port)
    log.info("starting %s", " ".join(command))
    return subprocess.Popen(
        command,
        cwd=cwd,
        env=server_environment(scenario),
        stdout=log_file,
        stderr=subprocess.STDOUT if log_file is not None else None,
        preexec_fn=end_with_parent,  # the server ends with this process, even when it is killed
    )


def wait_until_ready(url: str, process: subprocess.Popen[bytes], timeout_s: float = 120.0) -> None:
    """Wait until the server answers ``url``.

    Args:
        url: The page's address.
        process: The server process.
        timeout_s: Longest wait, seconds.

    Raises:
        DashboardError: When the server exits or does not answer in time.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DashboardError(f"the dashboard server exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise DashboardError(f"the dashboard server did not answer {url} within {timeout_s:.0f} s")


def stop_server(process: subprocess.Popen[bytes], timeout_s: float = 10.0) -> None:
    """Stop the server: terminate, then kill if it has not exited within ``timeout_s``."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        process.wait(timeout=timeout_s)
