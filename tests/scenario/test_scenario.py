"""Scenario files: finding, extends, merging, overrides, hashing and listing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pydantic
import pytest
import yaml

from sim.errors import ScenarioError
from sim.scenario.layers import merge_into
from sim.scenario.loader import (
    deep_merge,
    list_scenarios,
    load_scenario,
    scenario_dict,
    scenario_hash,
    scenario_yaml,
    with_overrides,
)
from sim.scenario.search import find_scenario
from tests.helpers import SHIPPED, scenario

Writer = Callable[[str, str], Path]


def test_the_shipped_scenarios_are_there() -> None:
    assert {"baseline", "crackdown", "thaw", "export_controls", "history_2020_2025"} <= set(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_scenario_loads_and_is_described(name: str) -> None:
    sc = scenario(name)
    assert sc.name == name
    assert sc.description.strip()
    assert sc.firms and sc.regulators and sc.cities and sc.funds
    if name != "baseline":
        assert sc.extends is not None


def test_list_scenarios_gives_every_shipped_one_with_its_description() -> None:
    infos = {i.name: i for i in list_scenarios()}
    for name in SHIPPED:
        assert infos[name].description == " ".join(scenario(name).description.split())
        assert infos[name].path.is_file()


# -- extends ---------------------------------------------------------------------------------


def test_extends_inherits_and_overrides(scenario_dir: Writer) -> None:
    scenario_dir("longer_crackdown", "name: longer_crackdown\nextends: crackdown\nmonths: 24\n")
    sc = load_scenario("longer_crackdown")
    crack = scenario("crackdown")
    assert sc.months == 24
    assert sc.extends == "crackdown"
    assert set(sc.timeline) == set(crack.timeline)
    assert "ant_ipo" in sc.timeline  # from baseline, two levels up
    assert sc.firms == crack.firms


def test_extends_a_list_merges_parents_in_order(scenario_dir: Writer) -> None:
    scenario_dir("p1", "name: p1\nextends: baseline\nmonths: 10\ndescription: one\n")
    scenario_dir("p2", "name: p2\nextends: baseline\nmonths: 20\n")
    scenario_dir("c12", "name: c12\nextends: [p1, p2]\n")
    scenario_dir("c21", "name: c21\nextends: [p2, p1]\n")
    scenario_dir("own", "name: own\nextends: [p1, p2]\nmonths: 30\n")
    c12, c21 = load_scenario("c12"), load_scenario("c21")
    assert c12.months == 20 and c21.months == 10
    assert c12.description == c21.description == "one"
    assert c12.extends == ["p1", "p2"]
    assert load_scenario("own").months == 30


def test_history_extends_thaw_and_export_controls() -> None:
    history, thaw, controls = (scenario(n) for n in ("history_2020_2025", "thaw",
                                                     "export_controls"))  # fmt: skip
    removed = {"stance_peak", "stance_support", "cewc_signal", "stance_reengagement",
               "premier_meeting", "stance_symposium", "symposium", "self_reliance_push"}
    assert set(thaw.timeline) | set(controls.timeline) <= set(history.timeline) | removed
    assert not removed & set(history.timeline)  # null removes an inherited event
    # Its own event of the same key wins over thaw's, and the centre is free.
    assert history.timeline["alibaba_fine"] != thaw.timeline["alibaba_fine"]
    assert history.centre == "free" and scenario("crackdown").centre == "pinned"


def test_history_has_no_stance_event_after_the_trigger() -> None:
    history = scenario("history_2020_2025")
    stances = [ev.date for ev in history.timeline.values() if ev.type == "stance"]
    assert stances and max(stances) <= "2021-03"


def test_mappings_merge_key_by_key(scenario_dir: Writer) -> None:
    scenario_dir("tough_samr", "name: tough_samr\nextends: baseline\n"
                 "regulators: {SAMR: {fine_rate: 0.05}}\n")  # fmt: skip
    sc, base = load_scenario("tough_samr"), scenario("baseline")
    assert sc.regulators["SAMR"].fine_rate == 0.05
    assert sc.regulators["SAMR"].model_copy(update={"fine_rate": 0.0}) == base.regulators[
        "SAMR"
    ].model_copy(update={"fine_rate": 0.0})
    assert sc.regulators["CAC"] == base.regulators["CAC"]


def test_lists_are_replaced_not_merged(scenario_dir: Writer) -> None:
    scenario_dir(
        "cloudy", "name: cloudy\nextends: baseline\nfirms: {Alibaba: {sector: cloud}}\n"
    )
    assert load_scenario("cloudy").firms["Alibaba"].sector == "cloud"


def test_null_deletes_an_inherited_key(scenario_dir: Writer) -> None:
    scenario_dir("no_fine", "name: no_fine\nextends: crackdown\ntimeline: {alibaba_fine: null}\n")
    sc = load_scenario("no_fine")
    assert "alibaba_fine" not in sc.timeline
    assert "meituan_fine" in sc.timeline


def test_deleting_a_firm_and_its_events(scenario_dir: Writer) -> None:
    scenario_dir("no_didi", "name: no_didi\nextends: baseline\n"
                 "firms: {Didi: null}\ntimeline: {didi_listing: null}\n")  # fmt: skip
    sc = load_scenario("no_didi")
    assert "Didi" not in sc.firms
    assert len(sc.firms) == len(scenario("baseline").firms) - 1


def test_deleting_a_firm_its_events_still_name_is_an_error(scenario_dir: Writer) -> None:
    path = scenario_dir("orphan", "name: orphan\nextends: crackdown\nfirms: {Didi: null}\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario("orphan")
    text = str(info.value)
    assert "unknown firm 'Didi'" in text
    assert "timeline.d" in text  # didi_listing or didi_app_removal
    assert "allowed: Alibaba" in text
    assert "\n" not in text
    assert str(path) in text or "baseline.yaml" in text or "crackdown.yaml" in text


def test_deep_merge_does_not_touch_its_inputs() -> None:
    base = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    update = {"a": {"b": 2, "c": [3]}, "d": None, "e": {"f": 1}}
    merged = deep_merge(base, update)
    assert merged == {"a": {"b": 2, "c": [3]}, "e": {"f": 1}}
    assert base == {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    assert update == {"a": {"b": 2, "c": [3]}, "d": None, "e": {"f": 1}}
    merged["e"]["f"] = 2
    assert update["e"]["f"] == 1


def test_a_scenario_file_without_a_name_takes_its_file_name(scenario_dir: Writer) -> None:
    scenario_dir("nameless", "extends: baseline\nmonths: 3\n")
    assert load_scenario("nameless").name == "nameless"


def test_a_scenario_by_path_finds_its_parents_beside_it(tmp_path: Path) -> None:
    (tmp_path / "mybase.yaml").write_text("name: mybase\nextends: baseline\nmonths: 9\n")
    child = tmp_path / "child.yaml"
    child.write_text("name: child\nextends: mybase\n")
    assert find_scenario(str(child)) == child
    assert load_scenario(child).months == 9
    assert load_scenario(str(child)).months == 9


def test_a_user_scenario_shadows_a_shipped_one_of_the_same_name(scenario_dir: Writer) -> None:
    scenario_dir("thaw", "name: thaw\nextends: baseline\ndescription: my own thaw\n")
    assert {i.name: i for i in list_scenarios()}["thaw"].description == "my own thaw"
    assert load_scenario("thaw").description == "my own thaw"


def test_list_scenarios_survives_a_broken_file(scenario_dir: Writer) -> None:
    scenario_dir("broken", "name: [unclosed\n")
    infos = {i.name: i for i in list_scenarios()}
    assert infos["broken"].description == ""
    assert infos["broken"].error is not None and "malformed YAML" in infos["broken"].error
    assert set(SHIPPED) <= set(infos)


# -- overrides, hashing, output --------------------------------------------------------------


def test_overrides_set_fields_at_any_depth() -> None:
    sc = load_scenario("baseline", ["months=12", "regulators.SAMR.fine_rate=0.06",
                                    "params.valuation.horizon_years=12.5",
                                    "firms.Alibaba.exposure.data=0.7"])  # fmt: skip
    assert sc.months == 12
    assert sc.regulators["SAMR"].fine_rate == 0.06
    assert sc.params.valuation.horizon_years == 12.5
    assert sc.firms["Alibaba"].exposure["data"] == 0.7


def test_an_override_can_add_a_whole_timeline_event() -> None:
    sc = load_scenario("baseline", ["timeline.extra={date: 2021-02, type: signal, strength: 0.5}"])
    assert sc.timeline["extra"].type == "signal"
    assert sc.timeline["extra"].date == "2021-02"


def test_with_overrides_returns_a_new_validated_scenario() -> None:
    base = scenario("baseline")
    changed = with_overrides(base, ["months=7", "cities.Beijing.caution=0.1"])
    assert (changed.months, changed.cities["Beijing"].caution) == (7, 0.1)
    assert base.months == 72
    with pytest.raises(ScenarioError, match="did you mean 'months'"):
        with_overrides(base, ["monthz=7"])
    assert with_overrides(base, []) == base


def test_scenarios_are_frozen() -> None:
    sc = scenario("baseline")
    with pytest.raises(pydantic.ValidationError):
        sc.months = 3  # type: ignore[misc]


def test_the_hash_is_stable_and_sensitive() -> None:
    a, b = load_scenario("crackdown"), load_scenario("crackdown")
    assert a is not b
    assert scenario_hash(a) == scenario_hash(b)
    assert len(scenario_hash(a)) == 64
    changed = with_overrides(a, ["params.valuation.b_uncertainty=0.101"])
    assert scenario_hash(changed) != scenario_hash(a)
    assert scenario_hash(scenario("thaw")) != scenario_hash(a)


@pytest.mark.parametrize("name", SHIPPED)
def test_the_resolved_yaml_reloads_to_the_same_scenario(name: str, tmp_path: Path) -> None:
    sc = scenario(name)
    text = scenario_yaml(sc)
    assert yaml.safe_load(text) == {k: v for k, v in scenario_dict(sc).items() if k != "extends"}
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    again = load_scenario(path)
    assert scenario_hash(again) == scenario_hash(sc)


def test_removing_a_city_a_firm_needs_blames_the_file_that_removed_it(scenario_dir: Writer) -> None:
    scenario_dir("parent", "name: parent\nextends: baseline\n")
    path = scenario_dir("nocity", "name: nocity\nextends: parent\ncities:\n  Hangzhou: null\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario("nocity")
    text = str(info.value)
    assert text.startswith(f"{path}:"), text
    assert "firms.Alibaba.hq" in text and "actors.yaml" in text, text


def test_merge_into_changes_only_its_target_and_shares_nothing_with_the_layer() -> None:
    out = {"a": {"b": 1, "c": [1, 2]}, "d": 1, "g": [0]}
    update = {"a": {"b": 2, "c": [3]}, "d": None, "e": {"f": [1], "x": None}, "g": 5}
    merge_into(out, update)
    assert out == {"a": {"b": 2, "c": [3]}, "e": {"f": [1]}, "g": 5}
    assert out == deep_merge({"a": {"b": 1, "c": [1, 2]}, "d": 1, "g": [0]}, update)
    out["e"]["f"].append(2)
    out["a"]["c"].append(4)
    assert update == {"a": {"b": 2, "c": [3]}, "d": None, "e": {"f": [1], "x": None}, "g": 5}


def test_a_scenario_file_changed_in_place_is_read_anew(scenario_dir: Writer) -> None:
    scenario_dir("edited", "extends: baseline\nmonths: 3\n")
    first = load_scenario("edited")
    assert load_scenario("edited") == first
    scenario_dir("edited", "extends: baseline\nmonths: 4\n")  # same size, same moment
    assert load_scenario("edited").months == 4
    assert load_scenario("edited").extends == "baseline"
