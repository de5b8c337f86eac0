"""Settings for the dashboard tests."""

from __future__ import annotations

import os

# Mesa's SolaraViz trips Solara's linter of hook rules (a warning at import); the dashboard's
# server turns it off the same way.
os.environ.setdefault("SOLARA_CHECK_HOOKS", "off")
