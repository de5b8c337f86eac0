"""Variants of a scenario and their hashes, computed from what changes, equal the full computation.

``with_overrides`` shares the base's kept dump except along the overrides' paths,
``scenario_hash`` reuses the text of sections it met recently, ``parse_override`` reads plain
numbers without the YAML parser and ``parse_month`` remembers months it read: each must give what
the full computation gives.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.errors import ScenarioError
from sim.scenario import dumps
from sim.scenario.base import parse_month
from sim.scenario.layers import copied_along
from sim.scenario.loader import Layer, apply_overrides, scenario_hash, validate, with_overrides
from sim.scenario.overrides import NOT_PLAIN, format_override_value, plain_scalar
from sim.scenario.yamlio import parse_yaml
from tests.helpers import SHIPPED, scenario

OVERRIDES = [
    "params.enforcement.stringency_power=2.5",
    "regulators.SAMR.fine_rate=0.07",
    "firms.Alibaba.listed=false",
    "timeline.zz_extra={date: 2021-05, type: stance, platform_stringency: 0.6, "
    "self_reliance: 0.5}",
]


def _full_hash(data: dict[str, Any]) -> str:
    """The hash as one ``json.dumps`` of the whole content."""
    content = {k: v for k, v in data.items() if k != "extends"}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _full_with_overrides(name: str, overrides: list[str]) -> Any:
    """``with_overrides`` on a fresh dump of the scenario."""
    base = scenario(name)
    data = base.model_dump(mode="json")
    return validate(data, [Layer(f"scenario {name}", data, {}), *apply_overrides(data, overrides)])


@pytest.mark.parametrize("name", SHIPPED)
def test_a_variant_and_its_hash_equal_the_full_computation(name: str) -> None:
    base = scenario(name)
    before = json.dumps(base.model_dump(mode="json"), sort_keys=True)
    for overrides in ([], OVERRIDES[:1], OVERRIDES):
        variant = with_overrides(base, overrides)
        full = _full_with_overrides(name, overrides)
        assert variant.model_dump(mode="json") == full.model_dump(mode="json")
        assert scenario_hash(variant) == _full_hash(full.model_dump(mode="json"))
        assert scenario_hash(variant) == scenario_hash(full)
    # The kept dump the variants share is as the scenario's.
    assert json.dumps(dumps.shared_dump(base), sort_keys=True) == before
    assert json.dumps(base.model_dump(mode="json"), sort_keys=True) == before
    assert variant.timeline["zz_extra"].platform_stringency == 0.6
    assert "zz_extra" not in base.timeline


@pytest.mark.parametrize("paths", [[["a", "b"], ["a", "b", "c"]], [["a", "b", "c"], ["a", "b"]]])
def test_copies_are_made_along_the_paths_only(paths: list[list[str]]) -> None:
    data = {"a": {"b": {"c": 1, "d": 2}, "e": {"f": 3}}, "g": {"h": 4}}
    copy = copied_along(data, paths)
    assert copy == data
    assert copy is not data and copy["a"] is not data["a"] and copy["a"]["b"] is not data["a"]["b"]
    assert copy["a"]["e"] is data["a"]["e"] and copy["g"] is data["g"]
    copy["a"]["b"]["c"] = 9
    copy["a"]["x"] = 0
    assert data == {"a": {"b": {"c": 1, "d": 2}, "e": {"f": 3}}, "g": {"h": 4}}


def test_a_section_met_before_is_told_apart_by_type_as_json_does() -> None:
    # 1, 1.0 and true are equal in Python but not in JSON.
    texts = [dumps._section_text({"a": v}) for v in (1, 1.0, True, 1, -0.0, 0.0)]
    assert texts == ['{"a":1}', '{"a":1.0}', '{"a":true}', '{"a":1}', '{"a":-0.0}', '{"a":0.0}']


def test_an_override_error_still_names_the_override() -> None:
    with pytest.raises(ScenarioError) as err:
        with_overrides(scenario("crackdown"), ["regulators.SAMR.fine_rate=-1.0"])
    assert err.value.field == "regulators.SAMR.fine_rate"
    # The shared dump was not changed by the refused override.
    assert dumps.shared_dump(scenario("crackdown"))["regulators"]["SAMR"]["fine_rate"] > 0


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.floats(allow_nan=False, allow_infinity=False).map(format_override_value),
        st.integers(-(10**30), 10**30).map(format_override_value),
        st.booleans().map(format_override_value),
        st.text(alphabet="-+0123456789._eExtrufalsn ", max_size=12),
    )
)
def test_a_plain_number_reads_as_yaml_reads_it(text: str) -> None:
    value = plain_scalar(text)
    try:
        parsed, _ = parse_yaml(text, "test")
    except ScenarioError:
        assert value is NOT_PLAIN
        return
    if value is NOT_PLAIN:
        return  # left to the parser
    assert type(value) is type(parsed)
    assert value == parsed
    if isinstance(value, float):
        assert math.copysign(1.0, value) == math.copysign(1.0, parsed)


def test_every_value_a_sweep_writes_is_read_without_the_parser() -> None:
    for value in (0.5, -0.0, 1e-300, 1.5e300, 3, -7, True, False, 2.0**60):
        assert plain_scalar(format_override_value(value)) is not NOT_PLAIN


def test_a_number_too_long_to_read_gets_the_parsers_error() -> None:
    text = "1" * 5000
    assert plain_scalar(text) is NOT_PLAIN
    with pytest.raises(ScenarioError, match="cannot be read as its type"):
        with_overrides(scenario("crackdown"), [f"months={text}"])


def test_a_month_read_again_is_the_same_and_a_bad_one_is_refused_again() -> None:
    assert parse_month("2021-4") == parse_month("2021-4") == "2021-04"
    for _ in range(2):
        with pytest.raises(ValueError, match="expected a month"):
            parse_month("2021-13")
