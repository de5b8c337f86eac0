"""Mesa's own batch_run drives PolicyModel and gives what run_batch gives, ready for Parquet."""

from __future__ import annotations

from pathlib import Path

import mesa
import pandas as pd
import pytest

from sim.experiments.batch import run_batch
from sim.experiments.seeds import spawn_seeds
from sim.model.metrics import METRICS
from sim.model.policy_model import PolicyModel
from tests.helpers import scenario

FINE = "regulators.SAMR.fine_rate"
FINE_RATES = [0.02, 0.07]
MASTER_SEED = 5
SEEDS = spawn_seeds(MASTER_SEED, 2)
METRIC_NAMES = [m.name for m in METRICS]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """run_batch's time series for each fine rate, with the rate as a column."""
    frames = []
    for rate in FINE_RATES:
        out = tmp_path_factory.mktemp("batch") / "crackdown"
        res = run_batch(["crackdown"], replicates=len(SEEDS), seed=MASTER_SEED,
                        overrides=[f"{FINE}={rate}"], executor="serial", out=out)  # fmt: skip
        frames.append(res.timeseries.assign(**{FINE: rate}))
    return pd.concat(frames, ignore_index=True)


def _mesa_batch(processes: int, path: Path, scenario_value: object = "crackdown") -> pd.DataFrame:
    rows = mesa.batch_run(
        PolicyModel,
        {"scenario": scenario_value, FINE: FINE_RATES, "seed": SEEDS},
        number_processes=processes,
        data_collection_period=1,
        max_steps=10_000,
        display_progress=False,
    )
    pd.DataFrame(rows).to_parquet(path)
    return pd.read_parquet(path)


def _check_against(frame: pd.DataFrame, reference: pd.DataFrame) -> None:
    months = scenario("crackdown").months
    assert len(frame) == len(FINE_RATES) * len(SEEDS) * months  # every run stops at its end
    assert set(frame["scenario"]) == {"crackdown"}
    for (rate, seed), run in frame.groupby([FINE, "seed"]):
        run = run.sort_values("Step").reset_index(drop=True)
        assert run["Step"].tolist() == list(range(months))
        ref = reference[(reference[FINE] == rate) & (reference["seed"] == seed)]
        ref = ref.reset_index(drop=True)
        assert (pd.to_datetime(run["date"]) == pd.to_datetime(ref["date"])).all()
        pd.testing.assert_frame_equal(run[METRIC_NAMES], ref[METRIC_NAMES], check_dtype=False)


@pytest.mark.parametrize("processes", [1, 2])
def test_mesa_batch_run_writes_parquet_equal_to_run_batch(
    processes: int, reference: pd.DataFrame, tmp_path: Path
) -> None:
    frame = _mesa_batch(processes, tmp_path / "mesa.parquet")
    _check_against(frame, reference)


def test_a_scenario_object_in_a_list_also_gives_a_plain_name(
    reference: pd.DataFrame, tmp_path: Path
) -> None:
    frame = _mesa_batch(1, tmp_path / "mesa.parquet", [scenario("crackdown")])
    _check_against(frame, reference)
