"""The expected cost of regulatory enforcement to each firm, from the regulators' own rules.

Firms (when they set their compliance effort) and investors (when they value a firm) price the
same thing: how likely a probe is, how likely it ends in a fine or a freeze, and what those cost.
Both read the regulators' rules (:mod:`sim.model.agents.regulators`):

* a regulator opens ``rate = capacity * stringency ** stringency_power`` probes a month, on targets
  drawn with weight ``revenue ** targeting_power * exposure[domain] * (1 - compliance)``; the
  monthly probe hazard of firm i is ``intensity * weight_i / sum(weight)``, where ``intensity`` is
  the regulator's rate (firms) or what investors believe it to be (investors);
* a probe ends in a fine with probability ``p_fine * zc`` and in a freeze with probability
  ``p_freeze * zc * stringency``, ``zc = min((stringency + strike_weight * strikes) *
  (1 - compliance) / full_pressure, 1)``;
* a fine costs ``min(fine_rate, legal_cap)`` of domestic revenue; an app removal or a licence
  freeze costs ``freeze_growth_penalty * months / 12`` of revenue (the growth lost while frozen);
  a listing halt costs no revenue.

The result is the expected cost per year as a share of revenue.
"""

from __future__ import annotations

import functools
import math
import operator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from sim.model import kernels, sum_kernels, value_kernels
from sim.scenario.base import DOMAINS, FREEZE_KINDS

if TYPE_CHECKING:
    from sim.model.agents.firms import FirmPopulation
    from sim.model.agents.regulators import Regulator
    from sim.scenario.params import Params
    from sim.scenario.schema import RegulatorSpec

FloatArray = NDArray[np.float64]
LISTING_HALT = FREEZE_KINDS.index("listing_halt")


@dataclass(frozen=True)
class RegulatorRules:
    """The regulators' enforcement rules as arrays, one entry per regulator.

    Attributes:
        domain: Index of each regulator's risk domain.
        stringency: Current stringency.
        rate: Probes opened per month at the current stringency.
        fine_share: Fine as a share of domestic revenue (the rate, capped by the legal cap).
        p_fine: Escalation propensity to a fine.
        p_freeze: Escalation propensity to a freeze.
        freeze_years: Freeze length in years, 0 for a listing halt (it costs no revenue).
    """

    domain: NDArray[np.int64]
    stringency: FloatArray
    rate: FloatArray
    fine_share: FloatArray
    p_fine: FloatArray
    p_freeze: FloatArray
    freeze_years: FloatArray

    @classmethod
    def read(cls, regulators: list[Regulator], params: Params) -> RegulatorRules:
        """Read the rules and the current stringency of ``regulators``."""
        static = _static_rules([r.spec for r in regulators])
        return cls._at(static, _stringency(regulators), params.enforcement.stringency_power)

    @classmethod
    def _at(
        cls, static: dict[str, NDArray[Any]], stringency: FloatArray, power: float
    ) -> RegulatorRules:
        """Return the rules ``static`` at ``stringency`` (probes a month at its ``power``).

        What ``cls(...)`` returns, with its fields set at once rather than one frozen-attribute
        check at a time (a month builds one).
        """
        rules = object.__new__(cls)
        vars(rules).update(
            domain=static["domain"],
            stringency=stringency,
            rate=static["capacity"] * stringency**power,
            fine_share=static["fine_share"],
            p_fine=static["p_fine"],
            p_freeze=static["p_freeze"],
            freeze_years=static["freeze_years"],
        )
        return rules


def _stringency(regulators: list[Regulator]) -> FloatArray:
    """Return the regulators' current stringency as an array."""
    return np.array([r.stringency for r in regulators], dtype=float)


#: The fixed parts of the rules, by the identity of the regulators' (frozen) specifications; each
#: entry keeps its specifications so that their identities cannot be reused while it is cached.
_STATIC_RULES: dict[tuple[int, ...], tuple[list[RegulatorSpec], dict[str, NDArray[Any]]]] = {}
_STATIC_RULES_MAX = 64
#: The entry of :data:`_STATIC_RULES` returned last.
_last_static: tuple[list[RegulatorSpec], dict[str, NDArray[Any]]] | None = None


