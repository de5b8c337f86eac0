"""Generate the result sections of ``docs/calibration.md`` from a ``sim calibrate`` folder.

Blocks between ``<!-- generated:NAME -->`` and ``<!-- /generated:NAME -->`` markers are rewritten;
the text around them is written by hand:

``calibration-priors``
    the free parameters of ``sim/data/free_parameters.yaml``: path, prior (uniform over the
    bounds), current value, rationale (needs no folder);
``calibration-run``
    where and when the folder was computed (commit, date), its budget, seeds and cost;
``calibration-posterior``
    each parameter's posterior median and 95% interval against its prior, and whether the record
    identifies it (posterior width over prior width);
``calibration-comparison``
    the held-out comparison of the posterior, its medians and the current values, and the
    verdict.

The folder's figures are redrawn into ``docs/figures/calibration/``, each labelled with the commit
it was computed on.

Usage::

    python docs/generate_calibration.py results/calibration   # rewrite the blocks and figures
    python docs/generate_calibration.py --priors-only          # only the priors (no folder)
    python docs/generate_calibration.py --check                # exit 1 when the priors are stale
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from generate_tables import BLOCK, table

from sim.analysis.free_parameters import load_free_parameters
from sim.analysis.targets import load_targets
from sim.plots.calibration import plot_folder
from sim.results.store import write_atomic

DOCS = Path(__file__).resolve().parent
CALIBRATION_MD = DOCS / "calibration.md"
FIGURES = DOCS / "figures" / "calibration"
IDENTIFIED, PARTLY = 0.5, 0.8
"""Posterior 95% width over prior 95% width: under 0.5 identified, under 0.8 partly, else not."""


def identification(ratio: float) -> str:
    """Say how far the record pins a parameter down, from its posterior/prior width ratio."""
    if ratio < IDENTIFIED:
        return "identified"
    return "partly" if ratio < PARTLY else "not identified"


def priors() -> str:
    """Return the table of free parameters and their priors."""
    targets = load_targets()
    spec = load_free_parameters(targets=targets)
    rows = [[f"`{name}`", f"`{p.path}`", f"U({p.bounds[0]:g}, {p.bounds[1]:g})", f"{now:.4g}",
             " ".join(p.rationale.split())]
            for (name, p), now in zip(spec.parameters.items(), spec.current(targets),
                                      strict=True)]  # fmt: skip
    return table(["Parameter", "Path", "Prior", "Current", "Why free"], rows)


def run_block(folder: Path, m: dict, verdict: dict) -> str:
    """Return the provenance, budget and cost of the folder's calibration."""
    s = m["settings"]
    gens = pd.read_parquet(folder / "generations.parquet")
    rows = [["calibration sample" if r.t < 0 else f"{r.t + 1}", f"{r.epsilon:.4g}",
             int(r.samples), f"{s['population'] / r.samples:.0%}" if r.t >= 0 else ""]
            for r in gens.itertuples()]  # fmt: skip
    runs = m["model_runs"]
    lines = [
        f"Computed at commit `{m['git_commit']}` on {m['created'][:10]} "
        f"(`{' '.join(['sim', *m['command'][1:]])}`); current values: "
        f"{verdict['current_source']}.",
        "",
        f"Budget: population {s['population']}, {s['generations']} generations, "
        f"{s['fit_seeds']} fit seeds, {s['holdout_seeds']} held-out seeds, {s['draws']} "
        f"posterior draws; master seed {m['master_seed']}.",
        "",
        f"Cost: {m['evaluations']} particles evaluated; **{runs['total']} model runs** "
        f"({runs['abc']} for ABC-SMC, {runs['predictive']} for the held-out comparison) in "
        f"{m['wall_s'] / 60:.1f} minutes"
        f"{' (the last invocation only; it resumed a finished ABC-SMC)' if m['resumed'] else ''}.",
        "",
        table(["Generation", "Epsilon", "Particles evaluated", "Acceptance"], rows),
    ]
    return "\n".join(lines)


