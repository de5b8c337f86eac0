"""Bad scenarios and overrides: every problem is a one-line ScenarioError that says where and why.

Each message must name the file (or ``--set``), the field path and what is allowed. Hypothesis
mutates a valid scenario at random and checks that validation never fails any other way.
"""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from annotated_types import Ge, Le
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.errors import ScenarioError
from sim.scenario.loader import Layer, load_scenario, resolve, validate, with_overrides
from sim.scenario.params import Params
from sim.scenario.schema import Scenario
from tests.helpers import scenario

Writer = Callable[[str, str], Path]


def one_line(err: ScenarioError) -> str:
    text = str(err)
    assert text and "\n" not in text and "Traceback" not in text
    return text


# -- errors in scenario files ----------------------------------------------------------------

HEAD = "name: bad\nextends: baseline\n"

# (body after HEAD, field path expected in the message, other texts the message must contain)
FILE_CASES: list[tuple[str, str, str, list[str]]] = [
    ("unknown_key", "month: 12\n", "month", ["did you mean 'months'?", "allowed: name"]),
    ("unknown_nested_key", "regulators: {SAMR: {fine_rat: 0.05}}\n", "regulators.SAMR.fine_rat",
     ["did you mean 'fine_rate'?", "allowed:", "legal_cap"]),
    ("unknown_param", "params: {valuation: {horizon_year: 5}}\n",
     "params.valuation.horizon_year", ["did you mean 'horizon_years'?"]),
    ("unknown_group", "params: {valuations: {}}\n", "params.valuations",
     ["did you mean 'valuation'?"]),
    ("wrong_type_int", "months: twelve\n", "months",
     ["allowed: an integer in [1, 1200]", "given: 'twelve'"]),
    ("wrong_type_float", "regulators: {SAMR: {p_fine: high}}\n",
     "regulators.SAMR.p_fine", ["allowed: a number in [0.0, 1.0]", "given: 'high'"]),
    ("wrong_type_bool", "firms: {Alibaba: {listed: maybe}}\n", "firms.Alibaba.listed",
     ["true or false", "given: 'maybe'"]),
    ("wrong_type_mapping", "cities: [Beijing]\n", "cities", ["mapping", "Beijing"]),
    ("below_range", "months: 0\n", "months", ["allowed: an integer in [1, 1200]", "given: 0"]),
    ("above_range", "params: {valuation: {horizon_years: 100}}\n",
     "params.valuation.horizon_years", ["allowed: a number in [1.0, 40.0]", "given: 100"]),
    ("nan", "params: {valuation: {horizon_years: .nan}}\n", "params.valuation.horizon_years",
     ["finite", "[1.0, 40.0]"]),
    ("inf", "firms: {Alibaba: {revenue_cny_bn: .inf}}\n", "firms.Alibaba.revenue_cny_bn",
     ["finite"]),
    ("bad_choice", "regulators: {SAMR: {freeze_kind: ban}}\n", "regulators.SAMR.freeze_kind",
     ["one of 'listing_halt', 'app_removal', 'licence_freeze'", "given: 'ban'"]),
    ("bad_event_type", "timeline: {x: {date: 2021-01, type: sanction}}\n", "timeline.x",
     ["unknown event type 'sanction'", "'stance'", "'deal'"]),
    ("event_without_type", "timeline: {x: {date: 2021-01}}\n", "timeline.x",
     ["needs a `type`", "'stance'"]),
    ("fine_with_two_sizes", "timeline: {x: {date: 2021-01, type: fine, firm: Alibaba, "
     "regulator: SAMR, share_of_revenue: 0.04, amount_cny_bn: 18}}\n", "timeline.x",
     ["at most one of share_of_revenue or amount_cny_bn"]),
    ("bad_date", "timeline: {x: {date: 2021-13, type: signal, strength: 0.1}}\n",
     "timeline.x.date", ["YYYY-MM", "2021-13"]),
    ("unknown_event_field", "timeline: {x: {date: 2021-01, type: signal, strenght: 0.1}}\n",
     "timeline.x.strenght", ["did you mean 'strength'?"]),
    ("unknown_firm", "timeline: {x: {date: 2021-01, type: fine, firm: Alibabba, regulator: SAMR, "
     "share_of_revenue: 0.01}}\n", "timeline.x.firm",
     ["unknown firm 'Alibabba'", "allowed: Alibaba, Ant Group"]),
    ("unknown_regulator", "timeline: {x: {date: 2021-01, type: investigation, firm: Alibaba, "
     "regulator: FTC, months: 3}}\n", "timeline.x.regulator",
     ["unknown regulator 'FTC'", "allowed: CAC"]),
    ("unknown_fund", "timeline: {x: {date: 2021-01, type: golden_share, firm: Alibaba, "
     "fund: NSSF}}\n", "timeline.x.fund", ["unknown fund 'NSSF'", "allowed: BigFund"]),
    ("unknown_city", "timeline: {x: {date: 2021-01, type: deal, firm: Alibaba, city: Wuhan, "
     "amount_cny_bn: 1}}\n", "timeline.x.city", ["unknown city 'Wuhan'", "allowed: Beijing"]),
    ("unknown_hq", "firms: {Alibaba: {hq: Wuhan}}\n", "firms.Alibaba.hq",
     ["unknown city 'Wuhan'", "allowed: Beijing"]),
    # Two errors, the broken cap first: the unknown field is the one reported, with its file.
    ("unknown_key_and_broken_cap", "month: 12\nregulators: {SAMR: {legal_cap: 0}}\n", "month",
     ["did you mean 'months'?", "allowed: name"]),
    ("fine_above_cap", "regulators: {SAMR: {fine_rate: 0.2}}\n", "regulators.SAMR.fine_rate",
     ["fine_rate 0.2 is above legal_cap 0.1 (regulators.SAMR.legal_cap, set in", "actors.yaml:",
      "allowed: fine_rate in [0.0, 0.1] while legal_cap is 0.1"]),
    ("months_reversed", "regulators: {SAMR: {investigation_months: [9, 3]}}\n",
     "regulators.SAMR", ["[shortest, longest]", "[9, 3]"]),
    ("new_actor_incomplete", "regulators: {FTC: {p_fine: 0.5}}\n", "regulators.FTC.domain",
     ["required field is missing", "one of 'data'"]),
    ("bad_name", "name: 'two words'\n", "name", ["must be the file's name, 'bad_name'",
                                                 "given 'two words'"]),
]  # fmt: skip


