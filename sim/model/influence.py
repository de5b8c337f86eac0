"""The stakeholder influence layer: positions, ties, Friedkin-Johnsen updating, effective policy.

Every stakeholder i (the central leadership, regulators, cities, funds, named firms) holds a
position x_i on each policy dimension, an anchor (its own ideal, x_i(0) in Friedkin-Johnsen), a
salience s_i, a clout k_i and a susceptibility lambda_i. Each month:

* the influence matrix W is built from clout, salience and ties:
  ``w_ij ∝ k_j s_j (1 + tie_weight T_ij)``, row-normalized (who listens to whom);
* positions update by Friedkin-Johnsen: ``x(t+1) = Λ W x(t) + (I - Λ) x(0)``;
* the effective policy on each dimension is the clout-and-salience-weighted mean position
  ``Σ k_i s_i x_i / Σ k_i s_i`` (Bueno de Mesquita); the centre is the heaviest voice. Its
  position is set by ``stance`` events and, unless the scenario pins it, moved by its own rules
  (:mod:`sim.model.centre`) before the others update.

Ties come from deals (city-firm), golden shares (firm-fund and firm-centre) and engagement (the
state listening to a firm); they decay each month. Tied actors' anchors drift toward the state's
position (co-optation, KTAB's "pragmatic affinity").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sim.model import centre_kernels
from sim.scenario.base import DIMENSIONS
from sim.scenario.params import InfluenceParams
from sim.scenario.schema import Scenario

FloatArray = NDArray[np.float64]


@dataclass
class InfluenceNetwork:
    """Positions, anchors and ties of all stakeholders.

    Attributes:
        names: Stakeholder names; index 0 is the central leadership.
        kinds: Stakeholder family of each (``center``, ``regulator``, ``city``, ``fund``,
            ``investors``, ``firm``); all but firms and investors speak for the state.
        clout: Capability k_i (read-only once built).
        salience: Salience s_i (read-only once built).
        susceptibility: Friedkin-Johnsen lambda_i (0 = stubborn).
        anchor: Own ideal positions x(0), shape (n, n_dims).
        position: Current positions x(t), shape (n, n_dims).
        ties: Tie strengths T_ij (i listens more to j), shape (n, n).
    """

    names: list[str]
    kinds: list[str]
    clout: FloatArray
    salience: FloatArray
    susceptibility: FloatArray
    anchor: FloatArray
    position: FloatArray
    ties: FloatArray
    params: InfluenceParams
    index: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.index = {name: i for i, name in enumerate(self.names)}
        #: Rows of the stakeholders who speak for the state (all but firms and investors).
        self._state = np.array(
            [i for i, k in enumerate(self.kinds) if k not in ("firm", "investors")], dtype=np.intp
        )
        # Each stakeholder's voice ``clout * salience`` and its sum: clout and salience never
        # change once the network is built (read-only).
        self.clout.setflags(write=False)
        self.salience.setflags(write=False)
        self._voice = self.clout * self.salience
        self._voice_total = self._voice.sum()
        #: Row 0 of the last :meth:`weights` without the centre itself, its sum, and that matrix.
        self._listen = np.zeros(len(self.names))
        self._listen_total = 0.0
        self._listen_of: FloatArray | None = None

    @classmethod
    def build(
        cls,
        members: list[tuple[str, str, float, float, float, tuple[float, float]]],
        params: InfluenceParams,
        center_position: tuple[float, float] = (0.3, 0.3),
    ) -> InfluenceNetwork:
        """Create the network with the central leadership first.

        Args:
            members: ``(name, kind, clout, salience, susceptibility, (x_stringency, x_self))``.
            params: Influence parameters.
            center_position: The centre's position until a stance event sets it.

        Returns:
            The network.
        """
        rows = [("center", "center", params.center_clout, params.center_salience, 0.0,
                 center_position), *members]  # fmt: skip
        n = len(rows)
        anchor = np.array([r[5] for r in rows], dtype=float)
        return cls(
            names=[r[0] for r in rows],
            kinds=[r[1] for r in rows],
            clout=np.array([r[2] for r in rows], dtype=float),
            salience=np.array([r[3] for r in rows], dtype=float),
            susceptibility=np.array([r[4] for r in rows], dtype=float),
            anchor=anchor,
            position=anchor.copy(),
            ties=np.zeros((n, n)),
            params=params,
        )

    def set_center(self, stance: tuple[float, float]) -> None:
        """Set the centre's stance (its anchor and position) from a ``stance`` event."""
        self.anchor[0] = stance
        self.position[0] = stance

    def add_tie(self, listener: str, speaker: str, strength: float) -> None:
        """Strengthen how much ``listener`` listens to ``speaker``.

        Args:
            listener: Name of the listening stakeholder.
            speaker: Name of the stakeholder listened to.
            strength: Tie strength added.
        """
        i, j = self.index.get(listener), self.index.get(speaker)
        if i is not None and j is not None:
            self.add_tie_rows(i, j, strength)

    def add_tie_rows(self, i: int, j: int, strength: float, *, both_ways: bool = False) -> None:
        """Strengthen how much row ``i`` listens to row ``j`` (and ``j`` to ``i``, ``both_ways``).

        :meth:`add_tie` by the stakeholders' rows (:attr:`index`); a row does not tie to itself.
        """
        if i != j:
            ties = self.ties
            ties[i, j] += strength
            if both_ways:
                ties[j, i] += strength

    def engage(
        self, rows_cols: tuple[NDArray[np.int64], NDArray[np.int64]], effort: FloatArray,
        tie: float,
    ) -> None:  # fmt: skip
        """Strengthen the ties of a block (:func:`block`) by ``tie`` per unit of ``effort``.

        ``ties[np.ix_(rows, cols)] += tie * effort[: len(cols)]``: column ``cols[j]`` by the
        effort of ``effort[j]``, in one compiled call (``centre_kernels.engage``).
        """
        centre_kernels.engage(self.ties, *rows_cols, effort, tie)

    def weights(self) -> FloatArray:
        """Return the row-stochastic influence matrix W (a new array)."""
        # voice * (1 + tie_weight * ties) divided by its row sums in one compiled call, which
        # also keeps whom the centre listens to (centre_listening).
        w = np.empty(self.ties.shape)
        self._listen_total = centre_kernels.weights(
            self.ties, self.params.tie_weight, self._voice, w, self._listen
        )
        self._listen_of = w
        return w

    def centre_listening(self, weights: FloatArray | None = None) -> tuple[FloatArray, float]:
        """Return whom the centre listens to (row 0 of W, itself at 0.0) and the row's sum.

        Args:
            weights: :meth:`weights` as it is now, when the caller has it; else the row is
                computed alone (:meth:`weights_row`). When it is the matrix :meth:`weights`
                returned last, the row kept then is returned (until the next :meth:`weights`).
        """
        if weights is not None and weights is self._listen_of:
            return self._listen, self._listen_total
        listen = self.weights_row(0) if weights is None else weights[0].copy()
        listen[0] = 0.0
        return listen, float(listen.sum())

    def weights_row(self, i: int) -> FloatArray:
        """Return row ``i`` of :meth:`weights` (whom stakeholder ``i`` listens to), a new array.

        The row is the full matrix's, bit for bit (each row is normalized by its own sum), without
        building the other rows.
        """
        w = self.clout * self.salience * (1.0 + self.params.tie_weight * self.ties[i])
        total = w.sum()
        return w / total if total > 0 else np.full_like(w, 1.0 / len(w))

    def step(self, weights: FloatArray | None = None) -> None:
        """Advance positions one month by Friedkin-Johnsen, then decay ties and co-opt anchors.

        The centre (row 0) keeps its position: :class:`~sim.model.centre.Centre` moves it.

        Args:
            weights: :meth:`weights` as it is now, when the caller has it (the month computes
                it once for the centre and this update: positions do not change it).
        """
        w = self.weights() if weights is None else weights
        # Friedkin-Johnsen, the clip, the co-optation drift and the ties' decay in one compiled
        # call after the matrix product, in place (sim.model.centre_kernels.step).
        centre_kernels.step(
            w @ self.position, self.position, self.anchor, self.susceptibility, self.ties,
            self._state, self.params.cooptation, 1.0 - self.params.tie_decay,
        )  # fmt: skip

    def effective_policy(self) -> FloatArray:
        """Return the clout-and-salience-weighted mean position on each dimension."""
        total = self._voice_total
        if total <= 0:
            return self.position[0].copy()
        policy: FloatArray = self._voice @ self.position
        policy /= total
        return policy

    def equilibrium(self) -> FloatArray:
        """Return the Friedkin-Johnsen equilibrium ``(I - ΛW)^-1 (I - Λ) x(0)`` for current W."""
        lam = np.diag(self.susceptibility)
        n = len(self.names)
        return np.asarray(
            np.linalg.solve(np.eye(n) - lam @ self.weights(), (np.eye(n) - lam) @ self.anchor),
            dtype=float,
        )


