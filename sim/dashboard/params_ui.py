"""The dashboard's parameter controls, generated from the scenario schema.

Which fields the page offers is declared here as data (:data:`MAIN_FIELDS`, plus every regulator's
fine rate); each control's bounds, type and help text are read from the pydantic schema
(:mod:`sim.scenario.schema`, :mod:`sim.scenario.params`), never repeated by hand. The values a user
sets go back into a scenario the way ``--set`` does on the command line, through
:func:`sim.scenario.loader.load_scenario`, so the page refuses an invalid value with the very
message the CLI prints.

Nothing here imports Solara: the mapping is plain Python and is tested without a browser.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from annotated_types import Ge, Gt, Le, Lt
from pydantic.fields import FieldInfo

from sim.errors import ScenarioError
from sim.model.runner import check_seed
from sim.scenario.fields import field_metadata, walk
from sim.scenario.loader import BASELINE, load_scenario, scenario_dict
from sim.scenario.schema import Scenario

MAIN_FIELDS: tuple[str, ...] = (
    "months",
    "n_synthetic_firms",
    "params.influence.center_clout",
    "params.enforcement.stringency_speed",
    "params.firms.pressure_response",
    "params.valuation.discount_rate",
    "params.valuation.b_uncertainty",
    "params.cities.deal_rate",
    "params.chips.self_reliance_pull",
)
"""Scenario fields offered as controls, as ``--set`` paths (the regulators' fine rates follow)."""

REGULATOR_FIELDS: tuple[str, ...] = ("fine_rate",)
"""Fields of every regulator offered as controls."""

MAX_SLIDER_STEPS = 1000
"""An integer field with a wider range than this gets a text box instead of a slider."""

SEED_KEY = "seed"
BASELINE_KEY = "show_baseline"


@dataclass(frozen=True)
class Control:
    """One input of the page, read from the schema.

    Attributes:
        path: The field's ``--set`` path, e.g. ``regulators.SAMR.fine_rate``.
        label: Text shown beside the input.
        kind: ``float`` or ``int`` (a slider) or ``text`` (a text box parsed like ``--set``).
        value: The scenario's value.
        lo: Lowest allowed value (from the schema).
        hi: Highest allowed value (from the schema).
        step: Slider step (``None`` for a text box).
        help: The field's description in the schema, with its allowed range.
    """

    path: str
    label: str
    kind: Literal["float", "int", "text"]
    value: float | int | str
    lo: float | int
    hi: float | int
    step: float | int | None
    help: str


def _numeric_bounds(info: FieldInfo) -> tuple[float | None, float | None, type | None]:
    """Return a field's declared lower and upper bounds and its base type.

    Args:
        info: The pydantic field.

    Returns:
        ``(lo, hi, base)``; a bound is ``None`` when the schema declares none.
    """
    lo = hi = None
    metadata, annotation = field_metadata(info)
    for meta in metadata:
        if isinstance(meta, FieldInfo):
            inner_lo, inner_hi, _ = _numeric_bounds(meta)
            lo = inner_lo if inner_lo is not None else lo
            hi = inner_hi if inner_hi is not None else hi
        elif isinstance(meta, Ge | Gt):
            lo = float(meta.ge if isinstance(meta, Ge) else meta.gt)  # type: ignore[arg-type]
        elif isinstance(meta, Le | Lt):
            hi = float(meta.le if isinstance(meta, Le) else meta.lt)  # type: ignore[arg-type]
    base = annotation if isinstance(annotation, type) else None
    return lo, hi, base


def _nice_step(lo: float, hi: float) -> float:
    """Return a round slider step giving about :data:`MAX_SLIDER_STEPS` steps over the range."""
    span = hi - lo
    if span <= 0:
        return 1.0
    return float(10 ** math.floor(math.log10(span / MAX_SLIDER_STEPS)))


def _value_at(data: Mapping[str, Any], parts: Sequence[str]) -> Any:
    """Return the value at ``parts`` in nested mappings (``None`` when missing)."""
    node: Any = data
    for part in parts:
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _format_number(value: float) -> str:
    """Format a bound for help text: ``0.5``, ``1000``, ``5,000,000``."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:g}"


def control_for(scenario: Scenario, path: str) -> Control:
    """Build the control of one field from the schema and the scenario's value.

    Args:
        scenario: The scenario whose value the control starts at.
        path: The field's ``--set`` path.

    Returns:
        The control.

    Raises:
        ScenarioError: When the path is not a bounded number field of the schema.
    """
    data = scenario_dict(scenario)
    parts = path.split(".")
    info, _ = walk(parts, data)
    value = _value_at(data, parts)
    if info is None or value is None:
        raise ScenarioError("not a field of the scenario schema", file="dashboard", field=path)
    lo, hi, base = _numeric_bounds(info)
    if lo is None or hi is None or base not in (int, float):
        raise ScenarioError(
            "a dashboard control needs a number field with declared bounds",
            file="dashboard",
            field=path,
        )
    help_text = " ".join((info.description or "").split())
    help_text = f"{help_text} Allowed: {_format_number(lo)} to {_format_number(hi)}.".strip()
    label = path.removeprefix("params.")
    if base is int and hi - lo > MAX_SLIDER_STEPS:
        return Control(path, label, "text", str(value), int(lo), int(hi), None, help_text)
    if base is int:
        return Control(path, label, "int", int(value), int(lo), int(hi), 1, help_text)
    return Control(path, label, "float", float(value), lo, hi, _nice_step(lo, hi), help_text)


def controls_for(scenario: Scenario) -> list[Control]:
    """Return the page's controls for a scenario: :data:`MAIN_FIELDS`, then regulators' fields.

    Args:
        scenario: The scenario the controls start from.

    Returns:
        One control per field, in display order.
    """
    paths = list(MAIN_FIELDS)
    paths += [f"regulators.{name}.{f}" for name in scenario.regulators for f in REGULATOR_FIELDS]
    return [control_for(scenario, p) for p in paths]


def model_params(source: str, scenario: Scenario, seed: int = 0) -> dict[str, Any]:
    """Return Mesa ``model_params`` for :class:`~sim.dashboard.live.DashboardModel`.

    The keys are the fields' ``--set`` paths (plus ``seed`` and ``show_baseline``); Mesa's
    ``SolaraViz`` shows a slider or text box for each and passes the values back as keyword
    arguments when the model is reset.

    Args:
        source: The scenario's name or YAML path (a fixed parameter of the model).
        scenario: The loaded scenario, giving each control its starting value.
        seed: The starting seed.

    Returns:
        Mesa's user-parameter mapping.
    """
    params: dict[str, Any] = {"source": source}
    params[SEED_KEY] = {"type": "InputText", "value": str(seed), "label": "seed"}
    params[BASELINE_KEY] = {
        "type": "Checkbox",
        "value": scenario.name != BASELINE,
        "label": "draw the baseline beside it (same seed)",
    }
    for c in controls_for(scenario):
        if c.kind == "text":
            params[c.path] = {"type": "InputText", "value": c.value, "label": c.label}
        else:
            params[c.path] = {
                "type": "SliderInt" if c.kind == "int" else "SliderFloat",
                "value": c.value,
                "min": c.lo,
                "max": c.hi,
                "step": c.step,
                "label": c.label,
            }
    return params


def _as_override_text(value: object) -> str:
    """Write a control's value as the text after ``=`` in ``--set PATH=VALUE``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(round(value, 12))
    return str(value).strip()


def _same(a: object, b: object) -> bool:
    """Tell whether a control's value equals the scenario's (numbers compared as numbers)."""
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-15)
    return str(a).strip() == str(b).strip()