def _static_rules(specs: list[RegulatorSpec]) -> dict[str, NDArray[Any]]:
    """Return the rules' arrays that do not change during a run, built once per set of specs.

    Specifications are frozen, so these arrays (read-only) are built once a run instead of
    from Python lists every month.
    """
    global _last_static  # noqa: PLW0603 (the entry found last, one per process)
    last = _last_static
    # The same specification objects as last time (a month's case), compared by identity only:
    # comparing equal specifications field by field costs more than the rest of this function.
    if last is not None and len(last[0]) == len(specs) and all(map(operator.is_, last[0], specs)):
        return last[1]
    key = tuple(map(id, specs))
    cached = _STATIC_RULES.get(key)
    if cached is None and last is not None and last[0] == specs:
        # Equal specifications in new objects (the next run of a batch): the same arrays, kept
        # under these objects' identities.
        cached = (list(specs), last[1])
        _remember(key, cached)
    if cached is not None:
        _last_static = cached
        return cached[1]
    blocks = np.array([FREEZE_KINDS.index(s.freeze_kind) != LISTING_HALT for s in specs])
    arrays: dict[str, NDArray[Any]] = {
        "domain": np.array([DOMAINS.index(s.domain) for s in specs], dtype=np.int64),
        "capacity": np.array([s.capacity for s in specs], dtype=float),
        "fine_share": np.array([min(s.fine_rate, s.legal_cap) for s in specs], dtype=float),
        "p_fine": np.array([s.p_fine for s in specs], dtype=float),
        "p_freeze": np.array([s.p_freeze for s in specs], dtype=float),
        "freeze_years": np.array([s.freeze_months / 12.0 for s in specs]) * blocks,
    }
    domain = arrays["domain"]
    arrays["every_domain_in_order"] = np.array(
        domain.size == len(DOMAINS) and bool((domain == np.arange(len(DOMAINS))).all())
    )
    for array in arrays.values():
        array.setflags(write=False)
    _last_static = (list(specs), arrays)
    _remember(key, _last_static)
    return arrays


def _remember(
    key: tuple[int, ...], entry: tuple[list[RegulatorSpec], dict[str, NDArray[Any]]]
) -> None:
    """Keep ``entry`` in :data:`_STATIC_RULES` under ``key``, the oldest entry leaving when full."""
    if len(_STATIC_RULES) >= _STATIC_RULES_MAX:
        _STATIC_RULES.pop(next(iter(_STATIC_RULES)))
    _STATIC_RULES[key] = entry


@dataclass(frozen=True)
class EnforcementExposure:
    """Each firm's exposure to each regulator this month.

    These are the parts of the expected cost that do not depend on how many probes a regulator
    opens, computed once a month (:func:`enforcement_exposure`) and shared by firms (at the
    regulators' rates) and investors (at the rates they believe). Arrays have one row per
    regulator.

    Attributes:
        rules: The regulators' rules this month.
        weights: Shape (R, n): regulator r's targeting weight on firm i, ``revenue **
            targeting_power * exposure[domain] * (1 - compliance)``.
        divisor: Each regulator's total weight, 1 where it is not above 0: ``weights[r] /
            divisor[r]`` are firm i's shares of it (:attr:`share`).
        weighted: Shape (R, n): ``share * cost``, where ``cost`` is the expected cost of one
            probe by r on firm i (a share of revenue): the expected cost per probe r opens.
        top_share: Each regulator's largest share (whether a hazard can reach 1).
    """

    rules: RegulatorRules
    weights: FloatArray
    divisor: FloatArray
    weighted: FloatArray
    top_share: FloatArray

    @functools.cached_property
    def share(self) -> FloatArray:
        """Shape (R, n): firm i's share of regulator r's targeting weight (``weights / divisor``).

        A probe's chance of falling on firm i; a row sums to 1 unless its weights sum to 0 or
        less. Divided when first read: a month reads only :attr:`weighted` and
        :attr:`top_share`, and the shares of the rows whose hazard reaches 1, which
        :meth:`expected_cost` divides itself.
        """
        with np.errstate(invalid="ignore"):  # NaN where a weight is (as the kernels give it)
            return np.asarray(self.weights / self.divisor[:, None], dtype=float)

    def expected_cost(
        self, intensity: FloatArray | None = None, out: FloatArray | None = None
    ) -> FloatArray:
        """Return each firm's expected enforcement cost, a share of revenue a year.

        The monthly probe hazard ``share * intensity`` is at most 1: the cost is linear in the
        intensity (one matrix-vector product) except for the few firms whose hazard reaches 1.

        Args:
            intensity: Probes a month each regulator opens, or is believed to [default: the
                actual rates].
            out: A contiguous float array of one entry per firm to write the cost in (the
                product's values are the same), else a new array.
        """
        rate = self.rules.rate if intensity is None else np.asarray(intensity, dtype=float)
        if rate.size == 0:
            return np.zeros(self.weights.shape[1])
        # Where the hazard would pass 1, take off the excess: (share * rate - 1) * cost.
        total = np.matmul(rate, self.weighted, out=out)  # the kernel changes it in place
        value_kernels.hazard_cap(
            total, kernels.contiguous(rate), self.weights, self.divisor, self.weighted,
            self.top_share,
        )  # fmt: skip
        return total


