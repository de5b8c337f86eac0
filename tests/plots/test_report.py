"""The HTML report of a batch or sweep: self-contained, every figure, the summary, provenance."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

import sim.experiments.batch
import sim.model.policy_model
import sim.model.runner
from sim.errors import ResultsError
from sim.plots.data import load_batch
from sim.plots.plan import plan_figures
from sim.plots.report import build_report, outcome_columns, write_report
from tests.plots.conftest import BATCH_SCENARIOS, copy_folder, mark_failed

METRICS = ["market_value_usd"]
IMG = re.compile(r'<img alt="[^"]*" src="data:image/png;base64,([A-Za-z0-9+/=]+)">')


def _no_model(*_args: object, **_kwargs: object) -> None:
    raise AssertionError("plotting must not run the model")


@pytest.fixture
def no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any attempt to run the model fail the test."""
    monkeypatch.setattr(sim.model.runner, "run_scenario", _no_model)
    monkeypatch.setattr(sim.experiments.batch, "run_batch", _no_model)
    monkeypatch.setattr(sim.experiments.batch, "run_sweep", _no_model)
    monkeypatch.setattr(sim.model.policy_model.PolicyModel, "step", _no_model)


def test_report_is_self_contained_with_every_figure_and_the_summary(
    batch_dir: Path, tmp_path: Path, no_model: None
) -> None:
    folder = copy_folder(batch_dir, tmp_path / "b")
    path = write_report(folder, metrics=METRICS)
    assert path == folder / "report.html"
    text = path.read_text(encoding="utf-8")
    specs = plan_figures(load_batch(folder), METRICS)
    images = IMG.findall(text)
    assert len(images) == text.count("<img") == len(specs)
    for spec, data in zip(specs, images, strict=True):
        png = (folder / "figures" / f"{spec.name}.png").read_bytes()
        assert base64.b64decode(data) == png  # the figure files, embedded in plan order
    # Self-contained: no scripts, no external resources, only in-page links.
    assert "<script" not in text and "http://" not in text and "https://" not in text
    assert re.findall(r'href="([^"]*)"', text) and all(
        h.startswith("#") for h in re.findall(r'href="([^"]*)"', text))  # fmt: skip
    # Scenario descriptions, the summary table and provenance.
    manifest = json.loads((folder / "manifest.json").read_text())
    for name in BATCH_SCENARIOS:
        assert manifest["scenario_descriptions"][name].split(" (")[0][:40] in text
    table = re.search(r'<table class="summary">.*?</table>', text, re.S)
    assert table is not None
    for name in BATCH_SCENARIOS:  # a name may wrap after its underscores (<wbr>)
        assert f"<th>{name}</th>" in table.group(0).replace("<wbr>", "")
    data = load_batch(folder)
    for col in outcome_columns(data.summary):
        assert f"<code>{col.replace('_', '_<wbr>')}</code>" in table.group(0)
    interval = r'US\$[\d.,]+T<br><span class="ci">\[[\d.,]+ to [\d.,]+\]</span>'
    assert re.search(interval, table.group(0))  # the mean, and its 95% CI on the next line
    assert manifest["git_commit"] in text and f"<code>{manifest['master_seed']}</code>" in text


def test_report_draws_missing_figures_and_reuses_current_ones(
    batch_dir: Path, tmp_path: Path
) -> None:
    folder = copy_folder(batch_dir, tmp_path / "b")
    write_report(folder, metrics=METRICS)
    figures = sorted((folder / "figures").glob("*.png"))
    stamps = {p: p.stat().st_mtime_ns for p in figures}
    figures[0].unlink()
    write_report(folder, metrics=METRICS)
    assert figures[0].is_file()  # redrawn
    assert all(p.stat().st_mtime_ns == stamps[p] for p in figures[1:])  # left as they were


def test_report_of_a_partly_failed_batch_says_so(batch_dir: Path, tmp_path: Path) -> None:
    folder = copy_folder(batch_dir, tmp_path / "b")
    mark_failed(folder, 1)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["counts"]["failed"] = 1
    (folder / "manifest.json").write_text(json.dumps(manifest))
    data = load_batch(folder)
    text = build_report(data, plan_figures(data, METRICS))  # figures not drawn: left out
    assert 'class="warn"' in text and "1 failed" in text
    assert "<img" not in text


def test_report_of_a_sobol_sweep(sobol_dir: Path, tmp_path: Path, no_model: None) -> None:
    folder = copy_folder(sobol_dir, tmp_path / "s")
    text = write_report(folder).read_text()
    assert "Design: <b>sobol</b>, 24 points" in text
    assert 'id="fig-sobol"' in text
    assert text.count("<img") == len(plan_figures(load_batch(folder)))


def test_report_of_a_failing_folder_is_a_clear_error_and_writes_nothing(
    batch_dir: Path, tmp_path: Path
) -> None:
    folder = copy_folder(batch_dir, tmp_path / "b")
    mark_failed(folder)
    with pytest.raises(ResultsError, match="no completed runs"):
        write_report(folder)
    assert not (folder / "report.html").exists() and not (folder / "figures").exists()
