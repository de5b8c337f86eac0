"""Stage 3, results on disk: layout, atomic writes, provenance, loading and verification."""

from sim.results.load import Results, load_results
from sim.results.run_files import write_run
from sim.results.verify import Verification, verify_folder

__all__ = [
    "Results",
    "Verification",
    "load_results",
    "verify_folder",
    "write_run",
]
