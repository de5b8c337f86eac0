"""The output files are tidy, typed, read alike by every Parquet reader, and documented.

Dates are timestamps and counts integers in every table; a sweep's time series carry its
parameters; pandas, ``pyarrow.dataset`` and DuckDB read the same rows; ``docs/outputs.md`` is
generated from files the current code writes.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds
import pytest
import yaml

from sim import load_results, run_sweep
from sim.model.metrics import METRICS
from tests.helpers import load_script

ROOT = Path(__file__).resolve().parents[2]
GENERATOR = ROOT / "docs" / "generate_outputs.py"
SWEEP = {
    "name": "tidy", "base": "crackdown", "set": ["months=14"],
    "parameters": {"fine_rate": {"path": "regulators.SAMR.fine_rate", "levels": [0.02, 0.06]},
                   "peak": {"path": "timeline.stance_peak.platform_stringency",
                            "levels": [0.7, 0.9]}},
    "design": {"kind": "grid"}, "replicates": 2, "outcomes": ["peak_to_trough_loss_usd"],
}  # fmt: skip
COUNTS = [m.name for m in METRICS if m.unit == "count"]


def test_docs_outputs_is_generated_from_the_current_code() -> None:
    generator = load_script(GENERATOR)
    text = generator.render()
    assert generator.UNDOCUMENTED not in text, [
        line for line in text.splitlines() if generator.UNDOCUMENTED in line][:3]  # fmt: skip
    assert (ROOT / "docs" / "outputs.md").read_text(encoding="utf-8") == text, (
        "docs/outputs.md is out of date: run `python docs/generate_outputs.py`")  # fmt: skip


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tidy")
    (root / "tidy.yaml").write_text(yaml.safe_dump(SWEEP), encoding="utf-8")
    return run_sweep(root / "tidy.yaml", seed=4, executor="serial", out=root / "sweep").folder


def test_dates_are_timestamps_and_counts_integers_everywhere(sweep: Path) -> None:
    res = load_results(sweep)
    for col in ("peak_date", "trough_date"):
        assert res.summary[col].dtype.kind == "M"
        assert set(res.summary[col]) <= set(res.timeseries["date"])  # the months of the series
    assert res.timeseries["date"].dtype.kind == "M"
    for name in COUNTS:
        assert res.timeseries[name].dtype.kind == "i", name
        key = next(k for k in res.summary.columns if k.endswith(name))
        assert res.summary[key].dtype.kind == "i", key


def test_sweep_time_series_carry_the_design_values(sweep: Path) -> None:
    res = load_results(sweep)
    assert res.design is not None
    joined = res.timeseries[["point_id"]].merge(res.design, on="point_id", how="left")
    for name in ("fine_rate", "peak"):
        pd.testing.assert_series_equal(res.timeseries[name], joined[name], check_names=False)
    assert res.timeseries.groupby("run_id")["fine_rate"].nunique().eq(1).all()


def test_pandas_pyarrow_dataset_and_duckdb_read_the_same_rows(sweep: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    keys = ["run_id", "date"]
    for name in ("timeseries", "stakeholders", "network"):
        by_pandas = pd.read_parquet(sweep / name)
        by_arrow = ds.dataset(sweep / name, format="parquet").to_table().to_pandas()
        with duckdb.connect() as con:
            by_duckdb = con.sql(f"SELECT * FROM read_parquet('{sweep / name}/*.parquet')").df()
        assert len(by_pandas) == len(by_arrow) == len(by_duckdb) > 0
        assert list(by_pandas.columns) == list(by_arrow.columns) == list(by_duckdb.columns)
        sort = keys + [c for c in ("stakeholder", "listener", "speaker") if c in by_pandas]
        a, b, c = (f.sort_values(sort).reset_index(drop=True)
                   for f in (by_pandas, by_arrow, by_duckdb))  # fmt: skip
        pd.testing.assert_frame_equal(a, b, check_dtype=False)
        for col in a.columns:  # DuckDB gives its own dtypes (e.g. object text); values agree
            assert a[col].astype(str).tolist() == c[col].astype(str).tolist(), (name, col)
    with duckdb.connect() as con:
        fines = con.sql(f"SELECT fine_rate, sum(fines_count) AS fines FROM read_parquet("
                        f"'{sweep / 'timeseries'}/*.parquet') GROUP BY fine_rate ORDER BY 1").df()
    summary = load_results(sweep).summary.groupby("fine_rate")["total_fines_count"].sum()
    assert fines["fines"].astype(int).tolist() == summary.astype(int).tolist()
