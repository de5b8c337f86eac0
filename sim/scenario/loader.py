"""Scenario files: finding, reading, ``extends``, validation and hashing.

A scenario is resolved in layers, later layers overriding earlier ones: the named actors of
``sim/data/actors.yaml``, the fitted parameters of ``sim/data/calibration.yaml`` (when present),
then each scenario in the ``extends`` chain (base first), then the
command-line overrides. Mappings merge key by key (``null`` removes a key); lists are replaced.
The result is validated into a frozen :class:`~sim.scenario.schema.Scenario`; any problem raises a
:class:`~sim.errors.ScenarioError` naming the file (and line), the field path, what is allowed and
what was given.

Merging layers lives in :mod:`sim.scenario.layers` and ``--set`` overrides in
:mod:`sim.scenario.overrides`; their public names are re-exported here.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sim.errors import ScenarioError
from sim.scenario.base import LimitError
from sim.scenario.dumps import content, scenario_dict, scenario_hash, shared_dump
from sim.scenario.layers import (
    ACTOR_TABLES,
    ACTORS_FILE,
    CALIBRATION_FILE,
    DATA_DIR,
    Layer,
    base_files,
    base_layers,
    copied_along,
    deep_merge,
    first_breaking_layer,
    locate,
    merge_layer,
)
from sim.scenario.limits import describe_limit
from sim.scenario.overrides import Overrides, apply_override, override_items, parse_override
from sim.scenario.schema import Scenario
from sim.scenario.schema_errors import describe_validation_error, reported_error
from sim.scenario.search import ENV_PATH, PACKAGE_SCENARIOS, find_scenario, scenario_dirs
from sim.scenario.yamlio import LineMap, parse_yaml, read_text

__all__ = [
    "ACTORS_FILE",
    "ACTOR_TABLES",
    "CALIBRATION_FILE",
    "DATA_DIR",
    "ENV_PATH",
    "PACKAGE_SCENARIOS",
    "Layer",
    "ScenarioInfo",
    "Overrides",
    "apply_override",
    "apply_overrides",
    "base_files",
    "deep_merge",
    "find_scenario",
    "list_scenarios",
    "load_scenario",
    "parse_override",
    "resolve",
    "scenario_dict",
    "scenario_dirs",
    "scenario_hash",
    "scenario_yaml",
    "validate",
    "with_overrides",
]

BASELINE = "baseline"  # the counterfactual scenario others are compared with
MAX_EXTENDS_DEPTH = 20


@dataclass(frozen=True)
class ScenarioInfo:
    """A scenario on the search path: name (its file's), description, file, load error or None."""

    name: str
    description: str
    path: Path
    error: str | None = None


def list_scenarios() -> list[ScenarioInfo]:
    """List the scenarios on the search path (first one wins for a repeated name).

    Each is loaded, so that a file that cannot be run is listed with the reason.

    Returns:
        One entry per scenario name, sorted by name.
    """
    found: dict[str, ScenarioInfo] = {}
    for folder in scenario_dirs():
        for path in sorted(folder.glob("*.yaml")):
            if path.stem in found:
                continue
            try:
                description, error = load_scenario(path).description, None
            except ScenarioError as exc:
                description, error = "", str(exc)
            found[path.stem] = ScenarioInfo(path.stem, " ".join(description.split()), path, error)
    return [found[k] for k in sorted(found)]


def _read_layer(path: Path) -> Layer:
    """Read one scenario file as a layer.

    Args:
        path: The YAML file.

    Returns:
        The layer.

    Raises:
        ScenarioError: When the file is empty, not a mapping, or names a field with a number or
            null instead of text.
    """
    data, lines = _parsed(read_text(path), str(path))
    if data is None or data == {}:
        raise ScenarioError("is empty; a scenario needs at least `name`", file=str(path))
    if not isinstance(data, dict):
        raise ScenarioError(
            f"must be a mapping of fields, got {type(data).__name__}", file=str(path)
        )
    odd = [key for key in data if not isinstance(key, str)]
    if odd:
        raise ScenarioError(
            f"field names must be text; given {odd[0]!r}", file=str(path), line=lines.get("")
        )
    return Layer(str(path), data, lines)


@functools.lru_cache(maxsize=64)
def _parsed(text: str, path: str) -> tuple[Any, LineMap]:
    """Parse a scenario file's text, once per text.

    A batch, ``sim list`` and a notebook read the same files again and again. The data are only
    read, never changed: merging copies what it takes from them.
    """
    return parse_yaml(text, path)


def _file_name(layer: Layer) -> str:
    """Return the scenario's name: its file's name, which a ``name`` field must repeat."""
    stem = Path(layer.name).stem
    given = layer.data.get("name", stem)
    if given != stem:
        raise ScenarioError(
            f"must be the file's name, {stem!r} (the name sim list, sim run and results use); "
            f"given {given!r}: rename the file or change the name",
            file=layer.name,
            field="name",
            line=layer.lines.get("name"),
        )
    return stem


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


def resolve(
    name_or_path: str | Path, overrides: Overrides = ()
) -> tuple[dict[str, Any], list[Layer]]:
    """Resolve a scenario into merged raw data, before validation.

    Args:
        name_or_path: Scenario name or file.
        overrides: ``path=value`` texts or a mapping of field path to value, applied last in
            order.

    Returns:
        The merged data and the layers it came from (for error locations).
    """
    layers = base_layers()
    layers += _extends_chain(find_scenario(name_or_path))
    merged: dict[str, Any] = {}
    for layer in layers:
        merge_layer(merged, layer)
    top = layers[-1].data
    merged["name"] = _file_name(layers[-1])
    merged["extends"] = copy.deepcopy(top.get("extends"))  # the layer's data are shared
    layers += apply_overrides(merged, overrides)
    return merged, layers


def apply_overrides(data: dict[str, Any], overrides: Overrides) -> list[Layer]:
    """Apply overrides to merged scenario data (in place), in order.

    Args:
        data: The merged scenario data.
        overrides: ``path=value`` texts or a mapping of field path to value.

    Returns:
        One layer per override, naming its source and path (for error locations).
    """
    return _apply_items(data, override_items(overrides))


def _apply_items(data: dict[str, Any], items: list[tuple[str, list[str], Any]]) -> list[Layer]:
    """Apply parsed overrides (:func:`~sim.scenario.overrides.override_items`) to ``data``."""
    layers = []
    for source, parts, value in items:
        apply_override(data, parts, value, source)
        layers.append(Layer(source, {}, {".".join(parts): 0}))
    return layers


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
        cause = reported_error(exc).get("ctx", {}).get("error")  # the error described
        if isinstance(cause, LimitError):
            field, message = describe_limit(cause, field, data, layers)
        file, line = locate(field, layers)
        base = {str(path) for path in base_files()}
        if file in base:
            # The base data validate on their own: a higher layer made this field invalid (by
            # removing what it refers to, say). Name that layer, and where the field is set.
            culprit = first_breaking_layer(layers)
            message = f"{message} (the field is set in {file}{f':{line}' if line else ''})"
            file, line = culprit.name, None
        raise ScenarioError(message, file=file, field=field or None, line=line) from None



def load_scenario(name_or_path: str | Path, overrides: Overrides = ()) -> Scenario:
    """Load, resolve and validate a scenario.

    Args:
        name_or_path: A shipped scenario name (``crackdown``) or a YAML file path.
        overrides: ``--set`` style texts such as ``regulators.SAMR.fine_rate=0.06``, or a
            mapping of field path to typed value such as
            ``{"regulators.SAMR.fine_rate": 0.06}`` (numpy scalars are accepted; text stays
            text, so ``"0.06"`` is refused where a number is meant).

    Returns:
        The frozen, validated scenario.

    Raises:
        ScenarioError: When anything about the scenario is invalid.

    Example:
        >>> from sim.scenario.loader import load_scenario
        >>> load_scenario("crackdown", ["months=12"]).months
        12
        >>> load_scenario("crackdown", {"months": 12, "regulators.SAMR.fine_rate": 0.06}).months
        12
    """
    data, layers = resolve(name_or_path, overrides)
    return validate(data, layers)


def with_overrides(scenario: Scenario, overrides: Overrides) -> Scenario:
    """Return a copy of a validated scenario with overrides applied and re-validated.

    The data validated are the scenario's dump, kept for the next call
    (:func:`~sim.scenario.dumps.shared_dump`), with new mappings only along the overrides' paths.

    Args:
        scenario: A validated scenario.
        overrides: ``path=value`` texts or a mapping of field path to value.

    Returns:
        The new scenario.
    """
    items = override_items(overrides)
    data = copied_along(shared_dump(scenario), [parts for _, parts, _ in items])
    layers = [Layer(f"scenario {scenario.name}", data, {})]
    layers += _apply_items(data, items)
    return validate(data, layers)


def scenario_yaml(scenario: Scenario) -> str:
    """Return the fully resolved scenario as YAML text, loadable as it stands.

    ``extends`` is written as a comment: the text already holds everything its ancestors gave
    (and lacks what it removed from them), so loading it must not merge them again.
    """
    parents = scenario.extends
    note = "" if not parents else "# resolved from: " + (
        parents if isinstance(parents, str) else ", ".join(parents)) + "\n"  # fmt: skip
    return note + yaml.safe_dump(content(scenario), sort_keys=False, allow_unicode=True, width=100)
