"""Connectors: policysim as a model of other tools (EMA Workbench in :mod:`sim.connectors.ema`).

Each connector lives in its own module and needs its tool's optional extra; importing this
package imports none of them.
"""

__all__: list[str] = []