@pytest.mark.parametrize(("case", "body", "field", "texts"), FILE_CASES,
                         ids=[c[0] for c in FILE_CASES])  # fmt: skip
def test_a_bad_field_names_file_line_field_and_allowed(
    case: str, body: str, field: str, texts: list[str], scenario_dir: Writer
) -> None:
    head = HEAD.replace("name: bad", f"name: {case}")
    path = scenario_dir(case, body + "extends: baseline\n" if case == "bad_name" else head + body)
    with pytest.raises(ScenarioError) as info:
        load_scenario(case)
    err = info.value
    message = one_line(err)
    assert err.file == str(path), message
    assert message.startswith(f"{path}:"), message
    assert err.line == (1 if case == "bad_name" else 3), message
    assert f"{field}:" in message, message
    for expected in texts:
        assert expected in message, f"{expected!r} not in {message!r}"


# (file text, texts the message must contain); the file is always named.
SYNTAX_CASES: list[tuple[str, str, list[str]]] = [
    ("malformed", HEAD + "months: [1\n", ["malformed YAML"]),
    ("bad_indent", HEAD + "months: 12\n  start: 2020-01\n", ["malformed YAML"]),
    ("python_tag", HEAD + "months: !!python/object/apply:os.system [echo hi]\n",
     ["tags such as", "are not allowed"]),
    ("python_object", HEAD + "x: !!python/object:builtins.object {}\n", ["not allowed"]),
    ("custom_tag", HEAD + "months: !include other.yaml\n", ["not allowed"]),
    ("empty", "", ["is empty"]),
    ("only_comments", "# nothing here\n", ["is empty"]),
    ("a_list", "- name: x\n- months: 3\n", ["must be a mapping", "got list"]),
    ("a_scalar", "just text\n", ["must be a mapping", "got str"]),
    ("nul_bytes", "name: x\x00\n", ["not a text file"]),
    ("too_deep", HEAD + "x: " + "[" * 60 + "]" * 60 + "\n", ["nesting deeper"]),
    ("extends_mapping", "name: x\nextends: {a: 1}\n",
     ["extends", "must be a scenario name or a list of names"]),
    ("extends_path", "name: x\nextends: ../baseline\n", ["extends", "not a scenario name"]),
    ("extends_unknown", "name: x\nextends: basline\n",
     ["extends", "unknown scenario 'basline' (did you mean 'baseline'?)", "known: baseline"]),
    ("self_cycle", "name: self_cycle\nextends: self_cycle\n", ["cyclic extends"]),
]  # fmt: skip


def _alias_bomb() -> str:
    lines = [HEAD, 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]\n")
    return "".join(lines)


def _many_aliases() -> str:
    return HEAD + "a: &a 1\nb: [" + ", ".join(["*a"] * 300) + "]\n"


SYNTAX_CASES += [
    ("alias_bomb", _alias_bomb(), ["values through aliases"]),
    ("many_aliases", _many_aliases(), ["aliases", "200"]),
]


