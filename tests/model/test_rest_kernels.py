"""The start's compiled loops give, bit for bit, the NumPy expressions they replace.

Each test computes the expression as :mod:`sim.model.initial_state` wrote it in NumPy (quoted in
the kernel's docstring) and compares every bit (a NaN with a NaN), on seeded arrays with the edge
values of the rules: zeros and negative zeros, weights summing to zero (a divisor of 1), NaN,
hazards and pressures past their caps, regulators with no fine, and blocks of one firm (NumPy sums
those pairwise).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model import initial_state, rest_kernels
from sim.model.agents.regulators import ORDER_PRESSURE, SIGNAL, STRIKES
from sim.model.enforcement_risk import enforcement_exposure
from sim.model.policy_model import PolicyModel
from sim.scenario.loader import load_scenario
from sim.scenario.params import EnforcementParams

SIZES = [0, 1, 2, 7, 16, 129, rest_kernels.BLOCK + 1]


def same_bits(actual: np.ndarray, expected: np.ndarray) -> None:
    """Assert that two float arrays have the same shape, NaN in the same places, and equal bits.

    The sign and payload of a NaN are the compiler's to choose: LLVM may swap the operands of an
    addition, and an operation on two NaNs returns the first one's.
    """
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected))
    numbers = ~np.isnan(expected)
    np.testing.assert_array_equal(actual[numbers].view(np.int64), expected[numbers].view(np.int64))


def numpy_sanctions(
    weights: np.ndarray, divisor: np.ndarray, rate: np.ndarray, stringency: np.ndarray,
    strikes: np.ndarray, compliance: np.ndarray, domestic: np.ndarray, p_freeze: np.ndarray,
    p_fine: np.ndarray, fine_share: np.ndarray, ep: EnforcementParams,
) -> np.ndarray:  # fmt: skip
    """The expected sanctions as NumPy expressions (``sanction_rates`` before its kernel)."""
    n = weights.shape[1]
    s = stringency[:, None]
    with np.errstate(all="ignore"):
        share = weights / divisor[:, None]
        out = np.zeros((3, n))
        for lo in range(0, n, rest_kernels.BLOCK):
            block = slice(lo, min(lo + rest_kernels.BLOCK, n))
            hazard = np.minimum(share[:, block] * rate[:, None], 1.0)
            z = (s + ep.strike_weight * strikes[block]) * (1.0 - compliance[block])
            zc = np.minimum(z / ep.full_pressure, 1.0)
            freeze = np.minimum(p_freeze[:, None] * zc * s, 1.0)
            fine = np.minimum(p_fine[:, None] * zc, 1.0 - freeze)
            fine *= np.multiply.outer(fine_share > 0.0, domestic[block] > 0.0)
            order = np.where(z > ORDER_PRESSURE, 1.0 - freeze - fine, 0.0)
            k = STRIKES["freeze"] * freeze + STRIKES["fine"] * fine + STRIKES["order"] * order
            jump = ep.freeze_compliance_jump * freeze + ep.fine_compliance_jump * fine
            jump += ep.order_compliance_jump * order
            signal = s * (SIGNAL["freeze"] * freeze + SIGNAL["fine"] * fine
                          + SIGNAL["order"] * order)  # fmt: skip
            out[:, block] = [(hazard * x).sum(axis=0) for x in (k, jump, signal)]
        out[1] = np.minimum(out[1], 1.0)
    return out


def numpy_rest(effort: np.ndarray, jump: np.ndarray, efficiency: float, decay: float) -> np.ndarray:
    """The rest compliance as NumPy expressions (``_rest_compliance`` before its kernel)."""
    with np.errstate(all="ignore"):
        gain = efficiency * effort
        k = 1.0 - gain - decay
        numerator = gain + k * jump
        denominator = 1.0 - k * (1.0 - jump)
        rest = np.divide(numerator, denominator, out=np.zeros_like(gain), where=denominator > 0.0)
        return np.asarray(np.clip(rest, 0.0, 1.0), dtype=float)


def with_edges(x: np.ndarray, *edges: float) -> np.ndarray:
    """Return ``x`` with its first entries replaced by 0, -0 and ``edges`` (as many as fit)."""
    special = np.array([0.0, -0.0, *edges])[: x.size]
    x.flat[: special.size] = special
    return x


def sanction_inputs(rng: np.random.Generator, n_reg: int, n: int) -> dict[str, np.ndarray]:
    """Seeded inputs of the expected sanctions, edge values included."""
    weights = with_edges(rng.uniform(0.0, 3.0, (n_reg, n)), np.nan, 1e300)
    divisor = weights.sum(axis=1)
    divisor[divisor <= 0.0] = 1.0
    if n_reg > 1:
        divisor[0] = 1e-300  # shares far above 1: the hazard is capped
    return {
        "weights": weights,
        "divisor": divisor,
        "rate": with_edges(rng.uniform(0.0, 40.0, n_reg)),
        "stringency": with_edges(rng.uniform(0.0, 1.0, n_reg), 1.0),
        "strikes": with_edges(rng.uniform(0.0, 3.0, n), np.nan),
        "compliance": with_edges(rng.uniform(-0.1, 1.1, n), 1.0, np.nan),
        "domestic": with_edges(rng.uniform(0.0, 1.0, n)),
        "p_freeze": rng.uniform(0.0, 1.0, n_reg),
        "p_fine": rng.uniform(0.0, 1.0, n_reg),
        "fine_share": with_edges(rng.uniform(0.0, 0.1, n_reg)),
    }


def kernel_sanctions(inputs: dict[str, np.ndarray], ep: EnforcementParams) -> np.ndarray:
    i = inputs
    out = np.empty((3, i["weights"].shape[1]))
    rest_kernels.sanction_sums(
        i["weights"], i["divisor"], i["rate"], i["stringency"], i["strikes"], i["compliance"],
        i["domestic"], i["p_freeze"], i["p_fine"], i["fine_share"],
        rest_kernels.sanction_constants(ep), out,
    )  # fmt: skip
    return out


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("n_reg", [1, 5, 9])
def test_sanction_sums_match_numpy(n: int, n_reg: int) -> None:
    rng = np.random.default_rng(n * 31 + n_reg)
    inputs = sanction_inputs(rng, n_reg, n)
    ep = EnforcementParams()
    same_bits(kernel_sanctions(inputs, ep), numpy_sanctions(**inputs, ep=ep))


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 40), n_reg=st.integers(1, 12), seed=st.integers(0, 2**32 - 1),
    strike_weight=st.floats(0.0, 2.0), full_pressure=st.floats(0.05, 1.0),
)  # fmt: skip
def test_sanction_sums_match_numpy_for_any_parameters(
    n: int, n_reg: int, seed: int, strike_weight: float, full_pressure: float
) -> None:
    inputs = sanction_inputs(np.random.default_rng(seed), n_reg, n)
    ep = EnforcementParams(strike_weight=strike_weight, full_pressure=full_pressure)
    same_bits(kernel_sanctions(inputs, ep), numpy_sanctions(**inputs, ep=ep))


@pytest.mark.parametrize("n", SIZES)
def test_rest_compliance_matches_numpy(n: int) -> None:
    rng = np.random.default_rng(n)
    effort = with_edges(rng.uniform(-0.2, 1.2, n), np.nan, 40.0)
    jump = with_edges(rng.uniform(-0.2, 1.2, n), 1.0, -5.0)
    for efficiency, decay in ((0.05, 0.01), (0.0, 0.0), (1.5, -0.2)):
        out = np.empty(n)
        rest_kernels.rest_compliance(effort, jump, efficiency, decay, out)
        same_bits(out, numpy_rest(effort, jump, efficiency, decay))


def test_sanction_rates_read_the_model_as_numpy_did() -> None:
    # sanction_rates on a model's state: the kernel's sums are those of the NumPy expressions.
    model = PolicyModel(scenario=load_scenario("crackdown"), rng=2)
    firms = model.firms
    exposure = enforcement_exposure(firms, model.regulators, model.params)
    rules = exposure.rules
    expected = numpy_sanctions(
        exposure.weights, exposure.divisor, rules.rate, rules.stringency, firms.strikes,
        firms.compliance, firms.domestic_share, rules.p_freeze, rules.p_fine, rules.fine_share,
        model.params.enforcement,
    )  # fmt: skip
    got = initial_state.sanction_rates(exposure, firms, model.params)
    same_bits(np.stack([got.strikes, got.compliance_jump, got.signal]), expected)