def domain_columns(firms: FirmPopulation, regulators: list[Regulator]) -> FloatArray:
    """Return each regulator's exposure column, shape (R, n): ``firms.exposure.T[domain]``.

    The regulatory pressure and the expected-cost pass of a month both read these columns; the
    month gathers them once and passes them to both. When the regulators' domains are every
    domain in order (as in the shipped scenarios), the columns are ``firms.exposure.T`` itself, a
    read-only view with the layout of the copy (exposure is stored column by column).
    """
    return _columns(firms, _static_rules([r.spec for r in regulators]))


def _columns(firms: FirmPopulation, static: dict[str, NDArray[Any]]) -> FloatArray:
    """Return :func:`domain_columns` of the regulators whose fixed rules are ``static``."""
    exposure_t = firms.exposure.T  # a view of its own: made read-only, the firms' array is not
    flags = exposure_t.flags
    if static["every_domain_in_order"] and flags.c_contiguous:
        flags.writeable = False
        return exposure_t
    return np.asarray(exposure_t[static["domain"]])


def month_exposure(
    firms: FirmPopulation, regulators: list[Regulator], params: Params
) -> tuple[FloatArray, EnforcementExposure]:
    """Return the month's regulatory pressure and enforcement exposure, reading the rules once.

    What :func:`regulatory_pressure` and :func:`enforcement_exposure` return on this month's
    :func:`domain_columns`; the regulators' rules, stringency and columns are read once for both.

    Args:
        firms: The firms.
        regulators: The regulators, at their current stringency.
        params: Behavioural parameters (targeting, pyramid, freeze growth penalty).
    """
    static = _static_rules([r.spec for r in regulators])
    stringency = _stringency(regulators)
    columns = _columns(firms, static)
    pressure = _pressure(columns, stringency) if regulators else np.zeros(firms.n)
    return pressure, _exposure(firms, static, stringency, params, columns)


def enforcement_exposure(
    firms: FirmPopulation,
    regulators: list[Regulator],
    params: Params,
    columns: FloatArray | None = None,
) -> EnforcementExposure:
    """Return each firm's exposure to each regulator's enforcement, vectorized over both.

    Args:
        firms: The firms.
        regulators: The regulators, at their current stringency.
        params: Behavioural parameters (targeting, pyramid, freeze growth penalty).
        columns: This month's :func:`domain_columns`, when already gathered.
    """
    static = _static_rules([r.spec for r in regulators])
    if columns is None:
        columns = _columns(firms, static)
    return _exposure(firms, static, _stringency(regulators), params, columns)


