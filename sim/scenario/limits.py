"""The range a numeric field may take: its stated bounds, cut by the fields that cap it.

Most fields validate exactly in their stated range (``ge``/``le`` in the schema). A few are also
capped by another field of the same actor (:attr:`~sim.scenario.base.Frozen.caps`: a regulator's
``fine_rate`` may not exceed its ``legal_cap``). :func:`field_range` gives the range that
validates for a given scenario; :func:`describe_limit` words the error when a cap is broken,
naming the other field and where it was set.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from sim.errors import ScenarioError
from sim.scenario.base import LimitError
from sim.scenario.fields import _unwrap, field_metadata, walk
from sim.scenario.layers import Layer, locate, setting_layer
from sim.scenario.schema import FUND_FIELD_KINDS, FundSpec, Scenario

Bound = float | int | None


def stated_bounds(info: FieldInfo) -> tuple[Bound, Bound]:
    """Return a numeric field's stated lowest and highest valid values (``None``: unbounded).

    An open bound (``gt``, ``lt``) gives the nearest value inside it.

    Args:
        info: The pydantic field.
    """
    lo: Bound = None
    hi: Bound = None
    metadata, annotation = field_metadata(info)
    step = 1 if _unwrap(annotation) is int else None
    for meta in metadata:
        if isinstance(meta, FieldInfo):
            inner_lo, inner_hi = stated_bounds(meta)
            lo = inner_lo if inner_lo is not None else lo
            hi = inner_hi if inner_hi is not None else hi
        elif isinstance(meta, Ge):
            lo = meta.ge  # type: ignore[assignment]
        elif isinstance(meta, Gt):
            lo = meta.gt + step if step else math.nextafter(meta.gt, math.inf)  # type: ignore[operator,arg-type]
        elif isinstance(meta, Le):
            hi = meta.le  # type: ignore[assignment]
        elif isinstance(meta, Lt):
            hi = meta.lt - step if step else math.nextafter(meta.lt, -math.inf)  # type: ignore[operator,arg-type]
    return lo, hi


def _owner(parts: Sequence[str], data: Mapping[str, Any]) -> type[BaseModel] | None:
    """Return the schema model that holds the last field of ``parts`` (None if not a model)."""
    if len(parts) == 1:
        return Scenario
    info, _ = walk(list(parts[:-1]), data)
    owner = _unwrap(info.annotation) if info is not None else None
    return owner if isinstance(owner, type) and issubclass(owner, BaseModel) else None


def _value(data: Mapping[str, Any], parts: Sequence[str], owner: type[BaseModel]) -> Any:
    """Return the value at ``parts`` in ``data``, or the owner's default for the field."""
    node: Any = data
    for part in parts:
        if not isinstance(node, Mapping) or part not in node:
            return owner.model_fields[parts[-1]].get_default(call_default_factory=True)
        node = node[part]
    return node


def field_type(data: Mapping[str, Any], path: str) -> Any:
    """Return the bare type of the field at ``path`` (``None`` when it is no field).

    That is ``float``, ``int``, ``bool``, ``str``, a ``Literal[...]`` of its choices, or another
    annotation.

    Args:
        data: Scenario data (validated or merged raw data), to follow actor names.
        path: Dotted field path.
    """
    info, _ = walk(path.split("."), data)
    return _unwrap(field_metadata(info)[1]) if info is not None else None


def capping_field(data: Mapping[str, Any], path: str) -> str | None:
    """Return the name of the field of the same actor that caps the field at ``path``, if any.

    Example:
        >>> from sim.scenario import load_scenario, scenario_dict
        >>> capping_field(scenario_dict(load_scenario("crackdown")), "regulators.SAMR.fine_rate")
        'legal_cap'
    """
    parts = path.split(".")
    caps: dict[str, str] = getattr(_owner(parts, data), "caps", {})
    return caps.get(parts[-1])


def data_range(data: Mapping[str, Any], path: str) -> tuple[Bound, Bound]:
    """Return the range of the numeric field at ``path`` that validates with the rest of ``data``.

    Args:
        data: Scenario data (validated or merged raw data).
        path: Dotted field path, such as ``regulators.SAMR.fine_rate``.

    Returns:
        The lowest and highest valid values (``None`` where the schema states no bound).

    Raises:
        ScenarioError: When the path names no numeric field.
    """
    parts = path.split(".")
    info, _ = walk(parts, data)
    if info is None or field_type(data, path) not in (int, float):
        raise ScenarioError("names no numeric field of the scenario schema", field=path)
    owner = _owner(parts, data)
    lo, hi = stated_bounds(info)
    caps: dict[str, str] = getattr(owner, "caps", {})
    name = parts[-1]
    if owner is None:  # a value in a mapping (firms.X.exposure.data): nothing caps it
        return lo, hi
    if owner is FundSpec and name in FUND_FIELD_KINDS:
        kind = _value(data, [*parts[:-1], "kind"], owner)
        if kind not in FUND_FIELD_KINDS[name]:  # another kind must leave it at its default
            default = FundSpec.model_fields[name].default
            return default, default
    if name in caps:
        cap = _value(data, [*parts[:-1], caps[name]], owner)
        hi = cap if hi is None else min(hi, cap)
    for capped, limit in caps.items():
        if limit == name:
            floor = _value(data, [*parts[:-1], capped], owner)
            lo = floor if lo is None else max(lo, floor)
    return lo, hi


def field_range(scenario: Scenario, path: str) -> tuple[Bound, Bound]:
    """Return the range of a numeric field that validates in ``scenario``.

    The field's stated bounds, cut at the value of any field of the same actor that caps it
    (or that it caps).

    Args:
        scenario: A validated scenario.
        path: Dotted field path, such as ``regulators.SAMR.fine_rate``.

    Returns:
        The lowest and highest valid values (``None`` where the schema states no bound).

    Raises:
        ScenarioError: When the path names no numeric field.

    Example:
        >>> from sim.scenario import load_scenario
        >>> field_range(load_scenario("crackdown"), "regulators.SAMR.fine_rate")
        (0.0, 0.1)
    """
    return data_range(scenario.model_dump(mode="json"), path)


def describe_limit(
    error: LimitError, field: str, data: Mapping[str, Any], layers: Sequence[Layer]
) -> tuple[str, str]:
    """Word a broken cap against whichever of the two fields was set last.

    Args:
        error: The validator's error.
        field: Dotted path of the capped field (``regulators.SAMR.fine_rate``).
        data: The merged data that failed.
        layers: Where the data came from.

    Returns:
        The field to blame and the message: its value, the other field's path, value and
        source, and the range allowed given the other field.
    """
    parent = field.rpartition(".")[0]
    limit = f"{parent}.{error.limit}" if parent else error.limit
    here, there = setting_layer(field, layers), setting_layer(limit, layers)
    if there is not None and (here is None or there[0] > here[0]):
        blamed, other, value, words = limit, field, error.cap, "below"
        other_value = error.value
    else:
        blamed, other, value, words = field, limit, error.value, "above"
        other_value = error.cap
    found = setting_layer(other, layers)
    where = other
    if found is not None:
        file, line = locate(other, layers)
        where = f"{other}, set in {file}{f':{line}' if line else ''}"
    name, other_name = blamed.rpartition(".")[2], other.rpartition(".")[2]
    lo, hi = data_range(data, blamed)
    return blamed, (
        f"{name} {value} is {words} {other_name} {other_value} ({where}); "
        f"allowed: {name} in [{lo}, {hi}] while {other_name} is {other_value}"
    )
