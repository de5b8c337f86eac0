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
    """``InfluenceNetwork.weights`` and the centre's listening row as they were written in NumPy."""
    w = ties * tie_weight
    w += 1.0
    w *= clout * salience
    totals = w.sum(axis=1, keepdims=True)
    if totals.min() > 0:
        w /= totals
    else:
        w = np.divide(w, totals, out=np.full_like(w, 1.0 / len(w)), where=totals > 0)
    listen = w[0].copy()
    listen[0] = 0.0
    return w, listen, listen.sum()


@pytest.mark.parametrize("n", [*range(1, 130), 200, 300])
@pytest.mark.parametrize("seed", range(6))
def test_weights_are_numpys(n: int, seed: int) -> None:
    rng = np.random.default_rng([n, seed])
    net = network(rng, n)
    clout = net["clout"]
    if seed == 3:
        clout[:] = 0.0  # no voice: every total is zero
    if seed == 4 and n > 1:
        net["ties"][1, :] = np.nan  # a NaN total
    if seed == 5:
        clout[rng.random(n) < 0.5] = 0.0  # some rows may sum to zero
        net["ties"][0, 1:] = 0.0
    tie_weight = float(rng.uniform(0.0, 3.0))
    voice = clout * net["salience"]
    w, listen = np.full((n, n), np.nan), np.full(n, np.nan)
    total = centre_kernels.weights(net["ties"], tie_weight, voice, w, listen)
    w0, listen0, total0 = weights_numpy(net["ties"], tie_weight, clout, net["salience"])
    same_bits(w, w0)
    same_bits(listen, listen0)
    same_bits(np.array(total), np.array(total0))


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
    centre_kernels.step(listened, ours["position"], ours["anchor"], ours["susceptibility"],
                        ours["ties"], state, cooptation, keep)  # fmt: skip
    expected = step_numpy(listened, theirs["position"], theirs["anchor"],
                          theirs["susceptibility"], theirs["ties"], state, cooptation,
                          keep)  # fmt: skip
    same_bits(ours["position"], expected)  # the new positions, written in place
    for key in ("anchor", "ties"):
        same_bits(ours[key], theirs[key])


@pytest.mark.parametrize("n", [1, 2, 7, 30, 129])
@pytest.mark.parametrize("seed", range(4))
def test_engage_is_numpys(n: int, seed: int) -> None:
    """``ties[np.ix_(rows, cols)] += tie * effort[:len(cols)]``, the block runs of rows or not."""
    rng = np.random.default_rng([n, seed, 2])
    ties = network(rng, n)["ties"]
    k = int(rng.integers(0, n + 1))
    picked = rng.permutation(n)[: 2 * k]
    rows, cols = (np.sort(picked[:k]), picked[k:]) if seed % 2 else (np.arange(k), picked[:k])
    rows, cols = rows.astype(np.int64), cols.astype(np.int64)
    effort = rng.uniform(0.0, 1.0, cols.size + 3)
    effort[rng.random(effort.size) < 0.2] = -0.0
    if seed == 3 and effort.size:
        effort[0], ties[0, 0] = np.nan, np.inf
    tie = float(rng.uniform(0.0, 0.5))
    expected = ties.copy()
    block = expected[np.ix_(rows, cols)]
    block += tie * effort[: cols.size]
    expected[np.ix_(rows, cols)] = block
    centre_kernels.engage(ties, rows, cols, effort, tie)
    same_bits(ties, expected)


SUM_SIZES = [*range(0, 301), 1_000, 10_000, 100_003]


def _signed(rng: np.random.Generator, n: int, kind: str) -> np.ndarray:
    """Return ``n`` values: random, huge and tiny, or signed, with signed zeros among them."""
    if kind == "huge":
        values = rng.choice([1e300, 1e-300, 5e-324, 1.0], n) * rng.choice([-1.0, 1.0], n)
    elif kind == "signed":
        values = rng.normal(0.0, 1.0, n) * 10.0 ** rng.integers(-8, 8, n)
    else:
        values = rng.lognormal(0.0, 3.0, n)
    values[rng.random(n) < 0.05] = -0.0
    return values