DIMENSION_INDEX = {name: i for i, name in enumerate(DIMENSIONS)}

def block(rows: list[int], cols: list[int]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Return the block ``rows`` x ``cols`` of the ties as :meth:`InfluenceNetwork.engage` takes it.

    Args:
        rows: Row indices, in order, distinct.
        cols: Column indices, in order, distinct.
    """
    return np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64)


#: A stakeholder as :meth:`InfluenceNetwork.build` takes it:
#: ``(name, kind, clout, salience, susceptibility, (x_stringency, x_self))``.
Member = tuple[str, str, float, float, float, tuple[float, float]]


def stakeholders(scenario: Scenario) -> list[Member]:
    """Return a scenario's stakeholders, the central leadership excepted, in the network's order.

    Regulators, cities, funds, investors, then named firms, each in the scenario's order.
    """
    sc = scenario
    groups: list[tuple[str, dict[str, Any]]] = [
        ("regulator", dict(sc.regulators)),
        ("city", dict(sc.cities)),
        ("fund", {k: v for k, v in sc.funds.items() if v.kind != "investors"}),
        ("investors", {k: v for k, v in sc.funds.items() if v.kind == "investors"}),
        ("firm", dict(sc.firms)),
    ]
    rows: list[Member] = []
    for kind, specs in groups:
        for name, s in specs.items():
            pos = (s.position.platform_stringency, s.position.self_reliance)
            rows.append((name, kind, s.clout, s.salience, s.susceptibility, pos))
    return rows
