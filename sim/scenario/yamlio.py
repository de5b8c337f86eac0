"""Safe YAML reading with limits, and the source line of every field.

Scenario and sweep files come from users. They are read with PyYAML's safe loader (no Python
object tags), and refused when they are not text, nest too deeply, or use aliases to blow up
in size ("billion laughs"). The line of each mapping key is kept so that errors can point at it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from sim.errors import ScenarioError

MAX_FILE_BYTES = 2_000_000
MAX_DEPTH = 40
MAX_ALIASES = 200
MAX_EXPANDED_NODES = 200_000

LineMap = dict[str, int]

_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):
    """PyYAML's safe loader (libyaml when available), reading ``1e5`` as a number as YAML 1.2 does.

    YAML 1.1 (PyYAML's default) reads ``1e5`` and ``2.5E-3`` as text, which would be refused as a
    wrong type where a number is meant.
    """


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def _node_lines(node: yaml.Node, prefix: str, out: LineMap, depth: int, path: str) -> None:
    """Record the line of every mapping key and sequence item under ``node``.

    Args:
        node: The composed YAML node.
        prefix: Dotted path of ``node``.
        out: Map filled with ``dotted path -> 1-based line``.
        depth: Current nesting depth.
        path: File name, for errors.

    Raises:
        ScenarioError: When the nesting (aliases followed) is deeper than :data:`MAX_DEPTH`, or a
            mapping holds the same key twice (YAML forbids it; PyYAML would keep the last).
    """
    if depth > MAX_DEPTH:
        raise ScenarioError(
            f"nesting deeper than {MAX_DEPTH} levels is not allowed", file=path, field=prefix
        )
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            child = f"{prefix}.{key}" if prefix else key
            line = key_node.start_mark.line + 1
            if key in seen and key_node.tag != "tag:yaml.org,2002:merge":
                raise ScenarioError(
                    f"is given twice, on line {seen[key]} and on line {line}; give each key once",
                    file=path,
                    field=child,
                    line=line,
                )
            seen[key] = line
            out.setdefault(child, line)
            _node_lines(value_node, child, out, depth + 1, path)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            child = f"{prefix}[{i}]"
            out.setdefault(child, item.start_mark.line + 1)
            _node_lines(item, child, out, depth + 1, path)


def _count_expanded(node: yaml.Node, memo: dict[int, int], path: str) -> int:
    """Count the nodes ``node`` expands to once aliases are followed, without expanding it.

    Args:
        node: A composed YAML node.
        memo: Sizes already computed, keyed by node identity (``-1`` while in progress).
        path: File name, for errors.

    Returns:
        The expanded node count.

    Raises:
        ScenarioError: When an alias refers to a node that contains it (a recursive structure).
    """
    key = id(node)
    if key in memo:
        if memo[key] < 0:
            raise ScenarioError(
                "a YAML alias refers to a node that contains it (recursive data is not allowed)",
                file=path,
                line=node.start_mark.line + 1,
            )
        return memo[key]
    memo[key] = -1
    size = 1
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            size += _count_expanded(k, memo, path) + _count_expanded(v, memo, path)
    elif isinstance(node, yaml.SequenceNode):
        size += sum(_count_expanded(v, memo, path) for v in node.value)
    memo[key] = size
    return size


def _check_events(text: str, path: str) -> None:
    """Refuse deep nesting and too many aliases from the flat event stream, before composing.

    Reading events needs no recursion, so this is safe on any input; composing a deeply nested
    document with libyaml would otherwise overflow the C stack.

    Args:
        text: The document.
        path: The file name used in error messages.

    Raises:
        ScenarioError: On malformed YAML, nesting deeper than :data:`MAX_DEPTH` or more than
            :data:`MAX_ALIASES` aliases.
    """
    depth = n_aliases = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise ScenarioError(
                        f"nesting deeper than {MAX_DEPTH} levels is not allowed",
                        file=path,
                        line=event.start_mark.line + 1 if event.start_mark else None,
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            elif isinstance(event, yaml.AliasEvent):
                n_aliases += 1
                if n_aliases > MAX_ALIASES:
                    raise ScenarioError(
                        f"uses more than {MAX_ALIASES} YAML aliases, the most allowed", file=path
                    )
    except yaml.YAMLError as exc:
        raise ScenarioError(_yaml_message(exc), file=path, line=_yaml_line(exc)) from None


def parse_yaml(text: str, path: str) -> tuple[Any, LineMap]:
    """Parse YAML text safely.

    Args:
        text: The document.
        path: The file name used in error messages.

    Returns:
        The parsed data and a map from dotted field path to line number.

    Raises:
        ScenarioError: On malformed YAML, unsafe tags, alias bombs, recursive aliases, deep
            nesting or a key given twice in one mapping.
    """
    if "\x00" in text:
        raise ScenarioError("not a text file (contains NUL bytes)", file=path)
    _check_events(text, path)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        if _count_expanded(node, {}, path) > MAX_EXPANDED_NODES:
            raise ScenarioError(
                f"expands to more than {MAX_EXPANDED_NODES} values through aliases", file=path
            )
        lines: LineMap = {}
        _node_lines(node, "", lines, 0, path)
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise ScenarioError(_yaml_message(exc), file=path, line=_yaml_line(exc)) from None
    except (ArithmeticError, LookupError, RecursionError, TypeError, ValueError) as exc:
        # A value that does not fit its tag (``!!bool maybe``, ``!!int 0b2``, a 5000-digit int).
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())
        raise ScenarioError(
            f"malformed YAML: a value cannot be read as its type ({detail})", file=path
        ) from None
    finally:
        loader.dispose()
    return data, lines


def read_yaml(path: Path) -> tuple[Any, LineMap]:
    """Read and parse a YAML file safely.

    Args:
        path: The file.

    Returns:
        The parsed data and its line map.

    Raises:
        ScenarioError: When the file cannot be read or is not acceptable YAML.
    """
    return parse_yaml(read_text(path), str(path))


def read_text(path: Path) -> str:
    """Read a YAML file's text, refusing a file too large or not UTF-8 text.

    Raises:
        ScenarioError: When the file cannot be read, is too large or is not UTF-8 text.
    """
    name = str(path)
    try:
        with path.open("rb") as fh:  # read no more than the limit, whatever the file's size
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ScenarioError(f"cannot be read ({exc.strerror or exc})", file=name) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError(
            f"is larger than {MAX_FILE_BYTES} bytes, the most a scenario or sweep file may be",
            file=name,
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError("is not UTF-8 text", file=name) from None


def field_line(field: str, lines: LineMap) -> int | None:
    """Return the line of a dotted field path, or of its nearest parent that has one.

    Args:
        field: The dotted field path.
        lines: Line of each dotted field path (see :func:`read_yaml`).

    Returns:
        The line number, or ``None`` when neither the field nor a parent has one.
    """
    parts = field.split(".")
    keys = (".".join(parts[:i]) for i in range(len(parts), 0, -1))
    return next((lines[k] for k in keys if lines.get(k)), None)


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
