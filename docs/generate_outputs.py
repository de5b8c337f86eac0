"""Generate ``docs/outputs.md``: every file policysim writes, and every column with its type.

The types are not written by hand: the generator runs a two-month batch, a two-point sweep and a
single run into a temporary folder with the current code and reads the files back (Parquet
schemas, manifest keys). Descriptions come from the declared metrics (``sim/model/metrics.py``)
and from the tables below; a column or key without one renders as ``(undocumented)``, which
``tests/results/test_outputs_doc.py`` refuses, as it refuses a stale ``docs/outputs.md``.

Usage::

    python docs/generate_outputs.py           # rewrite docs/outputs.md
    python docs/generate_outputs.py --check   # exit 1 when docs/outputs.md is out of date
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from sim import run_batch, run_sweep
from sim.experiments.chunking import MAX_CHUNK, TARGET_S
from sim.model.metrics import METRICS_BY_NAME
from sim.model.runner import run_scenario
from sim.results.compact import ROW_GROUP
from sim.results.layout import (
    COMPACTED,
    COMPACTED_STEM,
    DATASETS,
    DESIGN,
    MANIFEST,
    PARTS,
    RUNS,
    SUMMARY,
)
from sim.results.run_files import write_run
from sim.results.store import write_atomic
from sim.scenario.loader import load_scenario

DOCS = Path(__file__).resolve().parent
TARGET = DOCS / "outputs.md"
UNDOCUMENTED = "(undocumented)"
PARAMETER = "fine_rate"
"""The swept parameter of the example sweep: stands for every swept parameter's column."""

COLUMNS = {
    "run_id": "The run's key: a hash of the scenario's hash, the seed and the policysim version.",
    "scenario": "Scenario name (in a sweep, the base scenario of every point).",
    "scenario_hash": "Hash of the scenario actually run (with the design point's overrides).",
    "point_id": "Sweeps: the design point, a row of `design.parquet`.",
    "replicate": "Replicate number k; replicate k of every scenario or point uses the same seed.",
    "seed": "The run's seed, spawned from the master seed (`numpy.random.SeedSequence`).",
    PARAMETER: "Sweeps: one column per swept parameter (named as in the sweep file), with the "
               "design point's value.",
    "status": "`ok`, or `failed` when the run raised.",
    "error": "The exception of a failed run (`Type: message`), else null.",
    "wall_s": "Seconds the run took (the only value that is not reproducible).",
    "date": "The month, as a timestamp of its first day.",
    "stakeholder": "The stakeholder's name in the influence game.",
    "kind": "The stakeholder's family (`center`, `regulator`, `city`, `fund`, `firm`, "
            "`investors`).",
    "clout": "The stakeholder's clout in the influence game.",
    "salience": "How much the stakeholder cares about the policy dimensions.",
    "platform_stringency": "Position on platform stringency (0-1).",
    "self_reliance": "Position on technological self-reliance (0-1).",
    "listener": "The stakeholder who is influenced.",
    "speaker": "The stakeholder who influences.",
    "weight": "The influence weight W of the speaker on the listener (each December and the "
              "last month; weights below 0.01 are left out).",
    "peak_market_value_usd": "Highest total market value of listed firms (USD).",
    "peak_date": "Month of that peak.",
    "trough_market_value_usd": "Lowest market value after the peak (USD).",
    "trough_date": "Month of that trough.",
    "peak_to_trough_loss_usd": "Peak minus trough market value (USD).",
    "max_drawdown": "Peak-to-trough loss as a share of the peak.",
    "recovery_from_trough": "Final market value over the trough, minus 1.",
    "centre_peak_date": "Month the largest fall of the centre's platform stringency "
                        "(`central_stance`) from a running peak starts.",
    "centre_turn_date": "First month after that peak at which the centre's platform stringency "
                        "is 0.05 below it (its turn); the last month when it never falls so far.",
}
MANIFEST_KEYS = {
    "kind": "`batch` or `sweep`.",
    "name": "The batch's or sweep's name (the folder is `results/<name>-<time>` by default).",
    "status": "`running`, `complete`, `failed` (some runs raised) or `interrupted`.",
    "started": "When the first attempt started (UTC).",
    "finished": "When the last attempt ended (UTC), null while running.",
    "spec_hash": "Fingerprint of the planned runs: a resumed batch must match it.",
    "counts": "`total`, `done` (recorded, ok or failed) and `failed` runs: those on disk.",
    "master_seed": "The master seed.",
    "replicates": "Runs per scenario or design point.",
    "replicate_seeds": "The seed of each replicate.",
    "scenarios": "The scenarios' names.",
    "scenario_descriptions": "Each scenario's description.",
    "scenario_hashes": "Each scenario's hash.",
    "design": "What was planned: the scenarios and overrides, or the sweep's file, parameters "
              "and design.",
    "executor": "Where the runs ran: `kind`, `workers`, how local workers started "
                "(`start_method`: `fork`, `forkserver` or `spawn`), and a Dask `scheduler`.",
    "metrics": "Every metric's name, unit, description and kind (stock or flow).",
    "versions": "Python's and the packages' versions.",
    "git_commit": "The source tree's git commit, when it is a checkout.",
    "platform": "The operating system.",
    "command": "The command line.",
    "created": "When this manifest was written (UTC).",
    "first_created": "Resumed batches: when the first attempt's manifest was written.",
    "resolved_scenarios": "Every scenario in full, as run: `sim rerun` rebuilds runs from it.",
    "checksums": "SHA-256 of every part, record and table (`sim verify` checks them).",
    "scenario": "Single runs: the scenario's name.",
    "scenario_hash": "Single runs: the scenario's hash.",
    "wall_s": "Single runs: seconds the run took.",
    "seed": "Single runs: the seed.",
    "months": "Single runs: months simulated.",
    "resolved_scenario": "Single runs: the scenario in full, as run.",
}

