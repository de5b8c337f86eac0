"""Sweep files: what a sweep varies and measures, declared as data, and its design.

A sweep file (YAML, like ``scenarios/sweeps/crackdown_intensity.yaml``) names a base scenario,
the parameters to vary (a scenario field path each, with ``levels`` or a ``range``), a design
and the outcomes to summarize::

    name: crackdown_intensity
    base: crackdown
    set: [months=48]                      # overrides applied to the base first (optional)
    parameters:
      peak_stringency: {path: timeline.stance_peak.platform_stringency, range: [0.5, 1.0], n: 4}
      samr_fine_rate: {path: regulators.SAMR.fine_rate, levels: [0.01, 0.03, 0.06]}
    design: {kind: grid}                  # grid | lhs | sobol | morris | csv
    replicates: 10
    outcomes: [peak_to_trough_loss_usd, total_fines_value_usd]

Designs: ``grid`` (every combination of levels, or ``n`` points per range); ``lhs``
(:class:`scipy.stats.qmc.LatinHypercube`, ``samples`` points); ``sobol`` (SALib's Saltelli
scheme, ``samples`` x (d + 2) points, or x (2d + 2) with ``second_order``, so that
``SALib.analyze.sobol`` can analyse the outcomes; with ``saltelli: false`` a plain
:class:`scipy.stats.qmc.Sobol` sequence of ``samples`` points); ``morris`` (SALib's Morris
trajectories, ``samples`` x (d + 1) points on ``num_levels`` levels); ``csv`` (one point per row
of ``file``, a path relative to the sweep file, one column per parameter). Ranges are sampled
uniformly, or uniformly in log space with ``distribution: loguniform``; integer fields give
integers. The file is checked against the base scenario before any run: a misspelt path, a
level out of range or an unknown outcome raises :class:`~sim.errors.ScenarioError`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from sim.errors import ScenarioError
from sim.experiments.sweep_schema import (
    MAX_CSV_BYTES,
    Level,
    ParameterSpec,
    SweepSpec,
    check_size,
    design_size,
    resolve_reference,
    validation_error,
)
from sim.model.metrics import numeric_outcomes
from sim.scenario.fields import suggest_path
from sim.scenario.loader import load_scenario, scenario_dict, with_overrides
from sim.scenario.overrides import format_override_value
from sim.scenario.schema import Scenario
from sim.scenario.search import find_scenario, scenario_dirs
from sim.scenario.yamlio import LineMap, field_line, read_yaml


@dataclass(frozen=True)
class Parameter:
    """A varied parameter, resolved against the base scenario.

    Attributes:
        name: Column name in the results.
        path: Scenario field path.
        type: ``int``, ``float``, ``str`` or ``bool``: the field's type.
        spec: The parameter as declared.
        levels: The declared levels converted to the field's type, or None for a range.
    """

    name: str
    path: str
    type: str
    spec: ParameterSpec
    levels: tuple[Level, ...] | None = None

    def grid_values(self) -> list[Level]:
        """Return the values of this parameter in a grid design."""
        if self.levels is not None:
            return list(self.levels)
        lo, hi = self.spec.range or (0.0, 1.0)
        n = self.spec.n or 2
        space = np.geomspace if self.spec.distribution == "loguniform" else np.linspace
        values = space(lo, hi, n)
        if self.type == "int":
            return list(dict.fromkeys(int(round(v)) for v in values))
        return [float(v) for v in values]

    def from_unit(self, u: np.ndarray) -> list[Level]:
        """Map values in [0, 1] to this parameter's levels or range."""
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        if self.levels is not None:
            k = len(self.levels)
            return [self.levels[i] for i in np.minimum((u * k).astype(int), k - 1)]
        lo, hi = self.spec.range or (0.0, 1.0)
        if self.type == "int":
            return [int(v) for v in np.minimum(lo + np.floor(u * (hi - lo + 1)), hi)]
        if self.spec.distribution == "loguniform":
            return [float(v) for v in np.exp(np.log(lo) + u * (np.log(hi) - np.log(lo)))]
        return [float(v) for v in lo + u * (hi - lo)]

    def describe(self) -> dict[str, Any]:
        """Return the parameter as the manifest records it."""
        out: dict[str, Any] = {"path": self.path, "type": self.type}
        if self.levels is not None:
            out["levels"] = list(self.levels)
        if self.spec.range is not None:
            out["bounds"] = list(self.spec.range)
            out["distribution"] = self.spec.distribution
        return out


