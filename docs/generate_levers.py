"""Generate the tables of ``docs/levers.md``: the declared levers and what they do in the model.

Three blocks between ``<!-- generated:NAME -->`` and ``<!-- /generated:NAME -->`` markers are
rewritten; the text around them (the explanations of where the model disagrees with the expected
direction) is written by hand:

``levers-declared``
    the lever table of ``sim/experiments/lever_table.py``: fields, steps, expected directions;
``levers-crackdown``, ``levers-export-controls`` and ``levers-history-2020-2025``
    a lever study of that scenario (``sim levers SCENARIO --seeds 10 --seed 0``): each lever's
    expected outcomes, the change after a step down and a step up with 95% intervals, and the
    verdict.

Usage::

    python docs/generate_levers.py                  # run both studies, rewrite docs/levers.md
    python docs/generate_levers.py --workers 2      # the same on two worker processes
    python docs/generate_levers.py --from crackdown=results/levers-crackdown ...
                                                    # use finished `sim levers` folders
    python docs/generate_levers.py --check          # exit 1 when the declared table is stale
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from generate_tables import BLOCK, table

from sim import __version__
from sim.analysis.levers import lever_effects, lever_study
from sim.experiments.lever_table import LEVERS, Lever
from sim.experiments.levers import lever_members
from sim.plots.levers import ARROWS, change_rows
from sim.plots.style import metric_infos, outcome_label
from sim.results.load import load_results
from sim.results.store import write_atomic
from sim.scenario.limits import capping_field
from sim.scenario.loader import load_scenario, scenario_dict

LEVERS_MD = Path(__file__).resolve().parent / "levers.md"
SCENARIOS = ("crackdown", "export_controls", "history_2020_2025")
SEEDS = 10


def _cap(lever: Lever) -> str | None:
    """The field that caps the lever's fields in the schema (``legal_cap`` for fine rates)."""
    data = scenario_dict(load_scenario(lever.home))
    members = lever_members(lever, data)
    return capping_field(data, members[0].path) if members else None


def declared() -> str:
    """Return the table of declared levers."""
    rows = []
    for lever in LEVERS:
        where = ", ".join(f"{k} = {v}" for k, v in lever.where.items())
        fields = f"`{lever.path}`" + (f" where {where}" if where else "")
        cap = _cap(lever)
        if cap:
            fields += f", at most `{cap}`"
        expect = "; ".join(f"{ARROWS[s]} {outcome_label(o)}" for o, s in lever.expect.items())
        rows.append([f"`{lever.name}`", lever.label, fields, lever.step.describe(), expect])
    return table(["Lever", "What it is", "Fields", "Step down / up", "Expected when it goes up"],
                 rows)  # fmt: skip


def measured(effects: pd.DataFrame, scenario: str, commit: str | None) -> str:
    """Return one scenario's measured table, its dead and disagreeing levers, and provenance."""
    rows = [[f"`{r.lever}`", r.step, r.outcome, r.expected, r.down, r.up,
             f"**{r.verdict}**" if r.verdict in ("dead", "opposite") else r.verdict]
            for r in change_rows(effects, metric_infos())]  # fmt: skip
    text = table(["Lever", "Step", "Outcome", "Expected", "Step down", "Step up", "Verdict"], rows)
    shown = effects.loc[effects["expected"] != 0]
    for name, label in (("dead", "Dead (identical on every seed)"),
                        ("opposite", "Against the expected direction"),
                        ("not significant", "Within seed noise")):  # fmt: skip
        pairs = shown.loc[shown["verdict"] == name]
        items = [f"- `{k}`: {'; '.join(outcome_label(o) for o in v)}"
                 for k, v in pairs.groupby("lever", sort=False)["outcome"]]  # fmt: skip
        text += f"\n{label}:" + ("\n\n" + "\n".join(items) if items else " none.") + "\n"
    seeds = int(effects["n"].max())
    text += (f"\nMeasured with `sim levers {scenario} --seeds {seeds} --seed 0` (policysim "
             f"{__version__}, git commit {commit or 'unknown'}): mean change from the unmoved "
             f"scenario over {seeds} paired seeds, with its 95% confidence interval.\n")
    return text


def study(
    scenario: str, folder: Path | None, workers: int | None
) -> tuple[pd.DataFrame, str | None]:
    """Return a study's effects and the git commit it ran at: from a finished folder, or run."""
    if folder is not None:
        results = load_results(folder)
        return lever_effects(results), results.manifest.get("git_commit")
    with tempfile.TemporaryDirectory() as tmp:
        results, effects = lever_study(scenario, seeds=SEEDS, seed=0, out=Path(tmp) / scenario,
                                       workers=workers, resume=False)  # fmt: skip
        return effects, results.manifest.get("git_commit")


def render(text: str, blocks: dict[str, Callable[[], str]]) -> str:
    """Return ``text`` with the named generated blocks replaced (the others kept)."""
    return BLOCK.sub(lambda m: m.group(1) + "\n" + blocks[m.group(2)]() + "\n" + m.group(4)
                     if m.group(2) in blocks else m.group(0), text)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Rewrite the generated blocks of ``docs/levers.md`` (or, with ``--check``, verify one)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="Exit 1 if the declared table is out of date (runs nothing).")
    parser.add_argument("--from", dest="folders", action="append", default=[],
                        metavar="SCENARIO=FOLDER", help="Use a finished `sim levers` folder.")
    parser.add_argument("--workers", type=int, default=None, help="Worker processes.")
    args = parser.parse_args(argv)
    text = LEVERS_MD.read_text(encoding="utf-8")
    if args.check:
        if render(text, {"levers-declared": declared}) != text:
            sys.stderr.write("docs/levers.md is out of date: run python docs/generate_levers.py\n")
            return 1
        return 0
    folders = dict(item.split("=", 1) for item in args.folders)
    blocks: dict[str, Callable[[], str]] = {"levers-declared": declared}
    for scenario in SCENARIOS:
        effects, commit = study(scenario, Path(folders[scenario]) if scenario in folders else None,
                                args.workers)  # fmt: skip
        block = f"levers-{scenario.replace('_', '-')}"
        blocks[block] = lambda e=effects, s=scenario, c=commit: measured(e, s, c)
    new = render(text, blocks)
    if new != text:
        write_atomic(LEVERS_MD, lambda fh: fh.write(new.encode("utf-8")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
