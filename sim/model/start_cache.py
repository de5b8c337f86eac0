"""The solved start of a scenario, kept for the next run of the same scenario in this process.

Solving the start (:func:`sim.model.initial_state.solve_rest`) is a fixed-point iteration that
costs more than a dozen months of a small scenario. Its inputs are the model's state before it:
the scenario and the firms drawn from the seed. Without synthetic firms nothing before the solve is
drawn from the seed, so every run of a scenario solves the same start; :func:`solve_once` solves
it for the first run and, for the next runs of the same (frozen) scenario object, writes what the
solve wrote, after checking that the state it starts from is the one the first run started from,
bit for bit. Nothing mutable is shared between runs: every array is copied in.

What the solve may read or write is every number and array held by the firms, the influence
network, the chip market, the uncertainty state, the regulators and the cities, and the model's
own policy, pressure and uncertainty (:func:`_holders`). An array the solve changes in place is
written back in place (so arrays that share memory go on sharing it); an array it replaces is
replaced by a copy of the solved one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sim.model.policy_model import PolicyModel
    from sim.scenario.schema import Scenario

__all__ = ["clear", "solve_once"]

#: Scenarios whose solved start is kept (the oldest is dropped first).
MAX_SCENARIOS = 8
#: The model's own attributes the solve reads or writes.
MODEL_FIELDS = (
    "policy",
    "_last_policy",
    "pressure",
    "uncertainty",
    "gdp_growth",
    "risk_appetite",
    "signal",
    "_max_named_revenue",
)
#: The kinds of value the solve may read or write.
KINDS = (np.ndarray, bool, int, float, np.generic)

#: One holder's state: attribute name -> value (arrays copied), for numbers and arrays only.
State = dict[str, Any]


@dataclass(frozen=True)
class _Solved:
    """A scenario's state before the solve and what the solve changed, per holder."""

    scenario: Scenario
    before: list[State]
    #: Per holder: attribute -> (replaced, value); ``replaced`` when the solve bound a new array.
    changes: list[dict[str, tuple[bool, Any]]]


_solved: dict[int, _Solved] = {}
#: Guards :data:`_solved` (models may be built in several threads).
_lock = threading.Lock()


def clear() -> None:
    """Forget every kept start."""
    with _lock:
        _solved.clear()


def _holders(model: PolicyModel) -> list[Any]:
    """Return the objects whose numbers and arrays the solve may read or write."""
    return [model.firms, model.influence, model.chips, model._uncertainty,
            *model.regulators, *model.cities]  # fmt: skip


def _state(holder: Any, names: tuple[str, ...] | None = None) -> State:
    """Return the numbers and arrays of ``holder`` (arrays as they are: not copied)."""
    items = vars(holder).items() if names is None else ((k, getattr(holder, k)) for k in names)
    return {k: v for k, v in items if isinstance(v, KINDS)}


def _states(model: PolicyModel) -> list[State]:
    return [_state(model, MODEL_FIELDS), *(_state(h) for h in _holders(model))]


def _same(a: Any, b: Any) -> bool:
    """Tell whether two numbers or arrays are the same, bit for bit."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.shape == b.shape
            and a.dtype == b.dtype
            and a.tobytes() == b.tobytes()
        )
    return type(a) is type(b) and np.asarray(a).tobytes() == np.asarray(b).tobytes()


def _copy(state: State) -> State:
    return {k: v.copy(order="K") if isinstance(v, np.ndarray) else v for k, v in state.items()}


def solve_once(model: PolicyModel, solve: Callable[[PolicyModel], None]) -> None:
    """Run ``solve(model)``, or write the start it solved for an earlier run of this scenario.

    Args:
        model: A model ready for the solve (see :func:`sim.model.initial_state.solve_rest`).
        solve: The solve.
    """
    scenario = model.scenario
    if scenario.n_synthetic_firms:  # synthetic firms are drawn from the seed
        solve(model)
        return
    now = _states(model)
    with _lock:
        kept = _solved.get(id(scenario))
    if (
        kept is not None
        and kept.scenario is scenario
        and len(kept.before) == len(now)
        and all(
            a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
            for a, b in zip(kept.before, now, strict=True)
        )
    ):
        _write(model, kept.changes)
        return
    before = [_copy(s) for s in now]
    solve(model)
    after = _states(model)
    changes = [_changes(*states) for states in zip(now, before, after, strict=True)]
    with _lock:
        if len(_solved) >= MAX_SCENARIOS:
            del _solved[next(iter(_solved))]
        _solved[id(scenario)] = _Solved(scenario, before, changes)


def _changes(was: State, old: State, new: State) -> dict[str, tuple[bool, Any]]:
    """Return what the solve changed in one holder: attribute -> (replaced, value copied).

    Args:
        was: The holder's numbers and arrays before the solve (the objects themselves).
        old: Their values before the solve (copies).
        new: The holder's numbers and arrays after the solve.
    """
    changes: dict[str, tuple[bool, Any]] = {}
    for name, value in new.items():
        if not isinstance(value, np.ndarray):
            if name not in old or not _same(value, old[name]):
                changes[name] = (True, value)
        else:
            replaced = was.get(name) is not value
            if replaced or not _same(value, old[name]):
                changes[name] = (replaced, value.copy(order="K"))
    return changes


def _write(model: PolicyModel, changes: list[dict[str, tuple[bool, Any]]]) -> None:
    """Write the solve's changes into ``model``'s holders (arrays copied)."""
    for holder, changed in zip([model, *_holders(model)], changes, strict=True):
        for name, (replaced, value) in changed.items():
            if not isinstance(value, np.ndarray):
                setattr(holder, name, value)
            elif replaced:
                setattr(holder, name, value.copy(order="K"))
            else:
                np.copyto(getattr(holder, name), value)