@pytest.mark.parametrize(("case", "text", "texts"), SYNTAX_CASES, ids=[c[0] for c in SYNTAX_CASES])
def test_an_unreadable_file_is_named(case: str, text: str, texts: list[str],
                                     scenario_dir: Writer) -> None:  # fmt: skip
    path = scenario_dir(case, text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(case)
    message = one_line(info.value)
    assert str(path) in message, message
    for expected in texts:
        assert expected in message, f"{expected!r} not in {message!r}"


def test_a_non_utf8_file_is_named(scenario_dir: Writer) -> None:
    path = scenario_dir("latin", "")
    path.write_bytes(HEAD.encode() + "description: caf\u00e9\n".encode("latin-1"))
    with pytest.raises(ScenarioError, match="is not UTF-8") as info:
        load_scenario("latin")
    assert str(path) in one_line(info.value)


def test_a_cycle_through_two_files(scenario_dir: Writer) -> None:
    scenario_dir("ping", "name: ping\nextends: pong\n")
    scenario_dir("pong", "name: pong\nextends: ping\n")
    with pytest.raises(ScenarioError, match="cyclic extends: ping -> pong -> ping") as info:
        load_scenario("ping")
    assert "ping.yaml" in one_line(info.value)


def test_an_error_in_a_parent_names_the_parent(scenario_dir: Writer) -> None:
    parent = scenario_dir("bad_parent", HEAD.replace("bad", "bad_parent") + "months: -3\n")
    scenario_dir("good_child", "name: good_child\nextends: bad_parent\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario("good_child")
    assert one_line(info.value).startswith(f"{parent}:3: months:")


def test_an_unknown_scenario_suggests_the_closest_name() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario("crackdwn")
    message = one_line(info.value)
    assert "unknown scenario 'crackdwn' (did you mean 'crackdown'?)" in message
    assert "known: baseline, crackdown" in message
    assert "search path:" in message


def test_a_missing_scenario_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nothere.yaml"
    with pytest.raises(ScenarioError, match="no such scenario file") as info:
        load_scenario(str(missing))
    assert str(missing) in one_line(info.value)


# -- errors in --set overrides ---------------------------------------------------------------

SET_CASES: list[tuple[str, str | None, list[str]]] = [
    ("months", None, ["expected FIELD.PATH=VALUE", "got 'months'"]),
    ("monts=3", "monts", ["did you mean 'months'?", "allowed here:", "months"]),
    ("regulators.SAMR.fine_rat=0.1", "regulators.SAMR.fine_rat",
     ["did you mean 'fine_rate'?", "legal_cap"]),
    ("regulators.SAMX.fine_rate=0.1", "regulators.SAMX.fine_rate",
     ["did you mean 'SAMR'?", "allowed here: CAC, MIIT, MOFCOM, PBoC, SAMR"]),
    ("params.valuation.nope.deeper=1", "params.valuation.nope.deeper", ["unknown field"]),
    ("months.x=1", "months.x", ["unknown field"]),
    ("params..x=1", "params..x", ["empty field name"]),
    ("months=abc", "months", ["allowed: an integer in [1, 1200]", "given: 'abc'"]),
    ("months=5000", "months", ["allowed: an integer in [1, 1200]", "given: 5000"]),
    ("params.valuation.horizon_years=.nan", "params.valuation.horizon_years", ["finite"]),
    ("regulators.SAMR.p_fine=[1", "regulators.SAMR.p_fine", ["malformed YAML"]),
    ("months=!!python/object/apply:os.system [ls]", "months", ["not allowed"]),
    ("timeline.extra=3", "timeline.extra", ["given: 3"]),
    ("timeline.extra={date: 2021-01, type: fine, firm: Nobody, regulator: SAMR, "
     "amount_cny_bn: 1}", "timeline.extra.firm", ["unknown firm 'Nobody'"]),
]  # fmt: skip


@pytest.mark.parametrize(("override", "field", "texts"), SET_CASES,
                         ids=[c[0] for c in SET_CASES])  # fmt: skip
def test_a_bad_override_names_set_field_and_allowed(override: str, field: str | None,
                                                    texts: list[str]) -> None:  # fmt: skip
    for attempt in (lambda: load_scenario("baseline", [override]),
                    lambda: with_overrides(scenario("baseline"), [override])):  # fmt: skip
        with pytest.raises(ScenarioError) as info:
            attempt()
        message = one_line(info.value)
        assert message.startswith("--set: "), message
        if field is not None:
            assert f": {field}: " in message, message
        for expected in texts:
            assert expected in message, f"{expected!r} not in {message!r}"


# -- property tests --------------------------------------------------------------------------


@functools.cache
def _resolved() -> tuple[dict[str, Any], tuple[Layer, ...]]:
    data, layers = resolve("baseline")
    return data, tuple(layers)


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _leaves(v, (*path, k))]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _leaves(v, (*path, i))]
    return [path]


