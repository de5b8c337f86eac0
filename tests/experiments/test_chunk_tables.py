"""A chunk's rows joined a column at a time equal its runs' own tables one after the other."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sim.experiments import chunks
from sim.experiments.plan import RunSpec, plan_batch, plan_sweep
from sim.model.runner import run_scenario
from sim.results.folder import DATE_TYPE


def _results(specs: list[RunSpec]) -> list[tuple[RunSpec, object]]:
    return [(s, run_scenario(chunks.scenario_of(s), s.seed, detail=s.detail)) for s in specs]


def _one_by_one(results: list[tuple[RunSpec, object]]) -> pa.Table:
    return pa.concat_tables([chunks.run_tables(s, r)["timeseries"] for s, r in results],
                            promote_options="default")  # fmt: skip


@pytest.mark.parametrize("plan", [
    lambda: plan_batch(["history_2020_2025", "crackdown"], replicates=3, months=5),
    lambda: plan_sweep("behaviour_sobol", replicates=2, months=4),
], ids=["batch", "sweep"])  # fmt: skip
def test_joined_rows_are_the_runs_tables_one_after_the_other(plan: object) -> None:
    specs = list(plan().specs[:6])  # type: ignore[operator]
    results = _results(specs)
    joined = chunks.joined_table([r.columns for _, r in results],  # type: ignore[attr-defined]
                                 [{**s.ids(), **dict(s.params)} for s, _ in results])  # fmt: skip
    expected = _one_by_one(results)
    assert joined.schema.equals(expected.schema, check_metadata=True)
    assert joined.equals(expected) and joined.num_rows == sum(
        len(r.columns["date"]) for _, r in results)  # type: ignore[attr-defined]


def test_a_chunk_records_each_runs_rows_and_encodes_the_joined_table() -> None:
    specs = list(plan_batch(["crackdown"], replicates=3, months=4).specs)
    outcome = chunks.execute_chunk(specs)
    assert list(outcome.parts) == ["timeseries", "stakeholders", "network"]
    stored = pa.BufferReader(outcome.parts["timeseries"])
    assert pq.read_table(stored).equals(_one_by_one(_results(specs)))
    rows = [record["rows"] for record in outcome.records]
    assert [sorted(r) for r in rows] == [["network", "stakeholders", "timeseries"],
                                         ["timeseries"], ["timeseries"]]  # fmt: skip
    assert all(r["timeseries"] == 4 for r in rows)  # a row a month


def test_columns_of_other_kinds_or_types_are_joined_run_by_run() -> None:
    dates = pd.date_range("2021-01-01", periods=2, freq="MS")
    ids = [{"run_id": "a", "replicate": 0}, {"run_id": "b", "replicate": 1}]
    mixed = [  # an integer column in one run, a float column in the other; a text column
        {"date": dates, "x": np.array([1, 2]), "label": np.array(["p", "q"], dtype=object)},
        {"date": dates, "x": np.array([0.5, 1.5]), "label": np.array(["r", None], dtype=object)},
    ]
    with pytest.raises(pa.ArrowTypeError):  # what joining the runs' own tables does too
        chunks.joined_table(mixed, ids)
    text = [{"date": dates, "label": np.array(["p", "q"], dtype=object)},
            {"date": dates, "label": np.array(["r", None], dtype=object)}]
    joined = chunks.joined_table(text, ids)
    assert joined.column("label").to_pylist() == ["p", "q", "r", None]
    assert joined.column("run_id").to_pylist() == ["a", "a", "b", "b"]
    assert joined.schema.field("date").type == DATE_TYPE
