"""Property-based tests of sweep files: every bad sweep is refused cleanly, before any run.

As for scenarios (tests/scenario/test_fuzz_scenarios.py): Hypothesis mutates valid sweep files
(wrong types, missing, unknown and misspelt keys, out-of-range, non-finite and huge numbers, bad
designs, unknown outcomes and parameter paths, hostile YAML), writes junk CSV design files and
points ``base`` and ``design.file`` outside the sweep's folder. Each case must load into a sweep
that holds what was written, with a design of the declared size whose points the scenario schema
accepts, or raise :class:`~sim.errors.ScenarioError` with one line naming the file, the field and
what is allowed. No model is run.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sim.errors import ScenarioError
from sim.experiments.sweep import Sweep, load_sweep
from sim.scenario.loader import with_overrides
from tests.scenario.test_fuzz_scenarios import (
    TAGS,
    check_refusal,
    get,
    junk,
    put,
    typo,
    walk_paths,
    write,
)

EXAMPLES = {"mutated_sweeps": 250, "csv_files": 60, "references": 40}
MAX_CHECKED_POINTS = 3


def fuzz(name: str) -> settings:
    """Return the Hypothesis settings of one fuzz test (no deadline: the machine may be busy)."""
    return settings(
        max_examples=EXAMPLES[name],
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )

CSV = "freeze,chip_fund_cny_bn\n1,0\n2,172\n3,344\n"
VALID: dict[str, dict[str, Any]] = {
    "grid": {
        "name": "fz_grid", "base": "export_controls", "set": ["months=12"],
        "parameters": {
            "fine": {"path": "regulators.SAMR.fine_rate", "levels": [0.01, 0.05]},
            "freeze": {"path": "regulators.CAC.freeze_months", "range": [1, 4], "n": 2},
        },
        "design": {"kind": "grid"}, "replicates": 2, "outcomes": ["peak_to_trough_loss_usd"],
    },
    "lhs": {
        "name": "fz_lhs", "base": "baseline",
        "parameters": {
            "growth": {"path": "params.firms.long_run_growth", "range": [0.0, 0.1]},
            "clout": {"path": "params.influence.center_clout", "range": [1.0, 40.0],
                      "distribution": "loguniform"},
        },
        "design": {"kind": "lhs", "samples": 4, "seed": 3}, "replicates": 1,
        "outcomes": ["final_market_value_usd", "total_fines_value_usd"],
    },
    "sobol": {
        "name": "fz_sobol", "base": "crackdown",
        "parameters": {"speed": {"path": "params.enforcement.stringency_speed",
                                 "range": [0.1, 0.9]}},
        "design": {"kind": "sobol", "samples": 2}, "outcomes": ["max_drawdown"],
    },
    "morris": {
        "name": "fz_morris", "base": "thaw",
        "parameters": {"listed": {"path": "firms.ByteDance.listed", "levels": [True, False]},
                       "cap": {"path": "regulators.CAC.legal_cap", "range": [0.05, 0.2]}},
        "design": {"kind": "morris", "samples": 2, "num_levels": 4}, "replicates": 3,
        "outcomes": ["final_market_value_usd"],
    },
    "csv": {
        "name": "fz_csv", "base": "export_controls",
        "parameters": {"freeze": {"path": "regulators.CAC.freeze_months"},
                       "chip_fund_cny_bn": {"path": "timeline.big_fund_iii.capital_cny_bn"}},
        "design": {"kind": "csv", "file": "points.csv"}, "outcomes": ["total_fines_value_usd"],
    },
}  # fmt: skip


@functools.cache
def sweep_paths(kind: str) -> list[tuple[str, ...]]:
    """Return every mapping path of a valid sweep."""
    return walk_paths(VALID[kind])


@st.composite
def mutated_sweep(draw: st.DrawFn) -> tuple[str, str, tuple[str, ...], Any, dict[str, Any]]:
    """Return (kind, operation, path, value, content) of one mutated sweep file."""
    kind = draw(st.sampled_from(sorted(VALID)))
    content = copy.deepcopy(VALID[kind])
    op = draw(st.sampled_from(["set", "set", "set", "delete", "unknown", "rename", "list"]))
    paths = sweep_paths(kind)
    if op == "unknown":
        parent = draw(st.sampled_from([()] + [p for p in paths if isinstance(get(content, p),
                                                                            dict)]))  # fmt: skip
        path, value = (*parent, "zz_" + draw(st.text(min_size=1, max_size=5))), draw(junk)
    elif op == "rename":
        old = draw(st.sampled_from(paths))
        new = draw(typo(old[-1]))
        siblings = get(content, old[:-1]) if old[:-1] else content
        assume(new not in siblings)
        value = siblings.pop(old[-1])
        path = (*old[:-1], new)
    elif op == "list":  # a list value (levels, set, outcomes) with junk items
        candidates = [p for p in paths if isinstance(get(content, p), list)]
        path = draw(st.sampled_from(candidates))
        value = draw(st.lists(junk | st.sampled_from(["max_drawdown", "months=-1", "nope=1"]),
                              max_size=4))  # fmt: skip
    else:
        path = draw(st.sampled_from(paths))
        value = draw(junk) if op == "set" else None
    put(content, path, value)
    if op == "delete":
        parent = get(content, path[:-1]) if path[:-1] else content
        parent.pop(path[-1])
    return kind, op, path, value, content


def exercise(sweep: Sweep) -> None:
    """Draw the sweep's design and check a few points against the scenario schema."""
    points = sweep.points()
    assert points, "a design without points"
    for point in points[:MAX_CHECKED_POINTS]:
        assert set(point) == set(sweep.names)
        with_overrides(sweep.base, sweep.overrides(point))