INTRO = f"""# Output files

<!-- generated by docs/generate_outputs.py from the code: do not edit by hand -->

Every table is Parquet, readable with pandas (`pd.read_parquet`), `pyarrow.dataset` and DuckDB
(`SELECT * FROM read_parquet('folder/timeseries/*.parquet')`). Dates are timestamps (the first
day of the month), counts are integers, other numbers are 64-bit floats. Every file is written
atomically (a temporary file renamed into place).

## A batch or sweep folder (`sim batch`, `sim sweep`, `run_batch`, `run_sweep`)

| file | what it holds |
| --- | --- |
| `{MANIFEST}` | What was run, with which seeds and versions, how far it got, checksums. |
| `{RUNS}` | One row per recorded run (ok or failed). |
| `{SUMMARY}` | One row per successful run: its ids, parameters and run-level outcomes. |
| `{DESIGN}` | Sweeps: the design matrix, one row per `point_id`. |
| `timeseries/` | The monthly metrics of every successful run with the run's ids (and, in \
a sweep, its parameter values, so no join is needed). |
| `stakeholders/` | Positions, for replicate 0 of each scenario or point (none after \
`sim sweep --no-detail`). |
| `network/` | Influence weights, for replicate 0 of each scenario or point (none after \
`sim sweep --no-detail`). |
| `{PARTS}/` | The run records: each run's row, outcomes and rows per dataset, and the \
checksums of the files that hold them. |
| `figures/` | Figures (`sim plot`, `sim discover`). |
| `report.html` | The report (`sim report`, `sim batch --report`). |
| `discovery.json` | Sweeps: the last `sim discover`'s boxes, CART leaves and feature scores. |

### How the files are laid out

A batch hands its runs to the workers in chunks of consecutive runs, each cut when it is handed \
out to hold about {TARGET_S} s of runs at the runs' measured pace (one run while no run has \
landed yet; at most {MAX_CHUNK} runs; with several workers, shorter as the batch nears its end). \
While it runs, each chunk that lands adds one file per \
dataset, `timeseries/<stem>.parquet` (and `stakeholders/`, `network/` when the chunk holds a \
replicate 0), then its record `{PARTS}/<stem>.json`, where `<stem>` is the index and `run_id` of \
the chunk's first run: a chunk counts as done once its record is written. When the batch ends \
(every run done, some possibly failed) each dataset is compacted into one file, \
`<dataset>/{COMPACTED_STEM}000.parquet` (row groups of {ROW_GROUP:,} rows), with the rows in \
canonical run order whatever order the chunks landed in, and the records into \
`{PARTS}/{COMPACTED}`. (A batch run in one go writes these files while its chunks land, to \
temporary files renamed into place at the end; a resumed batch compacts from the chunk files. \
The bytes are the same either way.) A finished folder therefore holds a fixed number of files \
however many runs it has:

```
manifest.json  runs.parquet  summary.parquet  [design.parquet]
timeseries/{COMPACTED_STEM}000.parquet  stakeholders/{COMPACTED_STEM}000.parquet  \
network/{COMPACTED_STEM}000.parquet
{PARTS}/{COMPACTED}
```

An interrupted batch keeps its chunk files (read them with `load_results`, which reads only the \
files a record names; pandas, `pyarrow.dataset` and DuckDB read every file of the folder, which \
may include one a killed batch left without a record). Run the same command to finish it: files \
no record names are removed, the missing runs run, and the folder is compacted. A folder that \
is compacted again (a failed batch resumed to rerun its failed runs) gets the next generation, \
`{COMPACTED_STEM}001.parquet`.

`load_results(folder)` reads it all; an unfinished batch is read from its records (`partial`).
"""


