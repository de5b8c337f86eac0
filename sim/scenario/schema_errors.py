"""Turn pydantic validation errors into one-line messages with allowed values.

The schema is walked along the error's location to find the field's declared bounds, choices and
(for unknown keys) the allowed names, so that the message says what is allowed and what was given.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any, Literal, get_args, get_origin

from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from sim.scenario.events import EVENT_TYPES
from sim.scenario.fields import _union_models, _unwrap, field_metadata, suggest_path, walk
from sim.scenario.schema import Scenario


def _bounds(info: FieldInfo | None) -> str:
    """Describe a field's declared numeric bounds or choices."""
    if info is None:
        return ""
    lo: object = None  # the bounds are only shown, so any value will do
    hi: object = None
    lo_open = hi_open = False
    length = []
    metadata, annotation = field_metadata(info)
    for meta in metadata:
        if isinstance(meta, Ge):
            lo = meta.ge
        elif isinstance(meta, Gt):
            lo, lo_open = meta.gt, True
        elif isinstance(meta, Le):
            hi = meta.le
        elif isinstance(meta, Lt):
            hi, hi_open = meta.lt, True
        elif isinstance(meta, MinLen):
            length.append(f"at least {meta.min_length} items")
        elif isinstance(meta, MaxLen):
            length.append(f"at most {meta.max_length} items")
        elif isinstance(meta, FieldInfo):
            inner = _bounds(meta)
            if inner:
                return inner
    base = _unwrap(annotation)
    if get_origin(base) is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(base))
    if lo is not None or hi is not None:
        left = ("(" if lo_open else "[") + (str(lo) if lo is not None else "-inf")
        right = (str(hi) if hi is not None else "inf") + (")" if hi_open else "]")
        kind = "an integer" if base is int else "a number"
        return f"{kind} in {left}, {right}"
    if length and base is str:
        return "text of " + ", ".join(length).replace("items", "characters")
    if length:
        return ", ".join(length)
    if isinstance(base, type):
        return {bool: "true or false", int: "an integer", float: "a number", str: "text"}.get(
            base, ""
        )
    return ""


def value_error_message(err: Mapping[str, Any], field: str) -> tuple[str, str]:
    """Return the field and message of a data file's pydantic ``value_error``.

    A validator's message that starts with one word and ``": "`` names a field below ``field``
    (``"high: must exceed low"`` at ``range`` is ``must exceed low`` at ``range.high``).

    Args:
        err: One error of ``ValidationError.errors()``.
        field: The dotted path of the model that raised it.

    Returns:
        The field path and the message.
    """
    message = str(err.get("ctx", {}).get("error", err["msg"]))
    head, sep, rest = message.partition(": ")
    if sep and " " not in head:
        return ".".join([field, head]) if field else head, rest
    return field, message


def reported_error(exc: ValidationError) -> Any:
    """Return the one error of a pydantic validation failure that its description reports.

    An unknown field if there is one (a misspelt key gives both "missing" and "unknown field":
    the unknown field's message can suggest the right name), else the first error.

    Args:
        exc: The pydantic error.
    """
    errors = exc.errors(include_url=False)
    return next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])


def describe_validation_error(exc: ValidationError, data: dict[str, Any]) -> tuple[str, str]:
    """Describe the error of a pydantic validation failure that :func:`reported_error` picks.

    Args:
        exc: The pydantic error.
        data: The raw data that failed.

    Returns:
        The dotted field path and the message (what is wrong, allowed values, given value).
    """
    err = reported_error(exc)
    loc = list(err["loc"])
    if len(loc) > 2 and loc[0] == "timeline" and loc[2] in EVENT_TYPES:
        del loc[2]  # the union's tag, not a field
    if loc and loc[0] == "extends":
        loc = ["extends"]  # the union's member names (str, list[str]) are not fields
    kind = err["type"]
    given = err.get("input")
    if loc and loc[-1] == "[key]":  # a mapping key of the wrong kind
        field = ".".join(str(e) for e in loc[:-2])
        choices = err.get("ctx", {}).get("expected")
        allowed_keys = f"one of {choices}" if choices else "names (text)"
        return field, f"key {_shown(loc[-2])} is not allowed; allowed: {allowed_keys}"
    field = ".".join(str(e) for e in loc)
    info, allowed = walk(loc, data)
    if kind == "extra_forbidden":
        hint = suggest_path(str(loc[-1]), allowed)
        return field, f"unknown field{hint}; allowed: {', '.join(allowed)}"
    if kind == "missing" and loc and isinstance(loc[-1], int):  # a list too short for its tuple
        parent, _ = walk(loc[:-1], data)
        field = ".".join(str(e) for e in loc[:-1])
        expected = _expected(parent.annotation if parent else None)
        return field, f"too few items; allowed: {expected}; given: {_shown(given)}"
    if kind == "missing":
        expected = _bounds(info) or _expected(info.annotation if info else None)
        return field, f"required field is missing; allowed: {expected or 'see docs/ODD.md'}"
    if kind == "union_tag_invalid" or kind == "union_tag_not_found":
        tags = ", ".join(repr(t) for t in EVENT_TYPES)
        tag = given.get("type") if isinstance(given, dict) else given
        return field, f"unknown event type {tag!r}; allowed: {tags}" if kind.endswith(
            "invalid"
        ) else f"an event needs a `type`; allowed: {tags}"
    if kind == "value_error":
        message = str(err.get("ctx", {}).get("error", err["msg"]))
        head, sep, rest = message.partition(": ")
        if sep and " " not in head and "." in head:
            return head, rest
        return value_error_message(err, field)
    return field, explain(err, data, loc=loc)


