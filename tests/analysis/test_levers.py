"""A lever study's effects: paired differences, intervals, verdicts and ``levers.parquet``.

Checked on a small real study: the Parquet file has the declared schema and one row per lever
and outcome; the changes are the means of per-seed differences from the unmoved scenario's run
with the same seed, with Student-t intervals; a lever without fields in the scenario is ``n/a``.
The verdict rules are checked on constructed swings.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from sim.analysis.levers import (
    EFFECTS_FILE,
    EFFECTS_SCHEMA,
    VERDICTS,
    dead_levers,
    lever_effects,
    lever_study,
    verdict,
)
from sim.analysis.stats import mean_ci
from sim.errors import ResultsError
from sim.experiments.batch import run_batch
from sim.experiments.lever_table import OUTCOMES
from sim.results.load import Results

LEVERS = ["fine_rate", "capacity", "blocked_share"]


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Results, pd.DataFrame]:
    out = tmp_path_factory.mktemp("levers") / "study"
    return lever_study("crackdown", seeds=3, months=12, levers=LEVERS, executor="serial", out=out)


def test_parquet_has_the_declared_schema(study: tuple[Results, pd.DataFrame]) -> None:
    results, effects = study
    schema = pq.read_schema(results.folder / EFFECTS_FILE)
    assert schema.names == EFFECTS_SCHEMA.names
    assert [f.type for f in schema] == [f.type for f in EFFECTS_SCHEMA]
    stored = pd.read_parquet(results.folder / EFFECTS_FILE)
    assert len(stored) == len(LEVERS) * len(OUTCOMES)
    assert list(dict.fromkeys(stored["lever"])) == LEVERS
    assert set(stored["verdict"]) <= set(VERDICTS)
    pd.testing.assert_frame_equal(stored, effects, check_dtype=False)


def test_changes_are_means_of_paired_differences(study: tuple[Results, pd.DataFrame]) -> None:
    results, effects = study
    runs = results.runs.merge(results.summary[["run_id", *OUTCOMES]], on="run_id")
    outcome = "final_market_value_usd"
    by = {k: rows.set_index("seed")[outcome] for k, rows in runs.groupby(["lever", "direction"])}
    base, up, down = by[("base", "base")], by[("capacity", "up")], by[("capacity", "down")]
    row = effects.loc[(effects["lever"] == "capacity") & (effects["outcome"] == outcome)].iloc[0]
    mean, low, high, n = mean_ci((up - base).to_numpy())
    assert (row["up_mean"], row["up_low"], row["up_high"], row["n"]) == pytest.approx(
        (mean, low, high, n))  # fmt: skip
    assert row["swing_mean"] == pytest.approx(float((up - down).mean()))
    assert row["base_mean"] == pytest.approx(float(base.mean()))


def test_a_lever_without_fields_is_not_applicable(study: tuple[Results, pd.DataFrame]) -> None:
    _, effects = study
    rows = effects.loc[effects["lever"] == "blocked_share"]
    assert set(rows["verdict"]) == {"n/a"} and (rows["n"] == 0).all()
    assert rows["up_mean"].isna().all()


def test_dead_levers_lists_expected_outcomes_left_identical() -> None:
    effects = pd.DataFrame({
        "lever": ["a", "a", "b"], "outcome": ["x", "y", "x"], "expected": [1, 0, -1],
        "verdict": ["dead", "dead", "agrees"],
    })  # fmt: skip
    assert dead_levers(effects) == {"a": ["x"]}


@pytest.mark.parametrize(("swing", "expected", "want"), [
    ([0.0, 0.0, 0.0], 1, "dead"),
    ([1.0, 1.1, 0.9], 1, "agrees"),
    ([1.0, 1.1, 0.9], -1, "opposite"),
    ([-1.0, -1.1, -0.9], 0, "moves"),
    ([1.0, -1.0, 0.1], 1, "not significant"),
    ([0.0, 2.0], 1, "not significant"),
])  # fmt: skip
def test_verdict(swing: list[float], expected: int, want: str) -> None:
    values = np.array(swing)
    _, low, high, _ = mean_ci(values)
    assert verdict(values, low, high, expected) == want


def test_a_batch_folder_is_not_a_lever_study(tmp_path: Path) -> None:
    res = run_batch(["baseline"], replicates=1, months=2, executor="serial", out=tmp_path / "b")
    with pytest.raises(ResultsError, match="not a lever study"):
        lever_effects(res)