def _describe(name: str) -> str:
    """Return a column's description: the declared metrics, their summaries, or the table."""
    if name in COLUMNS:
        return COLUMNS[name]
    if name in METRICS_BY_NAME:
        metric = METRICS_BY_NAME[name]
        return f"{metric.description.rstrip('.')} ({metric.unit}, {metric.kind})."
    for prefix, words in (("total_", "summed over the months"), ("final_", "in the last month")):
        metric = METRICS_BY_NAME.get(name.removeprefix(prefix))
        if name.startswith(prefix) and metric is not None:
            return f"{metric.description.rstrip('.')}, {words} ({metric.unit})."
    return UNDOCUMENTED


def _type(field: pa.Field) -> str:
    """Return a column's type in plain words."""
    kind = field.type
    if pa.types.is_timestamp(kind):
        return "timestamp"
    if pa.types.is_integer(kind):
        return "integer"
    if pa.types.is_floating(kind):
        return "float"
    if pa.types.is_boolean(kind):
        return "boolean"
    return "text" if pa.types.is_string(kind) or pa.types.is_large_string(kind) else str(kind)


def _table(title: str, path: Path) -> str:
    """Return a Markdown section listing a Parquet file's columns."""
    schema = pq.read_schema(path)
    rows = [f"| `{f.name}` | {_type(f)} | {_describe(f.name)} |" for f in schema
            if f.name != "__index_level_0__"]  # fmt: skip
    return f"### {title}\n\n| column | type | meaning |\n| --- | --- | --- |\n" + "\n".join(rows)


def _keys(title: str, manifest: dict[str, object]) -> str:
    """Return a Markdown section listing a manifest's keys."""
    rows = [f"| `{k}` | {MANIFEST_KEYS.get(k, UNDOCUMENTED)} |" for k in manifest]
    return f"### {title}\n\n| key | meaning |\n| --- | --- |\n" + "\n".join(rows)


def examples(root: Path) -> tuple[Path, Path, Path]:
    """Write a two-month batch, a two-point sweep and a single run under ``root``."""
    batch = run_batch(["baseline"], replicates=1, months=2, executor="serial", out=root / "b")
    sweep_file = root / "doc.yaml"
    sweep_file.write_text(yaml.safe_dump({
        "name": "doc", "base": "baseline", "set": ["months=2"],
        "parameters": {PARAMETER: {"path": "regulators.SAMR.fine_rate", "levels": [0.02, 0.04]}},
        "design": {"kind": "grid"}, "replicates": 1, "outcomes": ["final_market_value_usd"],
    }), encoding="utf-8")  # fmt: skip
    sweep = run_sweep(sweep_file, executor="serial", out=root / "s")
    single = write_run(run_scenario(load_scenario("baseline", ["months=2"]), 0), root / "r")
    return batch.folder, sweep.folder, single


def render() -> str:
    """Return the text of ``docs/outputs.md``, from files written by the current code."""
    with tempfile.TemporaryDirectory() as tmp:
        batch, sweep, single = examples(Path(tmp))
        sections = [INTRO]
        sections.append(_keys(f"`{MANIFEST}`", json.loads((sweep / MANIFEST).read_text())
                              | json.loads((batch / MANIFEST).read_text())))  # fmt: skip
        sections.append(_table(f"`{RUNS}` (a sweep's)", sweep / RUNS))
        sections.append(_table(f"`{SUMMARY}` (a sweep's)", sweep / SUMMARY))
        sections.append(_table(f"`{DESIGN}`", sweep / DESIGN))
        for name in DATASETS:
            part = sorted((sweep / name).glob("*.parquet"))[0]
            sections.append(_table(f"`{name}/*.parquet` (a sweep's)", part))
        sections.append("## A single run's folder (`sim run`, `write_run`)\n\n"
                        "`summary.json` holds the run-level outcomes of `summary.parquet` "
                        "(dates as ISO text, `2021-02-01`); "
                        "`manifest.json` is written last (a folder without one is incomplete).")
        sections.append(_keys("`manifest.json` of a single run", json.loads(
            (single / "manifest.json").read_text())))  # fmt: skip
        for name in ("timeseries", "stakeholders", "network"):
            sections.append(_table(f"`{name}.parquet`", single / f"{name}.parquet"))
    return "\n\n".join(sections) + "\n"


def main() -> int:
    """Rewrite ``docs/outputs.md``, or with ``--check`` tell whether it is current."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when out of date")
    args = parser.parse_args()
    text = render()
    if args.check:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET} is out of date: run python docs/generate_outputs.py")
            return 1
        return 0
    write_atomic(TARGET, lambda fh: fh.write(text.encode()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
