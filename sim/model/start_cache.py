"""The solved start of a scenario, kept for the next run of the same scenario in this process.

Solving the start (:func:`sim.model.initial_state.solve_rest`) is a fixed-point iteration that
costs more than a dozen months of a small scenario. Its inputs are the model's state before it:
the scenario and the firms drawn from the seed. Without synthetic firms nothing before the solve is
drawn from the seed, so every run of a scenario solves the same start; :func:`solve_once` solves
it for the first run and, for the next runs of the same (frozen) scenario object, writes what the
solve wrote, after checking that the state it starts from is the one the first run started from,
bit for bit. Nothing mutable is shared between runs: every array is copied in.

What the solve may read or write is every number and array held by the firms, the influence
network, the chip market, the uncertainty state, the cities' table, the regulators and the cities,
and the model's own policy, pressure and uncertainty (:func:`_holders`). An array the solve
changes in place is written back in place (so arrays that share memory go on sharing it); an
array it replaces is replaced by a copy of the solved one.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from sim.model.agents.firms import FirmPopulation
from sim.model.buffers import KeptArrays

if TYPE_CHECKING:
    from sim.model.policy_model import PolicyModel
    from sim.scenario.schema import Scenario

__all__ = ["clear", "firms", "per_scenario", "solve_once"]

T = TypeVar("T")

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
#: The kinds of value the solve may read or write (a float64 is a float before a NumPy scalar).
KINDS = (np.ndarray, bool, int, float, np.generic)
ARRAY, FLOAT, SCALAR = 0, 3, 4

#: One holder's state: attribute name -> value (arrays copied), for numbers and arrays only.
State = dict[str, Any]


@dataclass(frozen=True)
class _Solved:
    """A scenario's state before the solve (its :class:`Snapshot`) and what the solve changed."""

    scenario: Scenario
    before: Snapshot
    #: Per holder: attribute -> (replaced, value); ``replaced`` when the solve bound a new array.
    changes: list[dict[str, tuple[bool, Any]]]


_solved: dict[int, _Solved] = {}
#: What :func:`per_scenario` built: (scenario's id, builder) -> (scenario, value).
_built: dict[tuple[int, Callable[[Any], Any]], tuple[Scenario, Any]] = {}
#: Guards :data:`_solved` and :data:`_built` (models may be built in several threads).
_lock = threading.Lock()


def clear() -> None:
    """Forget every kept start and everything built per scenario."""
    with _lock:
        _solved.clear()
        _built.clear()


def per_scenario(scenario: Scenario, build: Callable[[Scenario], T]) -> T:
    """Return ``build(scenario)``, built once for this (frozen) scenario object and then kept.

    For what a model builds from its scenario alone, the same for every run of it (the
    compiled timeline, the start month, ...). The value is shared by every model of the
    scenario: none may change it. ``build`` must be one function for every call (a module's
    function, not a lambda made anew), as it is part of the key.

    Args:
        scenario: The scenario.
        build: What builds the value from the scenario.
    """
    key = (id(scenario), build)
    kept = _built.get(key)
    if kept is not None and kept[0] is scenario:
        value: T = kept[1]
        return value
    value = build(scenario)
    with _lock:
        if len(_built) >= MAX_SCENARIOS * 8:
            del _built[next(iter(_built))]
        _built[key] = (scenario, value)
    return value


def firms(scenario: Scenario, rng: np.random.Generator) -> FirmPopulation:
    """Return the firm population a new model of ``scenario`` starts with.

    Synthetic firms are drawn from ``rng``. Named firms alone draw nothing (their draws are of
    size 0), so every run of such a scenario builds the same firms: they are built once
    (:func:`per_scenario`) and each model gets a copy that shares no array with them.

    Args:
        scenario: The scenario.
        rng: The model's generator.
    """
    if not scenario.n_synthetic_firms:
        copied = _fresh_copy(per_scenario(scenario, _named_firms))
        if copied is not None:
            return copied
    return _build_firms(scenario, rng)


def _build_firms(scenario: Scenario, rng: np.random.Generator) -> FirmPopulation:
    return FirmPopulation(specs=scenario.firms, city_names=list(scenario.cities),
                          n_synthetic=scenario.n_synthetic_firms,
                          synthetic=scenario.params.synthetic, rng=rng)  # fmt: skip


def _named_firms(scenario: Scenario) -> FirmPopulation:
    """Build the firms of a scenario without synthetic firms (a generator of its own: no draw)."""
    return _build_firms(scenario, np.random.default_rng(0))


#: Values a copy may share with its original: they cannot be changed.
_IMMUTABLE = frozenset({int, float, bool, str, type(None), np.float64, np.int64, np.bool_})


def _fresh_copy(original: FirmPopulation) -> FirmPopulation | None:
    """Return a copy of ``original`` that shares nothing that can change with it.

    Arrays that own their memory are copied (in their own memory order), lists of names are
    copied, the kept temporaries start empty (as a deep copy of them does), numbers and names
    are shared. Returns ``None`` when ``original`` holds anything else (an array that is a view
    of another, ...): the caller builds the population instead.
    """
    values: dict[str, Any] = {}
    for name, value in vars(original).items():
        cls = type(value)
        if cls is np.ndarray and value.base is None:
            values[name] = value.copy(order="K")
        elif cls in _IMMUTABLE:
            values[name] = value
        elif cls is list and all(type(item) is str for item in value):
            values[name] = list(value)
        elif cls is KeptArrays:
            values[name] = KeptArrays()
        else:
            return None
    copied = object.__new__(FirmPopulation)
    vars(copied).update(values)
    return copied


