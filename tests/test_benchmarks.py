"""The benchmarks' instruments still fit the model and time what they say (nothing here is timed).

The phase profile of ``benchmarks/bench_run.py`` wraps model methods by name; when a method is
renamed, its phase would silently go missing from the profile. The step comparison of
``benchmarks/common.py`` is checked on a clock the test moves itself.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

from benchmarks import bench_population, common, markdown
from benchmarks.__main__ import measure_parts
from benchmarks.bench_run import MONTH_PHASES, PHASES, PhaseProfiler, _one_run
from sim.model.observation import RunRecords
from sim.model.policy_model import PolicyModel
from sim.results import run_files
from tests.helpers import short


def test_phase_profiler_wraps_every_phase_and_restores_the_model(tmp_path: Path) -> None:
    classes = {"sim.model.policy_model:PolicyModel": PolicyModel,
               "sim.model.observation:RunRecords": RunRecords}
    before = {(where, attr): vars(classes[where])[attr] for _, where, attr in PHASES
              if where in classes}  # fmt: skip
    writer = {name: vars(run_files)[name] for name in ("write_parquet", "write_json", "provenance")}
    profiler = PhaseProfiler()
    with profiler.installed():
        _one_run(short("history_2020_2025", months=3), 0, tmp_path / "run")
    assert profiler.missing == []
    assert set(profiler.seconds) >= MONTH_PHASES
    # Every phase books time, the output's parts included (wrapped where write_run calls them).
    assert set(profiler.seconds) == {phase for phase, _, _ in PHASES}
    assert sum(profiler.seconds.values()) > 0.0
    assert {(w, a): vars(classes[w])[a] for w, a in before} == before
    assert {name: vars(run_files)[name] for name in writer} == writer


def test_compare_steps_sizes_blocks_on_warm_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    # A step whose first steps pay one-time costs (as loading compiled code does) still gets
    # blocks of many steps, so that its timed steps do not each follow another's block cold; a
    # slow step is not timed for long before the rounds.
    now = [0.0]
    calls = dict.fromkeys(("slow_start", "even", "slow"), 0)

    def advance(name: str, *times: float) -> None:
        now[0] += times[min(calls[name], len(times) - 1)]
        calls[name] += 1

    monkeypatch.setattr(common.time, "process_time", lambda: now[0])
    # Times in powers of two (and 3/8), so that the clock's sums and differences are exact.
    steps = {"slow_start": lambda: advance("slow_start", 1.0, 2.0**-2, 2.0**-9),
             "even": lambda: advance("even", 2.0**-7),
             "slow": lambda: advance("slow", 0.375)}  # fmt: skip
    rounds, calibration = 3, common.CALIBRATION_STEPS
    out = common.compare_steps(steps, 10, rounds=rounds, block_seconds=2.0**-4)
    assert {name: r.steps_per_block for name, r in out.items()} == {
        "slow_start": 32, "even": 8, "slow": 1}  # fmt: skip
    assert out["slow_start"].seconds_per_step == 2.0**-9
    assert out["slow_start"].agent_steps_per_s == 10 * 2.0**9
    # The warm-up step, the timed steps that size a block (two for "slow": 0.75 s >= 0.5 s).
    assert calls == {"slow_start": 1 + calibration + rounds * 32,
                     "even": 1 + calibration + rounds * 8, "slow": 1 + 2 + rounds}  # fmt: skip


def test_benchmark_parts_run_with_no_other_thread() -> None:
    # A thread (a spinner's) would count in the CPU time measured and make the batches start
    # their workers from a server instead of forking them.
    seen: dict[str, int] = {}

    def part(name: str) -> Callable[[], str]:
        def measure() -> str:
            seen[name] = threading.active_count()
            return name
        return measure

    console = Console(file=io.StringIO())
    parts = [("batch", part("batch")), ("goals", part("goals")), ("run", part("run"))]
    before = threading.active_count()  # other tests in this process may have left threads
    out = measure_parts(parts, ["goals"], console)
    assert out == {"batch": "batch", "run": "run"}
    assert seen == {"batch": before, "run": before}
    assert "measuring batch ..." in console.file.getvalue()


def test_a_child_as_user_runs_without_the_blas_variables_the_benchmarks_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Goal 3's batches run as a user's do: a fault of forked workers' BLAS threads shows there.
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    monkeypatch.setattr(common, "ADDED_BLAS", {"OPENBLAS_NUM_THREADS"})
    code = "import json, os; print(json.dumps({'v': os.environ.get('OPENBLAS_NUM_THREADS')}))"
    assert common.run_child(code)["v"] == "1"
    assert common.run_child(code, as_user=True)["v"] is None


def test_the_benchmarks_set_the_blas_variables_workers_set() -> None:
    from sim.experiments.pool_start import BLAS_VARIABLES

    assert common.BLAS_VARIABLES == BLAS_VARIABLES


def test_the_machine_description_names_numpys_simd_targets() -> None:
    # Goal 2a's ratio moves with the CPU's vector extensions: the report says which NumPy uses.
    umath = pytest.importorskip("numpy._core._multiarray_umath")  # NumPy 2's runtime description
    described = common.machine()
    simd = described["numpy_simd"]
    found, _, lacking = simd.partition("; not ")
    has = umath.__cpu_features__
    assert found == "baseline only" or all(has[t] for t in found.split(", "))
    assert not lacking or not any(has[t] for t in lacking.split(", "))
    line = markdown.machine(described)
    assert line.startswith(f"Machine: {described['cpu']}") and simd in line


def test_the_transcendentals_are_timed_and_shown_beside_goal_2a() -> None:
    out = bench_population.transcendentals(1000, rounds=1, block_seconds=0.001)
    assert out["elements"] == 1000
    assert all(out[k] > 0.0 for k in ("power_us", "exp_us", "expm1_us"))
    assert out["total_us"] == out["power_us"] + out["exp_us"] + out["expm1_us"]
    row = {"firms": 10_000, "model_ratio_vs_boltzmann": 62.0}
    data = {"population": {"rows": [row], "transcendentals": {"share_of_model_month": 0.4}}}
    (goal,) = markdown.goal_rows(data)
    assert goal[1] == "62x (NumPy's power, exp, expm1: 40% of the month)" and goal[3] == "no"