def _exposure(
    firms: FirmPopulation,
    static: dict[str, NDArray[Any]],
    stringency: FloatArray,
    params: Params,
    columns: FloatArray,
) -> EnforcementExposure:
    """Return :func:`enforcement_exposure` of the rules ``static`` at ``stringency``."""
    ep = params.enforcement
    rules = RegulatorRules._at(static, stringency, ep.stringency_power)
    tp = ep.targeting_power
    # weights = columns * (revenue ** targeting_power * (1 - compliance)), row r summing to its
    # total; NumPy's power (kernels: not compiled).
    weight = firms.revenue if tp == 1.0 else np.power(firms.revenue, tp)
    weights = _month_array(firms, "enforcement weights", columns.shape)
    cost = _month_array(firms, "enforcement cost", columns.shape)
    # share = weights / total; zc = min((s_r + strike_weight * strikes) * (1 - c) /
    # full_pressure, 1); cost = zc * (p_fine * fine_share * domestic_share + p_freeze * s_r *
    # freeze_years * freeze_growth_penalty) * share, a block of firms at a time;
    # top = share.max(axis=1), written with the divisor into arrays made here (not handed back).
    top, divisor = np.empty(len(stringency)), np.empty(len(stringency))
    exact = value_kernels.enforcement_pass(
        kernels.contiguous(columns), weight, firms.compliance, firms.strikes,
        firms.domestic_share, stringency, rules.p_fine, rules.fine_share, rules.p_freeze,
        rules.freeze_years, float(params.firms.freeze_growth_penalty), float(ep.full_pressure),
        float(ep.strike_weight), weights, cost, top, divisor, *_leaves(firms.n),
    )  # fmt: skip
    exposure = object.__new__(EnforcementExposure)  # EnforcementExposure(...), fields at once
    vars(exposure).update(
        rules=rules, weights=weights, divisor=divisor, weighted=cost, top_share=top
    )
    if not firms.n:
        top[:] = 0.0
    elif not exact:  # rows with no share above 0, or that may hold NaN: NumPy's maximum
        share = exposure.share
        for r in np.flatnonzero(np.isnan(top)):
            top[r] = share[r].max()
    return exposure


#: NumPy's pairwise leaves of ``n`` elements (``sum_kernels.pairwise_leaves``), by ``n``: the
#: number of firms does not change during a run, and finding them costs more than the look-up.
_LEAVES: dict[int, tuple[NDArray[np.int64], NDArray[np.int8]]] = {}
_LEAVES_MAX = 64


def _leaves(n: int) -> tuple[NDArray[np.int64], NDArray[np.int8]]:
    """Return ``sum_kernels.pairwise_leaves(n)``, found once per ``n`` (read-only arrays)."""
    leaves = _LEAVES.get(n)
    if leaves is None:
        if len(_LEAVES) >= _LEAVES_MAX:
            _LEAVES.pop(next(iter(_LEAVES)))
        leaves = sum_kernels.pairwise_leaves(n)
        for array in leaves:
            array.setflags(write=False)
        _LEAVES[n] = leaves
    return leaves


#: Elements from which a month's (R, n) array is a kept one; a smaller one is new each month.
KEPT_FROM = 1024


def _month_array(firms: FirmPopulation, name: str, shape: tuple[int, ...]) -> FloatArray:
    """Return an empty float array of ``shape`` for this month's ``name``.

    Large arrays are kept from one month to the next (sim.model.buffers): two months' arrays are
    in use at once (this month's, and last month's until it is replaced). Below
    :data:`KEPT_FROM` elements (a few kilobytes, a handful of firms) a new array costs less than
    the keeper's look-up.
    """
    if math.prod(shape) < KEPT_FROM:
        return np.empty(shape)
    return firms.buffers.empty(name, shape)


def regulatory_pressure(
    firms: FirmPopulation, regulators: list[Regulator], columns: FloatArray | None = None
) -> FloatArray:
    """Return the regulatory pressure on each firm: its exposure x stringency, mean over regulators.

    Args:
        firms: The firms.
        regulators: The regulators, at their current stringency.
        columns: This month's :func:`domain_columns`, when already gathered.
    """
    if not regulators:
        return np.zeros(firms.n)
    if columns is None:
        columns = domain_columns(firms, regulators)
    return _pressure(columns, _stringency(regulators))


def _pressure(columns: FloatArray, stringency: FloatArray) -> FloatArray:
    """Return :func:`regulatory_pressure` of the regulators at ``stringency``, of ``columns``."""
    # columns.T is column-major, as the exposure[:, domains] copy it replaces: the same product.
    pressure = np.asarray(columns.T @ stringency, dtype=float)  # a new array: divided in place
    pressure /= len(stringency)
    return pressure


def expected_cost(
    firms: FirmPopulation,
    regulators: list[Regulator],
    params: Params,
    intensity: FloatArray | None = None,
) -> FloatArray:
    """Return each firm's expected enforcement cost, a share of revenue a year.

    Args:
        firms: The firms.
        regulators: The regulators, at their current stringency.
        params: Behavioural parameters (targeting, pyramid, freeze growth penalty).
        intensity: Probes a month each regulator opens, or is believed to [default: the actual
            rates].
    """
    return enforcement_exposure(firms, regulators, params).expected_cost(intensity)
