"""Writing a calibration: the report folder, the candidate file, and ``sim/data/calibration.yaml``.

A differential-evolution fit writes ``calibration.yaml`` itself when accepted. An ABC-SMC
calibration writes a candidate (the posterior medians, with provenance) and the held-out
comparison into its folder; :func:`ship` copies the candidate to ``sim/data/calibration.yaml``
only when the comparison says the posterior is no worse than the current values.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.analysis.calibration import CalibrationResult
from sim.errors import ScenarioError
from sim.results.store import atomic_path
from sim.scenario.loader import CALIBRATION_FILE

if TYPE_CHECKING:
    from sim.analysis.free_parameters import CalibrationSpec
    from sim.analysis.posterior import Predictive

SHIPPABLE = ("population", "generations", "fit_seeds", "holdout_seeds", "draws")
"""Settings a shipped calibration must have at least at their defaults (``AbcSettings``): with a
smaller budget (``--quick``) the held-out comparison has too few runs to detect a worse fit."""

HEADER = [
    "# Fitted behavioural parameters, merged under every scenario (see",
    "# sim/scenario/loader.py). Written by `sim calibrate` (sim/analysis/calibration.py);",
    "# see docs/calibration.md. Do not edit by hand: run `sim calibrate` again, or delete",
    "# this file to return to the defaults.",
]


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
        *HEADER,
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


def grouped(spec: CalibrationSpec, x: Any) -> dict[str, dict[str, float]]:
    """Return ``{group: {name: value}}`` of the values ``x`` of the free parameters."""
    out: dict[str, dict[str, float]] = {}
    for p, v in zip(spec.parameters.values(), x, strict=True):
        group, name = p.path.split(".")
        out.setdefault(group, {})[name] = float(v)
    return out


def candidate_yaml(spec: CalibrationSpec, predictive: Predictive, manifest: dict[str, Any],
                   folder: Path) -> str:  # fmt: skip
    """Return the candidate ``calibration.yaml``: posterior medians under a provenance header."""
    import yaml

    from sim.analysis.holdout_comparison import verdict_line

    st = manifest["settings"]
    lines = [
        *HEADER,
        f"# ABC-SMC posterior medians (pyabc {manifest['versions'].get('pyabc')}), written "
        f"{manifest['created']} at commit {manifest['git_commit']}",
        f"# from the calibration folder {folder}: population {st['population']}, "
        f"{st['generations']} generations, {st['fit_seeds']} fit seeds, master seed "
        f"{manifest['master_seed']}; {manifest['model_runs']['total']} model runs.",
        f"# Held-out check: {st['draws']} posterior draws x {st['holdout_seeds']} held-out seeds.",
        "# " + verdict_line(predictive.no_worse, predictive.reasons),
    ]
    body = yaml.safe_dump({"params": grouped(spec, predictive.medians)}, sort_keys=False)
    return "\n".join(lines) + "\n" + body


def write_comparison(out: Path, spec: CalibrationSpec, predictive: Predictive,
                     manifest: dict[str, Any]) -> None:  # fmt: skip
    """Write ``comparison.json`` (losses, verdict, values compared) and the candidate file."""
    from sim.analysis.holdout_comparison import CANDIDATE_FILE, VERDICT_FILE, verdict_line
    from sim.results.store import write_json

    current = "sim/data/calibration.yaml" if CALIBRATION_FILE.is_file() else \
        "defaults (sim/scenario/params.py)"  # fmt: skip
    write_json(out / VERDICT_FILE, {
        "no_worse": predictive.no_worse, "reasons": predictive.reasons,
        "line": verdict_line(predictive.no_worse, predictive.reasons),
        "losses": predictive.losses, "current_source": current,
        "values": {"medians": dict(zip(spec.names, map(float, predictive.medians), strict=True)),
                   "current": dict(zip(spec.names, map(float, predictive.current), strict=True))},
        "fit_seeds": manifest["fit_seeds"], "holdout_seeds": manifest["holdout_seeds"],
        "fitted_targets": [t for t in predictive.table["target"]
                           if t not in spec.held_out],
        "held_out_targets": spec.held_out, "draws": predictive.particles,
        "git_commit": manifest["git_commit"], "created": manifest["created"],
    })  # fmt: skip
    with atomic_path(out / CANDIDATE_FILE) as tmp:
        tmp.write_text(candidate_yaml(spec, predictive, manifest, out), encoding="utf-8")


def below_default(settings: dict[str, Any]) -> list[str]:
    """Return the settings (``AbcSettings`` fields) below the default budget, as text."""
    from dataclasses import asdict

    from sim.analysis.abc_smc import AbcSettings

    least = asdict(AbcSettings())
    return [f"{k} {settings[k]} < {least[k]}" for k in SHIPPABLE if settings[k] < least[k]]


def ship(folder: Path, spec: CalibrationSpec, path: Path | None = None) -> Path:
    """Copy a calibration folder's candidate to ``sim/data/calibration.yaml`` if it is no worse.

    Args:
        folder: A finished ABC-SMC calibration folder.
        spec: The current free parameters: the folder's must be the same.
        path: Where to write (default: ``sim/data/calibration.yaml``, read by every scenario).

    Returns:
        The path written.

    Raises:
        ScenarioError: When the folder holds no finished calibration, its budget is below the
            default, its free parameters are not the current ones, or its held-out comparison
            does not say no worse.
    """
    import json

    from sim.analysis.holdout_comparison import CANDIDATE_FILE, VERDICT_FILE
    from sim.experiments.posterior_draws import MANIFEST_FILE
    from sim.scenario import layers

    target = path if path is not None else layers.CALIBRATION_FILE
    manifest, verdict = folder / MANIFEST_FILE, folder / VERDICT_FILE
    if not (manifest.is_file() and verdict.is_file() and (folder / CANDIDATE_FILE).is_file()):
        raise ScenarioError(f"--ship: {folder} holds no finished ABC-SMC calibration (no "
                            f"{MANIFEST_FILE}, {VERDICT_FILE} and {CANDIDATE_FILE}); run "
                            "`sim calibrate --out FOLDER` first")  # fmt: skip
    m = json.loads(manifest.read_text(encoding="utf-8"))
    if small := below_default(m["settings"]):
        raise ScenarioError(f"--ship: refused, {folder} was calibrated with less than the "
                            f"default budget ({', '.join(small)}): too few runs to tell whether "
                            "it is worse; calibrate with the default budget or more")  # fmt: skip
    names = list(m["parameters"])
    if sorted(names) != sorted(spec.names):
        raise ScenarioError(f"--ship: {folder} calibrated {', '.join(names)}, but the free "
                            f"parameters are now {', '.join(spec.names)}; calibrate again")
    result = json.loads(verdict.read_text(encoding="utf-8"))
    if not result["no_worse"]:
        raise ScenarioError(f"--ship: refused, the held-out comparison says the posterior is "
                            f"worse than the current values ({'; '.join(result['reasons'])}); "
                            f"{target} left as it is")  # fmt: skip
    with atomic_path(target) as tmp:
        tmp.write_bytes((folder / CANDIDATE_FILE).read_bytes())
    return target
