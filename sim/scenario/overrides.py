"""Command-line ``--set path.to.field=value`` overrides: parsing and applying them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sim.errors import ScenarioError
from sim.scenario.fields import schema_field_exists, suggest_path
from sim.scenario.yamlio import parse_yaml


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
        raise ScenarioError(f"empty field name in {key!r}", file="--set", field=key)
    try:
        value, _ = parse_yaml(raw, f"--set {key}")
    except ScenarioError as exc:
        raise ScenarioError(exc.detail, file="--set", field=key) from None
    return parts, value


def apply_override(data: dict[str, Any], parts: Sequence[str], value: Any) -> None:
    """Set ``value`` at ``parts`` in ``data`` (in place), refusing unknown fields.

    Args:
        data: The merged scenario data.
        parts: The field path.
        value: The new value.

    Raises:
        ScenarioError: When the path names no field of the scenario schema.
    """
    dotted = ".".join(parts)
    if parts[0] == "extends":
        raise ScenarioError(
            "cannot be changed with --set (the scenarios it extends are already merged); "
            "allowed: write a scenario file that extends the ones you want",
            file="--set",
            field=dotted,
        )
    ok, allowed, bad = schema_field_exists(parts, data)
    if not ok:
        hint = suggest_path(bad, allowed)
        raise ScenarioError(
            f"unknown field or name{hint}; allowed here: {', '.join(sorted(allowed)) or 'none'}",
            file="--set",
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
