"""Safe YAML reading with limits, and the source line of every field.

Scenario and sweep files come from users. They are read with PyYAML's safe loader (no Python
object tags), and refused when they are not text, nest too deeply, or use aliases to blow up
in size ("billion laughs"). The line of each mapping key is kept so that errors can point at it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sim.errors import ScenarioError

MAX_FILE_BYTES = 2_000_000
MAX_DEPTH = 40
MAX_ALIASES = 200
MAX_EXPANDED_NODES = 200_000

LineMap = dict[str, int]


def _node_lines(node: yaml.Node, prefix: str, out: LineMap, depth: int, path: str) -> int:
    """Record key lines under ``node`` and return the node's expanded size.

    Args:
        node: The composed YAML node.
        prefix: Dotted path of ``node``.
        out: Map filled with ``dotted path -> 1-based line``.
        depth: Current nesting depth.
        path: File name, for errors.

    Returns:
        The number of nodes ``node`` expands to once aliases are followed.

    Raises:
        ScenarioError: When the nesting is deeper than :data:`MAX_DEPTH`.
    """
    if depth > MAX_DEPTH:
        raise ScenarioError(
            f"nesting deeper than {MAX_DEPTH} levels is not allowed", file=path, field=prefix
        )
    size = 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = f"{prefix}.{key}" if prefix else key
            out.setdefault(child, key_node.start_mark.line + 1)
            size += _node_lines(value_node, child, out, depth + 1, path)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            child = f"{prefix}[{i}]"
            out.setdefault(child, item.start_mark.line + 1)
            size += _node_lines(item, child, out, depth + 1, path)
    return size


def _count_expanded(node: yaml.Node, memo: dict[int, int]) -> int:
    """Count the nodes ``node`` expands to, without expanding it.

    Args:
        node: A composed YAML node.
        memo: Sizes already computed, keyed by node identity.

    Returns:
        The expanded node count.
    """
    key = id(node)
    if key in memo:
        return memo[key]
    memo[key] = 1  # guards against recursive aliases
    size = 1
    if isinstance(node, yaml.MappingNode):
        size += sum(_count_expanded(k, memo) + _count_expanded(v, memo) for k, v in node.value)
    elif isinstance(node, yaml.SequenceNode):
        size += sum(_count_expanded(v, memo) for v in node.value)
    memo[key] = size
    return size


def parse_yaml(text: str, path: str) -> tuple[Any, LineMap]:
    """Parse YAML text safely.

    Args:
        text: The document.
        path: The file name used in error messages.

    Returns:
        The parsed data and a map from dotted field path to line number.

    Raises:
        ScenarioError: On malformed YAML, unsafe tags, alias bombs or deep nesting.
    """
    if "\x00" in text:
        raise ScenarioError("not a text file (contains NUL bytes)", file=path)
    n_aliases = sum(1 for tok in _safe_scan(text, path) if isinstance(tok, yaml.AliasToken))
    if n_aliases > MAX_ALIASES:
        raise ScenarioError(
            f"uses {n_aliases} YAML aliases; at most {MAX_ALIASES} are allowed", file=path
        )
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise ScenarioError(_yaml_message(exc), file=path, line=_yaml_line(exc)) from None
    except RecursionError:
        raise ScenarioError(f"nesting deeper than {MAX_DEPTH} levels", file=path) from None
    if node is None:
        return None, {}
    lines: LineMap = {}
    if _count_expanded(node, {}) > MAX_EXPANDED_NODES:
        raise ScenarioError(
            f"expands to more than {MAX_EXPANDED_NODES} values through aliases", file=path
        )
    _node_lines(node, "", lines, 0, path)
    try:
        data = yaml.load(text, Loader=yaml.SafeLoader)  # noqa: S506 - SafeLoader
    except yaml.YAMLError as exc:
        raise ScenarioError(_yaml_message(exc), file=path, line=_yaml_line(exc)) from None
    except (RecursionError, ValueError, OverflowError) as exc:
        raise ScenarioError(f"cannot be read as YAML ({exc})", file=path) from None
    return data, lines


def _safe_scan(text: str, path: str) -> list[yaml.Token]:
    """Tokenize ``text``, turning scanner errors into :class:`ScenarioError`.

    Args:
        text: The document.
        path: The file name used in error messages.

    Returns:
        The YAML tokens.

    Raises:
        ScenarioError: When the text is not valid YAML.
    """
    try:
        return list(yaml.scan(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise ScenarioError(_yaml_message(exc), file=path, line=_yaml_line(exc)) from None


def read_yaml(path: Path) -> tuple[Any, LineMap]:
    """Read and parse a YAML file safely.

    Args:
        path: The file.

    Returns:
        The parsed data and its line map.

    Raises:
        ScenarioError: When the file cannot be read or is not acceptable YAML.
    """
    name = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(f"cannot be read ({exc.strerror or exc})", file=name) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError(
            f"is {len(raw)} bytes; scenario files may be at most {MAX_FILE_BYTES}", file=name
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError("is not UTF-8 text", file=name) from None
    return parse_yaml(text, name)


def _yaml_line(exc: yaml.YAMLError) -> int | None:
    """Return the 1-based line of a YAML error, when it has one."""
    mark = getattr(exc, "problem_mark", None)
    return mark.line + 1 if mark is not None else None


def _yaml_message(exc: yaml.YAMLError) -> str:
    """Return a one-line description of a YAML error."""
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    if "could not determine a constructor" in str(exc) or "tag" in str(problem):
        return f"malformed YAML: tags such as {problem.split()[-1]} are not allowed"
    text = f"malformed YAML: {problem}" + (f" ({context})" if context else "")
    return " ".join(text.split())
