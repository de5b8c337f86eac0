"""The free-parameters file: which behavioural parameters ``sim calibrate`` fits, and how.

``sim/data/free_parameters.yaml`` names each free parameter (a ``GROUP.NAME`` path into
:class:`sim.scenario.params.Params`, bounds inside the schema's bounds, a rationale), the targets
held out of the loss, the seeds of the fit and of the held-out check, and the weights of the loss.
See :mod:`sim.analysis.calibration`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from annotated_types import Ge, Le
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.analysis.targets import TargetSet, load_data_file
from sim.errors import ScenarioError
from sim.scenario.loader import DATA_DIR
from sim.scenario.params import Params

FREE_FILE = DATA_DIR / "free_parameters.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def schema_bounds(path: str) -> tuple[float, float]:
    """Return the schema's bounds of a behavioural parameter ``GROUP.NAME``.

    Raises:
        ValueError: When the path names no float parameter of :class:`sim.scenario.params.Params`.
    """
    group, _, name = path.partition(".")
    groups = Params.model_fields
    if group not in groups or not name:
        raise ValueError(f"path: must be GROUP.NAME with GROUP one of {', '.join(groups)}, "
                         f"given {path!r}")  # fmt: skip
    model = groups[group].annotation
    fields = getattr(model, "model_fields", {})
    if name not in fields or fields[name].annotation is not float:
        floats = [k for k, f in fields.items() if f.annotation is float]
        raise ValueError(f"path: {group} has no float parameter {name!r}; allowed: "
                         f"{', '.join(floats)}")  # fmt: skip
    lo, hi = -np.inf, np.inf
    for meta in fields[name].metadata:
        if isinstance(meta, Ge):
            lo = float(meta.ge)  # type: ignore[arg-type]
        elif isinstance(meta, Le):
            hi = float(meta.le)  # type: ignore[arg-type]
    return lo, hi


class FreeParameter(_Strict):
    """One free parameter."""

    path: str = Field(description="GROUP.NAME of sim.scenario.params.Params.")
    bounds: tuple[float, float] = Field(description="Lowest and highest value the fit may try.")
    rationale: str = Field(min_length=1, description="Why it is free and what it moves.")

    @model_validator(mode="after")
    def _inside_schema(self) -> FreeParameter:
        lo, hi = self.bounds
        if not lo < hi:
            raise ValueError(f"bounds: must be [low, high] with low < high, given [{lo}, {hi}]")
        s_lo, s_hi = schema_bounds(self.path)
        if lo < s_lo or hi > s_hi:
            raise ValueError(f"bounds: must lie within the schema's [{s_lo}, {s_hi}] for "
                             f"{self.path}, given [{lo}, {hi}]")  # fmt: skip
        return self


class SeedPlan(_Strict):
    """Seeds of the fit and of the held-out check."""

    master: int = Field(0, ge=0, description="Master seed (SeedSequence(master).spawn).")
    fit: int = Field(16, ge=1, le=10_000, description="Seeds the loss is computed on.")
    holdout: int = Field(48, ge=1, le=100_000, description="Further seeds for the check.")


class LossSpec(_Strict):
    """Weights of the two terms of the loss."""

    pass_weight: float = Field(1.0, ge=0.0)
    magnitude_weight: float = Field(1.0, ge=0.0)


class CalibrationSpec(_Strict):
    """The free-parameters file."""

    parameters: dict[str, FreeParameter] = Field(min_length=1)
    held_out: list[str] = Field(default_factory=list)
    seeds: SeedPlan = Field(default_factory=SeedPlan)
    loss: LossSpec = Field(default_factory=LossSpec)

    @property
    def names(self) -> list[str]:
        """The parameters' names, in file order."""
        return list(self.parameters)

    @property
    def bounds(self) -> list[tuple[float, float]]:
        """The parameters' bounds, in file order."""
        return [p.bounds for p in self.parameters.values()]

    def overrides(self, x: np.ndarray | list[float]) -> list[str]:
        """Return ``params.GROUP.NAME=value`` overrides for the values ``x``."""
        return [f"params.{p.path}={float(v)!r}"
                for p, v in zip(self.parameters.values(), x, strict=True)]  # fmt: skip

    def current(self, targets: TargetSet) -> np.ndarray:
        """Return the current values in the targets' scenario (defaults or calibration file)."""
        from sim.scenario.loader import load_scenario

        params = load_scenario(targets.scenario).params
        values = []
        for p in self.parameters.values():
            group, name = p.path.split(".")
            values.append(float(getattr(getattr(params, group), name)))
        return np.array(values)


def load_free_parameters(path: str | Path | None = None, targets: TargetSet | None = None
                         ) -> CalibrationSpec:  # fmt: skip
    """Read and check a free-parameters file.

    Args:
        path: The YAML file (default: the shipped ``sim/data/free_parameters.yaml``).
        targets: When given, ``held_out`` must name targets in it.

    Returns:
        The calibration specification.

    Raises:
        ScenarioError: When the file is missing or a field is invalid (file, line, field).
    """
    file = Path(path) if path is not None else FREE_FILE
    spec, lines = load_data_file(file, CalibrationSpec, "free-parameters")
    if targets is not None:
        for i, name in enumerate(spec.held_out):
            if name not in targets.targets:
                raise ScenarioError(
                    f"unknown target {name!r}; allowed: {', '.join(targets.targets)}",
                    file=str(file), field=f"held_out[{i}]", line=lines.get("held_out"),
                )  # fmt: skip
    return spec
