"""The model the dashboard steps: a :class:`~sim.model.PolicyModel` built from the page's controls.

Mesa's ``SolaraViz`` creates its model from keyword arguments (its ``model_params``) and recreates
it when the user presses Reset. :class:`DashboardModel` takes the scenario's name or path, a seed
and the controls' values keyed by their ``--set`` paths, and builds the scenario exactly as
``sim run`` does. An invalid value does not crash the page: the model keeps the message the CLI
would print in :attr:`DashboardModel.error` and refuses to step.

Nothing here imports Solara. The page's components read :attr:`DashboardModel.view`, a snapshot
taken after each step.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.dashboard.figures import Event, NetworkSnapshot
from sim.dashboard.params_ui import (
    build_scenario,
    cli_command,
    overrides_from_values,
    parse_seed,
)
from sim.errors import PolicysimError, ResultsError, ScenarioError
from sim.model.policy_model import PolicyModel
from sim.model.runner import run_scenario
from sim.results.run_files import write_run
from sim.results.store import ensure_writable_dir
from sim.scenario.loader import BASELINE
from sim.scenario.schema import Scenario

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class LiveView:
    """What the page shows of the model after a step, taken at once.

    Mesa's Play runs steps in a worker thread while the page may be drawn from another, so the
    components read this snapshot (replaced whole after each month) and never the model's
    changing arrays.

    Attributes:
        months_done: Months simulated.
        date_text: The date line, e.g. ``2021-03 · month 15 of 72``.
        date: First day of the last simulated month (``None`` before the first step).
        timeseries: The run so far: ``date`` and every metric.
        firms: The firms table (see :func:`firms_table`).
        network: The influence network (see :func:`network_snapshot`).
    """

    months_done: int
    date_text: str
    date: pd.Timestamp | None
    timeseries: pd.DataFrame = field(repr=False)
    firms: pd.DataFrame = field(repr=False)
    network: NetworkSnapshot = field(repr=False)


class DashboardModel(PolicyModel):
    """A policy model built from the dashboard's controls, stepped one month at a time.

    Args:
        source: The scenario's name (``crackdown``) or YAML path.
        seed: The seed as typed in the page.
        show_baseline: Also run the baseline scenario with the same seed and overrides, to draw
            beside this run.
        **kwargs: Control values keyed by their ``--set`` paths
            (e.g. ``{"regulators.SAMR.fine_rate": 0.06}``); values equal to the scenario's own
            are not overrides.

    Attributes:
        source: The scenario's name or path.
        overrides: The ``--set`` overrides the controls amount to.
        seed: The seed used.
        error: The CLI's error message when a control's value is invalid, else ``None``; the
            model then holds the unchanged scenario and does not step.
        baseline: The baseline run's time series, or ``None``.
        months_done: Months simulated so far.
        view: What the page shows, taken after the last step.
    """

    def __init__(
        self, *, source: str, seed: object = 0, show_baseline: bool = False, **kwargs: Any
    ) -> None:
        base = build_scenario(source, [])
        overrides = overrides_from_values(base, kwargs)
        error = None
        scenario, seed_value = base, 0
        try:
            seed_value = parse_seed(seed)
            scenario = build_scenario(source, overrides)
        except ScenarioError as exc:
            error = f"error: {exc}"
            scenario = base
        super().__init__(scenario=scenario, rng=seed_value)
        self.source = source
        self.overrides = overrides
        self.seed = seed_value
        self.error = error
        self.months_done = 0
        self.baseline: pd.DataFrame | None = None
        if error is not None:
            self.running = False
        elif show_baseline and scenario.name != BASELINE:
            self.baseline = baseline_timeseries(overrides, seed_value)
        self.view = self._take_view()

    def step(self) -> None:
        """Simulate the next month; do nothing after the last month or when a value is invalid."""
        if self.error is not None or self.months_done >= self.scenario.months:
            self.steps -= 1  # Mesa counted a step that did not happen
            self.running = False
            return
        super().step()
        self.months_done += 1
        self.view = self._take_view()
        if self.months_done >= self.scenario.months:
            self.running = False

    def _take_view(self) -> LiveView:
        months = self.scenario.months
        if self.months_done == 0:
            text = f"{self.start:%Y-%m} · not started (0 of {months} months)"
        else:
            text = f"{self.date:%Y-%m} · month {self.months_done} of {months}"
        return LiveView(
            months_done=self.months_done,
            date_text=text,
            date=self.date if self.months_done else None,
            timeseries=self.timeseries(),
            firms=firms_table(self),
            network=network_snapshot(self),
        )

    def command(self, months_done: int | None = None) -> str:
        """Return the ``sim run`` command that reproduces this run to the month reached.

        Args:
            months_done: Months reached [default: the model's].

        Returns:
            The command line.
        """
        done = self.months_done if months_done is None else months_done
        extra = [] if done in (0, self.scenario.months) else [f"months={done}"]
        return cli_command(self.source, self.seed, [*self.overrides, *extra])


def baseline_timeseries(overrides: list[str], seed: int) -> pd.DataFrame | None:
    """Run the baseline scenario with the same overrides and seed.

    Args:
        overrides: The ``--set`` overrides of the run being explored.
        seed: Its seed.

    Returns:
        The baseline's time series, or ``None`` when the overrides do not apply to it.
    """
    try:
        scenario = build_scenario(BASELINE, overrides)
    except PolicysimError as exc:
        log.info("no baseline beside this run: %s", exc)
        return None
    return run_scenario(scenario, seed).timeseries


def marked_events(scenario: Scenario) -> list[Event]:
    """Return the timeline events marked for plots (``mark: true``), by date.

    Args:
        scenario: The scenario.

    Returns:
        The events, each with its label (or its timeline key when it has none).
    """
    events = [
        Event(pd.Period(e.date, freq="M").to_timestamp(), e.label or key)
        for key, e in scenario.timeline.items()
        if e.mark
    ]
    return sorted(events, key=lambda e: e.date)


def firms_table(model: PolicyModel) -> pd.DataFrame:
    """Return the named firms' state now, largest market value first.

    Args:
        model: The model.

    Returns:
        Columns ``firm``, ``listed``, ``value US$bn`` (market or private value), ``compliance %``,
        ``alignment %``, ``golden share`` and ``domestic chips %`` (the domestic share of its
        compute stock).
    """
    rows = []
    for agent in model.firm_agents:
        state = agent.state()
        rows.append({
            "firm": state["firm"],
            "listed": "yes" if state["listed"] else "no",
            "value US$bn": round(float(state["market_value_usd_bn"]), 1),
            "compliance %": round(100 * float(state["compliance"]), 1),
            "alignment %": round(100 * float(state["alignment"]), 1),
            "golden share": "yes" if state["golden_share"] else "no",
            "domestic chips %": round(100 * (1 - float(state["foreign_compute_share"])), 1),
        })  # fmt: skip
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    return frame.sort_values("value US$bn", ascending=False, ignore_index=True)


def network_snapshot(model: PolicyModel) -> NetworkSnapshot:
    """Return the stakeholders' influence network and positions now.

    Args:
        model: The model.

    Returns:
        The snapshot.
    """
    net = model.influence
    return NetworkSnapshot(
        names=tuple(net.names),
        kinds=tuple(net.kinds),
        clout=np.asarray(net.clout, dtype=float).copy(),
        position=np.asarray(net.position, dtype=float).copy(),
        weights=np.asarray(net.weights(), dtype=float),
        policy=np.asarray(model.policy, dtype=float).copy(),
    )


def default_folder(model: DashboardModel) -> Path:
    """Return where ``sim run`` would write this run: ``results/<scenario>/seed-<seed>``."""
    return Path("results") / model.scenario.name / f"seed-{model.seed}"


def save_run(model: DashboardModel, folder: Path | None = None) -> Path:
    """Write the run so far as ``sim run`` writes it (time series, firms, summary, manifest...).

    The run is redone through :func:`sim.model.runner.run_scenario` for the months reached, with the
    same scenario, overrides and seed: it gives the same numbers as the page, and the folder is
    the one ``sim run SOURCE --seed S --set ... --months N --firms`` writes.

    Args:
        model: The dashboard's model, stepped at least once.
        folder: Output folder [default: ``results/<scenario>/seed-<seed>``].

    Returns:
        The folder written.

    Raises:
        ResultsError: When nothing has been simulated yet, the values are invalid or the folder
            cannot be written.
    """
    if model.error is not None:
        raise ResultsError(f"nothing to save: {model.error.removeprefix('error: ')}")
    done = model.view.months_done
    if done == 0:
        raise ResultsError("nothing to save yet: step the model first")
    extra = [] if done == model.scenario.months else [f"months={done}"]
    scenario = build_scenario(model.source, [*model.overrides, *extra])
    out = folder if folder is not None else default_folder(model)
    ensure_writable_dir(out)
    result = run_scenario(scenario, model.seed, collect_firms=True)
    write_run(result, out)
    log.info("saved %d months of %s to %s", done, model.source, out)
    return out
