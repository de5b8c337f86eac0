"""One self-contained HTML report per batch, sweep or lever study: ``<folder>/report.html``.

The report holds the scenarios' descriptions and marked events, a summary table (mean and 95%
confidence interval of every outcome per scenario) and the paired differences from the baseline
(for a lever study instead: each lever's changes of the outcomes it is expected to move),
every standard figure (PNG, embedded as base64) and the provenance from ``manifest.json``. It has
inline CSS only, no scripts and no external links, so it opens in a browser offline. Figures are
drawn first when they are missing or older than the results.
"""

from __future__ import annotations

import base64
import html
import json
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis.levers import dead_levers, lever_effects
from sim.analysis.stats import mean_ci, paired_differences
from sim.model.metrics import numeric_outcomes
from sim.model.units import format_change, format_interval
from sim.plots.compare import HEADLINE_METRICS, standard_outcomes
from sim.plots.data import BatchData, load_batch
from sim.plots.discovery import discovery_section
from sim.plots.levers import change_rows
from sim.plots.plan import FigureSpec, plan_figures
from sim.plots.plan_sweeps import sweep_parameters
from sim.plots.render import FIGURES_DIR, Progress, render
from sim.plots.style import outcome_bounds, outcome_label, outcome_unit, scenario_colors
from sim.results.store import atomic_path
from sim.scenario.loader import BASELINE

log = logging.getLogger(__name__)

REPORT = "report.html"
DATE_OUTCOMES = ("peak_date", "trough_date", "centre_peak_date", "centre_turn_date")

CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #222;
       max-width: 1100px; margin: 2em auto; padding: 0 1em; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc;
  padding-bottom: 0.2em; margin-top: 2em; } h3 { margin-top: 1.5em; }
.meta { color: #555; } .warn { background: #fff4e0; border-left: 4px solid #e69f00;
  padding: 0.6em 1em; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.88em; }
th, td { border-bottom: 1px solid #e2e2e2; padding: 0.3em 0.7em; text-align: left;
  vertical-align: top; }
th { background: #f4f4f4; } td.num { text-align: right;
  font-variant-numeric: tabular-nums; } td.num .ci { color: #555; font-size: 0.92em;
  white-space: nowrap; } th code { overflow-wrap: anywhere; }
