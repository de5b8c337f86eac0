"""Command groups of the ``sim`` CLI (the terminal side); each module defines ``register(app)``."""
