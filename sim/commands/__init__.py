"""Command groups of the ``sim`` CLI; each module defines ``register(app)``."""