def load_or_refusal(path: Path) -> Sweep | None:
    """Load a sweep and draw its design; on refusal check the message and return None."""
    try:
        sweep = load_sweep(path)
        exercise(sweep)
        return sweep
    except ScenarioError as exc:
        check_refusal(exc, path.parent.name)
        return None


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder for the generated sweep files, with the CSV of the csv design."""
    folder = tmp_path_factory.mktemp("sweeps")
    (folder / "points.csv").write_text(CSV, encoding="utf-8")
    return folder


@fuzz("mutated_sweeps")
@given(case=mutated_sweep())
def test_mutated_sweep_files_load_exactly_or_are_refused(
    case: tuple[str, str, tuple[str, ...], Any, dict[str, Any]], workdir: Path
) -> None:
    kind, op, path, value, content = case
    text = yaml.dump(content, Dumper=yaml.CSafeDumper, allow_unicode=True, sort_keys=False)
    sweep = load_or_refusal(write(workdir, "fuzzed.yaml", text))
    if sweep is None:
        return
    renamed_parameter = op == "rename" and len(path) == 2 and path[0] == "parameters"
    assert op not in ("unknown", "rename") or renamed_parameter, f"unknown key {path} accepted"
    if op == "set" and path != ("set",):
        loaded = get(sweep.raw, path)
        assert loaded == value or value is None, f"{path}: wrote {value!r}, loaded {loaded!r}"
    assert sweep.spec.name == content.get("name")


CSV_PIECES = ["freeze", "chip_fund_cny_bn", ",", "\n", "0", "3", "-1", "11", "1.5", "nan", "inf",
              "1e400", "", " ", '"', "x", "true", "\r\n", "#", ";", "\x00",
              "freeze,freeze"]  # fmt: skip


@fuzz("csv_files")
@given(text=st.lists(st.sampled_from(CSV_PIECES), max_size=30).map("".join)
       | st.binary(max_size=80))
def test_junk_csv_designs_are_refused_cleanly(text: str | bytes, workdir: Path) -> None:
    folder = workdir / "csv"
    folder.mkdir(exist_ok=True)
    write(folder, "points.csv", text)
    sweep = load_or_refusal(write(folder, "csv.yaml", yaml.safe_dump(VALID["csv"])))
    if sweep is not None:
        for point in sweep.points():
            assert isinstance(point["freeze"], int) and 1 <= point["freeze"] <= 120


REFERENCES = ["../outside.yaml", "../outside", "/etc/hostname", "/etc/passwd", "sub/../../x.yaml",
              "~/x.yaml", "..", ".", "", "inside.yaml", "sub/inside.yaml", "crackdown",
              "nested/../inside.yaml", "link.yaml", "C:\\x.yaml"]  # fmt: skip


@fuzz("references")
@given(base=st.sampled_from(REFERENCES), csv=st.sampled_from(REFERENCES + ["../outside.csv",
                                                                          "points.csv"]))
def test_file_references_stay_inside_the_sweep_folder(
    base: str, csv: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = tmp_path_factory.mktemp("refs")
    folder = root / "sweeps"
    (folder / "sub").mkdir(parents=True)
    (root / "outside.yaml").write_text("name: outside\nextends: baseline\n", encoding="utf-8")
    (root / "outside.csv").write_text(CSV, encoding="utf-8")
    (folder / "points.csv").write_text(CSV, encoding="utf-8")
    for name in ("inside.yaml", "sub/inside.yaml"):
        (folder / name).write_text("name: inside\nextends: export_controls\n", encoding="utf-8")
    (folder / "link.yaml").symlink_to(root / "outside.yaml")
    content = copy.deepcopy(VALID["csv"])
    content["base"], content["design"]["file"] = base, csv
    sweep = load_or_refusal(write(folder, "refs.yaml", yaml.safe_dump(content)))
    if sweep is not None:
        assert sweep.base.name in ("inside", "crackdown")
        assert csv == "points.csv"


@pytest.mark.parametrize("tag", TAGS)
def test_tags_in_sweep_files_are_refused_or_plain(tag: str, workdir: Path) -> None:
    text = yaml.safe_dump(VALID["grid"]) + f"description: {tag}\n"
    sweep = load_or_refusal(write(workdir, "tagged.yaml", text))
    assert sweep is None or tag.startswith(("!!str", "!!null"))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"design": {"kind": "lhs", "samples": 1_000_000}, "replicates": 100_000}, "replicates"),
        ({"parameters": {name: {"path": f"params.firms.{name}", "range": [0.0, 0.1], "n": 10_000}
                         for name in ("long_run_growth", "growth_reversion", "alignment_drift")}},
         "design"),
    ],
)  # fmt: skip
def test_absurdly_large_designs_are_refused_before_drawing(
    change: dict[str, Any], field: str, workdir: Path
) -> None:
    content = {**copy.deepcopy(VALID["grid"]), **change}
    with pytest.raises(ScenarioError) as info:
        load_sweep(write(workdir, "huge.yaml", yaml.safe_dump(content)))
    check_refusal(info.value, "huge.yaml")
    assert field in str(info.value)
