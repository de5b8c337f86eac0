"""The interactive dashboard: explore a scenario in the browser with Mesa's SolaraViz.

Needs the ``viz`` extra (``pip install -e '.[viz]'``); start it with ``sim dashboard``. The page
lives in :mod:`sim.dashboard.app`, its components in :mod:`sim.dashboard.components`, the mapping
from the scenario schema to its controls in :mod:`sim.dashboard.params_ui` and the model it steps
in :mod:`sim.dashboard.live`. Importing this package imports neither Solara nor Mesa's
visualization.
"""

from sim.dashboard.live import DashboardModel

__all__ = ["DashboardModel"]
