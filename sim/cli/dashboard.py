"""``sim dashboard``: explore a scenario in the browser with Mesa's SolaraViz (``viz`` extra)."""

from __future__ import annotations

import signal
from typing import Annotated

import typer

from sim.cli.common import console, handle_errors

DEFAULT_PORT = 8765
DEFAULT_HOST = "127.0.0.1"


def _interrupt(signum: int, frame: object) -> None:
    """Turn SIGTERM into the KeyboardInterrupt that stops the server and frees the port."""
    raise KeyboardInterrupt


@handle_errors
def dashboard_cmd(
    scenario: Annotated[
        str, typer.Option(help="Scenario name or YAML file the page opens with.")
    ] = "crackdown",
    port: Annotated[
        int, typer.Option(help="Port to serve the page on.", min=1, max=65535)
    ] = DEFAULT_PORT,
    host: Annotated[
        str, typer.Option(help="Interface to listen on (0.0.0.0 for every interface).")
    ] = DEFAULT_HOST,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Only print the address.")
    ] = False,
) -> None:
    """Explore a scenario in the browser: parameters, step/play/reset, live charts, save."""
    import webbrowser

    from sim.dashboard.server import (
        DashboardError,
        check_viz_installed,
        start_server,
        stop_server,
        wait_until_ready,
    )
    from sim.scenario.loader import load_scenario

    check_viz_installed()
    load_scenario(scenario)  # a bad scenario fails here, with the usual one-line error
    shown_host = "localhost" if host in ("127.0.0.1", "localhost") else host
    url = f"http://{shown_host}:{port}"
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops the server too, like Ctrl-C
    process = start_server(host=host, port=port, scenario=scenario)
    try:
        wait_until_ready(f"http://{host}:{port}/", process)
        console.print(f"policysim dashboard: {url}  (Ctrl-C to stop)", markup=False,
                      highlight=False)  # fmt: skip
        if not no_browser:
            webbrowser.open(url)
        code = process.wait()
        if code != 0:
            raise DashboardError(f"the dashboard server exited with code {code}")
    except KeyboardInterrupt:
        console.print("dashboard stopped", markup=False, highlight=False)
    finally:
        stop_server(process)


def register(app: typer.Typer) -> None:
    """Add the ``dashboard`` command to the CLI."""
    app.command("dashboard")(dashboard_cmd)
