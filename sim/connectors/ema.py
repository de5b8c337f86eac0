"""EMA Workbench connector: a scenario as an ``ema_workbench`` model for exploratory modelling.

:func:`ema_model` returns an ``ema_workbench.ReplicatorModel`` whose uncertainties are scenario
fields named by their dotted paths, with the ranges the schema validates in that scenario
(:func:`sim.scenario.limits.field_range`) unless given, and whose outcomes are run-level
summary metrics. Each experiment runs every replication with its own seed; the seeds are
spawned from one master seed with ``numpy.random.SeedSequence`` exactly as ``sim batch`` spawns
them (replicate ``k`` of ``sim batch --seed S`` uses the seed of replication ``k``), and each
replication returns its seed as the ``seed`` outcome, so every number can be rerun with
``run_scenario``.

Needs the optional extra: ``pip install 'policysim[ema]'``.

Example:
    >>> from ema_workbench import perform_experiments
    >>> model = ema_model("crackdown", ["regulators.SAMR.fine_rate"],
    ...                   ["total_fines_value_usd"], replications=2, months=6)
    >>> model.uncertainties["regulators.SAMR.fine_rate"].upper_bound
    0.1
    >>> experiments, outcomes = perform_experiments(model, 3)  # doctest: +SKIP
    >>> outcomes["total_fines_value_usd"].shape  # doctest: +SKIP
    (3, 2)
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from sim.errors import ScenarioError
from sim.experiments.seeds import spawn_seeds
from sim.model import numeric_outcomes, run_scenario
from sim.scenario import Scenario, load_scenario, with_overrides
from sim.scenario.limits import field_range, field_type

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="ipyparallel not installed")
    try:
        import ema_workbench as ema
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise ImportError(
            "sim.connectors.ema needs ema_workbench: pip install 'policysim[ema]'"
        ) from exc

__all__ = ["SEED", "ScenarioFunction", "ema_model"]

#: Name of the replication input and of the outcome that records each replication's seed.
SEED = "seed"

#: An uncertainty's range: ``(low, high)`` for a number, the allowed values otherwise.
Range = tuple[float, float] | Sequence[Any]


class ScenarioFunction:
    """The function the workbench calls: one run of the scenario for one experiment.

    A plain class (not a closure) so that the workbench's process pool can pickle it.

    Args:
        scenario: The scenario every experiment starts from.
        outcomes: Run-level summary metrics to return.
    """

    def __init__(self, scenario: Scenario, outcomes: Sequence[str]) -> None:
        self.scenario = scenario
        self.outcomes = list(outcomes)

    def __call__(self, **inputs: Any) -> dict[str, Any]:
        """Run the scenario with the experiment's values and the replication's seed.

        Args:
            **inputs: ``seed`` and a value for each uncertainty, keyed by its field path.

        Returns:
            Each outcome's value, and ``seed``.
        """
        seed = int(inputs.pop(SEED))
        scenario = with_overrides(self.scenario, inputs) if inputs else self.scenario
        summary = run_scenario(scenario, seed).summary
        return {**{name: float(summary[name]) for name in self.outcomes}, SEED: seed}


def _parameter(scenario: Scenario, path: str, given: Range | None) -> Any:
    """Build the workbench parameter of one uncertainty, checking its ends validate."""
    kind = field_type(scenario.model_dump(mode="json"), path)
    if kind is None:
        with_overrides(scenario, {path: 0})  # raises with the unknown name and the allowed ones
    if kind not in (int, float, bool, str) and get_origin(kind) is not Literal:
        raise ScenarioError("names a group of fields or a list, not one value", field=path)
    if kind in (int, float):
        lo, hi = given if given is not None else field_range(scenario, path)
        if lo is None or hi is None:
            raise ScenarioError(
                "the schema states no bound on this side; give its range: {path: (low, high)}",
                field=path,
            )
        if not lo < hi:
            raise ScenarioError(f"range must be (low, high) with low < high, given {(lo, hi)}",
                                field=path)  # fmt: skip
        values: list[Any] = [lo, hi]
        parameter: Any = (ema.IntegerParameter(path, int(lo), int(hi)) if kind is int
                          else ema.RealParameter(path, float(lo), float(hi)))  # fmt: skip
    elif kind is bool:
        values = list(given) if given is not None else [False, True]
        parameter = ema.BooleanParameter(path) if given is None else None
    elif get_origin(kind) is Literal or given is not None:
        values = list(given) if given is not None else list(get_args(kind))
        parameter = None
    else:
        raise ScenarioError("is a text field; give its values: {path: [...]}", field=path)
    for value in values:
        with_overrides(scenario, {path: value})  # a value the schema refuses stops here
    return parameter if parameter is not None else ema.CategoricalParameter(path, values)


def _model_name(scenario: Scenario) -> str:
    """The workbench's model name: the scenario's name, letters and digits only."""
    return re.sub(r"[^A-Za-z0-9]", "", scenario.name) or "policysim"


def ema_model(
    scenario: Scenario | str | Path,
    uncertainties: Sequence[str] | Mapping[str, Range | None],
    outcomes: Sequence[str],
    *,
    replications: int = 1,
    seed: int = 0,
    **overrides: Any,
) -> Any:
    """Return an ``ema_workbench.ReplicatorModel`` that runs ``scenario``.

    Args:
        scenario: A scenario name, YAML file or loaded scenario.
        uncertainties: Scenario field paths (``regulators.SAMR.fine_rate``) whose ranges come
            from the schema as it validates in this scenario (a regulator's ``fine_rate`` up
            to its ``legal_cap``), or a mapping of path to ``(low, high)`` (numbers) or to the
            values to draw from (other fields); ``None`` takes the schema's range.
        outcomes: Run-level numeric summary metrics (see :func:`sim.model.numeric_outcomes`).
        replications: Runs of each experiment, each with its own seed.
        seed: The master seed the replications' seeds are spawned from (as ``sim batch``).
        **overrides: Scenario fields fixed for every experiment, by dotted path
            (``months=24``).

    Returns:
        The workbench model. Each outcome comes back as an array with one row per experiment
        and one column per replication (average with ``outcomes[name].mean(axis=1)`` or
        ``ema_workbench.util.process_replications``). ``model.replications`` holds each
        replication's ``seed``; the ``seed`` outcome repeats them per experiment.

    Raises:
        ScenarioError: On an unknown scenario, path or outcome, or a range the schema refuses.
    """
    base = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    base = with_overrides(base, overrides) if overrides else base
    known = numeric_outcomes()
    unknown = [name for name in outcomes if name not in known]
    if unknown or not outcomes:
        given_text = f"unknown outcome {unknown[0]!r}" if unknown else "no outcome given"
        raise ScenarioError(f"{given_text}; allowed: {', '.join(known)}", field="outcomes")
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        raise ScenarioError(f"must be an integer >= 1, given {replications!r}",
                            field="replications")  # fmt: skip
    given: Mapping[str, Range | None] = (
        uncertainties if isinstance(uncertainties, Mapping) else dict.fromkeys(uncertainties)
    )
    model = ema.ReplicatorModel(_model_name(base), function=ScenarioFunction(base, outcomes))
    model.uncertainties = [_parameter(base, path, rng) for path, rng in given.items()]
    model.outcomes = [ema.ArrayOutcome(name) for name in [*outcomes, SEED]]
    model.replications = [{SEED: s} for s in spawn_seeds(seed, replications)]
    return model