@pytest.mark.parametrize("n", SUM_SIZES)
@pytest.mark.parametrize("kind", ["random", "huge", "signed"])
def test_outcome_sums_are_numpys(n: int, kind: str) -> None:
    rng = np.random.default_rng([n, len(kind)])
    revenue, value, capability = (_signed(rng, n, kind) for _ in range(3))
    listed = rng.random(n) < rng.choice([0.0, 0.05, 0.5, 1.0])
    sums = centre_kernels.outcome_sums(revenue, value, listed, capability)
    expected = (revenue.sum(), value[listed].sum(), capability.sum())
    same_bits(np.array(sums), np.array(expected))


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 127, 128, 129, 300, 1_000, 10_000, 100_003])
@pytest.mark.parametrize("share", [0.0, 0.05, 0.5, 1.0])
def test_listed_sum_is_numpys(n: int, share: float) -> None:
    rng = np.random.default_rng([n, int(share * 100)])
    values = rng.lognormal(0.0, 3.0, n) * rng.choice([-1.0, 1.0], n)
    values[rng.random(n) < 0.05] = -0.0
    values[rng.random(n) < 0.01] = 1e300
    listed = rng.random(n) < share
    same_bits(np.array(centre_kernels.listed_sum(values, listed)), np.array(values[listed].sum()))


def move_python(position, anchor, listen, c, gaps, pinned):  # type: ignore[no-untyped-def]
    """``Centre.step``'s pulls and move as they were written in Python floats."""
    pw, gw, jw, norm, vw, aw, sw, speed, drift = c
    growth_gap, jobs_growth, value_fall, ai_gap = gaps
    x, a = position[0], anchor[0]
    total = listen.sum()
    others = (listen @ position) / total if total > 0 else x
    behind = min(ai_gap, 0.0)
    (x0, x1), (a0, a1), (o0, o1) = x.tolist(), a.tolist(), others.tolist()
    rows = (
        (pw * (a0 - x0), pw * (a1 - x1)),
        (gw * growth_gap, 0.0),
        (jw * (jobs_growth - norm), 0.0),
        (-vw * value_fall, 0.0),
        (aw * behind, -aw * behind),
        (sw * (o0 - x0), sw * (o1 - x1)),
    )
    pulls = np.array(rows)
    if pinned:
        return pulls, 0.0
    (g0, g1), (j0, j1), (v0, v1), (c0, c1), (t0, t1) = rows[1:]
    s0 = rows[0][0] + g0 + j0 + v0 + c0 + t0
    s1 = rows[0][1] + g1 + j1 + v1 + c1 + t1
    new0 = min(max(x0 + speed * s0, 0.0), 1.0)
    new1 = min(max(x1 + speed * s1, 0.0), 1.0)
    position[0] = (new0, new1)
    anchor[0] = (a0 + drift * (new0 - a0), a1 + drift * (new1 - a1))
    return pulls, x0 - new0


EDGES = [0.0, -0.0, np.nan, np.inf, -np.inf, 1e-300, -1e-300, 1.0, -1.0]


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # inf - inf in the product
@pytest.mark.parametrize("seed", range(300))
def test_move_is_the_python(seed: int) -> None:
    rng = np.random.default_rng([seed, 7])
    n = int(rng.integers(1, 40))
    net = network(rng, n)
    position, anchor = net["position"], net["anchor"]
    listen = rng.uniform(0.0, 0.2, n) * (rng.random(n) < 0.8)
    listen[0] = 0.0
    if seed % 10 == 1:
        listen[:] = 0.0  # nobody heard: the centre's own position stands for the others
    if seed % 10 == 2 and n > 1:
        listen[1] = np.nan
    coefficients = rng.uniform(0.0, 2.0, len(centre_kernels.COEFFICIENTS))
    gaps = rng.normal(0.0, 0.5, 4)
    if seed % 4 == 3:
        gaps[rng.integers(0, 4)] = rng.choice(EDGES)
        position[0, rng.integers(0, 2)] = rng.choice(EDGES)
    pinned = seed % 5 == 0
    ours_p, ours_a, pulls = position.copy(), anchor.copy(), np.full((6, 2), np.nan)
    total = listen.sum()
    easing = centre_kernels.move(ours_p, ours_a, listen @ ours_p, float(total), coefficients,
                                 pulls, *gaps.tolist(), pinned)  # fmt: skip
    expected, easing0 = move_python(position, anchor, listen, coefficients.tolist(),
                                    gaps.tolist(), pinned)  # fmt: skip
    same_bits(pulls, expected)
    same_bits(np.array(easing), np.array(easing0))
    same_bits(ours_p, position)
    same_bits(ours_a, anchor)
