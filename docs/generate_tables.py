"""Generate the tables of ``docs/ODD.md`` from the code and the data files.

The scenario schema (``sim/scenario/schema.py``), the parameters with their defaults and bounds
(``sim/scenario/params.py``), the metrics (``sim/model/metrics.py``), the named actors
(``sim/data/actors.yaml``) and the shipped scenarios' timelines (``scenarios/*.yaml``) are rendered
as Markdown tables between ``<!-- generated:NAME -->`` and ``<!-- /generated:NAME -->`` markers in
``docs/ODD.md``; the text around them is written by hand. Units, meanings missing from the schema,
the "how computed" of each metric and the sources of timeline events are kept in
``docs/odd_notes.yaml``; a missing one renders as ``(undocumented)``, which ``tests/test_odd.py``
refuses.

Usage::

    python docs/generate_tables.py           # rewrite the generated blocks of docs/ODD.md
    python docs/generate_tables.py --check   # exit 1 when docs/ODD.md is out of date
"""

from __future__ import annotations

import argparse
import functools
import re
import sys
import types
import typing
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from sim.model.metrics import METRICS, summarize
from sim.model.runner import run_scenario
from sim.results.store import write_atomic
from sim.scenario import schema
from sim.scenario.base import DOMAINS
from sim.scenario.events import EVENT_TYPES, EventBase
from sim.scenario.loader import ACTORS_FILE, resolve
from sim.scenario.loader import load_scenario as _load_scenario
from sim.scenario.params import Params
from sim.scenario.schema import Scenario, StakeholderSpec
from sim.scenario.search import PACKAGE_SCENARIOS

ODD = Path(__file__).resolve().parent / "ODD.md"
UNDOCUMENTED = "(undocumented)"
BLOCK = re.compile(r"(<!-- generated:([a-z0-9-]+) -->\n)(.*?)(<!-- /generated:\2 -->)", re.S)

NOTES_FILE = Path(__file__).resolve().parent / "odd_notes.yaml"
SHOWN = {"date", "type", "label", "mark"}


@functools.cache
def notes(section: str) -> dict[str, str]:
    """Return one section of ``docs/odd_notes.yaml`` (read once)."""
    return dict(_all_notes()[section])


def note(section: str, key: str) -> str:
    """Return the note on ``key`` in a section of ``odd_notes.yaml``, or ``(undocumented)``."""
    return notes(section).get(key, UNDOCUMENTED)


