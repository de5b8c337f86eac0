"""docs/ODD.md stays honest: it names everything the code declares, and its tables are current.

Checked: every metric of ``sim.metrics.METRICS``, every field of every pydantic model reachable
from ``sim.schema.Scenario`` (actor specs, positions, every event type, every parameter group),
every event type and every shipped scenario appears in docs/ODD.md, either as ``name`` in
backticks or as a table cell; nothing in it is marked "(undocumented)"; and the tables generated
by docs/generate_tables.py match the current code and data.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import typing
from pathlib import Path
from types import ModuleType

import pytest
from pydantic import BaseModel

from sim.metrics import METRICS
from sim.params import Params
from sim.scenario import PACKAGE_SCENARIOS
from sim.schema import EVENT_TYPES, EventBase, Scenario

DOCS = Path(__file__).resolve().parent.parent / "docs"
ODD = DOCS / "ODD.md"
GENERATOR = DOCS / "generate_tables.py"


@functools.cache
def odd_text() -> str:
    return ODD.read_text(encoding="utf-8")


@functools.cache
def documented_names() -> frozenset[str]:
    """Names written in backticks anywhere, and the text of every table cell."""
    text = odd_text()
    names = set(re.findall(r"`([^`\n]+)`", text))
    for line in text.splitlines():
        if line.lstrip().startswith("|"):
            for raw in re.split(r"(?<!\\)\|", line.strip().strip("|")):
                names.add(raw.strip().strip("`").strip())
    return frozenset(names)


def models_from(annotation: object, seen: dict[type[BaseModel], None]) -> None:
    """Collect every pydantic model reachable from ``annotation`` (fields, unions, containers)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return
        seen[annotation] = None
        for info in annotation.model_fields.values():
            models_from(info.annotation, seen)
        return
    for arg in typing.get_args(annotation):
        models_from(arg, seen)


@functools.cache
def schema_models() -> tuple[type[BaseModel], ...]:
    seen: dict[type[BaseModel], None] = {}
    models_from(Scenario, seen)
    return tuple(seen)


def all_fields() -> list[tuple[str, str]]:
    return [(m.__name__, name) for m in schema_models() for name in m.model_fields]


def shipped_scenarios() -> list[str]:
    return sorted(p.stem for p in PACKAGE_SCENARIOS.glob("*.yaml"))


def test_walk_reaches_every_event_type_and_parameter_group() -> None:
    models = set(schema_models())
    events = [m for m in models if issubclass(m, EventBase) and "type" in m.model_fields]
    kinds = {typing.get_args(m.model_fields["type"].annotation)[0] for m in events}
    assert kinds == set(EVENT_TYPES)
    groups = {info.annotation for info in Params.model_fields.values()}
    assert groups <= models and Params in models


@pytest.mark.parametrize("name", [m.name for m in METRICS])
def test_every_metric_is_documented(name: str) -> None:
    assert name in documented_names(), f"metric {name!r} is missing from docs/ODD.md"


def test_every_schema_and_parameter_field_is_documented() -> None:
    names = documented_names()
    missing = [f"{model}.{field}" for model, field in all_fields() if field not in names]
    assert not missing, f"fields missing from docs/ODD.md: {', '.join(missing)}"


@pytest.mark.parametrize("kind", EVENT_TYPES)
def test_every_event_type_is_documented(kind: str) -> None:
    assert kind in documented_names(), f"event type {kind!r} is missing from docs/ODD.md"


@pytest.mark.parametrize("name", shipped_scenarios())
def test_every_shipped_scenario_is_documented(name: str) -> None:
    assert name in documented_names(), f"scenario {name!r} is missing from docs/ODD.md"


def test_nothing_is_left_undocumented() -> None:
    lines = [line for line in odd_text().splitlines() if "(undocumented)" in line]
    assert not lines, (
        "docs/ODD.md has entries without a unit, meaning, source or formula; add them to "
        f"docs/generate_tables.py and regenerate: {lines[:3]}"
    )


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_tables", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_tables_are_current() -> None:
    generator = load_generator()
    text = odd_text()
    blocks = {m.group(2) for m in generator.BLOCK.finditer(text)}
    assert blocks == set(generator.BLOCKS), "docs/ODD.md lacks or has unknown generated blocks"
    assert generator.render(text) == text, (
        "docs/ODD.md is out of date with the code or data: run `python docs/generate_tables.py`"
    )
