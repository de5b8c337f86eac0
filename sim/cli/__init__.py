"""The ``sim`` command line: one module per command group, registered by :mod:`sim.cli.app`."""

from sim.cli.app import app, main

__all__ = ["app", "main"]