def expected_values(loc: Sequence[Any], data: Any, root: type[BaseModel] = Scenario) -> str:
    """Describe what the field at ``loc`` allows (bounds, choices, or the shape of a mapping).

    Args:
        loc: The field's location.
        data: The raw data being validated.
        root: The model the data was validated against.

    Returns:
        The description, or ``""`` when the schema says nothing more.
    """
    info, _ = walk(loc, data, root)
    return _bounds(info) or _expected(info.annotation if info else None)


def explain(
    err: Any, data: Any, root: type[BaseModel] = Scenario, loc: Sequence[Any] | None = None
) -> str:
    """Describe one pydantic type or range error: what is wrong, what is allowed, what was given.

    Args:
        err: One entry of ``ValidationError.errors()``.
        data: The raw data being validated.
        root: The model the data was validated against.
        loc: The field's location when it differs from the error's (union members removed).

    Returns:
        The one-line message.
    """
    allowed_text = expected_values(err["loc"] if loc is None else loc, data, root)
    text = _plain(err["msg"])
    if allowed_text:
        return f"{text}; allowed: {allowed_text}; given: {_shown(err.get('input'))}"
    return f"{text}; given: {_shown(err.get('input'))}"


_PLAIN = (
    (re.compile(r"a valid dictionary or (instance of \w+|object to extract fields from)"),
     "a mapping"),
    (re.compile(r"a valid dictionary"), "a mapping"),
    (re.compile(r"a valid tuple"), "a list"),
    (re.compile(r"\b[Tt]uple should"), "list should"),
    (re.compile(r" after validation"), ""),
)  # fmt: skip


def _plain(msg: str) -> str:
    """Return a pydantic message in the words of a YAML file (mappings and lists)."""
    text = msg[0].lower() + msg[1:] if msg else msg
    for pattern, words in _PLAIN:
        text = pattern.sub(words, text)
    return text


def _shown(value: Any, limit: int = 80) -> str:
    """Return a short, one-line description of a given value."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple) and len(value) > 4:
        return f"a list of {len(value)} items"
    try:
        text = repr(value)
    except ValueError:  # an integer too long to print
        return "a very large number"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _expected(annotation: Any) -> str:
    """Describe what a field of type ``annotation`` takes (mappings, lists, events).

    Args:
        annotation: The field's annotation, or ``None``.

    Returns:
        A short description, or ``""`` when there is nothing to add.
    """
    if annotation is None:
        return ""
    target = _unwrap(annotation)
    origin = get_origin(target)
    if isinstance(target, type) and issubclass(target, BaseModel):
        return "a mapping of " + ", ".join(target.model_fields)
    if _union_models(target):
        return "a mapping with a `type`, one of " + ", ".join(EVENT_TYPES)
    if origin in (typing.Union, types.UnionType):
        members = [_expected(a) for a in get_args(target) if a is not type(None)]
        return " or ".join(m for m in members if m)
    if origin is dict:
        key, value = get_args(target)
        keys = f"{_bounds(FieldInfo.from_annotation(key))} " if get_origin(key) is Literal else ""
        inner = _bounds(FieldInfo.from_annotation(value)) or _expected(value)
        return f"a mapping of names {keys}to {inner}".replace("names one of", "keys, one of")
    if origin is tuple:
        args = get_args(target)
        return f"a list of {len(args)} items, each {_bounds(FieldInfo.from_annotation(args[0]))}"
    if origin is list:
        item = _bounds(FieldInfo.from_annotation(get_args(target)[0]))
        return f"a list of {item or 'items'}"
    return _bounds(FieldInfo.from_annotation(annotation))