def posterior_block(folder: Path) -> str:
    """Return the posterior table with each parameter's identification."""
    summary = pd.read_csv(folder / "posterior_summary.csv")
    rows = [[f"`{r.parameter}`", f"[{r.prior_low:g}, {r.prior_high:g}]", f"{r.current:.4g}",
             f"{r.median:.4g}", f"{r.q025:.4g} - {r.q975:.4g}", f"{r.width_ratio:.2f}",
             identification(r.width_ratio)]
            for r in summary.itertuples()]  # fmt: skip
    return table(["Parameter", "Prior", "Current", "Posterior median", "95% interval",
                  "Width / prior", "Identified"], rows)  # fmt: skip


def comparison_block(folder: Path, verdict: dict) -> str:
    """Return the held-out comparison per target, the losses and the verdict."""
    comp = pd.read_parquet(folder / "comparison.parquet")

    def share(r: pd.Series, arm: str) -> str:
        return (f"{r[f'{arm}_rate']:.0%} ({r[f'{arm}_low']:.0%}-{r[f'{arm}_high']:.0%}, "
                f"n={r[f'{arm}_n']})")  # fmt: skip

    rows = [[f"`{r['target']}`" + (" *" if r["held_out"] else ""), share(r, "posterior"),
             share(r, "medians"), share(r, "current")] for _, r in comp.iterrows()]  # fmt: skip
    losses = verdict["losses"]
    for key, label in (("all", "held-out loss, all targets"), ("fitted", "fitted targets"),
                       ("held_out", "held-out targets")):  # fmt: skip
        rows.append([label] + [f"{losses[a][key]:.4g}" for a in ("posterior", "medians",
                                                                 "current")])  # fmt: skip
    text = table(["Target (* held out)", "Posterior predictive", "Posterior medians", "Current"],
                 rows)  # fmt: skip
    return text.rstrip() + f"\n\n**Verdict:** {verdict['line']}"


def main(argv: list[str] | None = None) -> int:
    """Rewrite the blocks of docs/calibration.md (and the figures) from a calibration folder."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?", type=Path, help="A finished sim calibrate folder.")
    parser.add_argument("--priors-only", action="store_true",
                        help="Rewrite only the priors table (no folder needed).")  # fmt: skip
    parser.add_argument("--check", action="store_true",
                        help="Exit 1 when the priors table is not current (writes nothing).")
    args = parser.parse_args(argv)
    blocks: dict[str, Callable[[], str]] = {"calibration-priors": priors}
    if args.check:
        text = CALIBRATION_MD.read_text(encoding="utf-8")
        current = [mt.group(3).strip() for mt in BLOCK.finditer(text)
                   if mt.group(2) == "calibration-priors"]  # fmt: skip
        if current != [priors().strip()]:
            sys.stderr.write("docs/calibration.md: the priors table is stale; run "
                             "python docs/generate_calibration.py --priors-only\n")  # fmt: skip
            return 1
        return 0
    if not args.priors_only:
        if args.folder is None or not (args.folder / "comparison.json").is_file():
            parser.error("give a finished calibration folder (with comparison.json)")
        folder = args.folder
        m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        verdict = json.loads((folder / "comparison.json").read_text(encoding="utf-8"))
        blocks.update({"calibration-run": lambda: run_block(folder, m, verdict),
                       "calibration-posterior": lambda: posterior_block(folder),
                       "calibration-comparison": lambda: comparison_block(folder, verdict)})
        label = f"computed at commit {m['git_commit'][:10]} on {m['created'][:10]}"
        plot_folder(folder, load_targets().threshold, FIGURES, label=label)
    text = CALIBRATION_MD.read_text(encoding="utf-8")
    found = {mt.group(2) for mt in BLOCK.finditer(text)}
    if missing := sorted(set(blocks) - found):
        sys.stderr.write(f"docs/calibration.md lacks generated blocks: {', '.join(missing)}\n")
        return 1
    new = BLOCK.sub(lambda mt: mt.group(1) + "\n" + blocks[mt.group(2)]() + "\n" + mt.group(4)
                    if mt.group(2) in blocks else mt.group(0), text)  # fmt: skip
    write_atomic(CALIBRATION_MD, lambda fh: fh.write(new.encode("utf-8")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
