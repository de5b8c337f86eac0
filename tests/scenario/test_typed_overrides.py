"""Overrides from Python: typed values, numpy scalars, errors that name the override, and ranges."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.errors import ScenarioError
from sim.scenario.limits import field_range
from sim.scenario.loader import load_scenario, scenario_dict, scenario_hash, with_overrides
from tests.helpers import scenario

TEXT = ["regulators.SAMR.fine_rate=0.06", "months=24", "firms.Alibaba.listed=false"]
TYPED: dict[str, Any] = {
    "regulators.SAMR.fine_rate": 0.06,
    "months": 24,
    "firms.Alibaba.listed": False,
}
NUMPY: dict[str, Any] = {
    "regulators.SAMR.fine_rate": np.float64(0.06),
    "months": np.int64(24),
    "firms.Alibaba.listed": np.bool_(False),
}


@pytest.mark.parametrize("overrides", [TEXT, TYPED, NUMPY], ids=["text", "python", "numpy"])
def test_text_python_and_numpy_overrides_give_the_same_scenario(overrides: Any) -> None:
    sc = load_scenario("crackdown", overrides)
    assert scenario_hash(sc) == scenario_hash(load_scenario("crackdown", TEXT))
    assert sc.regulators["SAMR"].fine_rate == 0.06
    assert type(sc.months) is int and sc.months == 24
    assert sc.firms["Alibaba"].listed is False


def test_a_loaded_scenario_takes_typed_overrides_too() -> None:
    base = scenario("crackdown")
    changed = with_overrides(base, {"regulators.SAMR.p_fine": np.float32(0.5), "months": 6})
    assert changed.months == 6
    assert changed.regulators["SAMR"].p_fine == pytest.approx(0.5)
    assert scenario_hash(with_overrides(base, {})) == scenario_hash(base)


def test_a_whole_event_can_be_added_from_python() -> None:
    event = {"date": "2021-09", "type": "investigation", "firm": "Tencent", "regulator": "SAMR",
             "months": np.int64(6)}  # fmt: skip
    sc = load_scenario("crackdown", {"timeline.extra_probe": event})
    assert sc.timeline["extra_probe"].months == 6  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("overrides", "texts"),
    [
        ({"months": "12"}, ["overrides: months:", "allowed: an integer in [1, 1200]", "'12'"]),
        ({"regulators.SAMR.fine_rat": 0.1}, ["overrides: regulators.SAMR.fine_rat:",
                                             "did you mean 'fine_rate'?"]),
        ({"regulators..fine_rate": 0.1}, ["overrides: regulators..fine_rate:", "empty field"]),
        ({"extends": "thaw"}, ["overrides: extends: cannot be changed"]),
    ],
)  # fmt: skip
def test_a_bad_python_override_names_itself(overrides: dict[str, Any], texts: list[str]) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario("crackdown", overrides)
    message = str(info.value)
    assert info.value.file == "overrides", message
    for text in texts:
        assert text in message, message


@pytest.mark.parametrize(
    "overrides",
    [{"regulators.SAMR.fine_rate": 0.2}, ["regulators.SAMR.fine_rate=0.2"]],
    ids=["python", "text"],
)
def test_a_fine_rate_above_the_cap_blames_the_override_and_names_the_cap(overrides: Any) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario("crackdown", overrides)
    err = info.value
    assert err.file in {"overrides", "--set"}
    assert err.field == "regulators.SAMR.fine_rate"
    assert "fine_rate 0.2 is above legal_cap 0.1 (regulators.SAMR.legal_cap, set in" in err.detail
    assert "allowed: fine_rate in [0.0, 0.1] while legal_cap is 0.1" in err.detail


def test_lowering_the_cap_below_the_fine_rate_blames_the_cap() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario("crackdown", {"regulators.SAMR.legal_cap": 0.01})
    err = info.value
    assert (err.file, err.field) == ("overrides", "regulators.SAMR.legal_cap")
    assert "legal_cap 0.01 is below fine_rate" in err.detail
    assert "allowed: legal_cap in [" in err.detail


def test_raising_both_fields_together_is_accepted() -> None:
    sc = load_scenario(
        "crackdown", {"regulators.SAMR.legal_cap": 0.3, "regulators.SAMR.fine_rate": 0.2}
    )
    assert field_range(sc, "regulators.SAMR.fine_rate") == (0.0, 0.3)
    assert field_range(sc, "regulators.SAMR.legal_cap") == (0.2, 0.5)


def _numeric_paths(node: Any, prefix: str = "") -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _numeric_paths(value, f"{prefix}{key}.")
    elif isinstance(node, int | float) and not isinstance(node, bool):
        yield prefix[:-1]


def _sampled_paths() -> list[str]:
    """Every numeric field of the scenario, the params and one actor of each kind."""
    data = scenario_dict(scenario("crackdown"))
    keep = ("regulators.SAMR.", "cities.Beijing.", "funds.BigFund.", "firms.Alibaba.", "params.")
    paths = list(_numeric_paths(data))
    return [p for p in paths if "." not in p or p.startswith(keep)]


PATHS = _sampled_paths()


def _value_at(path: str) -> Any:
    node: Any = scenario_dict(scenario("crackdown"))
    for part in path.split("."):
        node = node[part]
    return node


INTEGER = {path: _value_at(path) for path in PATHS}


def test_the_sample_covers_every_kind_of_field() -> None:
    assert {"months", "regulators.SAMR.fine_rate", "firms.Alibaba.revenue_cny_bn"} <= set(PATHS)
    assert sum(p.startswith("params.") for p in PATHS) > 20


@pytest.mark.parametrize("path", PATHS)
def test_both_ends_of_a_fields_range_validate(path: str) -> None:
    base = scenario("crackdown")
    lo, hi = field_range(base, path)
    for end in (lo, hi):
        if end is not None and (path != "months" or end <= 120):  # keep the runs short
            assert with_overrides(base, {path: end})


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(PATHS), st.floats(0.0, 1.0))
def test_any_value_inside_a_fields_range_validates(path: str, u: float) -> None:
    base = scenario("crackdown")
    lo, hi = field_range(base, path)
    lo, hi = (lo if lo is not None else -1e6), (hi if hi is not None else 1e6)
    value: float | int = lo + u * (hi - lo)
    if isinstance(INTEGER[path], int):
        value = min(max(round(value), int(lo)), int(hi))
    with_overrides(base, {path: value})


@pytest.mark.parametrize("path", ["regulators.SAMR.domain", "regulators.SAMR", "nothing.here"])
def test_a_range_is_only_given_for_numeric_fields(path: str) -> None:
    with pytest.raises(ScenarioError, match="names no numeric field"):
        field_range(scenario("crackdown"), path)
