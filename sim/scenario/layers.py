"""Scenario layers: the base data files, the layer record, and merging layers.

A scenario is built from layers, lowest first: the named actors of ``sim/data/actors.yaml``, the
fitted parameters of ``sim/data/calibration.yaml`` (when present), the scenarios of an ``extends``
chain, then ``--set`` overrides. :func:`merge_layer` merges one layer onto the layers below it
(mappings merge key by key, ``null`` removes a key, lists are replaced; :func:`deep_merge` merges
into a copy) and :func:`check_removals` refuses a ``null`` that removes nothing.
"""

from __future__ import annotations

import copy
import datetime
import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sim.errors import ScenarioError
from sim.scenario.fields import schema_field_exists, suggest_path
from sim.scenario.overrides import OVERRIDE_SOURCES
from sim.scenario.schema import Scenario
from sim.scenario.yamlio import LineMap, read_yaml

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
ACTORS_FILE = DATA_DIR / "actors.yaml"
CALIBRATION_FILE = DATA_DIR / "calibration.yaml"
ACTOR_TABLES = ("regulators", "cities", "funds", "firms", "timeline")


@dataclass(frozen=True)
class Layer:
    """One source of scenario data, kept to point errors at the right file and line."""

    name: str
    data: dict[str, Any]
    lines: LineMap


def deep_merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """Merge ``update`` into a copy of ``base``: mappings merge, ``None`` deletes, rest replaces.

    ``None`` deletes at any depth, also inside a mapping that ``base`` does not have.

    Args:
        base: The lower layer.
        update: The higher layer.

    Returns:
        A new merged mapping.
    """
    out = copy.deepcopy(base)
    merge_into(out, update)
    return out


def merge_into(out: dict[str, Any], update: dict[str, Any]) -> None:
    """Merge ``update`` into ``out`` in place, as :func:`deep_merge` merges it into a copy.

    Only what ``update`` gives is copied (a mapping of ``update`` becomes a new mapping, any other
    value a deep copy), so ``out`` shares nothing with ``update``; the mappings of ``out`` that
    ``update`` merges into are changed in place.

    Args:
        out: The merged data so far (changed).
        update: The higher layer (not changed).
    """
    for key, value in update.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict):
            below = out.get(key)
            if not isinstance(below, dict):
                below = out[key] = {}
            merge_into(below, value)
        else:
            out[key] = value if isinstance(value, _IMMUTABLE) else copy.deepcopy(value)


_IMMUTABLE = (str, int, float, bool, datetime.date)
"""Values a merge may share rather than copy (``copy.deepcopy`` returns them as they are)."""


def merge_layer(merged: dict[str, Any], layer: Layer) -> None:
    """Merge a layer into the data of the layers under it, in place (see :func:`merge_into`).

    Args:
        merged: The data merged from the layers under ``layer`` (changed).
        layer: The layer.

    Raises:
        ScenarioError: When a ``null`` of the layer removes nothing (see :func:`check_removals`).
    """
    if next(_null_paths(layer.data), None) is None:
        merge_into(merged, layer.data)
        return
    below = _snapshot(merged, layer.data)
    merge_into(merged, layer.data)
    check_removals(layer, below, merged)


