"""Model invariants, checked every month in debug mode (``sim run --check``).

After each month :func:`check_invariants` checks that every share is in [0, 1], that no state is
NaN or infinite, that stocks which cannot be negative are not, and that money is conserved where
it should be: each transfer leaves one account and arrives, whole, in another. The accounts are
firms' cash, the treasury (fines), cities' budgets (subsidies) and funds' undeployed capital;
money enters or leaves them only through the declared flows the model books each month
(operating cash flow, city budget refills, new fund capital, and, leaving, chip imports and the
chip fund's investment outside the firms). Domestic chip purchases are paid by the buyers to the
chip makers. :func:`money_balances` records the accounts at the start of a month.

The first violation raises :class:`~sim.errors.ModelInvariantError` naming the agent, the
variable and the step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.errors import ModelInvariantError

if TYPE_CHECKING:
    from sim.model.policy_model import PolicyModel

UNIT_VARIABLES = ("compliance", "alignment", "domestic_share")
NON_NEGATIVE_VARIABLES = ("revenue", "market_value", "compute_foreign", "compute_domestic")
FINITE_VARIABLES = (
    "revenue", "cash", "market_value", "discount_rate", "compute_foreign", "compute_domestic",
    "ai_capability", "strikes", "sanction_memory", "margin", "growth",
)  # fmt: skip
REL_TOL = 1e-9
ABS_TOL = 1e-9


@dataclass(frozen=True)
class MoneyBalances:
    """The money accounts at the start of a month, and the running totals that explain changes.

    Attributes:
        firm_cash: Sum of every firm's cash, billion CNY.
        treasury: Fines collected so far, billion CNY.
        cities: Per city: budget, refilled so far, subsidies paid so far.
        funds: Per fund: undeployed capital, added so far, deployed so far, paid to firms so far.
    """

    firm_cash: float
    treasury: float
    cities: dict[str, tuple[float, float, float]]
    funds: dict[str, tuple[float, float, float, float]]


def money_balances(model: PolicyModel) -> MoneyBalances:
    """Return the money accounts of ``model`` now (call at the start of a month).

    Args:
        model: The model.

    Returns:
        The balances.
    """
    return MoneyBalances(
        firm_cash=float(model.firms.cash.sum()),
        treasury=float(model.treasury_cny_bn),
        cities={c.name: (c.budget_cny_bn, c.refilled_cny_bn, c.subsidies_cny_bn)
                for c in model.cities},
        funds={f.name: (f.capital_cny_bn, f.added_cny_bn, f.deployed_cny_bn,
                        f.paid_to_firms_cny_bn) for f in model.funds},
    )  # fmt: skip


def _step(model: PolicyModel) -> str:
    """Return ``step N`` (the month index, 0 = the start) for messages."""
    return f"step {model.month}"


def _same(a: float, b: float) -> bool:
    """Tell whether two money amounts agree up to floating-point rounding."""
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)


def check_invariants(model: PolicyModel, before: MoneyBalances | None = None) -> None:
    """Raise :class:`ModelInvariantError` naming agent, variable and step on the first violation.

    Args:
        model: The model after a step.
        before: The money accounts at the start of the step; without them money is not checked.

    Raises:
        ModelInvariantError: On a violation.
    """
    _check_firms(model)
    _check_actors(model)
    if before is not None:
        check_money(model, before)


def _check_firms(model: PolicyModel) -> None:
    """Check the firms' arrays: finite, shares in [0, 1], stocks not negative."""
    f = model.firms
    step = _step(model)

    def who(row: int) -> str:
        return f.names[row] if row < f.n_named else f"synthetic firm {row - f.n_named}"

    for var in FINITE_VARIABLES:
        values = getattr(f, var)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise ModelInvariantError(
                f"{step}: firm {who(int(bad[0]))}: {var} is {values[bad[0]]} (must be finite)"
            )
    for var in (*UNIT_VARIABLES, *NON_NEGATIVE_VARIABLES):
        values = getattr(f, var)
        hi = 1.0 if var in UNIT_VARIABLES else np.inf
        bad = np.flatnonzero((values < 0.0) | (values > hi))
        if bad.size:
            raise ModelInvariantError(
                f"{step}: firm {who(int(bad[0]))}: {var} = {values[bad[0]]:.6g} outside [0, {hi}]"
            )
    for var, matrix in (("exposure", f.exposure), ("budget split", f.split)):
        bad_cells = np.argwhere(~np.isfinite(matrix) | (matrix < 0.0) | (matrix > 1.0))
        if bad_cells.size:
            row, col = (int(x) for x in bad_cells[0])
            raise ModelInvariantError(
                f"{step}: firm {who(row)}: {var}[{col}] = {matrix[row, col]:.6g} outside [0, 1]"
            )
    totals = f.split.sum(axis=1)
    bad = np.flatnonzero(np.abs(totals - 1.0) > 1e-9)
    if bad.size:
        raise ModelInvariantError(
            f"{step}: firm {who(int(bad[0]))}: budget split sums to {totals[bad[0]]:.9g}, not 1"
        )


