"""Benchmarks of policysim: ``python -m benchmarks [--quick] [--out FILE.json]``.

Nothing is imported or measured at import time; see ``benchmarks/__main__.py``.
"""
