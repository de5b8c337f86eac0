"""Regulators: stringency that follows policy, investigations, and the enforcement pyramid.

Each month a regulator moves its stringency toward the effective policy of its dimension (plus its
mandate), closes the investigations that are due, and opens new ones. The number of new
investigations is Poisson with mean ``capacity * stringency ** stringency_power``; targets are drawn
with probability proportional to
``revenue ** targeting_power * exposure[domain] * (1 - compliance)``.
An investigation closes by the responsive-regulation pyramid (Ayres and Braithwaite): the pressure
``z = (stringency + strike_weight * strikes) * (1 - compliance)`` makes a freeze, a fine, a
rectification order or a warning more or less likely: past sanctions (strikes) escalate it, and
compliance steps it down again. A fine is ``fine_rate`` x the firm's domestic annual revenue,
capped at ``legal_cap`` x that revenue; a fine that would be zero is not imposed (the case closes
with an order).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.model import draw_kernels, pcg64
from sim.scenario.base import DIMENSIONS, DOMAINS, FREEZE_KINDS
from sim.scenario.schema import RegulatorSpec

if TYPE_CHECKING:
    from sim.model.policy_model import PolicyModel

OUTCOMES = ("warning", "order", "fine", "freeze")
#: Strikes a sanction adds to the firm's record, by outcome.
STRIKES = {"freeze": 1.5, "fine": 1.0, "order": 0.5}
#: Signal weight of a sanction for investors, per unit of the regulator's stringency, by outcome.
SIGNAL = {"freeze": 1.5, "fine": 1.0, "order": 0.25}
#: Pyramid pressure above which a case that ends in no fine or freeze ends in an order.
ORDER_PRESSURE = 0.15
#: Investigations opened at once up to which their lengths are drawn one call each (see
#: :meth:`Regulator._open`).
FEW_DRAWS = 4


def draw_without_replacement(
    rng: np.random.Generator, p: np.ndarray, size: int, total: float = 1.0
) -> np.ndarray:
    """Draw ``size`` distinct rows with probabilities ``p / total``: ``rng.choice`` without checks.

    The same draws and the same arithmetic as ``rng.choice(len(p), size, replace=False,
    p=p / total)`` (NumPy's algorithm: cumulative weights, one uniform per row still to draw, a
    binary search, drawn rows set to zero and the rest drawn again), so the same rows; without the
    checks of ``p`` (a compensated sum, a sign test, a count of positive entries and a copy, each a
    pass over every firm), which the caller has made. Each round is one compiled pass
    (:func:`sim.model.draw_kernels.draw_rows`). ``p`` is overwritten.

    Args:
        rng: The model's generator.
        p: Weights, non-negative, summing to ``total``, with at least ``size`` positive.
        size: Rows to draw.
        total: The weights' sum (1.0: ``p`` holds probabilities, divided by 1.0 as they are).

    Returns:
        The rows, in the order drawn.
    """
    if size == 1:  # the loop below, once, without its bookkeeping
        return np.array([draw_one(rng, p, total, p)], dtype=np.int64)
    found: list[int] = []
    running = np.empty(p.shape[0])
    while len(found) < size:
        x = rng.random(size - len(found))
        new = np.empty(x.shape[0], dtype=np.int64)
        draw_kernels.draw_rows(p, total, np.array(found, dtype=np.int64), x, running, new)
        # np.unique's first occurrences in this round, in the order drawn.
        seen: set[int] = set()
        for row in new.tolist():
            if row not in seen:
                seen.add(row)
                found.append(row)
    return np.array(found, dtype=np.int64)


def draw_one(
    rng: np.random.Generator, weights: np.ndarray, total: float, out: np.ndarray | None = None
) -> int:
    """Draw one row with probabilities ``weights / total``, as :func:`draw_without_replacement`.

    One uniform (``rng.random()`` draws what ``rng.random(1)`` draws), then one compiled pass of
    the running shares and a binary search (:func:`sim.model.draw_kernels.draw_one`). With
    ``total`` 1.0 the division leaves every weight as it is.

    Args:
        rng: The model's generator.
        weights: Non-negative weights summing to ``total``.
        total: Their sum.
        out: Where the running shares go (it may be ``weights``); a new array when None.

    Returns:
        The row.
    """
    running = np.empty(weights.shape[0]) if out is None else out
    return draw_kernels.draw_one(weights, total, rng.random(), running)


class Regulator(mesa.Agent):
    """A central regulator (CAC, SAMR, PBoC, MIIT, MOFCOM/NDRC).

    Args:
        model: The model.
        name: Short name, e.g. ``SAMR``.
        spec: Its scenario specification.
    """

    model: PolicyModel

    def __init__(self, model: PolicyModel, *, name: str, spec: RegulatorSpec) -> None:
        super().__init__(model)
        self.name = name
        self.spec = spec
        self.domain = DOMAINS.index(spec.domain)
        self.dimension = DIMENSIONS.index(spec.dimension)
        #: Stringency: starts where the regulator's rule holds it (sim.model.initial_state).
        self.stringency: float = 0.0
        #: Open investigations: firm row -> month index at which it closes.
        self.investigations: dict[int, int] = {}
        self.outcomes: dict[str, int] = dict.fromkeys(OUTCOMES, 0)
        #: Investigations opened since the start (what outside observers see of enforcement).
        self.opened: int = 0
        #: No open investigation closes before this month (a lower bound, kept by
        #: :meth:`open_investigation` and :meth:`close_due`): a month before it has none due.
        self._next_due: float = math.inf
        # The enforcement parameters a month reads (they do not change during a run).
        ep = model.params.enforcement
        self._speed = ep.stringency_speed
        self._stringency_power = ep.stringency_power
        self._targeting_power = ep.targeting_power
        self._strike_weight = ep.strike_weight
        self._full_pressure = ep.full_pressure
        # The (frozen) specification's numbers a month reads.
        self._mandate, self._capacity = spec.mandate, spec.capacity
        lo, hi = spec.investigation_months
        self._low, self._high = lo, hi + 1  # an investigation's length: integers(lo, hi + 1)
        # 0-d arrays: ``rng.integers`` converts its bounds to arrays and takes these as they are.
        self._months = (np.array(self._low, dtype=np.int64), np.array(self._high, dtype=np.int64))
        self._p_freeze, self._p_fine = spec.p_freeze, spec.p_fine
        self._fine_rate, self._legal_cap = spec.fine_rate, spec.legal_cap
        self._jumps = {
            "fine": ep.fine_compliance_jump, "freeze": ep.freeze_compliance_jump,
            "order": ep.order_compliance_jump,
        }  # fmt: skip

    def step(self) -> None:
        """Update stringency, close due investigations and open new ones."""
        m = self.model
        # min(max(target, 0.0), 1.0), as min and max compare (NaN and -0.0 kept).
        target = m.policy.item(self.dimension) + self._mandate
        target = 0.0 if target < 0.0 else target
        target = 1.0 if target > 1.0 else target
        self.stringency += self._speed * (target - self.stringency)
        if m.month >= self._next_due:
            self.close_due()
        self.open_new()

    # -- investigations -------------------------------------------------------------------------

    def open_investigation(self, row: int, months: int) -> None:
        """Open an investigation into firm ``row`` that closes after ``months``."""
        end = self.model.month + months
        investigations = self.investigations
        if row not in investigations:
            self.opened += 1
        investigations[row] = max(end, investigations.get(row, 0))
        if end < self._next_due:  # min(next_due, end)
            self._next_due = end

    def open_new(self) -> None:
        """Open this month's investigations on targets drawn by size, exposure and compliance.

        The draws are made in compiled code on the model's generator when it can be handed over
        (:func:`sim.model.pcg64.stream`), else through NumPy: the same draws either way.
        """
        rate = self._capacity * self.stringency**self._stringency_power
        if not rate > 0:
            return
        rng = self.model.rng
        views = pcg64.stream(rng)
        if views is None:
            if n_new := rng.poisson(rate):
                self._open(n_new)
        elif n_new := pcg64.poisson(views[0], rate):
            self._open_compiled(n_new, views)

    def _weights_input(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Return what the targeting weights are made of.

        Revenue to the targeting power, the exposure column of this regulator's domain,
        compliance, and the firms under investigation (their weight is zero).
        """
        firms = self.model.firms
        # revenue ** 1.0 is revenue, bit for bit (the expected-cost pass reads it so too).
        revenue = firms.revenue if self._targeting_power == 1.0 else self._revenue_power()
        skip = np.array([*self.investigations], dtype=np.int64)
        return revenue, firms.exposure[:, self.domain], firms.compliance, skip

    def _open_compiled(self, n_new: int, views: tuple[np.ndarray, np.ndarray]) -> None:
        """Open up to ``n_new`` investigations, every draw in one compiled call.

        :func:`sim.model.draw_kernels.open_targets` draws what :meth:`_open` draws through NumPy.
        """
        revenue, exposure, compliance, skip = self._weights_input()
        n, drawn = compliance.shape[0], min(n_new, compliance.shape[0])  # targets: <= asked, firms
        rows, months = np.empty(drawn, dtype=np.int64), np.empty(drawn, dtype=np.int64)
        count = draw_kernels.open_targets(
            views[0], views[1], n_new, revenue, exposure, compliance, skip, self._low,
            self._high, np.empty(n), np.empty(n), rows, months,
        )  # fmt: skip
        if count < 0:
            raise ValueError(f"{self.name}: targeting weights are not finite")
        open_investigation = self.open_investigation
        for row, length in zip(rows[:count].tolist(), months[:count].tolist(), strict=True):
            open_investigation(row, length)

    def _open(self, n_new: int) -> None:
        """Open up to ``n_new`` investigations (a positive count drawn by :meth:`open_new`)."""
        rng = self.model.rng
        # revenue ** power * exposure * (1 - compliance), zero on the firms under investigation,
        # its sum and its count of positive weights: one compiled pass.
        revenue, exposure, compliance, skip = self._weights_input()
        weights = np.empty(compliance.shape[0])
        total, positive = draw_kernels.target_weights(revenue, exposure, compliance, skip, weights)
        if not math.isfinite(total):
            raise ValueError(f"{self.name}: targeting weights are not finite")
        # Weights are non-negative: one positive weight is a positive total.
        if n_new > 1:
            n_new = min(n_new, positive)
        elif not total > 0:
            return
        if n_new == 0:
            return
        lo, hi = self._months
        open_investigation = self.open_investigation
        if n_new == 1:
            row = draw_kernels.draw_one(weights, total, rng.random(), weights)
            open_investigation(row, int(rng.integers(lo, hi)))
            return
        rows = draw_without_replacement(rng, weights, n_new, total).tolist()
        # An array of bounded integers draws one integer after another: the same values, and
        # the generator left alike (tests/model/test_draw_kernels.py). A few are drawn one call
        # each, which costs less than an array's call (it finds the array's size with np.prod,
        # in Python: about 4 us, a scalar draw 1.2 us).
        if len(rows) <= FEW_DRAWS:
            integers = rng.integers
            lengths = [int(integers(lo, hi)) for _ in rows]
        else:
            lengths = rng.integers(lo, hi, len(rows)).tolist()
        for row, months in zip(rows, lengths, strict=True):
            open_investigation(row, months)

    def _revenue_power(self) -> np.ndarray:
        """Return every firm's revenue to the targeting power, computed once a month.

        Revenue does not change while regulators step, so the regulators of a month share it
        (a power over every firm is the dearest part of drawing targets).
        """
        m = self.model
        cached: tuple[int, np.ndarray] | None = getattr(m, "_revenue_power", None)
        if cached is None or cached[0] != m.month:
            cached = (m.month, np.power(m.firms.revenue, self._targeting_power))
            setattr(m, "_revenue_power", cached)  # noqa: B010 (a cache the model does not declare)
        return cached[1]

    def close_due(self) -> None:
        """Close the investigations that are due by the enforcement pyramid, in opening order."""
        month = self.model.month
        if month < self._next_due:
            return
        due, next_due = [], math.inf
        for row, end in self.investigations.items():
            if end <= month:
                due.append(row)
            elif end < next_due:
                next_due = end
        self._next_due = next_due
        for row in due:
            del self.investigations[row]
            self.sanction(row)

    def pressure(self, row: int) -> float:
        """Return the pyramid pressure ``z`` on firm ``row``."""
        firms = self.model.firms
        strikes = self._strike_weight * firms.strikes.item(row)
        return (self.stringency + strikes) * (1.0 - firms.compliance.item(row))

    def sanction(self, row: int) -> str:
        """Close an investigation into firm ``row``: warning, order, fine or freeze.

        Args:
            row: The firm's row.

        Returns:
            The outcome.
        """
        stringency = self.stringency
        z = self.pressure(row)
        zc = z / self._full_pressure
        zc = 1.0 if zc > 1.0 else zc  # min(zc, 1.0)
        p_freeze = self._p_freeze * zc * stringency
        p_fine = self._p_fine * zc
        u = self.model.rng.random()
        if u < p_freeze:
            outcome = "freeze"
            spec = self.spec
            self.impose_freeze(row, spec.freeze_kind, spec.freeze_months)
        elif u < p_freeze + p_fine and self._fine(row, self.fine_amount(row)) > 0.0:
            outcome = "fine"
        elif z > ORDER_PRESSURE:
            outcome = "order"
            self.issue_order(row)
        else:
            outcome = "warning"
        self.outcomes[outcome] += 1
        return outcome

    # -- sanctions ------------------------------------------------------------------------------

    def fine_amount(
        self, row: int, *, share_of_revenue: float | None = None, amount_cny_bn: float | None = None
    ) -> float:
        """Return the fine on firm ``row`` by this regulator's rule, billion CNY.

        The rule is ``fine_rate`` x the firm's domestic annual revenue, capped at ``legal_cap`` x
        that revenue; a decision may pin a share or a recorded amount instead (still capped).

        Args:
            row: The firm's row.
            share_of_revenue: A pinned share of domestic annual revenue.
            amount_cny_bn: A pinned amount, billion CNY.
        """
        firms = self.model.firms
        domestic = firms.revenue.item(row) * firms.domestic_share.item(row)
        if amount_cny_bn is None:
            share = self._fine_rate if share_of_revenue is None else share_of_revenue
            amount_cny_bn = share * domestic
        return min(amount_cny_bn, self._legal_cap * domestic)

    def impose_fine(
        self, row: int, *, share_of_revenue: float | None = None, amount_cny_bn: float | None = None
    ) -> float:
        """Fine firm ``row``: cash falls, compliance rises, investors take note.

        The amount follows :meth:`fine_amount`; a fine that comes to nothing (a zero rate or a
        firm without domestic revenue) is not imposed.

        Args:
            row: The firm's row.
            share_of_revenue: A pinned share of domestic annual revenue.
            amount_cny_bn: A pinned amount, billion CNY.

        Returns:
            The fine, billion CNY (0 when none was imposed).
        """
        amount = self.fine_amount(
            row, share_of_revenue=share_of_revenue, amount_cny_bn=amount_cny_bn
        )
        return self._fine(row, amount)

    def _fine(self, row: int, amount: float) -> float:
        """Impose a fine of ``amount`` on firm ``row`` unless it is nothing; return the fine."""
        if amount <= 0.0:
            return 0.0
        cash = self.model.firms.cash  # in Python floats: the same IEEE operation as on the scalar
        cash[row] = cash.item(row) - amount
        self._comply(row, "fine")
        self.model.record_sanction(
            row, "fine", amount, weight=SIGNAL["fine"] * self.stringency, regulator=self.name
        )
        return amount

    def impose_freeze(self, row: int, kind: str, months: int) -> None:
        """Freeze firm ``row`` (listing halt, app removal or licence freeze) for ``months``."""
        firms = self.model.firms
        k = FREEZE_KINDS.index(kind)
        firms.freeze_until[row, k] = max(firms.freeze_until[row, k], self.model.month + months)
        self._comply(row, "freeze")
        self.model.record_sanction(row, "freeze", 0.0, weight=SIGNAL["freeze"] * self.stringency)

    def issue_order(self, row: int) -> None:
        """Issue a rectification order to firm ``row``: compliance rises, a half strike."""
        self._comply(row, "order")
        self.model.record_sanction(row, "order", 0.0, weight=SIGNAL["order"] * self.stringency)

    def _comply(self, row: int, kind: str) -> None:
        """A sanction's effect on firm ``row``: its compliance jump and its strikes, by ``kind``.

        ``compliance += jump * (1 - compliance)`` and ``strikes += STRIKES[kind]``, in Python
        floats (the same IEEE operations as on the arrays' scalars, without making them).
        """
        firms = self.model.firms
        jump = self._jumps[kind]
        compliance = firms.compliance.item(row)
        firms.compliance[row] = compliance + jump * (1.0 - compliance)
        firms.strikes[row] = firms.strikes.item(row) + STRIKES[kind]