def _check_actors(model: PolicyModel) -> None:
    """Check regulators, influence positions, cities and funds."""
    step = _step(model)
    for reg in model.regulators:
        if not 0.0 <= reg.stringency <= 1.0:  # also false for NaN
            raise ModelInvariantError(
                f"{step}: regulator {reg.name}: stringency = {reg.stringency} outside [0, 1]"
            )
    net = model.influence
    for var, values in (("position", net.position), ("anchor", net.anchor)):
        bad = np.argwhere(~np.isfinite(values) | (values < 0.0) | (values > 1.0))
        if bad.size:
            i, d = (int(x) for x in bad[0])
            raise ModelInvariantError(
                f"{step}: stakeholder {net.names[i]}: {var}[{d}] = {values[i, d]} outside [0, 1]"
            )
    for city in model.cities:
        if not city.budget_cny_bn >= -ABS_TOL:  # also true for NaN
            raise ModelInvariantError(
                f"{step}: city {city.name}: budget_cny_bn = {city.budget_cny_bn} < 0"
            )
    for fund in model.funds:
        if not fund.capital_cny_bn >= -ABS_TOL:
            raise ModelInvariantError(
                f"{step}: fund {fund.name}: capital_cny_bn = {fund.capital_cny_bn} < 0"
            )
    for name in ("treasury_cny_bn", "signal", "uncertainty"):
        value = getattr(model, name)
        if not math.isfinite(value):
            raise ModelInvariantError(f"{step}: model: {name} is {value} (must be finite)")


def check_money(model: PolicyModel, before: MoneyBalances) -> None:
    """Check that the month's transfers moved money between accounts without loss or gain.

    * A fine moves its amount from a firm's cash to the treasury: the treasury grows by the
      month's fines.
    * A subsidy leaves a city's budget and arrives in a firm's cash: each city's budget changes
      by its refill less the subsidies it paid.
    * A fund's deployment leaves its undeployed capital: each fund's capital changes by new
      capital less what it deployed, and it pays firms no more than it deployed.
    * Firms' cash changes by operating cash flow (revenue less costs: the economy's growth, a
      declared inflow), subsidies and fund payments, less fines and chip imports (a declared
      outflow). Domestic chip purchases move cash from buyers to chip makers and leave the total
      unchanged.

    Args:
        model: The model after a step.
        before: The accounts at the start of the step (see :func:`money_balances`).

    Raises:
        ModelInvariantError: Naming the account (treasury, city, fund or firms), the variable
            and the step, with the expected and the actual change.
    """
    step = _step(model)
    flows = model.flows
    fines = flows["fines_value_cny_bn"]
    change = model.treasury_cny_bn - before.treasury
    if not _same(change, fines):
        raise ModelInvariantError(
            f"{step}: treasury: treasury_cny_bn grew by {change:.9g} but fines total {fines:.9g}"
        )
    subsidies = 0.0
    for city in model.cities:
        budget, refilled, paid = before.cities[city.name]
        paid_now = city.subsidies_cny_bn - paid
        expected = (city.refilled_cny_bn - refilled) - paid_now
        subsidies += paid_now
        if not _same(city.budget_cny_bn - budget, expected):
            raise ModelInvariantError(
                f"{step}: city {city.name}: budget_cny_bn changed by "
                f"{city.budget_cny_bn - budget:.9g}, but refill less subsidies is {expected:.9g}"
            )
    if not _same(subsidies, flows["subsidies_cny_bn"]):
        raise ModelInvariantError(
            f"{step}: cities: subsidies paid total {subsidies:.9g} but deals booked "
            f"{flows['subsidies_cny_bn']:.9g}"
        )
    paid_to_firms = 0.0
    for fund in model.funds:
        capital, added, deployed, paid = before.funds[fund.name]
        deployed_now = fund.deployed_cny_bn - deployed
        expected = (fund.added_cny_bn - added) - deployed_now
        paid_now = fund.paid_to_firms_cny_bn - paid
        paid_to_firms += paid_now
        if not _same(fund.capital_cny_bn - capital, expected):
            raise ModelInvariantError(
                f"{step}: fund {fund.name}: capital_cny_bn changed by "
                f"{fund.capital_cny_bn - capital:.9g}, but new capital less deployments is "
                f"{expected:.9g}"
            )
        if paid_now > deployed_now + ABS_TOL + REL_TOL * abs(deployed_now):
            raise ModelInvariantError(
                f"{step}: fund {fund.name}: paid {paid_now:.9g} into firms' cash but deployed "
                f"only {deployed_now:.9g}"
            )
    expected_cash = (
        flows["operating_cash_cny_bn"] + subsidies + paid_to_firms - fines
        - flows["chip_imports_cny_bn"]
    )  # fmt: skip
    cash_change = float(model.firms.cash.sum()) - before.firm_cash
    scale = max(abs(before.firm_cash), 1.0)
    if not math.isclose(cash_change, expected_cash, rel_tol=REL_TOL, abs_tol=1e-12 * scale):
        raise ModelInvariantError(
            f"{step}: firms: cash changed by {cash_change:.9g} in total, but operating cash flow, "
            f"subsidies and fund payments less fines and chip imports add up to "
            f"{expected_cash:.9g}"
        )