def overrides_from_values(scenario: Scenario, values: Mapping[str, Any]) -> list[str]:
    """Turn control values into ``--set`` overrides, keeping only those that change the scenario.

    Args:
        scenario: The scenario the controls started from.
        values: Field path to the value the user set (other keys are ignored).

    Returns:
        Overrides such as ``regulators.SAMR.fine_rate=0.06``, in the order given.
    """
    data = scenario_dict(scenario)
    out = []
    for path, value in values.items():
        if path in (SEED_KEY, BASELINE_KEY, "source") or value is None:
            continue
        if _same(value, _value_at(data, path.split("."))):
            continue
        out.append(f"{path}={_as_override_text(value)}")
    return out


def parse_seed(value: object) -> int:
    """Read the seed typed in the page.

    Args:
        value: The text (or number) given.

    Returns:
        The seed.

    Raises:
        ScenarioError: When it is not an integer in ``[0, 2**63 - 1]``.
    """
    text = str(value).strip()
    seed: object = int(text) if text.lstrip("-").isdigit() else text
    try:
        return check_seed(seed)
    except ValueError as exc:
        raise ScenarioError(str(exc), file="seed") from None


def build_scenario(source: str, overrides: Sequence[str]) -> Scenario:
    """Load the scenario the page describes, exactly as ``sim run SOURCE --set ...`` would.

    Args:
        source: Scenario name or YAML path.
        overrides: ``--set`` overrides from :func:`overrides_from_values`.

    Returns:
        The validated scenario.

    Raises:
        ScenarioError: With the CLI's message when a value is invalid.
    """
    return load_scenario(source, overrides)


def cli_command(source: str, seed: int, overrides: Sequence[str]) -> str:
    """Return the ``sim run`` command that runs the same scenario with the same seed.

    Args:
        source: Scenario name or YAML path.
        seed: The seed.
        overrides: The ``--set`` overrides.

    Returns:
        A shell command line.
    """
    import shlex

    parts = ["sim", "run", source, "--seed", str(seed)]
    for text in overrides:
        parts += ["--set", text]
    return shlex.join(parts)