def _snapshot(data: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """Return ``data`` as it stands, for reading after ``merge_into(data, update)`` changed it.

    Only the mappings that the merge changes in place (those ``update`` merges a mapping into)
    are copied; every other value is replaced, never changed, by the merge, so it is shared.
    """
    out = dict(data)
    for key, value in update.items():
        below = data.get(key)
        if isinstance(value, dict) and isinstance(below, dict):
            out[key] = _snapshot(below, value)
    return out


def copied_along(data: dict[str, Any], paths: Sequence[Sequence[str]]) -> dict[str, Any]:
    """Return ``data`` with the mappings along ``paths`` copied and everything else shared.

    Setting a value at any of ``paths`` in the result, as an override does, leaves ``data`` as it
    was: the result is :func:`_snapshot` of an update with a key at each path.

    Args:
        data: Nested mappings (not changed).
        paths: Field paths, as lists of keys.
    """
    update: dict[str, Any] = {}
    for parts in paths:
        node = update
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node.setdefault(parts[-1], None)
    return _snapshot(data, update)


def _null_paths(data: dict[Any, Any], prefix: tuple[str, ...] = ()) -> Iterator[list[str]]:
    """Yield the path of every ``null`` (a removal) in a layer."""
    for key, value in data.items():
        path = (*prefix, str(key))
        if value is None:
            yield list(path)
        elif isinstance(value, dict):
            yield from _null_paths(value, path)


def check_removals(layer: Layer, below: dict[str, Any], merged: dict[str, Any]) -> None:
    """Refuse a ``null`` that removes nothing the schema knows: it is most likely a misspelling.

    Args:
        layer: The layer being merged.
        below: The data merged from the layers under it.
        merged: The data with the layer merged in.

    Raises:
        ScenarioError: Naming the key, with the names allowed there.
    """
    for parts in _null_paths(layer.data):
        if parts[0] in ("name", "extends"):
            continue
        if len(parts) == 2 and parts[0] in ACTOR_TABLES:  # removing an actor or an event
            table = below.get(parts[0])
            allowed = [str(k) for k in table] if isinstance(table, dict) else []
            ok, bad = parts[1] in allowed, parts[1]
        else:
            ok, allowed, bad = schema_field_exists(parts, below)
            if not ok:
                ok, allowed, bad = schema_field_exists(parts, merged)
        if not ok:
            field = ".".join(parts)
            raise ScenarioError(
                f"null removes a field or name, but{suggest_path(bad, allowed)} is not one here; "
                f"allowed here: {', '.join(sorted(allowed)) or 'none'}",
                file=layer.name,
                field=field,
                line=layer.lines.get(field),
            )


def base_files() -> list[Path]:
    """Return the data files every scenario starts from: the actors, then fitted parameters.

    ``sim/data/calibration.yaml`` (written by ``sim calibrate``) is used when present.
    """
    return [ACTORS_FILE] + ([CALIBRATION_FILE] if CALIBRATION_FILE.is_file() else [])


@functools.lru_cache(maxsize=8)
def _base_layer(path: str, mtime_ns: int, size: int) -> Layer:
    """Read one of the project's base data files, once per version of the file.

    Args:
        path: The file.
        mtime_ns: Its modification time (a new version is read again).
        size: Its size.

    Returns:
        The layer; its data is only read, never changed (merging copies it).
    """
    data, lines = read_yaml(Path(path))
    if not isinstance(data, dict):
        raise ScenarioError("must be a mapping of fields", file=path)
    return Layer(path, data, lines)


def base_layers() -> list[Layer]:
    """Return the layers of the base data files (see :func:`base_files`), lowest first.

    Each file is read once per version (modification time and size) and cached.
    """
    layers = []
    for path in base_files():
        stat = path.stat()
        layers.append(_base_layer(str(path), stat.st_mtime_ns, stat.st_size))
    return layers


def locate(field: str, layers: Sequence[Layer]) -> tuple[str | None, int | None]:
    """Find the layer (file and line) that set ``field`` or its nearest parent.

    Args:
        field: Dotted field path.
        layers: The layers, lowest first.

    Returns:
        The file name and line, each ``None`` when unknown.
    """
    found = setting_layer(field, layers)
    if found is None:
        return (layers[-1].name if layers else None), None
    index, key = found
    return layers[index].name, (layers[index].lines[key] or None)


def setting_layer(field: str, layers: Sequence[Layer]) -> tuple[int, str] | None:
    """Find the highest layer that set ``field`` or, failing that, its nearest parent.

    Args:
        field: Dotted field path.
        layers: The layers, lowest first.

    Returns:
        The layer's index and the path it sets (``field`` or a parent), or ``None`` when no
        layer sets the field or any parent of it.
    """
    parts = field.split(".") if field else []
    for depth in range(len(parts), 0, -1):
        key = ".".join(parts[:depth])
        for index in range(len(layers) - 1, -1, -1):
            if key in layers[index].lines:
                return index, key
    return None


def first_breaking_layer(layers: Sequence[Layer]) -> Layer:
    """Return the lowest layer whose merge makes the scenario invalid (``--set`` when no file does).

    Args:
        layers: The layers, lowest first; ``--set`` overrides, if any, come last.
    """
    merged: dict[str, Any] = {}
    files = [layer for layer in layers if layer.name not in OVERRIDE_SOURCES]
    for layer in files:
        merge_into(merged, layer.data)
        if layer.name in {str(path) for path in base_files()}:
            continue
        candidate = {**merged, "name": "check", "extends": None}
        try:
            Scenario.model_validate(candidate, strict=True)
        except ValidationError:
            return layer
    return layers[-1]
