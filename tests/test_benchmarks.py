"""The benchmarks' instruments still fit the model (nothing here is timed).

The phase profile of ``benchmarks/bench_run.py`` wraps model methods by name; when a method is
renamed, its phase would silently go missing from the profile.
"""

from __future__ import annotations

from benchmarks.bench_run import MONTH_PHASES, PHASES, PhaseProfiler
from sim.model.observation import RunRecords
from sim.model.policy_model import PolicyModel
from sim.model.runner import run_scenario
from tests.helpers import short


def test_phase_profiler_wraps_every_phase_and_restores_the_model() -> None:
    classes = {"sim.model.policy_model:PolicyModel": PolicyModel,
               "sim.model.observation:RunRecords": RunRecords}
    before = {(where, attr): vars(classes[where])[attr] for _, where, attr in PHASES
              if where in classes}  # fmt: skip
    profiler = PhaseProfiler()
    with profiler.installed():
        run_scenario(short("history_2020_2025", months=3), seed=0)
    assert profiler.missing == []
    assert set(profiler.seconds) >= MONTH_PHASES
    assert sum(profiler.seconds.values()) > 0.0
    assert {(w, a): vars(classes[w])[a] for w, a in before} == before
