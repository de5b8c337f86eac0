"""Scenario files: finding, reading, ``extends``, ``--set`` overrides, validation and hashing.

A scenario is resolved in layers, later layers overriding earlier ones: the named actors of
``sim/data/actors.yaml``, the fitted parameters of ``sim/data/calibration.yaml`` (when present),
then each scenario in the ``extends`` chain (base first), then the
command-line overrides. Mappings merge key by key (``null`` removes a key); lists are replaced.
The result is validated into a frozen :class:`~sim.schema.Scenario`; any problem raises a
:class:`~sim.errors.ScenarioError` naming the file (and line), the field path, what is allowed and
what was given.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sim.errors import ScenarioError
from sim.schema import Scenario
from sim.schema_errors import describe_validation_error, schema_field_exists, suggest_path
from sim.yamlio import LineMap, parse_yaml, read_yaml

DATA_DIR = Path(__file__).resolve().parent / "data"
ACTORS_FILE = DATA_DIR / "actors.yaml"
CALIBRATION_FILE = DATA_DIR / "calibration.yaml"
PACKAGE_SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
ENV_PATH = "POLICYSIM_SCENARIO_PATH"
MAX_EXTENDS_DEPTH = 20
ACTOR_TABLES = ("regulators", "cities", "funds", "firms", "timeline")


@dataclass(frozen=True)
class Layer:
    """One source of scenario data, kept to point errors at the right file and line."""

    name: str
    data: dict[str, Any]
    lines: LineMap


@dataclass(frozen=True)
class ScenarioInfo:
    """A shipped or user scenario found on the search path."""

    name: str
    description: str
    path: Path


def scenario_dirs() -> list[Path]:
    """Return the scenario search path, in lookup order.

    The folders in ``$POLICYSIM_SCENARIO_PATH`` (separated by the OS path separator), then
    ``./scenarios`` of the working directory, then the project's shipped ``scenarios/``.

    Returns:
        Existing folders, without duplicates.
    """
    candidates = [Path(p) for p in os.environ.get(ENV_PATH, "").split(os.pathsep) if p]
    candidates += [Path.cwd() / "scenarios", PACKAGE_SCENARIOS]
    seen: list[Path] = []
    for folder in candidates:
        resolved = folder.resolve()
        if resolved.is_dir() and resolved not in seen:
            seen.append(resolved)
    return seen


def list_scenarios() -> list[ScenarioInfo]:
    """List the scenarios on the search path (first one wins for a repeated name).

    Returns:
        One entry per scenario name, sorted by name.
    """
    found: dict[str, ScenarioInfo] = {}
    for folder in scenario_dirs():
        for path in sorted(folder.glob("*.yaml")):
            if path.stem in found:
                continue
            try:
                data, _ = read_yaml(path)
            except ScenarioError:
                data = None
            description = data.get("description", "") if isinstance(data, dict) else ""
            found[path.stem] = ScenarioInfo(path.stem, " ".join(str(description).split()), path)
    return [found[k] for k in sorted(found)]


def find_scenario(name_or_path: str | Path, *, relative_to: Path | None = None) -> Path:
    """Find a scenario file by name (on the search path) or by path.

    Args:
        name_or_path: A scenario name such as ``crackdown`` or a path to a YAML file.
        relative_to: For ``extends``: the folder of the extending file, searched first.

    Returns:
        The file.

    Raises:
        ScenarioError: When no such scenario exists; the message lists the known ones.
    """
    text = str(name_or_path)
    as_path = Path(text)
    if relative_to is None and (as_path.suffix in {".yaml", ".yml"} or os.sep in text):
        if as_path.is_file():
            return as_path
        raise ScenarioError(f"no such scenario file: {text}")
    if not text or any(c in text for c in "/\\") or text.startswith("."):
        raise ScenarioError(
            f"{text!r} is not a scenario name; `extends` takes a name such as 'baseline'"
        )
    folders = ([relative_to] if relative_to else []) + scenario_dirs()
    for folder in folders:
        candidate = folder / f"{text}.yaml"
        if candidate.is_file():
            return candidate
    known = sorted({p.stem for f in scenario_dirs() for p in f.glob("*.yaml")})
    hint = suggest_path(text, known)
    raise ScenarioError(
        f"unknown scenario{hint}; known: {', '.join(known) or 'none'}"
        f" (search path: {os.pathsep.join(str(f) for f in scenario_dirs())})"
    )


def _read_layer(path: Path) -> Layer:
    """Read one scenario file as a layer.

    Args:
        path: The YAML file.

    Returns:
        The layer.

    Raises:
        ScenarioError: When the file is empty or not a mapping.
    """
    data, lines = read_yaml(path)
    if data is None or data == {}:
        raise ScenarioError("is empty; a scenario needs at least `name`", file=str(path))
    if not isinstance(data, dict):
        raise ScenarioError(
            f"must be a mapping of fields, got {type(data).__name__}", file=str(path)
        )
    return Layer(str(path), data, lines)


def _parents(layer: Layer) -> list[str]:
    """Return the scenario names a layer extends, in merge order.

    Args:
        layer: A scenario file's layer.

    Returns:
        The parent names (empty when it extends nothing).

    Raises:
        ScenarioError: When ``extends`` is not a name or a list of names.
    """
    parent = layer.data.get("extends")
    if parent is None:
        return []
    names = parent if isinstance(parent, list) else [parent]
    if not names or not all(isinstance(n, str) for n in names):
        raise ScenarioError(
            f"must be a scenario name or a list of names, got {parent!r}",
            file=layer.name,
            field="extends",
            line=layer.lines.get("extends"),
        )
    return names


def _extends_chain(path: Path, stack: tuple[Path, ...] = ()) -> list[Layer]:
    """Read a scenario and its ``extends`` ancestors, bases first.

    A scenario may extend several parents; their chains are merged in order, each ancestor once
    (where it first appears), then the scenario itself.

    Args:
        path: The scenario file.
        stack: Files being resolved above this one (to detect cycles).

    Returns:
        Layers from the root ancestors to ``path``.

    Raises:
        ScenarioError: On cyclic, missing or too deep ``extends``.
    """
    resolved = path.resolve()
    if resolved in stack:
        cycle = " -> ".join(p.stem for p in [*stack, resolved])
        raise ScenarioError(f"cyclic extends: {cycle}", file=str(stack[0]), field="extends")
    if len(stack) >= MAX_EXTENDS_DEPTH:
        raise ScenarioError(
            f"extends chain deeper than {MAX_EXTENDS_DEPTH}", file=str(path), field="extends"
        )
    layer = _read_layer(path)
    chain: list[Layer] = []
    for name in _parents(layer):
        try:
            parent = find_scenario(name, relative_to=path.parent)
        except ScenarioError as exc:
            raise ScenarioError(
                exc.detail, file=layer.name, field="extends", line=layer.lines.get("extends")
            ) from None
        for ancestor in _extends_chain(parent, (*stack, resolved)):
            if all(Path(a.name).resolve() != Path(ancestor.name).resolve() for a in chain):
                chain.append(ancestor)
    chain.append(layer)
    return chain


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
    for key, value in update.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict):
            below = out.get(key)
            out[key] = deep_merge(below if isinstance(below, dict) else {}, value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _null_paths(data: dict[Any, Any], prefix: tuple[str, ...] = ()) -> Iterator[list[str]]:
    """Yield the path of every ``null`` (a removal) in a layer."""
    for key, value in data.items():
        path = (*prefix, str(key))
        if value is None:
            yield list(path)
        elif isinstance(value, dict):
            yield from _null_paths(value, path)


def _check_removals(layer: Layer, below: dict[str, Any], merged: dict[str, Any]) -> None:
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


def resolve(
    name_or_path: str | Path, overrides: Iterable[str] = ()
) -> tuple[dict[str, Any], list[Layer]]:
    """Resolve a scenario into merged raw data, before validation.

    Args:
        name_or_path: Scenario name or file.
        overrides: ``path=value`` overrides, applied last in order.

    Returns:
        The merged data and the layers it came from (for error locations).
    """
    layers = []
    for path in base_files():
        stat = path.stat()
        layers.append(_base_layer(str(path), stat.st_mtime_ns, stat.st_size))
    layers += _extends_chain(find_scenario(name_or_path))
    merged: dict[str, Any] = {}
    for layer in layers:
        below, merged = merged, deep_merge(merged, layer.data)
        _check_removals(layer, below, merged)
    top = layers[-1].data
    merged["name"] = top.get("name", Path(layers[-1].name).stem)
    merged["extends"] = top.get("extends")
    for text in overrides:
        parts, value = parse_override(text)
        apply_override(merged, parts, value)
        layers.append(Layer("--set", {}, {".".join(parts): 0}))
    return merged, layers


def validate(data: dict[str, Any], layers: Sequence[Layer]) -> Scenario:
    """Validate merged data into a :class:`Scenario`.

    Args:
        data: Merged scenario data.
        layers: Where the data came from, for error locations.

    Returns:
        The frozen scenario.

    Raises:
        ScenarioError: On the first invalid field, located in its file.
    """
    try:
        # Strict: a value of the wrong type is refused, never converted ("12" is not 12, true is
        # not 1); only integers are accepted where a number is meant.
        return Scenario.model_validate(data, strict=True)
    except ValidationError as exc:
        field, message = describe_validation_error(exc, data)
        file, line = _locate(field, layers)
        raise ScenarioError(message, file=file, field=field or None, line=line) from None


def _locate(field: str, layers: Sequence[Layer]) -> tuple[str | None, int | None]:
    """Find the layer (file and line) that set ``field`` or its nearest parent.

    Args:
        field: Dotted field path.
        layers: The layers, lowest first.

    Returns:
        The file name and line, each ``None`` when unknown.
    """
    parts = field.split(".") if field else []
    for depth in range(len(parts), 0, -1):
        key = ".".join(parts[:depth])
        for layer in reversed(layers):
            if key in layer.lines:
                return layer.name, (layer.lines[key] or None)
    return (layers[-1].name if layers else None), None


def load_scenario(name_or_path: str | Path, overrides: Iterable[str] = ()) -> Scenario:
    """Load, resolve and validate a scenario.

    Args:
        name_or_path: A shipped scenario name (``crackdown``) or a YAML file path.
        overrides: ``--set`` style overrides such as ``regulators.SAMR.fine_rate=0.06``.

    Returns:
        The frozen, validated scenario.

    Raises:
        ScenarioError: When anything about the scenario is invalid.

    Example:
        >>> from sim.scenario import load_scenario
        >>> load_scenario("crackdown", ["months=12"]).months
        12
    """
    data, layers = resolve(name_or_path, list(overrides))
    return validate(data, layers)


def with_overrides(scenario: Scenario, overrides: Iterable[str]) -> Scenario:
    """Return a copy of a validated scenario with overrides applied and re-validated.

    Args:
        scenario: A validated scenario.
        overrides: ``path=value`` overrides.

    Returns:
        The new scenario.
    """
    data = scenario.model_dump(mode="json")
    layers = [Layer(f"scenario {scenario.name}", data, {})]
    for text in overrides:
        parts, value = parse_override(text)
        apply_override(data, parts, value)
        layers.append(Layer("--set", {}, {".".join(parts): 0}))
    return validate(data, layers)


def scenario_dict(scenario: Scenario) -> dict[str, Any]:
    """Return the scenario as plain JSON-compatible data."""
    return scenario.model_dump(mode="json")


def scenario_hash(scenario: Scenario) -> str:
    """Return the SHA-256 of the scenario's canonical JSON form.

    Args:
        scenario: A validated scenario.

    Returns:
        64 hex digits; equal scenarios have equal hashes.
    """
    text = json.dumps(scenario_dict(scenario), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def scenario_yaml(scenario: Scenario) -> str:
    """Return the fully resolved scenario as YAML text."""
    return yaml.safe_dump(scenario_dict(scenario), sort_keys=False, allow_unicode=True, width=100)
