"""Reading a batch or sweep folder for figures and reports, with clear errors.

The folder layout is the one ``sim batch`` and ``sim sweep`` write: ``manifest.json``,
``runs.parquet``, ``summary.parquet``, the ``timeseries/``, ``stakeholders/`` and ``network/``
Parquet datasets and, for sweeps, ``design.parquet``. Nothing here runs the model: figures are made
from stored results only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import ResultsError
from sim.plots.events import Event, timeline_events
from sim.plots.style import MetricInfo, metric_infos, order_scenarios
from sim.results.load import Results, load_results


def _normalize(frame: pd.DataFrame) -> pd.DataFrame:
    """Give ``scenario`` plain strings and ``date`` datetimes, whatever the Parquet types."""
    if "scenario" in frame.columns:
        frame = frame.assign(scenario=frame["scenario"].astype(str))
    if "date" in frame.columns:
        frame = frame.assign(date=pd.to_datetime(frame["date"]))
    return frame


@dataclass
class BatchData:
    """A loaded batch or sweep folder, as figures and reports need it.

    Attributes:
        results: The folder as :func:`sim.results.load.load_results` reads it.
        summary: ``summary.parquet`` rows of completed runs only.
    """

    results: Results
    summary: pd.DataFrame
    _cache: dict[str, pd.DataFrame | None] = field(default_factory=dict, repr=False)

    @property
    def folder(self) -> Path:
        """The folder."""
        return self.results.folder

    @property
    def manifest(self) -> dict[str, Any]:
        """``manifest.json``."""
        return self.results.manifest

    @property
    def runs(self) -> pd.DataFrame:
        """Every recorded run, completed or failed."""
        return self.results.runs

    @property
    def kind(self) -> str:
        """``batch`` or ``sweep``."""
        return self.results.kind

    @property
    def ok_runs(self) -> pd.DataFrame:
        """The completed runs."""
        return self.runs.loc[self.runs["status"] == "ok"]

    @cached_property
    def scenarios(self) -> list[str]:
        """Scenarios with completed runs, baseline first, then in manifest order."""
        present = set(self.summary["scenario"])
        listed = [str(s) for s in self.manifest.get("resolved_scenarios") or {}]
        return order_scenarios([s for s in listed if s in present]
                               + sorted(present - set(listed)))  # fmt: skip

    @cached_property
    def metrics(self) -> dict[str, MetricInfo]:
        """The declared metrics (from the manifest, else from :mod:`sim.model.metrics`)."""
        return metric_infos(self.manifest)

    def timeseries(self) -> pd.DataFrame:
        """Return the completed runs' time series: ``run_id``, ``scenario``, ``seed``, ``date``."""
        if "timeseries" not in self._cache:
            frame = self.results.timeseries
            if frame.empty:
                raise ResultsError(f"{self.folder}: timeseries/ is missing or empty")
            frame = frame.loc[frame["run_id"].isin(self.ok_runs["run_id"])]
            self._cache["timeseries"] = _normalize(frame)
        return self._cache["timeseries"]  # type: ignore[return-value]

    def optional(self, name: str) -> pd.DataFrame | None:
        """Return ``stakeholders``, ``network`` or ``design`` when stored, else ``None``."""
        if name not in self._cache:
            frame = getattr(self.results, name)
            self._cache[name] = None if frame is None or frame.empty else _normalize(frame)
        return self._cache[name]

    @cached_property
    def events(self) -> list[Event]:
        """Timeline events with ``mark: true``, merged across scenarios by date and label."""
        return timeline_events(self.manifest.get("resolved_scenarios") or {}, self.scenarios)

    def events_for(self, metric: str) -> list[Event]:
        """The marked events and those that move ``metric`` (see :mod:`sim.plots.events`)."""
        resolved = self.manifest.get("resolved_scenarios") or {}
        return timeline_events(resolved, self.scenarios, metric)

    def description(self, scenario: str) -> str:
        """Return a scenario's description from the manifest (empty when unknown)."""
        text = (self.manifest.get("scenario_descriptions") or {}).get(scenario)
        if not text:
            text = ((self.manifest.get("resolved_scenarios") or {}).get(scenario) or {}).get(
                "description", ""
            )
        return " ".join(str(text or "").split())


def load_batch(folder: Path | str) -> BatchData:
    """Load a batch or sweep folder for plotting, checking that it has completed runs.

    Args:
        folder: The folder ``sim batch`` or ``sim sweep`` wrote.

    Returns:
        The loaded data (time series and the optional tables are read when first asked for).

    Raises:
        ResultsError: When the folder is missing, not a batch or sweep folder, incomplete, or has
            no completed run.
    """
    folder = Path(folder)
    if not folder.exists():
        raise ResultsError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise ResultsError(f"{folder}: not a folder; give a batch or sweep results folder")
    if not (folder / "manifest.json").is_file():
        raise ResultsError(f"{folder}: not a batch or sweep folder (no manifest.json); "
                           "make one with `sim batch` or `sim sweep`")  # fmt: skip
    results = load_results(folder)
    runs = results.runs
    missing = {"run_id", "scenario", "status"} - set(runs.columns)
    if missing:
        raise ResultsError(f"{folder / 'runs.parquet'}: missing column(s) {sorted(missing)}")
    ok = runs.loc[runs["status"] == "ok"]
    if ok.empty:
        failed = runs.loc[runs["status"] != "ok"]
        status = results.manifest.get("status", "unknown")
        if failed.empty:
            raise ResultsError(f"{folder}: no completed runs yet (batch status: {status})")
        first = ""
        if "error" in failed.columns and failed["error"].notna().any():
            first = "; first error: " + str(failed["error"].dropna().iloc[0]).splitlines()[0]
        raise ResultsError(
            f"{folder}: no completed runs ({len(failed)} failed, batch status: {status}){first}"
        )
    summary = _normalize(results.summary)
    summary = summary.loc[summary["run_id"].isin(ok["run_id"])].reset_index(drop=True)
    if summary.empty:
        raise ResultsError(f"{folder}: summary.parquet has no row for any completed run")
    return BatchData(results=results, summary=summary)
