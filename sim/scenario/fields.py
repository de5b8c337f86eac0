"""Finding fields in the scenario schema: walking a path, the names allowed there, did-you-mean."""

from __future__ import annotations

import difflib
import functools
import types
import typing
from collections.abc import Sequence
from typing import Any, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from sim.scenario.schema import Scenario


def suggest_path(name: str, allowed: Sequence[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest allowed name, or ``""``.

    Args:
        name: What was given.
        allowed: The allowed names.

    Returns:
        The hint text.
    """
    match = difflib.get_close_matches(str(name), [str(a) for a in allowed], n=1, cutoff=0.6)
    return f" {name!r} (did you mean {match[0]!r}?)" if match else f" {name!r}"


def _unwrap(annotation: Any) -> Any:
    """Strip ``Annotated`` and ``Optional`` wrappers from an annotation (found once for each)."""
    try:
        return _unwrapped(annotation)
    except TypeError:  # an annotation that cannot be hashed
        return _unwrapped.__wrapped__(annotation)


@functools.lru_cache(maxsize=1024)
def _unwrapped(annotation: Any) -> Any:
    """:func:`_unwrap`, kept: a sweep walks the same few paths at every design point."""
    while True:
        origin = get_origin(annotation)
        if origin is typing.Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            if len(args) == 1:
                annotation = args[0]
            else:
                return annotation
        else:
            return annotation


def _union_models(annotation: Any) -> tuple[type[BaseModel], ...]:
    """Return the model classes of a (discriminated) union annotation."""
    target = _unwrap(annotation)
    if get_origin(target) not in (typing.Union, types.UnionType):
        return ()
    args = get_args(target)
    return tuple(a for a in args if isinstance(a, type) and issubclass(a, BaseModel))


def _event_model(annotation: Any, raw: Any) -> type[BaseModel] | None:
    """Pick the union member named by ``raw['type']``."""
    for model in _union_models(annotation):
        tag = model.model_fields.get("type")
        if (
            tag is not None
            and isinstance(raw, dict)
            and raw.get("type") in get_args(tag.annotation)
        ):
            return model
    return None


def _model_field(model: type[BaseModel], name: str) -> FieldInfo | None:
    """Return the field of ``model`` called ``name`` (or aliased so)."""
    found = model.model_fields.get(name)
    return found or next((f for f in model.model_fields.values() if f.alias == name), None)


def walk(
    loc: Sequence[Any], data: Any, root: type[BaseModel] = Scenario
) -> tuple[FieldInfo | None, list[str]]:
    """Follow ``loc`` through the schema.

    Args:
        loc: A pydantic error location (field names, dict keys, list indices).
        data: The raw data being validated, used to pick union members.
        root: The model the data was validated against.

    Returns:
        The field info at ``loc`` (``None`` when it is not a declared field) and the names
        allowed in the mapping that contains the last element of ``loc``.
    """
    annotation: Any = root
    info: FieldInfo | None = None
    allowed: list[str] = list(root.model_fields)
    raw = data
    for elem in loc:
        target = _unwrap(annotation)
        origin = get_origin(target)
        if isinstance(target, type) and issubclass(target, BaseModel):
            allowed = list(target.model_fields)
            info = _model_field(target, str(elem))
            if info is None:
                return None, allowed
            annotation = info.annotation
        elif origin is dict:
            allowed = list(raw) if isinstance(raw, dict) else []
            annotation = get_args(target)[1]
            info = FieldInfo.from_annotation(annotation)
        elif origin in (list, tuple) and isinstance(elem, int):
            args = get_args(target)
            annotation = args[elem] if origin is tuple and len(args) > elem else args[0]
            info = FieldInfo.from_annotation(annotation)
        elif _union_models(target):
            model = _event_model(target, raw)
            if model is None:
                return None, allowed
            annotation = model
            target = model
            allowed = list(model.model_fields)
            info = model.model_fields.get(str(elem))
            if info is None:
                return None, allowed
            annotation = info.annotation
        else:
            return info, allowed
        raw = raw.get(elem) if isinstance(raw, dict) else None
    # Tagged unions: resolve to the member for the final raw value.
    if _union_models(annotation) and isinstance(raw, dict):
        model = _event_model(annotation, raw)
        if model is not None:
            allowed = list(model.model_fields)
    return info, allowed


@functools.cache
def _fields(model: type[BaseModel]) -> dict[str, FieldInfo]:
    """Return ``model.model_fields`` (read once: pydantic gives it through a slow descriptor)."""
    return model.model_fields


def schema_field_exists(parts: Sequence[str], data: dict[str, Any]) -> tuple[bool, list[str], str]:
    """Tell whether ``parts`` names a settable field of the scenario schema.

    Dict keys (actor names, timeline keys) must already exist in ``data``, except that a new
    timeline event may be added as a whole mapping.

    Args:
        parts: The field path.
        data: The merged scenario data.

    Returns:
        Whether the path is settable, the names allowed at the step that failed (or the last
        step) and the name that failed (or the last name).
    """
    annotation: Any = Scenario
    raw: Any = data
    allowed: list[str] = list(_fields(Scenario))
    for depth, part in enumerate(parts):
        target = _unwrap(annotation)
        if _union_models(target):
            model = _event_model(target, raw)
            if model is None:
                return False, [], part
            target = model
        if isinstance(target, type) and issubclass(target, BaseModel):
            fields = _fields(target)
            allowed = list(fields)
            if part not in fields:
                return False, allowed, part
            annotation = fields[part].annotation
        elif get_origin(target) is dict:
            allowed = list(raw) if isinstance(raw, dict) else []
            is_new_event = parts[0] == "timeline" and depth == 1 and len(parts) == 2
            if part not in allowed and not is_new_event:
                return False, allowed, part
            annotation = get_args(target)[1]
        else:
            return False, [], part
        raw = raw.get(part) if isinstance(raw, dict) else None
    return True, allowed, parts[-1] if parts else ""


def field_metadata(info: FieldInfo) -> tuple[list[Any], Any]:
    """Return a field's constraints, those of ``Annotated`` layers included, and its bare type.

    Args:
        info: The pydantic field.

    Returns:
        ``(metadata, annotation)``: the field's metadata followed by each ``Annotated`` layer's,
        outermost first, and the annotation inside the last layer.
    """
    metadata = list(info.metadata)
    annotation = info.annotation
    while get_origin(annotation) is typing.Annotated:
        metadata += list(get_args(annotation)[1:])
        annotation = get_args(annotation)[0]
    return metadata, annotation
