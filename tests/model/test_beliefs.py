"""Investors' belief about enforcement: outside signals move it, what they observe corrects it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.model.runner import run_scenario
from tests.helpers import model, scenario, step

POSITIVE_SIGNALS = ("reopening", "cewc_signal", "premier_meeting", "symposium")


def test_a_signal_moves_the_belief_which_then_follows_what_investors_observe() -> None:
    base, shocked = model(months=36), model(months=36)
    step(base, 6)
    step(shocked, 6)
    before = shocked.investors.perceived_rate.copy()
    shocked.add_signal(-0.5, 6.0)
    weight = shocked.params.valuation.signal_weight
    np.testing.assert_allclose(shocked.investors.perceived_rate, before * np.exp(0.5 * weight))
    gap = shocked.investors.perceived_rate - base.investors.perceived_rate
    step(base, 24)
    step(shocked, 24)
    # The enforcement observed is the same in both runs, so the shock fades as investors learn.
    learn = shocked.params.valuation.hazard_learning
    np.testing.assert_allclose(
        shocked.investors.perceived_rate - base.investors.perceived_rate,
        gap * (1.0 - learn) ** 24,
        rtol=1e-9,
        atol=1e-12,
    )


def test_a_negative_signal_lowers_value_through_the_belief() -> None:
    base = model("baseline", months=12)
    shocked = model("baseline", months=12)
    step(base, 3)
    step(shocked, 3)
    shocked.add_signal(-0.6, 9.0)
    step(base, 3)
    step(shocked, 3)
    assert shocked.investors.expected_cost().sum() > base.investors.expected_cost().sum()
    assert shocked.firms.market_value.sum() < base.firms.market_value.sum()


def test_the_thaw_recovers_without_its_positive_signals() -> None:
    silent = [f"timeline.{key}.strength=0" for key in POSITIVE_SIGNALS]
    for seed in range(3):
        summary = run_scenario(scenario("thaw", *silent), seed).summary
        assert summary["trough_date"] < pd.Timestamp("2023-07")
        assert summary["recovery_from_trough"] >= 0.2
