"""Overrides of scenario fields: parsing and applying them.

Overrides come as ``--set path.to.field=value`` text (the CLI's form, values parsed as YAML) or,
from Python, as a mapping of field path to typed value (``{"regulators.SAMR.fine_rate": 0.06}``,
numpy scalars included). Either way each is applied to the merged scenario data and validated
with the scenario; an error names the override's path and its source (``--set`` or
``overrides``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeAlias

import numpy as np

from sim.errors import ScenarioError
from sim.scenario.fields import schema_field_exists, suggest_path
from sim.scenario.yamlio import parse_yaml

#: Source of a ``path=value`` text override (the CLI's ``--set``).
SET_SOURCE = "--set"
#: Source of an override given as a Python mapping of path to value.
MAPPING_SOURCE = "overrides"
OVERRIDE_SOURCES = (SET_SOURCE, MAPPING_SOURCE)

#: Overrides: ``path=value`` texts, or a mapping of field path to value.
Overrides: TypeAlias = Mapping[str, Any] | Iterable[str]


def parse_override(text: str) -> tuple[list[str], Any]:
    """Parse one ``--set path.to.field=value`` override.

    Args:
        text: The override as typed.

    Returns:
        The field path as a list of keys and the value parsed as YAML.

    Raises:
        ScenarioError: When the text is not ``path=value``.
    """
    if "=" not in text:
        raise ScenarioError(
            f"expected FIELD.PATH=VALUE (e.g. regulators.SAMR.fine_rate=0.06), got {text!r}",
            file="--set",
        )
    key, raw = text.split("=", 1)
    parts = [p.strip() for p in key.strip().split(".")]
    if not all(parts):
        raise ScenarioError(
            f"empty field name in {key!r}; expected FIELD.PATH=VALUE "
            "(e.g. regulators.SAMR.fine_rate=0.06)", file="--set", field=key,
        )
    value = plain_scalar(raw)
    if value is NOT_PLAIN:
        try:
            value, _ = parse_yaml(raw, f"--set {key}")
        except ScenarioError as exc:
            raise ScenarioError(exc.detail, file="--set", field=key) from None
    return parts, value


#: What :func:`plain_scalar` returns for text it leaves to the YAML parser.
NOT_PLAIN: Any = object()
#: A decimal integer or a decimal number with a point and digits after it (the forms
#: :func:`format_override_value` writes), which YAML reads as ``int`` and ``float`` do.
_PLAIN_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+(?:e[-+][0-9]+)?)?")
_PLAIN_WORDS = {"true": True, "false": False}
#: The longest text read as a plain number (a float's ``repr`` has at most 24 characters).
MAX_PLAIN = 40


def plain_scalar(text: str) -> Any:
    """Return the value YAML reads in ``text`` when it is a plain number or boolean.

    A sweep's overrides are such texts, one per parameter and design point; reading them here
    costs a hundredth of the YAML parser. Any other text returns :data:`NOT_PLAIN`.

    Example:
        >>> plain_scalar("-0.5"), plain_scalar("12"), plain_scalar("true")
        (-0.5, 12, True)
        >>> plain_scalar("1_0") is NOT_PLAIN  # YAML 1.1 reads 10: left to the parser
        True
    """
    word = _PLAIN_WORDS.get(text)
    if word is not None:
        return word
    # A long text is the parser's, which refuses integers too long to read with a clear error.
    match = _PLAIN_NUMBER.fullmatch(text) if len(text) <= MAX_PLAIN else None
    if match is None:
        return NOT_PLAIN
    return float(text) if match.group(1) else int(text)


def plain_value(value: Any) -> Any:
    """Return ``value`` as plain Python data, the types a scenario file gives.

    numpy scalars become Python numbers, booleans and text; arrays and tuples become lists;
    mappings are converted item by item. Anything else is returned unchanged.

    Example:
        >>> import numpy as np
        >>> plain_value({"a": np.float64(0.5), "b": (np.int64(3), np.bool_(True))})
        {'a': 0.5, 'b': [3, True]}
    """
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return plain_value(value.tolist())
    if isinstance(value, Mapping):
        return {str(k): plain_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_value(v) for v in value]
    return value


def override_items(overrides: Overrides) -> list[tuple[str, list[str], Any]]:
    """Return each override as ``(source, field path, value)``, in the order given.

    Args:
        overrides: ``path=value`` texts (values parsed as YAML), or a mapping of dotted field
            path to value (values taken as they are; numpy scalars become Python values).

    Returns:
        The source (:data:`SET_SOURCE` or :data:`MAPPING_SOURCE`), path and value of each.

    Raises:
        ScenarioError: On text that is not ``path=value`` or a path with an empty name.
    """
    if isinstance(overrides, Mapping):
        items = []
        for key, value in overrides.items():
            parts = [p.strip() for p in str(key).split(".")]
            if not all(parts):
                raise ScenarioError(
                    f"empty field name in {key!r}; expected a dotted field path "
                    "(e.g. regulators.SAMR.fine_rate)", file=MAPPING_SOURCE, field=str(key),
                )
            items.append((MAPPING_SOURCE, parts, plain_value(value)))
        return items
    if isinstance(overrides, str):
        overrides = [overrides]
    return [(SET_SOURCE, *parse_override(str(text))) for text in overrides]


def apply_override(
    data: dict[str, Any], parts: Sequence[str], value: Any, source: str = SET_SOURCE
) -> None:
    """Set ``value`` at ``parts`` in ``data`` (in place), refusing unknown fields.

    Args:
        data: The merged scenario data.
        parts: The field path.
        value: The new value.
        source: Where the override came from, named in errors.

    Raises:
        ScenarioError: When the path names no field of the scenario schema.
    """
    dotted = ".".join(parts)
    if parts[0] == "extends":
        raise ScenarioError(
            f"cannot be changed with {source} (the scenarios it extends are already merged); "
            "allowed: write a scenario file that extends the ones you want",
            file=source,
            field=dotted,
        )
    ok, allowed, bad = schema_field_exists(parts, data)
    if not ok:
        hint = suggest_path(bad, allowed)
        raise ScenarioError(
            f"unknown field or name{hint}; allowed here: {', '.join(sorted(allowed)) or 'none'}",
            file=source,
            field=dotted,
        )
    node = data
    for part in parts[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[parts[-1]] = value


def format_override_value(value: bool | int | float | str) -> str:
    """Write a value so that parsing it as YAML in an override gives it back exactly.

    Args:
        value: A value of a scalar field.

    Returns:
        The text (floats keep every digit and a decimal point, strings are quoted).
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        mantissa, e, exponent = text.partition("e")
        if e and "." not in mantissa:
            text = f"{mantissa}.0e{exponent}"
        return text
    chars = []
    for ch in str(value):
        if ch in '"\\':
            chars.append("\\" + ch)
        elif ch.isprintable() and ch not in "\x85\u2028\u2029":
            chars.append(ch)
        else:  # YAML double-quoted escapes for everything else
            code = ord(ch)
            chars.append(f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return '"' + "".join(chars) + '"'
