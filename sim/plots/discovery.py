"""Figures of scenario discovery: PRIM's peeling trade-off and the chosen box's limits."""

from __future__ import annotations

import base64
import html
import json
import logging
import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from sim.analysis.discovery import DISCOVERY_FILE, Discovery, describe_restriction
from sim.model.units import format_value
from sim.plots.render import DPI, FIGURES_DIR
from sim.plots.style import (
    PAPER_WIDTH_IN,
    figure_style,
    humanize,
    metric_infos,
    outcome_label,
    outcome_unit,
)
from sim.results.store import atomic_path, write_json

log = logging.getLogger(__name__)

TRADEOFF = "discovery_tradeoff"
LIMITS = "discovery_box"
BOX_COLOR = "#332288"
RANGE_COLOR = "#dddddd"


def question(found: Discovery) -> str:
    """Return what the cases of interest are, in words."""
    sign = ">" if found.direction == "above" else "<"
    unit = outcome_unit(found.outcome, metric_infos())
    return f"{outcome_label(found.outcome)} {sign} {format_value(found.threshold, unit)}"


def tradeoff_figure(found: Discovery) -> Figure:
    """Draw each PRIM box's peeling trajectory: coverage against density, chosen box marked.

    Args:
        found: The discovery (with at least one box).

    Returns:
        The figure.
    """
    with figure_style():
        fig, ax = plt.subplots(figsize=(PAPER_WIDTH_IN, 4.6), layout="constrained")
        most = max(int(b.trajectory["res_dim"].max()) for b in found.boxes)
        cmap = plt.get_cmap("viridis", max(most + 1, 2))
        for k, box in enumerate(found.boxes):
            traj = box.trajectory
            ax.plot(traj["coverage"], traj["density"], color="#999999", lw=0.8, zorder=1)
            points = ax.scatter(traj["coverage"], traj["density"], c=traj["res_dim"], cmap=cmap,
                                vmin=-0.5, vmax=most + 0.5, s=22, zorder=2,
                                marker="os^"[k % 3])  # fmt: skip
            c = box.chosen
            ax.scatter([traj["coverage"][c]], [traj["density"][c]], s=160, facecolors="none",
                       edgecolors="#CC3311", linewidths=1.8, zorder=3)  # fmt: skip
            label = f"box {k + 1}: coverage {box.coverage:.0%}, density {box.density:.0%}"
            if box.dropped:  # the box reported is the chosen step less chance restrictions
                ax.scatter([box.coverage], [box.density], s=140, marker="*", color="#CC3311",
                           zorder=4)  # fmt: skip
                label += f"\n(circled step without {', '.join(box.dropped)})"
            ax.annotate(label, (box.coverage, box.density), xytext=(-12, -16),
                        textcoords="offset points", fontsize=8, color="#CC3311", ha="right",
                        va="top")  # fmt: skip
        ax.axhline(found.base_density, color="#666666", ls="--", lw=0.8)
        ax.annotate(f"all runs: {found.base_density:.0%}", (0.01, found.base_density),
                    xytext=(0, 3), textcoords="offset points", fontsize=8,
                    color="#555555")  # fmt: skip
        ax.set_xlim(-0.02, 1.04)
        ax.set_ylim(0, 1.05)
        ax.set_xlabel("Coverage (share of the runs of interest inside the box)")
        ax.set_ylabel("Density (share of the box's runs\nthat are of interest)")
        ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
        ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
        bar = fig.colorbar(points, ax=ax, ticks=range(most + 1))
        bar.set_label("Restricted parameters")
        ax.set_title(textwrap.fill(f"PRIM peeling trade-off: {question(found)} "
                                   f"({found.n_interest} of {found.n_cases} runs)", 80),
                     loc="left", fontsize=10)  # fmt: skip
    return fig


def box_limits_figure(found: Discovery, box: int = 0) -> Figure:
    """Draw a box's limits on each restricted parameter within the design's range.

    Args:
        found: The discovery (with at least one box).
        box: Which box (0 is the first PRIM found).

    Returns:
        The figure: one row per restricted parameter, its range scaled to 0-1, the box's limits
        as a bar labelled with their values and the restriction's quasi-p value.
    """
    chosen = found.boxes[box]
    limits = chosen.limits[chosen.limits["minimum"] != ""] if len(chosen.limits) else chosen.limits
    n = max(len(limits), 1)
    with figure_style():
        fig, ax = plt.subplots(figsize=(PAPER_WIDTH_IN, 1.4 + 0.75 * n), layout="constrained")
        for row, lim in enumerate(limits.to_dict(orient="records")):
            span = float(lim["maximum"]) - float(lim["minimum"]) or 1.0
            lo = (float(lim["lower"]) - float(lim["minimum"])) / span
            hi = (float(lim["upper"]) - float(lim["minimum"])) / span
            y = n - 1 - row
            ax.barh(y, 1.0, left=0.0, height=0.4, color=RANGE_COLOR, zorder=1)
            ax.barh(y, hi - lo, left=lo, height=0.4, color=BOX_COLOR, zorder=2)
            for x, key in ((lo, "lower"), (hi, "upper")):
                ax.text(x, y + 0.27, f"{float(lim[key]):.3g}", ha="center", va="bottom",
                        fontsize=8)  # fmt: skip
            for x, key, ha in ((-0.02, "minimum", "left"), (1.02, "maximum", "right")):
                ax.text(x, y - 0.27, f"{float(lim[key]):.3g}", ha=ha, va="top", fontsize=7,
                        color="#777777")  # fmt: skip
            qp = float(lim["qp"])
            ax.text(1.06, y, "qp < 0.001" if qp < 1e-3 else f"qp {qp:.2f}", va="center",
                    fontsize=8, color="#CC3311" if qp > 0.05 else "#222222")  # fmt: skip
        ax.set_yticks(range(n))
        ax.set_yticklabels([textwrap.fill(humanize(p), 22) for p in limits["parameter"]][::-1]
                           if len(limits) else ["(no restriction)"])  # fmt: skip
        ax.set_xlim(-0.05, 1.2)
        ax.set_ylim(-0.7, n - 0.1 + 0.4)
        ax.set_xticks([0.0, 1.0])
        ax.set_xticklabels(["design minimum", "design maximum"])
        ax.set_xlabel("Box limits (bars) within each parameter's design range (grey); qp: quasi-p "
                      "value of the restriction,\nred above 0.05 (the restriction may be chance)",
                      fontsize=8)
        ax.grid(axis="y", visible=False)
        ax.set_title(textwrap.fill(
            f"Box {box + 1} for {question(found)}: coverage {chosen.coverage:.0%}, density "
            f"{chosen.density:.0%}, {chosen.n} of {found.n_cases} runs", 80),
            loc="left", fontsize=10)  # fmt: skip
    return fig


