"""Generate the answers of ``docs/centre.md``: the centre's questions on paired seeds, with figures.

Each question compares a shipped variant of ``history_2020_2025`` with the history itself on the
same seeds (paired), and reports the mean paired difference of each outcome with its 95% interval:

* a milder slowdown: ``scenarios/history_mild_slowdown.yaml``;
* cities lobbying less: ``scenarios/history_quiet_cities.yaml``;
* the centre weighing market value more or less: the levels of
  ``scenarios/sweeps/centre_value_weight.yaml``;
* no 2020 trigger: ``scenarios/history_no_trigger.yaml``.

The block between ``<!-- generated:centre-answers -->`` and ``<!-- /generated:centre-answers -->``
in ``docs/centre.md`` is rewritten, and two figures are drawn: ``docs/figures/centre_questions.png``
(the centre's platform stringency over time, mean over seeds) and
``docs/figures/centre_differences.png`` (the paired differences with their intervals).

Usage::

    python docs/generate_centre.py               # 30 paired seeds, rewrite docs/centre.md
    python docs/generate_centre.py --seeds 10 --workers 2
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import textwrap
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from generate_levers import render
from generate_tables import table
from matplotlib.figure import Figure

from sim.analysis.stats import mean_ci
from sim.experiments.seeds import spawn_seeds
from sim.experiments.sweep import find_sweep, load_sweep
from sim.model.runner import run_scenario
from sim.plots.style import PAPER_WIDTH_IN, figure_style
from sim.plots.timeseries import date_axis
from sim.scenario.loader import load_scenario

DOCS = Path(__file__).resolve().parent
CENTRE_DOC = DOCS / "centre.md"
FIGURES = DOCS / "figures"
HISTORY = "history_2020_2025"
SWEEP = "centre_value_weight"

QUESTIONS: dict[str, tuple[str, str]] = {
    "milder slowdown": ("What if the slowdown had been milder?", "history_mild_slowdown"),
    "quieter cities": ("What if cities had lobbied less?", "history_quiet_cities"),
    "no 2020 trigger": ("What if the 2020 trigger had not happened?", "history_no_trigger"),
}
"""Variant label -> (question, shipped scenario)."""

OUTCOMES: dict[str, str] = {
    "centre_peak": "centre's peak stringency",
    "turn_month": "centre's turn (months after Jan 2020)",
    "centre_2024": "centre's stringency, Dec 2024",
    "loss_t": "loss, peak to trough (US$T)",
    "final_value_t": "market value, Dec 2025 (US$T)",
    "deals_2023": "city deals in 2023",
    "fines_2122": "fines in 2021-22",
}
"""Outcome column -> its label in the tables and figures."""


def variants() -> dict[str, tuple[str, list[str]]]:
    """Return each variant's scenario and overrides (the history itself is ``history``)."""
    out: dict[str, tuple[str, list[str]]] = {"history": (HISTORY, [])}
    out.update({label: (name, []) for label, (_, name) in QUESTIONS.items()})
    sweep = load_sweep(find_sweep(SWEEP))
    parameter = sweep.parameters[0]
    default = load_scenario(HISTORY).params.centre.value_weight
    for level in [x for x in parameter.levels if x != default]:  # the default is the history
        out[f"value_weight={level:g}"] = (sweep.base.name, [f"{parameter.path}={level}"])
    return out


def _months_from_2020(date: pd.Timestamp) -> float:
    return float((date.year - 2020) * 12 + date.month - 1)


def one_run(label: str, scenario: str, overrides: list[str], seed: int) -> tuple[dict, pd.Series]:
    """Run one variant on one seed; return its outcomes and the centre's stringency by month."""
    result = run_scenario(load_scenario(scenario, overrides), seed)
    ts = result.timeseries.set_index("date")
    stance = ts["central_stance"]
    s = result.summary
    row = {
        "variant": label, "seed": seed,
        "centre_peak": float(stance.max()),
        "turn_month": _months_from_2020(pd.Timestamp(s["centre_turn_date"])),
        "centre_2024": float(stance.loc["2024-12"].iloc[0]),
        "loss_t": float(s["peak_to_trough_loss_usd"]) / 1e12,
        "final_value_t": float(s["final_market_value_usd"]) / 1e12,
        "deals_2023": float(ts.loc["2023", "deals_signed"].sum()),
        "fines_2122": float(ts.loc["2021":"2022", "fines_count"].sum()),
    }  # fmt: skip
    return row, stance.rename(label)


