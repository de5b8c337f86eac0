"""Scenario discovery (``sim discover``) on a real sweep of the crackdown.

The sweep varies the centre's peak crackdown stance and SAMR's fine rate. The peak-to-trough loss
of market value follows the stance (a harsher crackdown prices in more policy risk), so the runs
with a loss above the median must be found in a box that restricts the stance from below, with a
significant quasi-p value, and the stance must score highest.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from sim import load_results, run_batch, run_sweep
from sim.analysis.discovery import MAX_QP, discover
from sim.cli.app import app
from sim.errors import ResultsError
from sim.plots.discovery import discovery_section

pytest.importorskip("ema_workbench")

OUTCOME = "peak_to_trough_loss_usd"
SWEEP = {
    "name": "discovery",
    "base": "crackdown",
    "set": ["months=24"],
    "parameters": {
        "peak": {"path": "timeline.stance_peak.platform_stringency", "range": [0.5, 1.0]},
        "fine_rate": {"path": "regulators.SAMR.fine_rate", "range": [0.01, 0.1]},
    },
    "design": {"kind": "lhs", "samples": 40, "seed": 2},
    "replicates": 1,
    "outcomes": [OUTCOME],
}


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 40-point sweep, run once for the module."""
    root = tmp_path_factory.mktemp("discovery")
    file = root / "discovery.yaml"
    file.write_text(yaml.safe_dump(SWEEP), encoding="utf-8")
    return run_sweep(file, seed=1, executor="serial", out=root / "sweep").folder


@pytest.fixture(scope="module")
def median(sweep: Path) -> float:
    """The median loss: half the runs are of interest."""
    return float(np.median(load_results(sweep).summary[OUTCOME]))


def test_prim_finds_the_crackdown_stance_behind_large_losses(sweep: Path, median: float) -> None:
    found = discover(sweep, OUTCOME, above=median)
    assert found.n_cases == 40 and found.n_interest == 20 and not found.partial
    box = found.boxes[0]
    assert box.density > 1.5 * found.base_density and box.coverage >= 0.5
    peak = box.limits.set_index("parameter").loc["peak"]
    assert peak["lower"] > peak["minimum"] and peak["qp"] <= MAX_QP
    assert (box.limits["qp"] <= MAX_QP).all()  # the box reports significant restrictions only
    assert found.scores.index[0] == "peak"
    assert found.cart["density"].iloc[0] >= box.density - 1e-9  # the densest leaf first
    low = discover(sweep, OUTCOME, below=median)  # the other side: small losses, mild stance
    low_peak = low.boxes[0].limits.set_index("parameter").loc["peak"]
    assert low_peak["upper"] < low_peak["maximum"]


def test_the_cli_prints_boxes_writes_figures_and_the_report_shows_them(
    sweep: Path, median: float
) -> None:
    result = CliRunner().invoke(app, ["discover", str(sweep), "--outcome", OUTCOME, "--above",
                                      str(median)])  # fmt: skip
    assert result.exit_code == 0, result.output
    for text in ("PRIM boxes", "coverage", "density", "CART leaves", "Feature scores", "peak"):
        assert text in result.output
    for name in ("discovery_tradeoff", "discovery_box"):
        png = sweep / "figures" / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads((sweep / "discovery.json").read_text())
    assert data["outcome"] == OUTCOME and data["boxes"][0]["limits"][0]["parameter"] == "peak"
    section = discovery_section(sweep)
    assert section is not None and "PRIM boxes" in section and "data:image/png;base64" in section


def test_bad_requests_fail_on_one_line(sweep: Path, tmp_path: Path) -> None:
    batch = run_batch(["crackdown"], replicates=1, months=3, executor="serial",
                      out=tmp_path / "batch").folder  # fmt: skip
    cases = [
        ([str(batch), "--outcome", OUTCOME, "--above", "0"], "has no design"),
        ([str(sweep), "--outcome", "nope", "--above", "0"], "unknown outcome 'nope'; allowed:"),
        ([str(sweep), "--outcome", "peak_date", "--above", "0"], "unknown outcome"),
        ([str(sweep), "--outcome", OUTCOME, "--above", "1e20"], "selects no run"),
        ([str(sweep), "--outcome", OUTCOME, "--below", "0"], "selects no run"),
        ([str(sweep), "--outcome", OUTCOME, "--above", "-1"], "selects every run"),
        ([str(sweep), "--outcome", OUTCOME], "give one threshold"),
        ([str(sweep), "--outcome", OUTCOME, "--above", "1", "--below", "2"], "give one threshold"),
        ([str(tmp_path / "missing"), "--outcome", OUTCOME, "--above", "1"], "not a folder"),
    ]
    for args, expected in cases:
        result = CliRunner().invoke(app, ["discover", *args])
        lines = result.stderr.strip().splitlines()
        assert result.exit_code == 2, (args, result.output)
        assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], lines
    with pytest.raises(ResultsError, match="selects no run"):
        discover(sweep, OUTCOME, above=1e20)