.fit { max-width: 100%; overflow-x: auto; } .fit table { width: 100%; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em; border-radius: 2px;
  vertical-align: -0.1em; margin-right: 0.4em; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; height: auto;
  border: 1px solid #eee; } figcaption { color: #444; font-size: 0.9em; }
nav ul { columns: 2; } code, pre { font-size: 0.85em; background: #f6f6f6; }
pre { padding: 0.6em; overflow-x: auto; }
"""


def _e(value: object) -> str:
    """Escape text for HTML."""
    return html.escape(str(value), quote=True)


def _figures_current(folder: Path, specs: Sequence[FigureSpec]) -> list[FigureSpec]:
    """Return the figures whose PNG is missing or older than the results."""
    sources = [folder / n for n in ("manifest.json", "runs.parquet", "summary.parquet")]
    newest = max((p.stat().st_mtime for p in sources if p.exists()), default=0.0)
    stale = []
    for spec in specs:
        png = folder / FIGURES_DIR / f"{spec.name}.png"
        if not png.is_file() or png.stat().st_mtime < newest:
            stale.append(spec)
    return stale


def outcome_columns(summary: pd.DataFrame) -> list[str]:
    """Return the numeric run-level outcomes in the summary, in declaration order."""
    return [c for c in numeric_outcomes() if c in summary.columns]


def summary_table(data: BatchData) -> str:
    """Return the HTML table of each outcome's mean and 95% CI per scenario."""
    names = data.scenarios
    # Scenario names wrap after their underscores: six of them fit a 1280-pixel window.
    head = "".join(f"<th>{_breakable(n)}</th>" for n in names)
    rows = []
    for col in outcome_columns(data.summary):
        unit = outcome_unit(col, data.metrics)
        bounds = outcome_bounds(col, data.metrics)
        cells = []
        for name in names:
            values = data.summary.loc[data.summary["scenario"] == name, col]
            mean, low, high, _ = mean_ci(values.to_numpy(dtype=float), bounds=bounds)
            cells.append(_num_cell(format_interval(mean, low, high, unit)))
        rows.append(f"<tr><th>{_e(outcome_label(col))}<br><code>{_breakable(col)}</code></th>"
                    + "".join(cells) + "</tr>")  # fmt: skip
    for col in [c for c in DATE_OUTCOMES if c in data.summary.columns]:
        cells = []
        for name in names:
            values = data.summary.loc[data.summary["scenario"] == name, col].dropna()
            mode = values.mode()
            text = (f"{pd.Timestamp(mode.iloc[0]):%Y-%m} ({(values == mode.iloc[0]).mean():.0%} "
                    "of runs)") if len(mode) else "–"  # fmt: skip
            cells.append(f'<td class="num">{_e(text)}</td>')
        rows.append(f"<tr><th>{_e(col.replace('_', ' ').capitalize())} (most common)<br>"
                    f"<code>{_e(col)}</code></th>" + "".join(cells) + "</tr>")  # fmt: skip
    counts = "".join(
        f'<td class="num">{int((data.summary["scenario"] == n).sum())}</td>' for n in names
    )
    return (
        f'<div class="fit"><table class="summary"><thead><tr><th>Outcome</th>{head}</tr></thead>'
        f"<tbody><tr><th>Completed runs</th>{counts}</tr>{''.join(rows)}</tbody></table></div>"
    )


def _breakable(name: str) -> str:
    """Escape a field name, letting a narrow column wrap it after its underscores."""
    return _e(name).replace("_", "_<wbr>")


def _num_cell(text: str) -> str:
    """Return a table cell of a value, its confidence interval (if any) on a line of its own."""
    mean, bracket, interval = text.partition(" [")
    ci = f'<br><span class="ci">[{_e(interval)}</span>' if bracket else ""
    return f'<td class="num">{_e(mean)}{ci}</td>'


def difference_table(data: BatchData) -> str:
    """Return the HTML table of paired differences from the baseline (headline outcomes)."""
    if BASELINE not in data.scenarios or len(data.scenarios) < 2 or "seed" not in data.summary:
        return ""
    outcomes = standard_outcomes(HEADLINE_METRICS, data.metrics, list(data.summary.columns))
    diffs = paired_differences(data.summary, outcomes, BASELINE)
    names = [n for n in data.scenarios if n != BASELINE and n in set(diffs["scenario"])]
    if not names:
        return ""
    head = "".join(f"<th>{_breakable(n)} minus {_e(BASELINE)}</th>" for n in names)
    rows = []
    for col in outcomes:
        unit = outcome_unit(col, data.metrics)
        cells = []
        for name in names:
            mean, low, high, _ = mean_ci(diffs.loc[diffs["scenario"] == name, col].to_numpy(float))
            cells.append(_num_cell(format_change(mean, low, high, unit)))
        rows.append(f"<tr><th>{_e(outcome_label(col))}</th>{''.join(cells)}</tr>")
    return (f'<div class="fit"><table><thead><tr><th>Outcome</th>{head}</tr></thead><tbody>'
            f"{''.join(rows)}</tbody></table></div><p class=meta>Mean of per-seed differences "
            "(replicate k of each scenario shares its seed with the baseline's) and its 95% "
            "confidence interval; pp: percentage points.</p>")  # fmt: skip


def lever_table(data: BatchData) -> str:
    """Return the HTML table of a lever study: each lever's expected outcomes and their changes."""
    effects = lever_effects(data.results)
    rows = "".join(
        f"<tr><th>{_e(r.label)}<br><code>{_e(r.lever)}</code></th><td>{_e(r.step)}</td>"
        f"<td>{_e(r.outcome)}</td><td>{_e(r.expected)}</td><td class=num>{_e(r.down)}</td>"
        f"<td class=num>{_e(r.up)}</td><td>{_e(r.verdict)}</td></tr>"
        for r in change_rows(effects, data.metrics)
    )
    dead = "; ".join(f"{k} ({', '.join(v)})" for k, v in dead_levers(effects).items())
    return ("<table><thead><tr><th>Lever</th><th>Step down / up</th><th>Outcome</th>"
            "<th>Expected</th><th>Step down</th><th>Step up</th><th>Verdict</th></tr></thead>"
            f"<tbody>{rows}</tbody></table><p class=meta>Change from the unmoved scenario: mean "
            "over paired seeds and its 95% confidence interval, for the outcomes an analyst "
            "expects each lever to move (<code>levers.parquet</code> holds every outcome). "
            "Verdict: the interval of the swing (step up minus step down) excludes zero on the "
            "expected side (agrees) or on the other (opposite); dead: identical on every seed. "
            f"Dead levers: {_e(dead or 'none')}.</p>")  # fmt: skip


def _scenarios_section(data: BatchData) -> str:
    """Return the scenarios' descriptions and marked events."""
    colors = scenario_colors(data.scenarios)
    rows = []
    for name in data.scenarios:
        events = [e for e in data.events if name in e.scenarios]
        marks = "<br>".join(f"{e.date:%Y-%m} {_e(e.label)}" for e in events) or "–"
        rows.append(
            f'<tr><th><span class="swatch" style="background:{colors[name]}"></span>'
            f"{_e(name)}</th><td>{_e(data.description(name))}</td><td>{marks}</td></tr>"
        )
    return ("<table><thead><tr><th>Scenario</th><th>Description</th><th>Marked events</th>"
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table>")  # fmt: skip


def _design_section(data: BatchData) -> str:
    """Return a sweep's design: kind, size and parameters."""
    design = data.manifest.get("design") or {}
    sp = sweep_parameters(data)
    rows = []
    for column in sp.columns:
        values = data.runs[column] if column in data.runs.columns else pd.Series(dtype=float)
        span = (f"{values.min():.4g} to {values.max():.4g}" if pd.api.types.is_numeric_dtype(values)
                and len(values) else "–")  # fmt: skip
        rows.append(
            f"<tr><th>{_e(sp.labels[column])}</th><td>{values.nunique()}</td>"
            f'<td class="num">{_e(span)}</td></tr>'
        )
    return (f"<p>Design: <b>{_e(design.get('kind', 'unknown'))}</b>, "
            f"{data.runs['point_id'].nunique() if 'point_id' in data.runs else '?'} points, "
            f"{_e(data.manifest.get('replicates', '?'))} replicate(s) per point.</p>"
            "<table><thead><tr><th>Parameter</th><th>Distinct values</th><th>Range</th></tr>"
            f"</thead><tbody>{''.join(rows)}</tbody></table>")  # fmt: skip


def _provenance_section(manifest: dict[str, Any], folder: Path) -> str:
    """Return the provenance table from the manifest."""
    command = manifest.get("command")
    if isinstance(command, list):
        command = " ".join(str(c) for c in command)
    counts = manifest.get("counts") or {}
    items = [
        ("Folder", str(folder)),
        ("Command", command or "–"),
        ("Kind", manifest.get("kind")),
        ("Status", manifest.get("status")),
        ("Runs", ", ".join(f"{k}: {v}" for k, v in counts.items()) or "–"),
        ("Master seed", manifest.get("master_seed")),
        ("Replicates", manifest.get("replicates")),
        ("Started", manifest.get("started")),
        ("Finished", manifest.get("finished")),
        ("Git commit", manifest.get("git_commit") or "–"),
    ]
    rows = "".join(f"<tr><th>{_e(k)}</th><td><code>{_e(v)}</code></td></tr>" for k, v in items)
    versions = manifest.get("versions") or {}
    vrows = "".join(f"<tr><th>{_e(k)}</th><td><code>{_e(v)}</code></td></tr>"
                    for k, v in versions.items())  # fmt: skip
    out = f"<table><tbody>{rows}</tbody></table>"
    if vrows:
        out += f"<h3>Versions</h3><table><tbody>{vrows}</tbody></table>"
    if manifest.get("design"):
        text = json.dumps(manifest["design"], indent=2, default=str)
        out += f"<h3>Design</h3><pre>{_e(text)}</pre>"
    return out


def _figure_html(folder: Path, spec: FigureSpec) -> str:
    """Return one embedded figure with its caption (empty when its file is absent)."""
    png = folder / FIGURES_DIR / f"{spec.name}.png"
    if not png.is_file():
        return ""
    data = base64.b64encode(png.read_bytes()).decode("ascii")
    return (
        f'<figure id="fig-{_e(spec.name)}"><img alt="{_e(spec.caption)}" '
        f'src="data:image/png;base64,{data}"><figcaption>{_e(spec.caption)} '
        f"<code>{FIGURES_DIR}/{_e(png.name)}</code></figcaption></figure>"
    )


def _sections(pairs: Iterable[tuple[str, str]]) -> tuple[str, str]:
    """Return the table of contents and the body of ``(title, html)`` sections."""
    toc, body = [], []
    for i, (title, content) in enumerate(pairs):
        if content:
            toc.append(f'<li><a href="#s{i}">{_e(title)}</a></li>')
            body.append(f'<h2 id="s{i}">{_e(title)}</h2>{content}')
    return f"<nav><ul>{''.join(toc)}</ul></nav>", "".join(body)


def build_report(data: BatchData, specs: Sequence[FigureSpec], notes: Sequence[str] = ()) -> str:
    """Return the report's HTML text for a loaded folder whose figures are drawn.

    Args:
        data: The loaded folder.
        specs: Its standard figures (see :func:`sim.plots.render.plan_figures`).
        notes: Figures that were skipped, and why.

    Returns:
        A complete, self-contained HTML document.
    """
    m = data.manifest
    counts = m.get("counts") or {}
    warn = ""
    if m.get("status") != "complete" or counts.get("failed"):
        warn = (f'<p class="warn">Batch status: <b>{_e(m.get("status", "unknown"))}</b>; '
                f"{_e(counts.get('done', '?'))} of {_e(counts.get('total', '?'))} runs done, "
                f"{_e(counts.get('failed', 0))} failed. Figures and tables use the completed "
                "runs only.</p>")  # fmt: skip
    by_section: dict[str, list[str]] = {}
    for spec in specs:
        by_section.setdefault(spec.section, []).append(_figure_html(data.folder, spec))
    pairs: list[tuple[str, str]] = [("Scenarios", _scenarios_section(data))]
    if data.kind == "sweep":
        pairs.append(("Design", _design_section(data)))
        found = discovery_section(data.folder)
        if found is not None:
            pairs.append(("Scenario discovery", found))
    if data.kind == "levers":
        pairs.append(("Levers: change of the expected outcomes, paired by seed", lever_table(data)))
    else:
        pairs.append(("Summary: mean and 95% confidence interval per scenario",
                      summary_table(data)))  # fmt: skip
        pairs.append(("Difference from baseline, paired by seed", difference_table(data)))
    pairs += [(section, "".join(parts)) for section, parts in by_section.items()]
    if notes:
        pairs.append(("Figures not drawn", "<ul>" + "".join(f"<li>{_e(n)}</li>" for n in notes)
                      + "</ul>"))  # fmt: skip
    pairs.append(("Provenance", _provenance_section(m, data.folder)))
    toc, body = _sections(pairs)
    title = f"policysim {data.kind}: {data.folder.name}"
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{_e(title)}</h1><p class=meta>{_e(len(data.scenarios))} scenario(s), "
        f"{_e(len(data.ok_runs))} completed runs, master seed {_e(m.get('master_seed', '?'))}, "
        f"finished {_e(m.get('finished') or '–')}.</p>{warn}{toc}{body}</body></html>\n"
    )


def write_report(
    folder: Path | str, metrics: list[str] | None = None, progress: Progress | None = None
) -> Path:
    """Write ``<folder>/report.html``, drawing the standard figures first if they are missing.

    Args:
        folder: A batch or sweep folder.
        metrics: Metrics to show (default: all in time series, headline ones elsewhere).
        progress: Called as ``progress(done, total, name)`` after each figure drawn, and once
            more (``name`` ``report.html``) when the report is written.

    Returns:
        The report file.

    Raises:
        ResultsError: When the folder is missing, not a batch or sweep, or has no completed run.
    """
    data = load_batch(folder)
    specs = plan_figures(data, metrics)
    stale = _figures_current(data.folder, specs)
    notes: list[str] = []
    if stale:
        log.info("drawing %d figure(s) for the report", len(stale))
        _, notes = render(data, stale, "png", progress)
    text = build_report(data, specs, notes)
    target = data.folder / REPORT
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
        tmp.chmod(0o644)  # readable like any web page, not private like the temporary file
    if progress is not None:
        progress(len(stale), len(stale), REPORT)
    return target
