"""The schema of sweep files (pydantic, unknown keys refused) and its error messages.

See :mod:`sim.experiments.sweep` for what a sweep file holds and how its design is drawn.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.errors import ScenarioError
from sim.scenario.fields import suggest_path
from sim.scenario.params import ListTuple
from sim.scenario.schema_errors import expected_values, explain, value_error_message
from sim.scenario.yamlio import LineMap, field_line

Level = bool | int | float | str
MAX_DESIGN_POINTS = 1_000_000
MAX_RUNS = 10_000_000
MAX_CSV_BYTES = 20_000_000
DESIGN_KINDS = ("grid", "lhs", "sobol", "morris", "csv")
RESERVED = (
    "run_id",
    "scenario",
    "scenario_hash",
    "point_id",
    "replicate",
    "seed",
    "status",
    "error",
    "wall_s",
    "date",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class ParameterSpec(_Strict):
    """One varied parameter: a scenario field and its levels or range."""

    path: str = Field(min_length=1, description="Scenario field path, as for --set.")
    levels: list[Level] | None = Field(None, min_length=1, description="Values to use.")
    range: Annotated[tuple[float, float], ListTuple] | None = Field(
        None, description="Lowest and highest value."
    )
    n: int | None = Field(None, ge=1, le=10_000, description="Grid points over the range.")
    distribution: Literal["uniform", "loguniform"] = "uniform"

    @model_validator(mode="after")
    def _one_source(self) -> ParameterSpec:
        if self.levels is not None and self.range is not None:
            raise ValueError("levels: give either levels or range, not both")
        if self.levels is not None and len({json.dumps(v) for v in self.levels}) < len(self.levels):
            raise ValueError(f"levels: values must be distinct, given {self.levels}")
        if self.range is not None:
            lo, hi = self.range
            if not lo < hi:
                raise ValueError(
                    f"range: must be [lowest, highest] with lowest < highest, given [{lo}, {hi}]"
                )
            if self.distribution == "loguniform" and lo <= 0:
                raise ValueError(f"range: a loguniform range must be above 0, given [{lo}, {hi}]")
        if self.n is not None and self.range is None:
            raise ValueError("n: only a range takes n (grid points)")
        return self


class DesignSpec(_Strict):
    """The experimental design."""

    kind: Literal["grid", "lhs", "sobol", "morris", "csv"]
    samples: int | None = Field(None, ge=1, le=1_000_000, description="Points, trajectories or N.")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="Seed of the design's random draws.")
    second_order: bool = Field(False, description="sobol: also allow second-order indices.")
    saltelli: bool = Field(True, description="sobol: SALib's Saltelli scheme (else qmc.Sobol).")
    num_levels: int = Field(4, ge=2, le=100, description="morris: grid levels.")
    file: str | None = Field(None, description="csv: file of points, relative to the sweep file.")

    @model_validator(mode="after")
    def _fits_kind(self) -> DesignSpec:
        needs_samples = self.kind in ("lhs", "sobol", "morris")
        if needs_samples and self.samples is None:
            raise ValueError(f"samples: a {self.kind} design needs samples")
        if self.kind == "sobol" and self.samples and self.samples & (self.samples - 1):
            raise ValueError(f"samples: a sobol design needs a power of 2, given {self.samples}")
        if self.kind == "csv" and not self.file:
            raise ValueError("file: a csv design needs file (a CSV of points)")
        if self.kind != "csv" and self.file:
            raise ValueError(f"file: only a csv design takes file, given kind {self.kind}")
        return self


class SweepSpec(_Strict):
    """A sweep file, validated."""

    model_config = ConfigDict(populate_by_name=True)

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    base: str = Field(min_length=1, description="Base scenario: a name or a file.")
    overrides: list[str] = Field(default_factory=list, alias="set")
    parameters: dict[str, ParameterSpec] = Field(min_length=1)
    design: DesignSpec
    replicates: int = Field(10, ge=1, le=100_000)
    outcomes: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> SweepSpec:
        for name, p in self.parameters.items():
            if not name.isidentifier() or name in RESERVED:
                raise ValueError(
                    f"parameters.{name}: a parameter name must be an identifier "
                    f"other than {', '.join(RESERVED)}"
                )
            if self.design.kind != "csv" and p.levels is None and p.range is None:
                raise ValueError(f"parameters.{name}: give levels or range")
            if self.design.kind == "grid" and p.range is not None and p.n is None:
                raise ValueError(f"parameters.{name}.n: a range in a grid design needs n")
        return self


def validation_error(
    exc: ValidationError, file: str, lines: LineMap, raw: Any = None
) -> ScenarioError:
    """Turn the first pydantic error of a sweep file into a located one-line ScenarioError.

    Args:
        exc: The pydantic error.
        file: The sweep file.
        lines: Its line map.
        raw: The data that failed (to describe what a field allows).

    Returns:
        The error to raise.
    """
    err = exc.errors(include_url=False)[0]
    loc = [f"[{p}]" if isinstance(p, int) else str(p) for p in err["loc"]]
    field = ".".join(loc).replace(".[", "[")
    kind = err["type"]
    if kind == "extra_forbidden":
        parent = SweepSpec if len(loc) == 1 else DesignSpec if loc[0] == "design" else ParameterSpec
        allowed = [f.alias or n for n, f in parent.model_fields.items()]
        message = f"unknown field{suggest_path(loc[-1], allowed)}; allowed: {', '.join(allowed)}"
    elif kind == "missing":
        expected = expected_values(err["loc"], raw, SweepSpec)
        message = "required field is missing" + (f"; allowed: {expected}" if expected else "")
    elif kind == "value_error":
        field, message = value_error_message(err, field)
    else:
        message = explain(err, raw, SweepSpec)
    return ScenarioError(message, file=file, field=field or None, line=field_line(field, lines))


def design_size(spec: SweepSpec) -> int | None:
    """Return the number of points a sweep's design will have, without drawing it.

    Args:
        spec: The validated sweep file.

    Returns:
        The number of points (at most; integer grids drop repeated values), or ``None`` for a
        csv design (its rows).
    """
    d, k = spec.design, len(spec.parameters)
    samples = d.samples or 1
    if d.kind == "grid":
        return math.prod(len(p.levels) if p.levels is not None else (p.n or 2)
                         for p in spec.parameters.values())  # fmt: skip
    if d.kind == "lhs" or (d.kind == "sobol" and not d.saltelli):
        return samples
    if d.kind == "sobol":
        return samples * (2 * k + 2 if d.second_order else k + 2)
    if d.kind == "morris":
        return samples * (k + 1)
    return None


def check_size(n_points: int, replicates: int, file: str, lines: LineMap) -> None:
    """Refuse a design or a sweep too large to plan (before anything is drawn or run).

    Args:
        n_points: Points of the design.
        replicates: Runs per point.
        file: The sweep file, for messages.
        lines: Its line map.

    Raises:
        ScenarioError: When the design has more than :data:`MAX_DESIGN_POINTS` points, or the
            sweep more than :data:`MAX_RUNS` runs.
    """
    if n_points > MAX_DESIGN_POINTS:
        raise ScenarioError(
            f"the design has {n_points} points; allowed: at most {MAX_DESIGN_POINTS} "
            "(fewer levels, grid points or samples)",
            file=file, field="design", line=lines.get("design"),
        )  # fmt: skip
    if n_points * replicates > MAX_RUNS:
        raise ScenarioError(
            f"{n_points} points x {replicates} replicates is {n_points * replicates} runs; "
            f"allowed: at most {MAX_RUNS}",
            file=file, field="replicates", line=lines.get("replicates"),
        )  # fmt: skip


def resolve_reference(sweep_file: Path, ref: str, field: str, lines: LineMap) -> Path:
    """Return a file a sweep file names, which must be inside the sweep file's folder.

    Args:
        sweep_file: The sweep file.
        ref: The name as written, relative to the sweep file's folder.
        field: The field it was given in, for messages.
        lines: The sweep file's line map.

    Returns:
        The resolved file.

    Raises:
        ScenarioError: When the name is absolute, climbs out with ``..``, leads outside the
            folder through a link, or names no file.
    """
    where: dict[str, Any] = {"file": str(sweep_file), "field": field, "line": lines.get(field)}
    rel = Path(ref)
    if not ref.strip() or rel.is_absolute() or ".." in rel.parts or "\\" in ref or ref[0] == "~":
        raise ScenarioError(
            f"{ref!r} is not allowed; allowed: a file in the sweep file's folder or below it, "
            "named relative to it without '..' (e.g. points.csv)",
            **where,
        )
    root = sweep_file.parent.resolve()
    target = (root / rel).resolve()
    if not target.is_relative_to(root):
        raise ScenarioError(
            f"{ref!r} leads outside the sweep file's folder (through a link); allowed: files "
            "inside it",
            **where,
        )
    if not target.is_file():
        raise ScenarioError(f"no such file {ref!r}; allowed: a file in {root}", **where)
    return target
