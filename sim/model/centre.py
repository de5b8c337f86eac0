"""The central leadership as an agent: its position moves under priorities, outcomes and pressure.

The centre is row 0 of the influence network (:mod:`sim.model.influence`): its position there is
the heaviest voice in the effective policy, and cities read it as the centre's stance. A scenario
either pins it (``centre: pinned``: the position is the latest ``stance`` event's, held whatever
happens) or leaves it free (``centre: free``, the default). When free, each month before the other
stakeholders update, the centre moves its position ``x`` on each dimension by ``speed`` times the
sum of its pulls (:class:`~sim.scenario.params.CentreParams` holds every weight):

* **priorities**: ``priority_weight * (a - x)``, toward its anchor ``a`` (control and security on
  platform stringency, self-reliance on the second dimension). A ``stance`` event sets both ``a``
  and ``x``: a shock to a free centre (a new line it then adapts), the held policy of a pinned one;
* **growth**: ``growth_weight * g`` on stringency, with ``g`` the growth gap (GDP growth minus the
  official target, averaged over ``memory_months``; zero until a ``macro`` event sets a target).
  Growth above target leaves room to tighten; a shortfall eases;
* **jobs**: ``jobs_weight * (j - jobs_growth_norm)`` on stringency, with ``j`` the averaged annual
  growth of the jobs index (:meth:`~sim.model.policy_model.PolicyModel.jobs_index`);
* **market value**: ``-value_weight * v`` on stringency, with ``v`` the fall of total platform
  market value (``firms.market_value`` of listed firms) from its running peak, in [0, 1];
* **AI capability**: ``ai_weight * min(c, 0)`` on stringency and ``-ai_weight * min(c, 0)`` on
  self-reliance, with ``c = ln(own / rivals)``: the firms' AI capability index against a rival
  frontier growing at ``rival_ai_growth`` a year. Falling behind eases platform rules and pushes
  self-reliance;
* **stakeholders**: ``stakeholder_weight * (m - x)``, toward ``m``, the mean position of the other
  stakeholders weighted as the centre listens to them (row 0 of the influence matrix without
  itself: clout x salience x ties). Cities lobbying for a softer line lower ``m``.

A free centre's priorities drift toward the position it holds (``priority_drift``: a line held for
long becomes its own), and a month's easing on platform stringency is announced: investors hear a
confidence signal of strength ``announce_weight`` times the easing (the Dec 2022 conference's
message, when it comes from the rules).

The pulls are computed every month, pinned or free, and recorded (``centre_pull_*`` metrics), so a
run shows what pulls on the centre even when it does not move.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model import centre_kernels
from sim.scenario.params import CentreParams

if TYPE_CHECKING:
    from sim.model.policy_model import PolicyModel

PULLS: tuple[str, ...] = ("priorities", "growth", "jobs", "value", "ai", "stakeholders")
"""The sources that pull on the centre's position, in the order of :attr:`Centre.pulls`."""


class Centre:
    """The central leadership's rules and its memory of outcomes.

    Args:
        params: The centre's weights.
        pinned: Whether the scenario pins the centre (its position then never moves by rule).

    Attributes:
        growth_target: The official annual growth target in force (None: none set).
        growth_gap: Averaged GDP growth minus the target.
        jobs_growth: Averaged annual growth of the jobs index.
        value_fall: Fall of listed platform market value from its running peak, 0-1.
        ai_gap: ``ln(own AI capability / rivals')``.
        pulls: This month's pulls, shape (len(PULLS), n_dims), in position units a month before
            ``speed``.
    """

    def __init__(self, params: CentreParams, *, pinned: bool) -> None:
        self.params = params
        self.pinned = pinned
        self.growth_target: float | None = None
        self.growth_gap = 0.0
        self.jobs_growth = 0.0
        self.value_fall = 0.0
        self.ai_gap = 0.0
        self.pulls = np.zeros((len(PULLS), 2))
        self._jobs: float | None = None
        self._value_peak = 0.0
        #: The weights the move reads, in the order of centre_kernels.COEFFICIENTS (fixed).
        p = params
        self._coefficients = np.array([
            p.priority_weight, p.growth_weight, p.jobs_weight, p.jobs_growth_norm, p.value_weight,
            p.ai_weight, p.stakeholder_weight, p.speed, p.priority_drift,
        ])  # fmt: skip
        #: The weight of this month in the averages, and the rivals' growth factor a year.
        self._memory = 1.0 / p.memory_months
        self._rival_growth = 1.0 + p.rival_ai_growth

    def observe(self, model: PolicyModel) -> None:
        """Update the centre's view of outcomes from the model's current state.

        Args:
            model: The model (read: GDP growth, jobs index, listed market value, AI capability).
        """
        memory = self._memory
        gap = 0.0 if self.growth_target is None else model.gdp_growth - self.growth_target
        self.growth_gap += memory * (gap - self.growth_gap)
        f = model.firms
        # revenue.sum(), market_value[listed].sum() and ai_capability.sum() in one call.
        revenue, value, capability = centre_kernels.outcome_sums(
            f.revenue, f.market_value, f.listed, f.ai_capability
        )
        jobs = model.jobs_index(revenue)
        if self._jobs is not None and self._jobs > 0 and jobs > 0:
            annual = 12.0 * float(np.log(jobs / self._jobs))
            self.jobs_growth += memory * (annual - self.jobs_growth)
        else:
            self.jobs_growth = self.params.jobs_growth_norm
        self._jobs = jobs
        self._value_peak = max(self._value_peak, value)
        self.value_fall = 1.0 - value / self._value_peak if self._value_peak > 0 else 0.0
        own = capability / max(f.ai_capability0, 1e-12)
        rivals = self._rival_growth ** (model.month / 12.0)
        self.ai_gap = float(np.log(max(own, 1e-12) / rivals))

    def step(self, model: PolicyModel, weights: np.ndarray | None = None) -> None:
        """Observe the outcomes, compute the pulls and, when free, move the centre's position.

        Args:
            model: The model; the centre is row 0 of ``model.influence``.
            weights: The influence matrix as it is now (``model.influence.weights()``), when the
                caller has it; else its row 0 is computed.
        """
        self.observe(model)
        net = model.influence
        listen, total = net.centre_listening(weights)
        # The pulls, the move, the clip and the anchor's drift in one compiled call
        # (sim.model.centre_kernels.move), after the matrix product.
        easing = centre_kernels.move(
            net.position, net.anchor, listen @ net.position, total, self._coefficients,
            self.pulls, self.growth_gap, self.jobs_growth, self.value_fall, self.ai_gap,
            self.pinned,
        )  # fmt: skip
        if easing > 0 and (p := self.params).announce_weight > 0:
            model.add_signal(min(p.announce_weight * easing, 1.0), p.memory_months)