def run_all(seeds: list[int], workers: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run every variant on every seed; return the outcomes and the mean stringency paths."""
    jobs = [(label, sc, sets, seed) for label, (sc, sets) in variants().items() for seed in seeds]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        done = list(pool.map(one_run, *zip(*jobs, strict=True)))
    rows = pd.DataFrame([r for r, _ in done])
    paths = pd.concat([p for _, p in done], axis=1)
    return rows, paths.T.groupby(level=0).mean().T


def differences(rows: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Return each variant's mean paired difference from ``reference`` with its 95% interval."""
    base = rows.loc[rows["variant"] == reference].set_index("seed")
    out = []
    for label, frame in rows.loc[rows["variant"] != reference].groupby("variant", sort=False):
        diff = frame.set_index("seed")[list(OUTCOMES)] - base[list(OUTCOMES)]
        for outcome in OUTCOMES:
            mean, low, high, n = mean_ci(diff[outcome].to_numpy())
            out.append({"variant": label, "outcome": outcome, "mean": mean, "low": low,
                        "high": high, "n": n})  # fmt: skip
    return pd.DataFrame(out)


def _cell(mean: float, low: float, high: float) -> str:
    return f"{mean:+.3g} [{low:+.3g}, {high:+.3g}]"


def answers_block(rows: pd.DataFrame, diffs: pd.DataFrame, seeds: int, commit: str) -> str:
    """Return the generated Markdown: the history's levels and each variant's paired differences."""
    hist = rows.loc[rows["variant"] == "history"]
    levels = [(OUTCOMES[o], *(f"{v:.3g}" for v in mean_ci(hist[o].to_numpy())[:3]))
              for o in OUTCOMES]  # fmt: skip
    parts = [f"Measured on {seeds} paired seeds (spawned from master seed 0), policysim at commit "
             f"`{commit}`. The history's own levels (mean, 95% interval):\n",
             table(["outcome", "mean", "low", "high"], levels), "",
             "Each variant minus the history on the same seed: mean difference [95% interval].\n"]
    variants_shown = list(dict.fromkeys(diffs["variant"]))
    rows_out = []
    for outcome in OUTCOMES:
        sub = diffs.loc[diffs["outcome"] == outcome].set_index("variant")
        rows_out.append([OUTCOMES[outcome], *(_cell(*sub.loc[v, ["mean", "low", "high"]])
                                              for v in variants_shown)])  # fmt: skip
    parts += [table(["outcome", *variants_shown], rows_out), "",
              "![The centre's stringency under each variant](figures/centre_questions.png)",
              "", "![Paired differences from the history](figures/centre_differences.png)"]
    return "\n".join(parts)


def questions_figure(paths: pd.DataFrame) -> Figure:
    """The centre's platform stringency over time: the history against each question's variants."""
    panels = [(question, [label]) for label, (question, _) in QUESTIONS.items()]
    panels.insert(2, ("What if the centre weighed market value more, or less?",
                      [c for c in paths.columns if c.startswith("value_weight=")]))
    with figure_style():
        fig = Figure(figsize=(PAPER_WIDTH_IN, 5.6), layout="constrained")
        axes = fig.subplots(2, 2, sharex=True, sharey=True).flat
        for ax, (question, labels) in zip(axes, panels, strict=True):
            ax.plot(paths.index, paths["history"], color="black", linewidth=2.0, label="history")
            for k, label in enumerate(labels):
                ax.plot(paths.index, paths[label], linewidth=1.5, label=label,
                        color=("#CC6677", "#DDCC77", "#117733", "#332288")[k % 4])  # fmt: skip
            ax.set_title(textwrap.fill(question, 48), loc="left", fontsize=8)
            ax.set_ylim(0, 1)
            ax.set_ylabel("centre: platform stringency")
            date_axis(ax)
            ax.legend(fontsize=6.5, loc="upper right")
        fig.suptitle("The centre's position under each question (mean over paired seeds)",
                     x=0.01, ha="left")  # fmt: skip
    return fig


def differences_figure(diffs: pd.DataFrame) -> Figure:
    """Paired differences from the history with their 95% intervals, a panel per outcome."""
    shown = ["turn_month", "centre_2024", "loss_t", "final_value_t", "deals_2023", "fines_2122"]
    variants_shown = list(dict.fromkeys(diffs["variant"]))
    with figure_style():
        fig = Figure(figsize=(PAPER_WIDTH_IN, 5.2), layout="constrained")
        axes = fig.subplots(2, 3, sharey=True).flat
        y = np.arange(len(variants_shown))
        for ax, outcome in zip(axes, shown, strict=True):
            sub = diffs.loc[diffs["outcome"] == outcome].set_index("variant").loc[variants_shown]
            ax.errorbar(sub["mean"], y, xerr=[sub["mean"] - sub["low"], sub["high"] - sub["mean"]],
                        fmt="o", color="#332288", markersize=4, capsize=2)  # fmt: skip
            ax.axvline(0.0, color="0.6", linewidth=0.8)
            ax.set_title(textwrap.fill(OUTCOMES[outcome], 30), loc="left", fontsize=8)
            ax.set_yticks(y, variants_shown, fontsize=7)
        fig.axes[0].invert_yaxis()  # the axes share y: first variant on top
        fig.suptitle("Each variant minus the history on the same seed (mean, 95% interval)",
                     x=0.01, ha="left")  # fmt: skip
    return fig


def main(argv: list[str] | None = None) -> int:
    """Run the questions and rewrite the answers of ``docs/centre.md`` and its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=30, help="Paired seeds per variant.")
    parser.add_argument("--workers", type=int, default=2, help="Worker processes.")
    args = parser.parse_args(argv)
    seeds = spawn_seeds(0, args.seeds)
    rows, paths = run_all(seeds, args.workers)
    diffs = differences(rows, "history")
    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                         cwd=DOCS, check=False)  # fmt: skip
    commit = git.stdout.strip() or "unknown"
    FIGURES.mkdir(exist_ok=True)
    questions_figure(paths).savefig(FIGURES / "centre_questions.png", dpi=200)
    differences_figure(diffs).savefig(FIGURES / "centre_differences.png", dpi=200)
    text = CENTRE_DOC.read_text(encoding="utf-8")
    new = render(text, {"centre-answers": lambda: answers_block(rows, diffs, len(seeds), commit)})
    CENTRE_DOC.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