@dataclass(frozen=True)
class Sweep:
    """A validated sweep file with its base scenario.

    Attributes:
        spec: The file's content, validated.
        file: Where it was read from.
        base: The base scenario, with the file's ``set`` and any extra overrides applied.
        parameters: The varied parameters, in file order.
        raw: The file's content as read (for the manifest).
    """

    spec: SweepSpec
    file: Path
    base: Scenario
    parameters: tuple[Parameter, ...]
    raw: dict[str, Any]

    @property
    def names(self) -> list[str]:
        """The parameter names, in file order."""
        return [p.name for p in self.parameters]

    def problem(self) -> dict[str, Any]:
        """Return the SALib problem (names and bounds; levels count as their index range)."""
        bounds = [
            list(p.spec.range) if p.spec.range else [0, len(p.spec.levels or [0]) - 1]
            for p in self.parameters
        ]
        return {"num_vars": len(self.parameters), "names": self.names, "bounds": bounds}

    def points(self) -> list[dict[str, Level]]:
        """Return the design's points, each a mapping of parameter name to value, in order."""
        d = self.spec.design
        params = self.parameters
        if d.kind == "grid":
            grids = np.meshgrid(*[np.arange(len(p.grid_values())) for p in params], indexing="ij")
            values = [p.grid_values() for p in params]
            idx = np.stack([g.ravel() for g in grids], axis=1)
            return [{p.name: values[j][row[j]] for j, p in enumerate(params)} for row in idx]
        if d.kind == "csv":
            return self._csv_points()
        unit = self._unit_sample()
        columns = [p.from_unit(unit[:, j]) for j, p in enumerate(params)]
        return [{p.name: columns[j][i] for j, p in enumerate(params)} for i in range(len(unit))]

    def _unit_sample(self) -> np.ndarray:
        """Draw the design in the unit hypercube with scipy.stats.qmc or SALib."""
        from scipy.stats import qmc

        d, n_vars = self.spec.design, len(self.parameters)
        n = d.samples or 1
        if d.kind == "lhs":
            return qmc.LatinHypercube(d=n_vars, rng=d.seed).random(n)
        if d.kind == "sobol" and not d.saltelli:
            return qmc.Sobol(d=n_vars, rng=d.seed).random(n)
        unit = {"num_vars": n_vars, "names": self.names, "bounds": [[0.0, 1.0]] * n_vars}
        if d.kind == "sobol":
            from SALib.sample import sobol

            return sobol.sample(unit, n, calc_second_order=d.second_order, seed=d.seed)
        from SALib.sample import morris

        return morris.sample(unit, n, num_levels=d.num_levels, seed=d.seed)

    def _csv_points(self) -> list[dict[str, Level]]:
        path = self.file.parent / (self.spec.design.file or "")
        try:
            if path.stat().st_size > MAX_CSV_BYTES:
                raise ValueError(f"larger than {MAX_CSV_BYTES} bytes")
            frame = pd.read_csv(path, encoding="utf-8")
        except (OSError, ValueError) as exc:  # UnicodeDecodeError and pandas' errors included
            reason = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else str(exc)
            raise ScenarioError(
                f"cannot be read as CSV ({reason}); allowed: UTF-8 CSV text with a header row",
                file=str(path), field="design.file",
            ) from None  # fmt: skip
        if sorted(frame.columns) != sorted(self.names):
            raise ScenarioError(
                f"{path} must have one column per parameter; allowed: {', '.join(self.names)}; "
                f"given: {', '.join(map(str, frame.columns))}",
                file=str(self.file),
                field="design.file",
            )
        if frame.empty or frame.isna().to_numpy().any():
            raise ScenarioError(
                f"{path} needs at least one row and no empty cells",
                file=str(self.file),
                field="design.file",
            )
        out = []
        for row in frame.to_dict("records"):
            out.append({p.name: _cast(row[p.name], p, str(path)) for p in self.parameters})
        return out

    def overrides(self, point: dict[str, Level]) -> list[str]:
        """Return the ``path=value`` overrides that set a point's values."""
        return [f"{p.path}={format_override_value(point[p.name])}" for p in self.parameters]


def _cast(value: Any, p: Parameter, where: str) -> Level:
    """Cast a CSV cell to the parameter's type, refusing what does not fit it."""
    truth = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}
    try:
        if p.type == "int" and float(value).is_integer():
            return int(float(value))
        if p.type == "float" and math.isfinite(float(value)):
            return float(value)
        if p.type == "bool" and str(value).strip().lower() in truth:
            return truth[str(value).strip().lower()]
        if p.type == "str":
            return str(value)
    except (TypeError, ValueError, OverflowError):
        pass
    allowed = {"int": "an integer", "float": "a finite number", "bool": "true or false"}[p.type]
    raise ScenarioError(
        f"column {p.name}: {value!r} is not allowed; allowed: {allowed}",
        file=where, field="design.file",
    )  # fmt: skip


def find_sweep(name_or_path: str | Path) -> Path:
    """Find a sweep file by path, or by name in the ``sweeps/`` folder of the scenario path.

    Raises:
        ScenarioError: When there is no such sweep; the message lists the known ones.
    """
    path = Path(name_or_path)
    if path.is_file():
        return path
    folders = [d / "sweeps" for d in scenario_dirs() if (d / "sweeps").is_dir()]
    for folder in folders if path.suffix == "" and len(path.parts) == 1 else []:
        if (folder / f"{path}.yaml").is_file():
            return folder / f"{path}.yaml"
    known = sorted({p.stem for f in folders for p in f.glob("*.yaml")})
    raise ScenarioError(
        f"no such sweep{suggest_path(str(name_or_path), known)}; "
        f"known: {', '.join(known) or 'none'}"
    )


