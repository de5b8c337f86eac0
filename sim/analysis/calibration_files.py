"""Writing a differential-evolution fit: its report folder and ``sim/data/calibration.yaml``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.analysis.calibration import CalibrationResult
from sim.errors import ScenarioError
from sim.results.store import atomic_path
from sim.scenario.loader import CALIBRATION_FILE


def result_dict(result: CalibrationResult) -> dict[str, Any]:
    """Return the result as JSON-ready data (what ``calibration.json`` holds)."""
    spec = result.spec
    rates = {k: r.pass_rates().set_index("target")["pass_rate"].round(4).to_dict()
             for k, r in result.holdout.items()}  # fmt: skip
    return {
        "kind": "calibration",
        "accepted": result.accepted,
        "reasons": result.reasons,
        "parameters": {
            name: {"path": p.path, "bounds": list(p.bounds), "start": float(a), "fitted": float(b)}
            for (name, p), a, b in zip(
                spec.parameters.items(), result.start, result.fitted, strict=True
            )
        },  # fmt: skip
        "held_out_targets": spec.held_out,
        "loss": spec.loss.model_dump(),
        "fit_loss": result.fit_loss,
        "holdout_loss": result.holdout_loss,
        "holdout_pass_rates": rates,
        "holdout_all_targets_rate": {k: r.all_targets_rate for k, r in result.holdout.items()},
        **result.settings,
    }


def calibration_yaml(result: CalibrationResult) -> str:
    """Return the text of ``calibration.yaml``: a header saying how, then ``params``."""
    import yaml

    s = result.settings
    lines = [
        "# Fitted behavioural parameters, merged under every scenario (see",
        "# sim/scenario/loader.py). Written by `sim calibrate` (sim/analysis/calibration.py);",
        "# see docs/calibration.md. Do not edit by hand: run `sim calibrate` again, or delete",
        "# this file to return to the defaults.",
        f"# Differential evolution, {s['evaluations']} evaluations on {len(s['fit_seeds'])} fit "
        f"seeds (master {s['master_seed']}); loss {result.fit_loss['start']:.4g} -> "
        f"{result.fit_loss['fitted']:.4g}.",
        f"# Held-out check on {len(s['holdout_seeds'])} seeds: loss "
        f"{result.holdout_loss['start']:.4g} -> {result.holdout_loss['fitted']:.4g}.",
    ]
    body = yaml.safe_dump({"params": result.values("fitted")}, sort_keys=False)
    return "\n".join(lines) + "\n" + body


def write_calibration_file(result: CalibrationResult, path: Path = CALIBRATION_FILE) -> Path:
    """Write the fitted values to ``path`` (atomically); refuse a result that was not accepted.

    Args:
        result: An accepted calibration.
        path: The file (default: ``sim/data/calibration.yaml``).

    Returns:
        The path written.

    Raises:
        ScenarioError: When the result was not accepted.
    """
    if not result.accepted:
        raise ScenarioError(f"calibration not accepted ({'; '.join(result.reasons)}); "
                            f"{path} left as it is")  # fmt: skip
    with atomic_path(path) as tmp:
        tmp.write_text(calibration_yaml(result), encoding="utf-8")
    return path


def write_calibration_report(result: CalibrationResult, out: Path) -> Path:
    """Write ``evaluations.parquet``, the held-out checks, ``fitted.yaml`` and ``calibration.json``.

    ``fitted.yaml`` is what ``sim/data/calibration.yaml`` would hold (written whether or not the
    fit was accepted, for inspection); ``calibration.json`` is written last.

    Args:
        result: The calibration.
        out: The folder (created if needed).

    Returns:
        The path of ``calibration.json``.
    """
    from sim.results.store import (
        ensure_writable_dir,
        provenance,
        write_json,
        write_parquet,
    )

    ensure_writable_dir(out)
    (out / "calibration.json").unlink(missing_ok=True)
    write_parquet(out / "evaluations.parquet", result.history)
    for which, report in result.holdout.items():
        write_parquet(out / f"holdout_checks_{which}.parquet", report.checks)
    with atomic_path(out / "fitted.yaml") as tmp:
        tmp.write_text(calibration_yaml(result), encoding="utf-8")
    target = out / "calibration.json"
    write_json(target, {**result_dict(result), "provenance": provenance()})
    return target
