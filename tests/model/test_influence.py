"""The influence layer: Friedkin-Johnsen updating, ties, co-optation and the effective policy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sim.model.influence import InfluenceNetwork
from sim.scenario.params import InfluenceParams
from tests.helpers import model, step

STILL = InfluenceParams(tie_decay=0.0, cooptation=0.0)


def network(
    members: list[tuple[str, str, float, float, float, tuple[float, float]]],
    params: InfluenceParams = STILL,
    center: tuple[float, float] = (0.3, 0.3),
) -> InfluenceNetwork:
    return InfluenceNetwork.build(members, params, center)


MEMBERS = [
    ("reg", "regulator", 3.0, 0.9, 0.8, (0.4, 0.5)),
    ("city", "city", 1.0, 0.7, 0.6, (0.2, 0.6)),
    ("firm", "firm", 1.5, 0.9, 0.3, (0.1, 0.3)),
    ("stubborn", "firm", 1.0, 0.5, 0.0, (0.05, 0.9)),
]


def test_centre_is_first_and_heaviest() -> None:
    net = model().influence
    voice = net.clout * net.salience
    assert net.names[0] == "center" and net.kinds[0] == "center"
    assert voice[0] == voice.max()
    assert net.susceptibility[0] == 0.0


def test_clout_and_salience_are_fixed_once_built() -> None:
    # The network computes each voice once: clout and salience cannot change after the build.
    net = network(MEMBERS)
    for values in (net.clout, net.salience):
        with pytest.raises(ValueError, match="read-only"):
            values[1] = 0.0


def test_weights_are_row_stochastic() -> None:
    w = model().influence.weights()
    assert np.all(w >= 0.0)
    np.testing.assert_allclose(w.sum(axis=1), 1.0)


def test_positions_converge_to_the_friedkin_johnsen_equilibrium() -> None:
    net = network(MEMBERS)
    net.add_tie("firm", "city", 2.0)
    net.add_tie("city", "reg", 1.0)
    expected = net.equilibrium()
    for _ in range(400):
        net.step()
    np.testing.assert_allclose(net.position, expected, atol=1e-10)


def test_model_network_converges_to_its_equilibrium_with_fixed_w() -> None:
    m = model("baseline", "params.influence.tie_decay=0", "params.influence.cooptation=0")
    net = m.influence
    net.add_tie("Alibaba", "Hangzhou", 1.0)
    expected = net.equilibrium()
    for _ in range(600):
        net.step()
    np.testing.assert_allclose(net.position, expected, atol=1e-8)


def test_a_stakeholder_with_zero_susceptibility_stays_at_its_anchor() -> None:
    net = network(MEMBERS)
    i = net.index["stubborn"]
    anchor = net.anchor[i].copy()
    for _ in range(50):
        net.step()
    np.testing.assert_array_equal(net.position[i], anchor)
    np.testing.assert_array_equal(net.position[0], (0.3, 0.3))  # the centre is stubborn too


def test_raising_the_centre_stance_raises_effective_policy() -> None:
    low, high = network(MEMBERS), network(MEMBERS)
    high.set_center((0.9, 0.3))
    assert high.effective_policy()[0] > low.effective_policy()[0]
    assert high.effective_policy()[1] == pytest.approx(low.effective_policy()[1])
    for _ in range(24):
        low.step()
        high.step()
    assert high.effective_policy()[0] > low.effective_policy()[0]
    # Others moved toward the stricter centre.
    assert np.all(high.position[1:4, 0] > low.position[1:4, 0])


def test_effective_policy_is_the_voice_weighted_mean() -> None:
    net = network(MEMBERS)
    voice = net.clout * net.salience
    np.testing.assert_allclose(net.effective_policy(), voice @ net.position / voice.sum())


def test_a_tie_raises_the_listeners_weight_on_the_speaker() -> None:
    net = network(MEMBERS)
    i, j = net.index["firm"], net.index["city"]
    before = net.weights()
    net.add_tie("firm", "city", 1.0)
    after = net.weights()
    assert after[i, j] > before[i, j]
    np.testing.assert_allclose(after.sum(axis=1), 1.0)
    # Other listeners are unaffected.
    others = [k for k in range(len(net.names)) if k != i]
    np.testing.assert_array_equal(after[others], before[others])


def test_ties_to_self_or_unknown_names_are_ignored() -> None:
    net = network(MEMBERS)
    net.add_tie("firm", "firm", 5.0)
    net.add_tie("firm", "nobody", 5.0)
    net.add_tie("nobody", "firm", 5.0)
    assert not net.ties.any()


def test_a_tie_by_rows_both_ways_is_two_ties_by_name() -> None:
    by_name, by_rows = network(MEMBERS), network(MEMBERS)
    by_name.add_tie("firm", "city", 1.5)
    by_name.add_tie("city", "firm", 1.5)
    by_rows.add_tie_rows(by_rows.index["firm"], by_rows.index["city"], 1.5, both_ways=True)
    np.testing.assert_array_equal(by_rows.ties, by_name.ties)
    i = by_rows.index["firm"]
    by_rows.add_tie_rows(i, i, 5.0, both_ways=True)  # no tie to itself
    np.testing.assert_array_equal(by_rows.ties, by_name.ties)


def test_ties_decay_each_month() -> None:
    params = InfluenceParams(tie_decay=0.1, cooptation=0.0)
    net = network(MEMBERS, params)
    net.add_tie("firm", "city", 1.0)
    net.step()
    assert net.ties[net.index["firm"], net.index["city"]] == pytest.approx(0.9)


def test_a_firm_tied_to_the_state_is_coopted_toward_the_centre() -> None:
    params = InfluenceParams(tie_decay=0.0, cooptation=0.1)
    net = network(MEMBERS, params, center=(0.8, 0.8))
    tied, free = net.index["firm"], net.index["stubborn"]
    net.add_tie("firm", "reg", 1.0)
    anchor_tied, anchor_free = net.anchor[tied].copy(), net.anchor[free].copy()
    net.step()
    assert np.all(net.anchor[tied] > anchor_tied)  # drifted toward the centre's (0.8, 0.8)
    np.testing.assert_array_equal(net.anchor[free], anchor_free)
    np.testing.assert_array_equal(net.anchor[0], (0.8, 0.8))


def test_a_deal_ties_city_and_firm_both_ways() -> None:
    m = model()
    net = m.influence
    city = m.city("Hangzhou")
    m.sign_deal(city, m.firm_row("Alibaba"), 1.0, 0.3)
    assert net.ties[net.index["Hangzhou"], net.index["Alibaba"]] == 1.0
    assert net.ties[net.index["Alibaba"], net.index["Hangzhou"]] == 1.0


def test_a_golden_share_ties_the_firm_to_the_fund_and_the_centre() -> None:
    m = model()
    net = m.influence
    assert m.fund("CIIF").take_stake(m.firm_row("Baidu"))
    i = net.index["Baidu"]
    assert net.ties[i, net.index["CIIF"]] == 1.0
    assert net.ties[i, net.index["center"]] == 1.0


def test_a_stance_event_moves_the_centre_and_the_effective_policy() -> None:
    base = step(model("baseline", months=24), 14).timeseries()
    crack = step(model("crackdown", months=24), 14).timeseries()
    # Crackdown's stance rises from 2020-11 (month 10).
    assert (crack["central_stance"].iloc[:10] == base["central_stance"].iloc[:10]).all()
    assert crack["central_stance"].iloc[10] > base["central_stance"].iloc[10]
    assert crack["effective_stringency"].iloc[13] > base["effective_stringency"].iloc[13]


unit = st.floats(0.0, 1.0)


@settings(max_examples=40, deadline=None)
@given(
    clout=hnp.arrays(np.float64, 5, elements=st.floats(0.0, 10.0)),
    salience=hnp.arrays(np.float64, 5, elements=unit),
    susceptibility=hnp.arrays(np.float64, 5, elements=unit),
    anchor=hnp.arrays(np.float64, (5, 2), elements=unit),
    ties=hnp.arrays(np.float64, (5, 5), elements=st.floats(0.0, 5.0)),
)
def test_any_network_keeps_positions_in_bounds_and_weights_stochastic(
    clout: np.ndarray,
    salience: np.ndarray,
    susceptibility: np.ndarray,
    anchor: np.ndarray,
    ties: np.ndarray,
) -> None:
    members = [
        (f"s{i}", "firm" if i % 2 else "city", float(clout[i]), float(salience[i]),
         float(susceptibility[i]), (float(anchor[i, 0]), float(anchor[i, 1])))
        for i in range(5)
    ]  # fmt: skip
    net = network(members, InfluenceParams())
    net.ties[1:, 1:] = ties * (1 - np.eye(5))
    w = net.weights()
    assert np.all(np.isfinite(w)) and np.all(w >= 0.0)
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    for _ in range(5):
        net.step()
        assert np.all((net.position >= 0.0) & (net.position <= 1.0))
        assert np.all((net.anchor >= 0.0) & (net.anchor <= 1.0))
        policy = net.effective_policy()
        assert np.all((policy >= 0.0) & (policy <= 1.0))


def test_engagement_makes_the_centre_and_regulators_listen_to_firms() -> None:
    quiet_ties = ("params.cities.deal_rate=0", "funds.CIIF.stake_propensity=0")
    engaged = step(model("baseline", *quiet_ties, "params.influence.engagement_tie=1"), 1)
    silent = step(model("baseline", *quiet_ties, "params.influence.engagement_tie=0"), 1)
    for m, expect_ties in ((engaged, True), (silent, False)):
        net = m.influence
        state = [net.index["center"], *(net.index[r.name] for r in m.regulators)]
        firms = [net.index[name] for name in m.scenario.firms]
        listening = net.ties[np.ix_(state, firms)]
        assert bool(np.all(listening > 0)) == expect_ties
    net = engaged.influence
    centre, alibaba = net.index["center"], net.index["Alibaba"]
    assert net.weights()[centre, alibaba] > silent.influence.weights()[centre, alibaba]


@settings(max_examples=60, deadline=None)
@given(
    ties=hnp.arrays(np.float64, (5, 5), elements=st.floats(0.0, 50.0)),
    tie_weight=st.floats(0.0, 5.0),
    zero_voice=st.booleans(),
)
def test_a_row_of_the_weights_is_the_matrix_row_bit_for_bit(
    ties: np.ndarray, tie_weight: float, zero_voice: bool
) -> None:
    # The month computes the matrix once for the centre's row and the update (Centre.step).
    if zero_voice:  # no clout: every total is zero
        members = [(n, k, 0.0, s, sus, pos) for n, k, _, s, sus, pos in MEMBERS]
        net = network(members, InfluenceParams(tie_weight=tie_weight, center_clout=0.0))
    else:
        net = network(MEMBERS, InfluenceParams(tie_weight=tie_weight))
    net.ties[:] = ties
    w = net.weights()
    for i in range(len(w)):
        assert net.weights_row(i).tobytes() == w[i].tobytes()


def test_the_centres_listening_row_is_the_same_from_every_path() -> None:
    net = network(MEMBERS, InfluenceParams(tie_weight=1.5))
    net.add_tie("center", "firm", 2.0)
    net.add_tie("center", "city", 0.5)
    w = net.weights()
    kept, kept_total = net.centre_listening(w)  # the row kept with w
    again = w.copy()  # another matrix of the same bits: its row is computed
    copied, copied_total = net.centre_listening(again)
    alone, alone_total = net.centre_listening()  # the row computed without the matrix
    expected = w[0].copy()
    expected[0] = 0.0
    for row, total in ((kept, kept_total), (copied, copied_total), (alone, alone_total)):
        assert row.tobytes() == expected.tobytes()
        assert np.array(total).tobytes() == np.array(expected.sum()).tobytes()