def _field_type(base: Scenario, path: str) -> str | None:
    """Return the type of the value at ``path`` in the base scenario.

    Returns:
        ``bool``, ``int``, ``float`` or ``str``; ``group`` for a mapping or list; None when the
        path is not in the scenario.
    """
    node: Any = scenario_dict(base)
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    for kind in (bool, int, float, str):
        if isinstance(node, kind):
            return kind.__name__
    return "group"


def load_sweep(
    name_or_path: str | Path, overrides: list[str] | tuple[str, ...] = (), months: int | None = None
) -> Sweep:
    """Read and check a sweep file against its base scenario.

    Args:
        name_or_path: A sweep file, or a sweep name in ``scenarios/sweeps/``.
        overrides: Extra ``--set`` overrides applied to the base after the file's ``set``.
        months: Months to simulate (overrides the base scenario).

    Returns:
        The sweep.

    Raises:
        ScenarioError: On any invalid field, naming the file, field, allowed values and given.
    """
    path = find_sweep(name_or_path)
    file = str(path)
    raw, lines = read_yaml(path)
    if not isinstance(raw, dict):
        raise ScenarioError("a sweep file must be a mapping of fields", file=file)
    try:
        spec = SweepSpec.model_validate(raw, strict=True)  # no silent type conversion
    except ValidationError as exc:
        raise validation_error(exc, file, lines, raw) from None
    if spec.design.file is not None:  # files named in a sweep file stay inside its folder
        resolve_reference(path, spec.design.file, "design.file", lines)
    is_file = spec.base.endswith((".yaml", ".yml")) or any(c in spec.base for c in "/\\")
    extra = [*spec.overrides, *overrides, *([f"months={months}"] if months else [])]
    try:
        base_ref = resolve_reference(path, spec.base, "base", lines) if is_file else None
        base = load_scenario(base_ref or find_scenario(spec.base), extra)
    except ScenarioError as exc:
        raise ScenarioError(
            f"base scenario {spec.base!r}: {exc}", file=file, field="base", line=lines.get("base")
        ) from None
    allowed = numeric_outcomes()
    for i, outcome in enumerate(spec.outcomes):
        if outcome not in allowed:
            raise ScenarioError(
                f"unknown outcome{suggest_path(outcome, allowed)}; allowed: {', '.join(allowed)}",
                file=file,
                field=f"outcomes[{i}]",
                line=lines.get(f"outcomes[{i}]"),
            )
    check_size(design_size(spec) or 1, spec.replicates, file, lines)
    params = tuple(_check_parameter(base, n, p, file, lines) for n, p in spec.parameters.items())
    return Sweep(spec=spec, file=path, base=base, parameters=params, raw=raw)


def _check_parameter(
    base: Scenario, name: str, spec: ParameterSpec, file: str, lines: LineMap
) -> Parameter:
    """Resolve one parameter and try its levels or bounds on the base scenario."""
    field = f"parameters.{name}"
    kind = _field_type(base, spec.path)

    def error(message: str, sub: str) -> ScenarioError:
        at = f"{field}.{sub}"
        return ScenarioError(message, file=file, field=at, line=field_line(at, lines))

    if kind is None:
        try:
            with_overrides(base, [f"{spec.path}=0"])
        except ScenarioError as exc:
            raise error(f"{spec.path}: {exc.detail}", "path") from None
    if kind in (None, "group"):
        raise error(f"{spec.path} names a group of fields or a list, not one value", "path")
    if spec.range is not None and kind not in ("int", "float"):
        raise error(f"{spec.path} is a {kind} field; give levels, not a range", "range")
    if (
        kind == "int"
        and spec.range is not None
        and not all(math.isclose(v, round(v)) for v in spec.range)
    ):
        raise error(f"{spec.path} is an integer field; given range {list(spec.range)}", "range")
    levels: tuple[Level, ...] | None = None
    if spec.levels is not None:
        converted = [_level(v, kind) for v in spec.levels]
        levels = tuple(v for v in converted if v is not None)
        if len(levels) < len(converted):
            bad = spec.levels[converted.index(None)]
            raise error(
                f"{spec.path} is a{'n integer' if kind == 'int' else ' ' + kind} field; "
                f"levels must be of that type, given {bad!r}",
                "levels",
            )
    param = Parameter(name=name, path=spec.path, type=kind, spec=spec, levels=levels)
    trial: list[Level] = list(levels or [])
    trial += param.from_unit(np.array([0.0, 1.0])) if spec.range else []
    for value in trial:
        try:
            with_overrides(base, [f"{spec.path}={format_override_value(value)}"])
        except ScenarioError as exc:
            sub = "levels" if spec.levels is not None else "range"
            raise error(
                f"value {value!r} is not allowed for {spec.path}: {exc.detail}", sub
            ) from None
    return param


def _level(value: Level, kind: str) -> Level | None:
    """Return a level as the field's type (ints count as floats), or None if it is not one."""
    if kind == "bool":
        return value if isinstance(value, bool) else None
    if isinstance(value, bool):
        return None
    if kind == "int":
        return value if isinstance(value, int) else None
    if kind == "float":
        return float(value) if isinstance(value, int | float) else None
    return value if isinstance(value, str) else None
