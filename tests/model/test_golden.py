"""Golden regression files: each shipped scenario's seed-0 run, stored in ``tests/model/golden/``.

The files change only when ``pytest --update-golden`` is given; otherwise any difference fails
with a list of what changed. Regenerate them after an intended change to the model, its
parameters or a scenario, and review the diff before committing.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from sim.model.runner import run_scenario
from tests.helpers import SHIPPED, scenario

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
SEED = 0
SERIES = (
    "market_value_usd", "fines_count", "deals_signed", "foreign_compute_share",
    "effective_stringency", "mean_compliance",
)  # fmt: skip
DIGITS = 10
REL_TOL = 1e-8
SHOWN = 12


def _round(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m")
    if isinstance(value, float) and math.isfinite(value) and value != 0.0:
        return float(f"{value:.{DIGITS}g}")
    return value


def golden_record(name: str) -> dict[str, Any]:
    """Run ``name`` with the golden seed and return what the golden file stores."""
    result = run_scenario(scenario(name), SEED)
    ts = result.timeseries
    return {
        "scenario": name,
        "seed": SEED,
        "months": result.scenario.months,
        "start": ts["date"].iloc[0].strftime("%Y-%m"),
        "summary": {k: _round(v) for k, v in result.summary.items()},
        "series": {col: [_round(float(v)) for v in ts[col]] for col in SERIES},
    }


def _flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(node, dict):
        items = [(f"{prefix}.{key}" if prefix else str(key), value) for key, value in node.items()]
    elif isinstance(node, list):
        items = [(f"{prefix}[{i}]", value) for i, value in enumerate(node)]
    else:
        return {prefix: node}
    return {k: v for path, value in items for k, v in _flatten(value, path).items()}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-12)
    return bool(a == b)


def differences(stored: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Describe every value that differs between a stored and a current golden record."""
    old, new = _flatten(stored), _flatten(current)
    out = []
    for key in sorted(old.keys() | new.keys()):
        if key not in new:
            out.append(f"{key}: stored {old[key]!r}, now missing")
        elif key not in old:
            out.append(f"{key}: not stored, now {new[key]!r}")
        elif not _same(old[key], new[key]):
            out.append(f"{key}: stored {old[key]!r}, now {new[key]!r}")
    return out


@pytest.mark.parametrize("name", SHIPPED)
def test_golden_run(name: str, update_golden: bool) -> None:
    path = GOLDEN_DIR / f"{name}.json"
    current = golden_record(name)
    if update_golden:
        GOLDEN_DIR.mkdir(exist_ok=True)
        path.write_text(json.dumps(current, indent=1) + "\n", encoding="utf-8")
        pytest.skip(f"rewrote {path.relative_to(GOLDEN_DIR.parents[2])}")
    if not path.is_file():
        pytest.fail(
            f"no golden file for scenario {name!r}: run "
            f"`pytest tests/model/test_golden.py --update-golden` to create {path.name}"
        )
    stored = json.loads(path.read_text(encoding="utf-8"))
    diff = differences(stored, current)
    if diff:
        shown = "\n  ".join(diff[:SHOWN])
        more = f"\n  ... and {len(diff) - SHOWN} more" if len(diff) > SHOWN else ""
        pytest.fail(
            f"{name} (seed {SEED}) no longer matches {path.name}: {len(diff)} values differ\n"
            f"  {shown}{more}\n"
            "If the change is intended, regenerate with `pytest tests/model/test_golden.py "
            "--update-golden` and review the diff.",
            pytrace=False,
        )


def test_the_comparison_reports_changed_added_and_missing_values() -> None:
    stored = {"summary": {"a": 1.0, "b": 2.0, "gone": 1.0}, "series": {"x": [1.0, 2.0]}}
    current = {"summary": {"a": 1.0 + 1e-12, "b": 2.5, "new": 3.0}, "series": {"x": [1.0, 2.1]}}
    assert differences(stored, current) == [
        "series.x[1]: stored 2.0, now 2.1",
        "summary.b: stored 2.0, now 2.5",
        "summary.gone: stored 1.0, now missing",
        "summary.new: not stored, now 3.0",
    ]
    assert differences(stored, stored) == []


def test_golden_files_exist_only_for_shipped_scenarios() -> None:
    stale = sorted(p.stem for p in GOLDEN_DIR.glob("*.json") if p.stem not in SHIPPED)
    assert not stale, f"golden files for scenarios that are no longer shipped: {stale}"