def _holders(model: PolicyModel) -> list[Any]:
    """Return the objects whose numbers and arrays the solve may read or write."""
    return [model.firms, model.influence, model.chips, model._uncertainty, model.city_table,
            *model.regulators, *model.cities]  # fmt: skip


def _items(model: PolicyModel) -> list[Iterable[tuple[str, Any]]]:
    """Return the model's own fields and each holder's attributes, as (name, value) pairs."""
    own = ((name, getattr(model, name)) for name in MODEL_FIELDS)
    return [own, *(vars(holder).items() for holder in _holders(model))]


def _states(model: PolicyModel) -> list[State]:
    """Return the numbers and arrays of the model and of each holder (arrays as they are)."""
    return [{k: v for k, v in items if isinstance(v, KINDS)} for items in _items(model)]


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


#: Which of :data:`KINDS` each type seen is (an index into it), or -1 for none of them.
_kind_of: dict[type, int] = {}


def _kind(cls: type) -> int:
    """Return which of :data:`KINDS` instances of ``cls`` are (-1: none), found once a type."""
    kind = _kind_of.get(cls)
    if kind is None:
        kind = _kind_of[cls] = next((i for i, k in enumerate(KINDS) if issubclass(cls, k)), -1)
    return kind


def _dicts(model: PolicyModel) -> list[dict[str, Any]]:
    """Return the model's own fields and each holder's attributes, as dictionaries, in order."""
    own = {name: getattr(model, name) for name in MODEL_FIELDS}
    return [own, *(vars(holder) for holder in _holders(model))]


def _getter(names: tuple[str, ...]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """Return what reads ``names`` of a dictionary as a tuple (for any count of names)."""
    if len(names) > 1:
        return itemgetter(*names)
    if names:
        one = itemgetter(names[0])
        return lambda values: (one(values),)
    return lambda values: ()


_tobytes = np.ndarray.tobytes
_shape = attrgetter("shape")
_dtype = attrgetter("dtype")


@dataclass(frozen=True)
class _Layout:
    """One holder's attributes: their names and types, and their numbers and arrays by kind."""

    names: tuple[str, ...]
    types: tuple[type, ...]
    arrays: Callable[[dict[str, Any]], tuple[Any, ...]]
    floats: Callable[[dict[str, Any]], tuple[Any, ...]]
    pack: Callable[..., bytes]
    scalars: Callable[[dict[str, Any]], tuple[Any, ...]]
    ints: Callable[[dict[str, Any]], tuple[Any, ...]]

    @classmethod
    def of(cls, values: dict[str, Any]) -> _Layout:
        """Return the layout of a holder's ``values``."""
        by_kind: dict[int, list[str]] = {ARRAY: [], FLOAT: [], SCALAR: [], -2: []}
        for name, value in values.items():
            kind = _kind(type(value))
            if kind >= 0:
                by_kind[kind if kind in (ARRAY, FLOAT, SCALAR) else -2].append(name)
        floats = tuple(by_kind[FLOAT])
        return cls(
            tuple(values), tuple(map(type, values.values())), _getter(tuple(by_kind[ARRAY])),
            _getter(floats), struct.Struct(f"<{len(floats)}d").pack,
            _getter(tuple(by_kind[SCALAR])), _getter(tuple(by_kind[-2])),
        )  # fmt: skip

    def read(self, values: dict[str, Any]) -> tuple[Any, ...] | None:
        """Return the numbers and arrays of ``values`` as one value, None when laid out otherwise.

        Two holders of this layout give equal values exactly when every number and array is the
        same bit for bit (arrays: shape, dtype and bytes; floats: their 64 bits; other NumPy
        scalars: their bytes; ints and bools: their value and type).
        """
        if tuple(values) != self.names or tuple(map(type, values.values())) != self.types:
            return None
        arrays = self.arrays(values)
        return (
            tuple(map(_shape, arrays)), tuple(map(_dtype, arrays)), tuple(map(_tobytes, arrays)),
            self.pack(*self.floats(values)),
            tuple(scalar.tobytes() for scalar in self.scalars(values)), self.ints(values),
        )  # fmt: skip


@dataclass(frozen=True)
class Snapshot:
    """The numbers and arrays of a model before the solve (:func:`_dicts`), to compare in one go.

    A model matches a snapshot when the model's own fields and every holder have the same
    attributes, of the same types, in the same order, and every number and array (those of
    :data:`KINDS`) is the same bit for bit.
    """

    layouts: tuple[_Layout, ...]
    values: tuple[tuple[Any, ...] | None, ...]

    @classmethod
    def of(cls, dicts: list[dict[str, Any]]) -> Snapshot:
        """Return the snapshot of :func:`_dicts` of a model."""
        layouts = tuple(map(_Layout.of, dicts))
        return cls(layouts, tuple(layout.read(d) for layout, d in zip(layouts, dicts, strict=True)))

    def matches(self, dicts: list[dict[str, Any]]) -> bool:
        """Tell whether :func:`_dicts` of a model is this snapshot, bit for bit."""
        if len(dicts) != len(self.layouts):
            return False
        for layout, values, kept in zip(self.layouts, dicts, self.values, strict=True):
            if layout.read(values) != kept:
                return False
        return True


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
    with _lock:
        kept = _solved.get(id(scenario))
    if kept is not None and kept.scenario is scenario and kept.before.matches(_dicts(model)):
        _write(model, kept.changes)
        return
    snapshot = Snapshot.of(_dicts(model))
    now = _states(model)
    before = [_copy(s) for s in now]
    solve(model)
    after = _states(model)
    changes = [_changes(*states) for states in zip(now, before, after, strict=True)]
    with _lock:
        if len(_solved) >= MAX_SCENARIOS:
            del _solved[next(iter(_solved))]
        _solved[id(scenario)] = _Solved(scenario, snapshot, changes)


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
