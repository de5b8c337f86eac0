"""Drawing free parameters from a calibration's posterior (``sim batch --posterior``).

``sim calibrate`` writes ``posterior.parquet`` into its folder: one row per particle, a column per
free parameter, ``weight`` (summing to 1) and, in the folder's ``manifest.json``, each parameter's
``GROUP.NAME`` path. :func:`draw_particles` picks particles by weight with a generator seeded
from the master seed, so the same master seed draws the same particles.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import ScenarioError
from sim.experiments.seeds import POSTERIOR_STREAM, derived_seed

POSTERIOR_FILE = "posterior.parquet"
MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True)
class Posterior:
    """A calibration's posterior particles.

    Attributes:
        particles: One row per particle: a column per parameter and ``weight``.
        paths: Parameter name to its ``GROUP.NAME`` path in the scenario's ``params``.
        folder: Where it was read from.
    """

    particles: pd.DataFrame
    paths: dict[str, str]
    folder: Path

    def overrides(self, row: int) -> list[str]:
        """Return the ``params.GROUP.NAME=value`` overrides of particle ``row``."""
        values = self.particles.iloc[row]
        return [f"params.{path}={float(values[name])!r}" for name, path in self.paths.items()]


def load_posterior(folder: str | Path) -> Posterior:
    """Read the posterior of a ``sim calibrate`` folder.

    Args:
        folder: The calibration folder.

    Returns:
        The posterior.

    Raises:
        ScenarioError: When the folder holds no finished calibration or its files disagree.
    """
    path = Path(folder)
    file, manifest_file = path / POSTERIOR_FILE, path / MANIFEST_FILE
    if not file.is_file() or not manifest_file.is_file():
        raise ScenarioError(f"--posterior: {path} holds no finished calibration (no "
                            f"{POSTERIOR_FILE} and {MANIFEST_FILE})")  # fmt: skip
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    paths = {name: p["path"] for name, p in manifest.get("parameters", {}).items()}
    particles = pd.read_parquet(file)
    missing = [c for c in [*paths, "weight"] if c not in particles.columns]
    if not paths or missing:
        raise ScenarioError(f"--posterior: {file} lacks the columns {', '.join(missing) or '?'} "
                            "its manifest names")  # fmt: skip
    return Posterior(particles, paths, path)


def draw_particles(weights: np.ndarray | pd.Series, n: int, master: int, stream: int) -> np.ndarray:
    """Draw ``n`` particle rows by weight, with replacement, seeded from the master seed.

    Args:
        weights: The particles' weights (normalised here).
        n: Draws.
        master: The master seed.
        stream: The purpose of the draws (see :mod:`sim.experiments.plan`).

    Returns:
        Row positions, one per draw.

    Example:
        >>> draw_particles(np.array([0.0, 1.0]), 3, master=0, stream=3).tolist()
        [1, 1, 1]
    """
    w = np.asarray(weights, dtype=float)
    rng = np.random.default_rng(derived_seed(master, stream))
    return rng.choice(len(w), size=n, p=w / w.sum())


def replicate_draws(
    posterior: str | Path, replicates: int, seed: int
) -> list[tuple[tuple[str, ...], tuple[tuple[str, Any], ...]]]:
    """Return each replicate's overrides and recorded values, drawn from a posterior.

    Args:
        posterior: A ``sim calibrate`` folder.
        replicates: Draws, one per replicate.
        seed: The master seed (the draws use its posterior stream).

    Returns:
        Per replicate: the ``params.GROUP.NAME=value`` overrides, and the values recorded with
        the run (``particle`` first).
    """
    post = load_posterior(posterior)
    picks = draw_particles(post.particles["weight"], replicates, seed, POSTERIOR_STREAM)
    out = []
    for row in picks:
        values = post.particles.iloc[int(row)]
        particle = int(values["particle"]) if "particle" in values else int(row)
        params = (("particle", particle), *((n, float(values[n])) for n in post.paths))
        out.append((tuple(post.overrides(int(row))), params))
    return out
