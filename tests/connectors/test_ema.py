"""The EMA Workbench connector: schema ranges, recorded seeds, serial and process runs agree."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("ema_workbench")

import ema_workbench as ema  # noqa: E402

from sim.connectors.ema import SEED, ema_model  # noqa: E402
from sim.errors import ScenarioError  # noqa: E402
from sim.experiments.plan import spawn_seeds  # noqa: E402
from sim.model.runner import run_scenario  # noqa: E402
from sim.scenario.loader import with_overrides
from tests.helpers import scenario  # noqa: E402

FINE = "regulators.SAMR.fine_rate"
P_FREEZE = "regulators.SAMR.p_freeze"
OUTCOMES = ["total_fines_value_usd", "final_market_value_usd"]


def _model(**kwargs: Any) -> Any:
    return ema_model("crackdown", [FINE, P_FREEZE], OUTCOMES, replications=2, seed=3,
                     months=12, **kwargs)  # fmt: skip


def test_uncertainties_take_their_ranges_from_the_schema_as_it_validates() -> None:
    model = _model()
    fine = model.uncertainties[FINE]
    assert (fine.lower_bound, fine.upper_bound) == (0.0, 0.1)  # capped by SAMR's legal_cap
    p_freeze = model.uncertainties[P_FREEZE]
    assert (p_freeze.lower_bound, p_freeze.upper_bound) == (0.0, 1.0)
    raised = ema_model("crackdown", [FINE], OUTCOMES, **{"regulators.SAMR.legal_cap": 0.3})
    assert raised.uncertainties[FINE].upper_bound == 0.3


def test_fields_of_every_kind_become_the_matching_parameters() -> None:
    model = ema_model(
        "crackdown",
        {"months": (6, 18), "firms.Alibaba.listed": None, "regulators.SAMR.freeze_kind": None,
         FINE: (0.01, 0.05)},
        OUTCOMES,
    )  # fmt: skip
    kinds = {p.name: type(p) for p in model.uncertainties}
    assert kinds == {"months": ema.IntegerParameter, "firms.Alibaba.listed": ema.BooleanParameter,
                     "regulators.SAMR.freeze_kind": ema.CategoricalParameter,
                     FINE: ema.RealParameter}  # fmt: skip
    assert model.uncertainties[FINE].upper_bound == 0.05


@pytest.mark.parametrize(
    ("uncertainties", "outcomes", "message"),
    [
        ([f"{FINE}x"], OUTCOMES, "did you mean 'fine_rate'"),
        ({FINE: (0.05, 0.2)}, OUTCOMES, "fine_rate 0.2 is above legal_cap 0.1"),
        ({FINE: (0.05, 0.01)}, OUTCOMES, "low < high"),
        (["regulators.SAMR"], OUTCOMES, "group of fields"),
        ([FINE], ["peak_date"], "unknown outcome 'peak_date'; allowed: "),
        ([FINE], [], "no outcome given"),
    ],
)
def test_bad_inputs_are_refused_before_anything_runs(
    uncertainties: Any, outcomes: list[str], message: str
) -> None:
    with pytest.raises(ScenarioError, match=message.replace("(", r"\(")):
        ema_model("crackdown", uncertainties, outcomes)


def test_replications_use_seeds_spawned_as_sim_batch_spawns_them() -> None:
    model = _model()
    assert [r[SEED] for r in model.replications] == spawn_seeds(3, 2)
    with pytest.raises(ScenarioError, match="replications"):
        ema_model("crackdown", [FINE], OUTCOMES, replications=0)


@pytest.fixture(scope="module")
def serial() -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """A small Latin hypercube run serially."""
    return ema.perform_experiments(_model(), 4, uncertainty_sampling=ema.Samplers.LHS)


def test_a_serial_lhs_gives_one_column_per_replication_with_its_seed(
    serial: tuple[pd.DataFrame, dict[str, np.ndarray]],
) -> None:
    experiments, outcomes = serial
    assert len(experiments) == 4
    assert experiments[FINE].min() >= 0.0 and experiments[FINE].max() <= 0.1
    for name in OUTCOMES:
        assert outcomes[name].shape == (4, 2)
    assert (outcomes[SEED] == np.array([spawn_seeds(3, 2)] * 4)).all()
    # Every number is one run of the scenario with the experiment's values and recorded seed.
    row, rep = 2, 1
    values = {FINE: float(experiments[FINE][row]), P_FREEZE: float(experiments[P_FREEZE][row])}
    sc = with_overrides(scenario("crackdown", "months=12"), values)
    summary = run_scenario(sc, int(outcomes[SEED][row, rep])).summary
    assert outcomes[OUTCOMES[0]][row, rep] == summary[OUTCOMES[0]]


def test_the_same_experiments_on_processes_give_identical_outcomes(
    serial: tuple[pd.DataFrame, dict[str, np.ndarray]],
) -> None:
    experiments, outcomes = serial
    designs = [
        ema.Scenario(str(i), **{FINE: float(experiments[FINE][i]),
                                P_FREEZE: float(experiments[P_FREEZE][i])})
        for i in range(len(experiments))
    ]  # fmt: skip
    with ema.MultiprocessingEvaluator(_model(), n_processes=2) as evaluator:
        _, parallel = evaluator.perform_experiments(designs)
    for name in [*OUTCOMES, SEED]:
        np.testing.assert_array_equal(parallel[name], outcomes[name])