def _mappings(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if not isinstance(node, dict):
        return []
    return [path, *(p for k, v in node.items() for p in _mappings(v, (*path, k)))]


def _set(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(data)
    node: Any = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out


LEAVES = _leaves(_resolved()[0])
MAPPINGS = _mappings(_resolved()[0])
ALWAYS_BAD = [math.nan, math.inf, -math.inf, {"x": 1}, [[1]]]
MAYBE_BAD = [*ALWAYS_BAD, "abc", "", -1e9, 1e9, 10**30, -1, 0, 0.5, 2, True, False, None,
             [1, 2], "2021-13", "2020-01"]  # fmt: skip


def _validate(data: dict[str, Any]) -> Scenario | ScenarioError:
    try:
        return validate(data, list(_resolved()[1]))
    except ScenarioError as err:
        one_line(err)
        assert err.file is not None and err.file in str(err)
        return err


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(LEAVES), value=st.sampled_from(ALWAYS_BAD))
def test_non_finite_or_structured_values_are_always_refused(path: tuple[Any, ...],
                                                            value: Any) -> None:  # fmt: skip
    outcome = _validate(_set(_resolved()[0], path, value))
    assert isinstance(outcome, ScenarioError), f"{path} = {value!r} was accepted"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(LEAVES), value=st.sampled_from(MAYBE_BAD))
def test_any_mutation_loads_or_is_a_scenario_error(path: tuple[Any, ...], value: Any) -> None:
    _validate(_set(_resolved()[0], path, value))


@settings(max_examples=80, deadline=None)
@given(path=st.sampled_from(MAPPINGS),
       key=st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12),
       value=st.sampled_from([1, "x", None, {"y": 2}]))  # fmt: skip
def test_an_unknown_key_is_always_refused(path: tuple[Any, ...], key: str, value: Any) -> None:
    data = copy.deepcopy(_resolved()[0])
    node: Any = data
    for part in path:
        node = node[part]
    if key in node or value is None:
        return
    node[f"zz_{key}"] = value
    outcome = _validate(data)
    assert isinstance(outcome, ScenarioError), f"{path}.zz_{key} was accepted"


@settings(max_examples=60, deadline=None)
@given(path=st.sampled_from(LEAVES), value=st.text(max_size=30))
def test_any_override_text_loads_or_is_a_scenario_error(path: tuple[Any, ...],
                                                        value: str) -> None:  # fmt: skip
    dotted = ".".join(str(p) for p in path)
    try:
        with_overrides(scenario("baseline"), [f"{dotted}={value}"])
    except ScenarioError as err:
        one_line(err)


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=40))
def test_any_override_string_loads_or_is_a_scenario_error(text: str) -> None:
    try:
        with_overrides(scenario("baseline"), [text])
    except ScenarioError as err:
        one_line(err)


def _bounded_params() -> list[tuple[str, float, float]]:
    out = []
    for group, group_info in Params.model_fields.items():
        for name, info in group_info.annotation.model_fields.items():  # type: ignore[union-attr]
            lo = next((m.ge for m in info.metadata if isinstance(m, Ge)), None)
            hi = next((m.le for m in info.metadata if isinstance(m, Le)), None)
            if lo is not None and hi is not None:
                out.append((f"params.{group}.{name}", float(lo), float(hi)))
    return out


BOUNDED = _bounded_params()


def test_every_behavioural_parameter_is_bounded() -> None:
    groups = Params.model_fields
    n_fields = sum(len(g.annotation.model_fields) for g in groups.values())  # type: ignore[union-attr]
    assert len(BOUNDED) == n_fields - 1  # all but the base_split tuple


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_valid_values_of_bounded_parameters_always_load(data: st.DataObject) -> None:
    path, lo, hi = data.draw(st.sampled_from(BOUNDED))
    value = data.draw(st.floats(lo, hi, allow_nan=False))
    sc = with_overrides(scenario("baseline"), [f"{path}={value!r}"])
    group, name = path.split(".")[1:]
    assert getattr(getattr(sc.params, group), name) == value


@settings(max_examples=30, deadline=None)
@given(months=st.integers(1, 1200), year=st.integers(1900, 2200), month_of_year=st.integers(1, 12))
def test_valid_months_and_starts_always_load(months: int, year: int, month_of_year: int) -> None:
    month = f"{year:04d}-{month_of_year:02d}"
    sc = with_overrides(scenario("baseline"), [f"months={months}", f"start={month}"])
    assert (sc.months, sc.start) == (months, month)
