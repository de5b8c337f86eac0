"""Model invariants, checked every month in debug mode (``sim run --check``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.errors import ModelInvariantError

if TYPE_CHECKING:
    from sim.model import PolicyModel

UNIT_VARIABLES = ("compliance", "alignment")
FINITE_VARIABLES = (
    "revenue", "cash", "market_value", "premium", "compute_foreign", "compute_domestic",
    "ai_capability", "strikes", "sanction_memory",
)  # fmt: skip


def check_invariants(model: PolicyModel) -> None:
    """Raise :class:`ModelInvariantError` naming agent, variable and step on the first violation.

    Checked: shares in [0, 1]; no NaN or infinite state; revenue, compute and market value
    non-negative; regulators' stringency and the influence positions in [0, 1].

    Args:
        model: The model after a step.

    Raises:
        ModelInvariantError: On a violation.
    """
    f = model.firms
    step = model.month
    names = f.names

    def who(row: int) -> str:
        return names[row] if row < f.n_named else f"synthetic firm {row - f.n_named}"

    for var in FINITE_VARIABLES:
        values = getattr(f, var)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise ModelInvariantError(
                f"step {step}: firm {who(int(bad[0]))}: {var} is {values[bad[0]]} (must be finite)"
            )
    for var in (*UNIT_VARIABLES, "revenue", "market_value", "compute_foreign", "compute_domestic"):
        values = getattr(f, var)
        hi = 1.0 if var in UNIT_VARIABLES else np.inf
        bad = np.flatnonzero((values < 0.0) | (values > hi))
        if bad.size:
            raise ModelInvariantError(
                f"step {step}: firm {who(int(bad[0]))}: {var} = {values[bad[0]]:.6g} "
                f"outside [0, {hi}]"
            )
    for reg in model.regulators:
        if not 0.0 <= reg.stringency <= 1.0 or not np.isfinite(reg.stringency):
            raise ModelInvariantError(
                f"step {step}: regulator {reg.name}: stringency = {reg.stringency} outside [0, 1]"
            )
    pos = model.influence.position
    bad_pos = np.argwhere(~np.isfinite(pos) | (pos < 0.0) | (pos > 1.0))
    if bad_pos.size:
        i, d = (int(x) for x in bad_pos[0])
        raise ModelInvariantError(
            f"step {step}: stakeholder {model.influence.names[i]}: position[{d}] = {pos[i, d]} "
            "outside [0, 1]"
        )
    for fund in model.funds:
        if fund.capital_cny_bn < -1e-9:
            raise ModelInvariantError(
                f"step {step}: fund {fund.name}: capital_cny_bn = {fund.capital_cny_bn} < 0"
            )