@functools.cache
def _all_notes() -> dict[str, Any]:
    data = yaml.safe_load(NOTES_FILE.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


@functools.cache
def load_scenario(name: str) -> Scenario:
    """Load a shipped scenario once per run of the generator."""
    return _load_scenario(name)


def cell(value: object) -> str:
    """Format one value for a Markdown table cell."""
    if isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, float):
        text = f"{value:g}"
    elif isinstance(value, tuple | list):
        text = "[" + ", ".join(cell(v) for v in value) + "]"
    elif isinstance(value, dict) and not value:
        text = "{}"
    elif isinstance(value, dict):
        text = ", ".join(f"{k}: {cell(v)}" for k, v in value.items())
    elif isinstance(value, BaseModel):
        text = cell(value.model_dump())
    else:
        text = str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def table(header: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    """Render a Markdown table."""
    head = list(header)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _limits(metadata: Iterable[object]) -> str:
    lo = hi = None
    left, right, extra = "[", "]", []
    for m in metadata:
        if getattr(m, "ge", None) is not None or getattr(m, "gt", None) is not None:
            lo = m.ge if getattr(m, "ge", None) is not None else m.gt  # type: ignore[attr-defined]
            left = "[" if getattr(m, "ge", None) is not None else "("
        if getattr(m, "le", None) is not None or getattr(m, "lt", None) is not None:
            hi = m.le if getattr(m, "le", None) is not None else m.lt  # type: ignore[attr-defined]
            right = "]" if getattr(m, "le", None) is not None else ")"
        if getattr(m, "min_length", None) is not None:
            extra.append(f"length >= {m.min_length}")  # type: ignore[attr-defined]
        if getattr(m, "max_length", None) is not None:
            extra.append(f"length <= {m.max_length}")  # type: ignore[attr-defined]
        if getattr(m, "pattern", None) is not None:
            extra.append(f"pattern `{m.pattern}`")  # type: ignore[attr-defined]
    text = "" if lo is None and hi is None else (
        f"{left}{cell('-inf' if lo is None else lo)}, {cell('inf' if hi is None else hi)}{right}")
    return ", ".join([text, *extra] if text else extra)


def bounds(annotation: Any, metadata: Iterable[object] = ()) -> str:
    """Describe the allowed values of a field from its annotation and constraints."""
    own = _limits(metadata)
    if own:
        return own
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        return " / ".join(str(a) for a in args)
    if origin is typing.Annotated:
        return bounds(args[0], [*args[1].metadata] if isinstance(args[1], FieldInfo) else args[1:])
    if origin is tuple:
        return "(" + ", ".join(bounds(a) or "any" for a in args) + ")"
    if origin is dict:
        return f"{bounds(args[0]) or 'name'} -> {bounds(args[1]) or 'see below'}"
    if origin in (typing.Union, types.UnionType):
        if all(isinstance(a, type) and issubclass(a, EventBase) for a in args):
            return "an event (see the event types)"
        parts = [bounds(a) for a in args if a is not type(None)]
        return " or ".join([p for p in parts if p] + (["none"] if type(None) in args else []))
    if origin is list:
        return "list of " + (bounds(args[0]) or "text")
    if annotation is bool:
        return "true / false"
    if annotation is str:
        return "text"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"see {annotation.__name__}"
    return ""


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    if info.default_factory is not None:
        value = info.default_factory()  # type: ignore[call-arg]
        return cell(value) if not isinstance(value, BaseModel) else "defaults"
    if info.default is None:
        return "none"
    return cell(info.default) if info.default != "" else '`""`'


def _lookup(table_: dict[str, str], cls: type[BaseModel], name: str) -> str | None:
    return table_.get(f"{cls.__name__}.{name}", table_.get(name))


def limits_text(cls: type[BaseModel], name: str) -> str:
    """Render the other fields of the same model that cap a field or that it caps."""
    caps: dict[str, str] = getattr(cls, "caps", {})
    text = f", at most `{caps[name]}`" if name in caps else ""
    return text + "".join(f", at least `{f}`" for f, limit in caps.items() if limit == name)


def field_table(cls: type[BaseModel], skip: Iterable[str] = ()) -> str:
    """Render a model's fields: name, unit, allowed values, default, meaning."""
    rows = []
    for name, info in cls.model_fields.items():
        if name in skip:
            continue
        meaning = _lookup(notes("field_meanings"), cls, name) or info.description or UNDOCUMENTED
        unit = _lookup(notes("field_units"), cls, name) or UNDOCUMENTED
        allowed = _lookup(notes("field_allowed"), cls, name)
        allowed = allowed or bounds(info.annotation, info.metadata)
        allowed = (allowed or "any") + limits_text(cls, name)
        rows.append((f"`{name}`", unit, allowed, _default(info), meaning))
    return table(["field", "unit", "allowed", "default", "meaning"], rows)


def scenario_fields() -> str:
    """The scenario, the stakeholder specs and their common fields."""
    common = set(StakeholderSpec.model_fields)
    parts = ["#### Scenario (top level)\n\n" + field_table(Scenario)]
    parts.append("#### Fields every stakeholder has (StakeholderSpec)\n\n"
                 + field_table(StakeholderSpec))  # fmt: skip
    parts.append("#### Positions (`position`)\n\n" + field_table(schema.Positions))
    for cls, key in ((schema.RegulatorSpec, "regulators"), (schema.CitySpec, "cities"),
                     (schema.FundSpec, "funds"), (schema.FirmSpec, "firms")):  # fmt: skip
        parts.append(f"#### {cls.__name__} (`{key}.<name>`, plus the stakeholder fields)\n\n"
                     + field_table(cls, skip=common))  # fmt: skip
    return "\n".join(parts)


def event_classes() -> list[type[EventBase]]:
    """Return the event models in the order of ``EVENT_TYPES``."""
    union = typing.get_args(typing.get_args(Scenario.model_fields["timeline"].annotation)[1])[0]
    by_type = {typing.get_args(c.model_fields["type"].annotation)[0]: c
               for c in typing.get_args(union)}  # fmt: skip
    return [by_type[t] for t in EVENT_TYPES]


def event_fields() -> str:
    """Every event type's own fields (after the fields all events share)."""
    common = set(EventBase.model_fields)
    parts = ["#### Fields every event has (EventBase)\n\n" + field_table(EventBase)]
    for cls in event_classes():
        kind = typing.get_args(cls.model_fields["type"].annotation)[0]
        doc = " ".join((cls.__doc__ or "").split())
        parts.append(f"#### `{kind}` ({cls.__name__})\n\n{doc}\n\n" + field_table(cls, common))
    return "\n".join(parts)


MODEL_CODE = ("*.py", "agents/*.py")  # below sim/model/


@functools.cache
def _model_sources() -> dict[str, str]:
    root = Path(schema.__file__).resolve().parents[1] / "model"
    return {str(path.relative_to(root.parents[1])): path.read_text(encoding="utf-8")
            for pattern in MODEL_CODE for path in sorted(root.glob(pattern))}  # fmt: skip


def used_in(name: str) -> str:
    """Return the model modules that read parameter ``name`` ("not used" when none)."""
    pattern = re.compile(rf"\.{re.escape(name)}\b")
    files = [f"`{path}`" for path, text in _model_sources().items() if pattern.search(text)]
    return ", ".join(files) or "**not used by the model code**"


def params_tables() -> str:
    """Every parameter group: name, unit, default, bounds, meaning; and shipped overrides."""
    groups = [(f"`{g}`", typing.cast(type, i.annotation).__name__,
               " ".join((typing.cast(type, i.annotation).__doc__ or "").split()))
              for g, i in Params.model_fields.items()]  # fmt: skip
    parts = ["#### Parameter groups (`params`)\n\n" + table(["group", "class", "meaning"], groups)]
    for group, ginfo in Params.model_fields.items():
        cls = typing.cast(type[BaseModel], ginfo.annotation)
        rows = []
        for name, info in cls.model_fields.items():
            rows.append((f"`{name}`", note("param_units", name), _default(info),
                         bounds(info.annotation, info.metadata), info.description,
                         used_in(name)))  # fmt: skip
        doc = " ".join((cls.__doc__ or "").split())
        header = ["parameter", "unit", "default", "bounds", "meaning", "used in"]
        parts.append(f"#### `params.{group}` ({cls.__name__}): {doc}\n\n" + table(header, rows))
    changed = []
    for info in shipped():
        params = load_scenario(info).params
        for group in Params.model_fields:
            values, defaults = getattr(params, group), getattr(Params(), group)
            for name in type(values).model_fields:
                if getattr(values, name) != getattr(defaults, name):
                    changed.append((info, f"`params.{group}.{name}`", getattr(values, name)))
    footer = ("Every shipped scenario runs with these defaults (no scenario file and no "
            "`sim/data/calibration.yaml` changes them).\n" if not changed else
            "Values that differ from the defaults in the shipped scenarios (from "
            "`sim/data/calibration.yaml` or the scenario files):\n\n"
            + table(["scenario", "parameter", "value"], changed))  # fmt: skip
    return "\n".join(parts) + "\n" + footer


def metrics_table() -> str:
    """The declared metrics with unit, kind, meaning and how they are computed."""
    rows = [(f"`{m.name}`", m.unit, m.kind, m.description, note("metric_how", m.name))
            for m in METRICS]  # fmt: skip
    return table(["metric", "unit", "kind", "meaning", "how computed"], rows)


def summary_table() -> str:
    """The run-level outcomes of :func:`sim.model.metrics.summarize`."""
    result = run_scenario(_load_scenario("baseline", ["months=3"]), seed=0)
    keys = summarize(result.timeseries)
    rows = []
    for key in keys:
        if key.startswith("total_"):
            rows.append((f"`{key}`", f"Sum over the run of the flow `{key[6:]}`."))
        elif key.startswith("final_"):
            rows.append((f"`{key}`", f"Last month's value of the stock `{key[6:]}`."))
        else:
            rows.append((f"`{key}`", note("summary_extra", key)))
    return table(["outcome", "meaning"], rows)


def _comments() -> dict[tuple[str, str], str]:
    """Trailing ``# comments`` of ``actors.yaml``, by (actor, field)."""
    out: dict[tuple[str, str], str] = {}
    actor = ""
    for line in ACTORS_FILE.read_text(encoding="utf-8").splitlines():
        indent = len(line) - len(line.lstrip())
        key = line.strip().split(":", 1)[0]
        if indent == 2 and line.strip().endswith(":"):
            actor = key
        elif indent == 4 and "  #" in line and line.count('"') % 2 == 0:
            out[(actor, key)] = line.split("  #", 1)[1].strip()
    return out


def _with(value: object, comment: str | None) -> str:
    return f"{cell(value)} — {comment}" if comment else cell(value)


def actors_tables() -> str:
    """The named actors' starting figures and behavioural attributes, with their sources."""
    sc, notes = load_scenario("baseline"), _comments()
    parts = ["#### Regulators\n\n" + table(
        ["regulator", "full name", "domain", "follows", "mandate", "capacity", "fine_rate",
         "legal_cap", "investigation months", "p_fine", "p_freeze", "freeze", "source"],
        [(n, r.full_name, r.domain, r.dimension, r.mandate, r.capacity, r.fine_rate,
          _with(r.legal_cap, notes.get((n, "legal_cap"))), r.investigation_months, r.p_fine,
          r.p_freeze, _with(f"{r.freeze_kind}, {r.freeze_months} months",
                            notes.get((n, "freeze_months"))), r.source)
         for n, r in sc.regulators.items()])]  # fmt: skip
    parts.append("#### Cities\n\n" + table(
        ["city", "growth_target", "budget_cny_bn", "caution", "home_pull", "source"],
        [(n, c.growth_target, c.budget_cny_bn, c.caution, c.home_pull, c.source)
         for n, c in sc.cities.items()]))  # fmt: skip
    parts.append("#### Funds and investors\n\n" + table(
        ["fund", "full name", "kind", "capital_cny_bn", "deploy_rate", "stake_propensity",
         "source"],
        [(n, f.full_name, f.kind, _with(f.capital_cny_bn, notes.get((n, "capital_cny_bn"))),
          f.deploy_rate, f.stake_propensity, f.source) for n, f in sc.funds.items()]))  # fmt: skip
    parts.append("#### Firms: figures (billion CNY, billion US$) and sources\n\n" + table(
        ["firm", "hq", "sector", "revenue_cny_bn", "revenue_growth", "margin", "cash_cny_bn",
         "market_value_usd_bn", "listed", "source"],
        [(n, f.hq, f.sector, _with(f.revenue_cny_bn, notes.get((n, "revenue_cny_bn"))),
          f.revenue_growth, f.margin, f.cash_cny_bn,
          _with(f.market_value_usd_bn, notes.get((n, "market_value_usd_bn"))), f.listed, f.source)
         for n, f in sc.firms.items()]))  # fmt: skip
    parts.append("#### Firms: behavioural attributes (modelling judgements)\n\n" + table(
        ["firm", *DOMAINS, "domestic_share", "alignment", "rd_intensity", "compute",
         "foreign_chip_share", "ai_capability", "chip_maker", "golden_share", "listed_abroad"],
        [(n, *(f.exposure.get(d, 0.1) for d in DOMAINS), f.domestic_share, f.alignment,
          f.rd_intensity, f.compute, f.foreign_chip_share, f.ai_capability, f.chip_maker,
          f.golden_share, f.listed_abroad) for n, f in sc.firms.items()]))  # fmt: skip
    p = sc.params.influence
    rows: list[tuple[object, ...]] = [("center", "center", p.center_clout, p.center_salience, 0.0,
                                       "stance (timeline)", "stance (timeline)")]  # fmt: skip
    for kind, specs in (("regulator", sc.regulators), ("city", sc.cities), ("fund", sc.funds),
                        ("firm", sc.firms)):  # fmt: skip
        for n, s in specs.items():
            rows.append((n, kind, s.clout, s.salience, s.susceptibility,
                         s.position.platform_stringency, s.position.self_reliance))  # fmt: skip
    parts.append("#### Influence attributes of every stakeholder\n\n" + table(
        ["stakeholder", "kind", "clout k", "salience s", "susceptibility λ",
         "x(0) platform_stringency", "x(0) self_reliance"], rows))  # fmt: skip
    return "\n".join(parts)


def shipped() -> list[str]:
    """Return the names of the shipped scenarios."""
    return sorted(p.stem for p in PACKAGE_SCENARIOS.glob("*.yaml"))


def _event_rows(sc: Scenario, keys: Iterable[str], origin: dict[str, str] | None) -> list[tuple]:
    order = sorted(keys, key=lambda k: (sc.timeline[k].date, sc.timeline[k].type == "listing"))
    rows = []
    for key in order:
        ev = sc.timeline[key]
        values = ", ".join(f"{k}={cell(v)}" for k, v in ev.model_dump().items()
                           if k not in SHOWN and v is not None)  # fmt: skip
        label = f"`{key}`" + (f" ({ev.label})" if ev.label else "")
        row = [ev.date, label, ev.type, values]
        row += [origin[key]] if origin is not None else []
        rows.append((*row, note("event_sources", key)))
    return rows


def timelines() -> str:
    """Each shipped scenario's own events (what its file adds or overrides)."""
    parts = []
    for name in shipped():
        _, layers = resolve(name)
        own = layers[-1].data.get("timeline", {}) or {}
        sc = load_scenario(name)
        parent = sc.extends if sc.extends else "nothing (only `sim/data/actors.yaml`)"
        removed = ", ".join(f"`{k}`" for k, v in own.items() if v is None)
        removes = f" It removes the events {removed}." if removed else ""
        parts.append(f"#### `{name}`: {sc.description}\n\nExtends {cell(parent)}; the centre is "
                     f"{sc.centre}.{removes} Events set in `scenarios/{name}.yaml`:\n\n" + table(
                         ["date", "event", "type", "values", "source"],
                         _event_rows(sc, [k for k in own if k in sc.timeline], None)))  # fmt: skip
    return "\n".join(parts)


def history_timeline() -> str:
    """The fully resolved timeline of ``history_2020_2025``, with the file that set each event."""
    name = "history_2020_2025"
    sc = load_scenario(name)
    _, layers = resolve(name)
    origin = {}
    for layer in layers:
        for key in layer.data.get("timeline", {}) or {}:
            origin[key] = Path(layer.name).stem
    return table(["date", "event", "type", "values", "set by", "source"],
                 _event_rows(sc, sc.timeline, origin))  # fmt: skip


def macro_table() -> str:
    """The macro inputs (GDP growth, global risk appetite) of the shipped scenarios."""
    sc = load_scenario("history_2020_2025")
    rows = [(ev.date, ev.gdp_growth, ev.risk_appetite, cell(ev.growth_target),
             note("event_sources", key))
            for key, ev in sorted(sc.timeline.items(), key=lambda kv: kv[1].date)
            if ev.type == "macro"]  # fmt: skip
    return table(["from", "gdp_growth", "risk_appetite", "growth_target", "source"], rows)


#: How each headline outcome is measured on a run, with its unit.
OUTCOME_MEASURES: dict[str, tuple[str, Callable[[Any], float]]] = {
    "loss": ("US$T", lambda r: r.summary["peak_to_trough_loss_usd"] / 1e12),
    "recovery": ("% above trough", lambda r: 100.0 * r.summary["recovery_from_trough"]),
    "fines_2021": ("fines", lambda r: _year_sum(r, "fines_count", 2021)),
    "golden_shares": ("stakes", lambda r: r.summary["final_golden_shares"]),
    "deals_2023": ("deals", lambda r: _year_sum(r, "deals_signed", 2023)),
    "domestic_share": ("share", lambda r: r.summary["final_domestic_compute_share"]),
}
OUTCOME_SEEDS = 4


def _year_sum(result: Any, column: str, year: int) -> float:
    ts = result.timeseries
    return float(ts.loc[ts["date"].dt.year == year, column].sum())


@functools.cache
def _measured(scenario: str, overrides: tuple[str, ...], measure: str) -> float:
    """Mean of ``measure`` over seeds 0..OUTCOME_SEEDS-1 of ``scenario`` with ``overrides``."""
    sc = _load_scenario(scenario, list(overrides))
    _, fn = OUTCOME_MEASURES[measure]
    return sum(fn(run_scenario(sc, seed=s)) for s in range(OUTCOME_SEEDS)) / OUTCOME_SEEDS


def outcomes_table() -> str:
    """Each headline outcome with its inputs and rules, measured with and without the inputs.

    The outcomes, their inputs, rules and the overrides that remove the inputs are in
    ``odd_notes.yaml``, section ``outcomes``.
    """
    rows = []
    for spec in _all_notes()["outcomes"]:
        unit, _ = OUTCOME_MEASURES[spec["measure"]]
        full = _measured(spec["scenario"], (), spec["measure"])
        removed = _measured(spec["scenario"], tuple(spec["remove"]), spec["measure"])
        rows.append((spec["outcome"], f"`{spec['scenario']}`", spec["inputs"], spec["rules"],
                     spec["removed"], f"{full:.3g} {unit}", f"{removed:.3g} {unit}"))  # fmt: skip
    return table(["outcome", "scenario", "set by (inputs)", "sized by (rules)", "inputs removed",
                  "measured", "measured without"], rows)  # fmt: skip


BLOCKS: dict[str, Callable[[], str]] = {
    "scenario-fields": scenario_fields, "event-fields": event_fields, "params": params_tables,
    "metrics": metrics_table, "summary": summary_table, "actors": actors_tables,
    "timelines": timelines, "history-timeline": history_timeline, "macro": macro_table,
    "outcomes": outcomes_table,
}  # fmt: skip


def render(text: str) -> str:
    """Return ``text`` with every generated block replaced by its current content.

    Raises:
        KeyError: When a block name is unknown.
    """
    return BLOCK.sub(lambda m: m.group(1) + "\n" + BLOCKS[m.group(2)]() + "\n" + m.group(4), text)


def main(argv: list[str] | None = None) -> int:
    """Rewrite (or, with ``--check``, verify) the generated blocks of ``docs/ODD.md``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="Exit 1 if ODD.md is out of date.")
    args = parser.parse_args(argv)
    text = ODD.read_text(encoding="utf-8")
    found = {m.group(2) for m in BLOCK.finditer(text)}
    if missing := sorted(set(BLOCKS) - found):
        sys.stderr.write(f"docs/ODD.md lacks generated blocks: {', '.join(missing)}\n")
        return 1
    new = render(text)
    if args.check:
        if new != text:
            sys.stderr.write("docs/ODD.md is out of date: run python docs/generate_tables.py\n")
            return 1
        return 0
    if new != text:
        write_atomic(ODD, lambda fh: fh.write(new.encode("utf-8")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
