"""Compiled draws on the model's generator are NumPy's, bit for bit, and leave it alike."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model import pcg64
from sim.model.policy_model import PolicyModel
from sim.scenario import load_scenario


def views(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Return the generator's views, failing the test when there are none."""
    found = pcg64.stream(rng)
    assert found is not None
    return found


def test_the_kernels_agree_with_numpy_here() -> None:
    assert pcg64.agrees()


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    steps=st.lists(
        st.one_of(
            st.tuples(st.just("poisson"), st.floats(0.0, 1e4)),
            st.tuples(st.just("double"), st.none()),
            st.tuples(
                st.just("integers"),
                st.tuples(st.integers(-(2**40), 2**40), st.integers(1, 2**62)),
            ),
            st.tuples(st.just("numpy"), st.none()),
        ),
        max_size=40,
    ),
)
def test_interleaved_draws_are_numpys(seed: int, steps: list) -> None:
    ours, theirs = np.random.default_rng(seed), np.random.default_rng(seed)
    state, buffer = views(ours)
    for kind, arg in steps:
        if kind == "poisson":
            assert pcg64.poisson(state, arg) == theirs.poisson(arg)
        elif kind == "double":
            assert pcg64.next_double(state) == theirs.random()
        elif kind == "integers":
            low, span = arg
            assert pcg64.bounded(state, buffer, low, low + span) == theirs.integers(low, low + span)
        else:  # NumPy goes on from where the kernels left the generator
            assert ours.integers(0, 9) == theirs.integers(0, 9)
    assert ours.bit_generator.state == theirs.bit_generator.state


def test_other_bit_generators_draw_through_numpy() -> None:
    assert pcg64.stream(np.random.Generator(np.random.MT19937(1))) is None
    assert pcg64.stream(np.random.Generator(np.random.PCG64DXSM(1))) is None


@pytest.mark.parametrize(
    ("name", "overrides"),
    [
        ("history_2020_2025", []),
        ("crackdown", ["n_synthetic_firms=200", "params.enforcement.targeting_power=0.8"]),
    ],
)
def test_regulators_draw_alike_compiled_and_through_numpy(
    name: str, overrides: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario = load_scenario(name, overrides)
    compiled = PolicyModel(scenario=scenario, rng=11)
    for _ in range(72):
        compiled.step()
    monkeypatch.setattr(pcg64, "stream", lambda rng: None)
    numpy_only = PolicyModel(scenario=scenario, rng=11)
    for _ in range(72):
        numpy_only.step()
    for a, b in zip(compiled.regulators, numpy_only.regulators, strict=True):
        assert a.investigations == b.investigations
        assert a.outcomes == b.outcomes and a.opened == b.opened
    assert sum(r.opened for r in compiled.regulators) > 0
    assert compiled.rng.bit_generator.state == numpy_only.rng.bit_generator.state
    assert np.array_equal(compiled.firms.cash, numpy_only.firms.cash)