def write_discovery(found: Discovery) -> list[Path]:
    """Write the findings and their figures into the sweep folder, each file atomically.

    Writes ``discovery.json`` (what :meth:`Discovery.to_dict` gives) and, when PRIM found a box,
    ``figures/discovery_tradeoff.png`` and ``figures/discovery_box.png``; figures of an earlier
    discovery that found a box are removed when this one finds none.

    Args:
        found: The discovery.

    Returns:
        The files written.
    """
    folder = found.folder
    written = []
    figures = {TRADEOFF: tradeoff_figure, LIMITS: box_limits_figure}
    for name, draw in figures.items():
        target = folder / FIGURES_DIR / f"{name}.png"
        if not found.boxes:
            target.unlink(missing_ok=True)
            continue
        fig = draw(found)
        try:
            with atomic_path(target) as tmp:
                fig.savefig(tmp, format="png", dpi=DPI, metadata={"Software": "policysim"})
                tmp.chmod(0o644)
        finally:
            plt.close(fig)
        written.append(target)
    write_json(folder / DISCOVERY_FILE, found.to_dict())
    return [folder / DISCOVERY_FILE, *written]


def discovery_section(folder: Path) -> str | None:
    """Return the report's scenario-discovery section, or None when no discovery was written.

    Args:
        folder: A sweep folder.

    Returns:
        HTML: the question, PRIM's boxes, CART's densest leaves, the feature scores and the two
        figures (embedded).
    """
    path = folder / DISCOVERY_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("%s: unreadable, left out of the report (%s)", path, exc)
        return None
    e = html.escape
    sign = ">" if data["direction"] == "above" else "<"
    unit = outcome_unit(data["outcome"], metric_infos())
    parts = [f"<p>Runs of interest: {e(outcome_label(data['outcome']))} {sign} "
             f"{e(format_value(data['threshold'], unit))}: {data['n_interest']} of "
             f"{data['n_cases']} runs{' (unfinished sweep)' if data.get('partial') else ''}. "
             "Coverage: share of the runs of interest inside a box; density: share of a box's "
             "runs that are of interest; qp: quasi-p value of a restriction.</p>"]  # fmt: skip
    rows = []
    for k, box in enumerate(data["boxes"], start=1):
        limits = "; ".join(e(describe_restriction(lim)) for lim in box["limits"]) or "none"
        rows.append(f"<tr><td class=num>{k}</td><td class=num>{box['coverage']:.0%}</td>"
                    f"<td class=num>{box['density']:.0%}</td><td class=num>{box['n']}</td>"
                    f"<td>{limits}</td></tr>")  # fmt: skip
    parts.append("<h3>PRIM boxes</h3><table><tr><th>box</th><th>coverage</th><th>density</th>"
                 "<th>runs</th><th>restrictions</th></tr>" + "".join(rows) + "</table>"
                 if rows else "<p>PRIM found no box denser than the whole design.</p>")
    leaves = "".join(
        f"<tr><td class=num>{leaf['coverage']:.0%}</td><td class=num>{leaf['density']:.0%}</td>"
        f"<td class=num>{leaf['mass']:.0%}</td><td>{e(leaf['rule'])}</td></tr>"
        for leaf in data["cart"][:6])  # fmt: skip
    parts.append("<h3>CART leaves, densest first</h3><table><tr><th>coverage</th>"
                 f"<th>density</th><th>mass</th><th>rule</th></tr>{leaves}</table>")
    scores = "".join(f"<tr><td>{e(name)}</td><td class=num>{score:.3f}</td></tr>"
                     for name, score in data["scores"].items())  # fmt: skip
    parts.append("<h3>Feature scores (extra trees)</h3><table><tr><th>parameter</th>"
                 f"<th>score</th></tr>{scores}</table>")
    for name, caption in ((TRADEOFF, "PRIM's peeling trade-off; the chosen box circled."),
                          (LIMITS, "The first box's limits within the design's ranges.")):
        png = folder / FIGURES_DIR / f"{name}.png"
        if png.is_file():
            encoded = base64.b64encode(png.read_bytes()).decode()
            parts.append(f'<figure><img alt="{e(name)}" src="data:image/png;base64,{encoded}">'
                         f"<figcaption>{e(caption)}</figcaption></figure>")
    return "".join(parts)
