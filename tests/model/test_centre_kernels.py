"""The influence network's compiled steps give, bit for bit, the NumPy they replace."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model import centre_kernels
from tests.model.test_kernels import same_bits

SIZES = [1, 2, 7, 8, 9, 17, 32, 33, 127, 128, 129, 300]


def network(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Return a network's arrays with edge values: zero ties, big ties, signed zeros, 0 and 1."""
    ties = rng.exponential(0.5, (n, n)) * (rng.random((n, n)) < 0.4)
    ties[rng.random((n, n)) < 0.05] = 7.0
    position = rng.uniform(-0.1, 1.1, (n, 2))  # out of [0, 1]: the clip acts
    position[rng.random((n, 2)) < 0.1] = -0.0
    anchor = rng.uniform(0.0, 1.0, (n, 2))
    anchor[rng.random((n, 2)) < 0.1] = -0.0
    susceptibility = rng.uniform(0.0, 1.0, n)
    susceptibility[0] = 0.0
    return {"ties": ties, "position": position, "anchor": anchor,
            "susceptibility": susceptibility,
            "clout": rng.uniform(0.0, 3.0, n), "salience": rng.uniform(0.0, 1.0, n)}  # fmt: skip


def weights_numpy(ties, tie_weight, clout, salience):  # type: ignore[no-untyped-def]
    """``InfluenceNetwork.weights`` as it was written in NumPy."""
    w = ties * tie_weight
    w += 1.0
    w *= clout * salience
    totals = w.sum(axis=1, keepdims=True)
    if totals.min() > 0:
        w /= totals
        return w, totals, True
    return w, totals, False


@pytest.mark.parametrize("n", [*range(1, 130), 200, 300])
@pytest.mark.parametrize("seed", range(5))
def test_weights_are_numpys(n: int, seed: int) -> None:
    rng = np.random.default_rng([n, seed])
    net = network(rng, n)
    clout = net["clout"]
    if seed == 3:
        clout[:] = 0.0  # no voice: every total is zero
    if seed == 4 and n > 1:
        net["ties"][1, :] = np.nan  # a NaN total
    tie_weight = float(rng.uniform(0.0, 3.0))
    w, totals, positive = centre_kernels.weights(net["ties"], tie_weight, clout, net["salience"])
    w0, totals0, positive0 = weights_numpy(net["ties"], tie_weight, clout, net["salience"])
    assert positive == positive0
    same_bits(w, w0)
    same_bits(totals, totals0)


def step_numpy(listened, position, anchor, susceptibility, ties, state, cooptation, keep):  # type: ignore[no-untyped-def]
    """``InfluenceNetwork.step`` after ``w @ position``, as it was written in NumPy."""
    lam = susceptibility[:, None]
    centre = position[0]
    new = lam * listened + (1.0 - lam) * anchor
    new[0] = centre
    new.clip(0.0, 1.0, out=new)
    state_ties = ties[:, state].sum(axis=1)
    drift = cooptation * np.minimum(state_ties, 1.0)[:, None]
    drift[0] = 0.0
    anchor += drift * (new[0] - anchor)
    ties *= keep
    return new


@pytest.mark.parametrize("n", [*range(1, 70), 100, 128, 129, 300])
@pytest.mark.parametrize("seed", range(5))
def test_step_is_numpys(n: int, seed: int) -> None:
    rng = np.random.default_rng([n, seed, 1])
    net = network(rng, n)
    w, _, _ = weights_numpy(net["ties"], 1.5, net["clout"], net["salience"])
    listened = w @ net["position"]
    state = np.sort(rng.choice(n, int(rng.integers(1, n + 1)), replace=False)).astype(np.intp)
    if seed == 4:
        state = np.arange(n, dtype=np.intp)[::-1].copy()  # any order of columns
    cooptation, keep = float(rng.uniform(0.0, 0.2)), float(1.0 - rng.uniform(0.0, 0.1))
    if seed == 3:
        net["ties"][rng.random((n, n)) < 0.05] = np.nan  # NaN ties: the minimum keeps NaN
    if seed == 2:
        net["ties"][rng.random((n, n)) < 0.3] = -0.0  # a row's sum starts from 0.0
    ours = {k: v.copy() for k, v in net.items()}
    theirs = {k: v.copy() for k, v in net.items()}
    new = centre_kernels.step(listened, ours["position"], ours["anchor"],
                                 ours["susceptibility"], ours["ties"], state, cooptation,
                                 keep)  # fmt: skip
    expected = step_numpy(listened, theirs["position"], theirs["anchor"],
                          theirs["susceptibility"], theirs["ties"], state, cooptation,
                          keep)  # fmt: skip
    same_bits(new, expected)
    for key in ("anchor", "ties", "position"):
        same_bits(ours[key], theirs[key])


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 127, 128, 129, 300, 1_000, 10_000, 100_003])
@pytest.mark.parametrize("share", [0.0, 0.05, 0.5, 1.0])
def test_listed_sum_is_numpys(n: int, share: float) -> None:
    rng = np.random.default_rng([n, int(share * 100)])
    values = rng.lognormal(0.0, 3.0, n) * rng.choice([-1.0, 1.0], n)
    values[rng.random(n) < 0.05] = -0.0
    values[rng.random(n) < 0.01] = 1e300
    listed = rng.random(n) < share
    same_bits(np.array(centre_kernels.listed_sum(values, listed)), np.array(values[listed].sum()))
