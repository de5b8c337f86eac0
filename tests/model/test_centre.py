"""The centre as an agent: pinned or free, and what pulls on it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.errors import ScenarioError
from sim.model import centre_kernels
from sim.model.centre import PULLS
from sim.model.metrics import centre_turn
from sim.model.policy_model import PolicyModel
from sim.model.runner import run_scenario
from sim.scenario.loader import load_scenario


def _stance(scenario: str, months: int, *sets: str) -> np.ndarray:
    sc = load_scenario(scenario, [f"months={months}", *sets])
    return run_scenario(sc, 1).timeseries["central_stance"].to_numpy()


def test_pinned_centre_holds_its_stance_events() -> None:
    stance = _stance("crackdown", 30)
    assert stance[-1] == pytest.approx(0.9)
    assert stance[:9] == pytest.approx(0.3)  # 2020-01..2020-09, before the trigger


def test_free_centre_moves_between_stance_events() -> None:
    stance = _stance("history_2020_2025", 48)
    # No stance event after Mar 2021, yet the centre keeps moving.
    assert np.ptp(stance[15:]) > 0.1


def test_free_centre_eases_when_growth_falls_short() -> None:
    weak = _stance("history_2020_2025", 40, "timeline.macro_2022_rate_rises.gdp_growth=0.0")
    strong = _stance("history_2020_2025", 40, "timeline.macro_2022_rate_rises.gdp_growth=0.07")
    assert weak[-1] < strong[-1] - 0.05


def test_every_pull_is_zero_when_its_weight_is() -> None:
    sets = [f"params.centre.{w}=0" for w in ("priority_weight", "stakeholder_weight",
            "growth_weight", "jobs_weight", "value_weight", "ai_weight")]  # fmt: skip
    ts = run_scenario(load_scenario("history_2020_2025", ["months=30", *sets]), 1).timeseries
    for source in PULLS:
        assert (ts[f"centre_pull_{source}"] == 0.0).all(), source
    stance = ts["central_stance"].to_numpy()
    assert stance[-1] == pytest.approx(stance[15])  # nothing pulls: it stays at the 2021 stance


def test_stakeholder_pull_points_to_the_others() -> None:
    m = PolicyModel("history_2020_2025", rng=3, months=24)
    for _ in range(20):
        m.step()
    x = m.influence.position[0, 0]
    listen = m.influence.weights()[0].copy()
    listen[0] = 0.0
    others = listen @ m.influence.position[:, 0] / listen.sum()
    pull = m.centre.pulls[PULLS.index("stakeholders"), 0]
    assert np.sign(pull) == np.sign(others - x)


def test_turn_dates_the_first_month_below_the_peak() -> None:
    dates = pd.Series(pd.date_range("2021-01-01", periods=6, freq="MS"))
    out = centre_turn(np.array([0.5, 0.7, 0.69, 0.66, 0.6, 0.5]), dates)
    assert out["centre_peak_date"] == pd.Timestamp("2021-02-01")
    assert out["centre_turn_date"] == pd.Timestamp("2021-05-01")
    flat = centre_turn(np.array([0.5, 0.7, 0.69, 0.68, 0.67, 0.7]), dates)
    assert flat["centre_turn_date"] == pd.Timestamp("2021-06-01")  # no turn: the last month


def test_bad_centre_mode_is_one_line_error() -> None:
    with pytest.raises(ScenarioError) as err:
        load_scenario("history_2020_2025", ["centre=loose"])
    text = str(err.value)
    assert "\n" not in text and "centre" in text and "free" in text and "pinned" in text


def test_the_moves_coefficients_are_the_params_named() -> None:
    m = PolicyModel("history_2020_2025", rng=1, months=2)
    p = m.centre.params
    expected = [float(getattr(p, name)) for name in centre_kernels.COEFFICIENTS]
    assert m.centre._coefficients.tolist() == expected
