"""The look of every figure: scenario colours, units, labels and the matplotlib style.

Colours come from the Okabe-Ito palette (safe for the common forms of colour blindness). Each
shipped scenario has a fixed colour, the same in every figure; other scenarios get a colour derived
from their name, so a scenario keeps its colour from one figure and one batch to the next unless two
names in the same batch collide. Units come from the metric declarations: US$ amounts are shown in
trillions, billions or millions, shares in percent.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import textwrap
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

import matplotlib

from sim.model.metrics import METRICS
from sim.scenario.loader import BASELINE

OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

SCENARIO_COLORS: dict[str, str] = {
    "baseline": OKABE_ITO["black"],
    "crackdown": OKABE_ITO["vermillion"],
    "thaw": OKABE_ITO["bluish_green"],
    "export_controls": OKABE_ITO["blue"],
    "history_2020_2025": OKABE_ITO["reddish_purple"],
}
"""Fixed colours of the shipped scenarios."""

FALLBACK_COLORS: tuple[str, ...] = (
    OKABE_ITO["orange"], OKABE_ITO["sky_blue"], "#882255", "#117733", "#999933", "#332288",
    "#44AA99", "#AA4499", "#88CCEE", "#DDCC77",
)  # fmt: skip
"""Colours for other scenarios: the rest of Okabe-Ito, then Paul Tol's muted palette."""

KIND_COLORS: dict[str, str] = {
    "center": "#332288",
    "regulator": "#CC6677",
    "city": "#117733",
    "fund": "#DDCC77",
    "investors": "#88CCEE",
    "firm": "#AA4499",
}
"""Colours of stakeholder kinds (Paul Tol's muted palette, kept apart from scenario colours)."""

SCENARIO_LINESTYLES: dict[str, Any] = {
    "baseline": "-",
    "crackdown": "-",
    "thaw": (0, (5, 1.5)),
    "export_controls": (0, (6, 1.5, 1.5, 1.5)),
    "history_2020_2025": (0, (2.5, 1.2)),
}
"""Line styles of the shipped scenarios, so lines that coincide stay visible and print in grey."""

BASE_STYLE: dict[str, Any] = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "figure.titlesize": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "lines.linewidth": 1.6,
    "svg.hashsalt": "policysim",
    "pdf.fonttype": 42,
}
"""Matplotlib settings for figures readable at paper size (7 in wide, 8-10 pt text)."""

PAPER_WIDTH_IN = 7.0


@contextlib.contextmanager
def figure_style() -> Iterator[None]:
    """Apply the project's matplotlib style inside a block, without touching global settings."""
    with matplotlib.rc_context(cast("Any", BASE_STYLE)):
        yield


def scenario_colors(names: Iterable[str]) -> dict[str, str]:
    """Return a colour for each scenario name: fixed for shipped ones, derived for others.

    Args:
        names: The scenarios to colour.

    Returns:
        Name to hex colour. Shipped scenarios always get their colour from
        :data:`SCENARIO_COLORS`; others start at a position derived from a hash of their name in
        :data:`FALLBACK_COLORS` and move on to the next colour not already taken.
    """
    ordered = sorted(dict.fromkeys(names))
    out = {n: SCENARIO_COLORS[n] for n in ordered if n in SCENARIO_COLORS}
    used = set(out.values())
    for name in ordered:
        if name in out:
            continue
        start = int(hashlib.sha256(name.encode()).hexdigest(), 16) % len(FALLBACK_COLORS)
        for k in range(len(FALLBACK_COLORS)):
            color = FALLBACK_COLORS[(start + k) % len(FALLBACK_COLORS)]
            if color not in used:
                break
        else:
            color = FALLBACK_COLORS[start]
        out[name] = color
        used.add(color)
    return out


def scenario_linestyle(name: str) -> Any:
    """Return a scenario's line style: fixed for shipped ones, solid for others."""
    return SCENARIO_LINESTYLES.get(name, "-")


def order_scenarios(names: Iterable[str], baseline: str = BASELINE) -> list[str]:
    """Order scenarios for legends and tables: the baseline first, then the rest as given."""
    unique = list(dict.fromkeys(str(n) for n in names))
    return ([baseline] if baseline in unique else []) + [n for n in unique if n != baseline]


@dataclass(frozen=True)
class MetricInfo:
    """What the figures need to know about a metric (from its declaration).

    Attributes:
        name: Column name.
        unit: ``USD``, ``share``, ``count``, ``index`` or ``pull`` (a pull on the centre).
        description: One-sentence description.
        kind: ``stock`` or ``flow``.
    """

    name: str
    unit: str
    description: str
    kind: str


def metric_infos(manifest: Mapping[str, Any] | None = None) -> dict[str, MetricInfo]:
    """Return the metric declarations: the manifest's ``metrics``, else the declared ones.

    The declared ones are :data:`sim.model.metrics.METRICS`.

    Args:
        manifest: A batch manifest, or ``None``.

    Returns:
        Metric name to its declaration, in declaration order.
    """
    declared = (manifest or {}).get("metrics") or []
    out: dict[str, MetricInfo] = {}
    for item in declared:
        if isinstance(item, Mapping) and "name" in item:
            out[str(item["name"])] = MetricInfo(
                str(item["name"]), str(item.get("unit", "")), str(item.get("description", "")),
                str(item.get("kind", "stock")),
            )  # fmt: skip
    if not out:
        out = {m.name: MetricInfo(m.name, m.unit, m.description, m.kind) for m in METRICS}
    return out


_ACRONYMS = {"ai": "AI", "hhi": "HHI", "usd": "US$", "rd": "R&D"}


def humanize(name: str) -> str:
    """Turn a column name into words: ``ai_capability`` -> ``AI capability``."""
    words = [w for w in name.removesuffix("_usd").split("_") if w]
    text = " ".join(_ACRONYMS.get(w, w) for w in words)
    return text[:1].upper() + text[1:]


_OUTCOME_FORMS: dict[str, str] = {
    "peak_to_trough_loss_usd": "Market value loss, peak to trough",
    "max_drawdown": "Market value drawdown, peak to trough",
    "recovery_from_trough": "Market value recovery from trough",
}


def outcome_metric(key: str) -> str:
    """Return the metric an outcome key refers to (``final_hhi`` -> ``hhi``)."""
    for prefix in ("final_", "total_", "peak_", "trough_"):
        if key.startswith(prefix):
            return key.removeprefix(prefix)
    return key


def outcome_unit(key: str, infos: Mapping[str, MetricInfo]) -> str:
    """Return the unit of a summary outcome such as ``final_hhi`` or ``max_drawdown``."""
    if key in ("max_drawdown", "recovery_from_trough"):
        return "share"
    metric = outcome_metric(key)
    if metric in infos:
        return infos[metric].unit
    return "USD" if key.endswith("_usd") else ""


def outcome_bounds(key: str, infos: Mapping[str, MetricInfo]) -> tuple[float, float]:
    """Return the range an outcome's values cannot leave, for its confidence intervals.

    Counts and shares are never negative and shares of a whole never exceed one; a recovery
    from the trough is a share that may (a doubling is +100%).
    """
    unit = outcome_unit(key, infos)
    if unit == "count" or key == "recovery_from_trough":
        return 0.0, math.inf
    if unit == "share":
        return 0.0, 1.0
    return -math.inf, math.inf


def outcome_label(key: str) -> str:
    """Return an outcome's label: ``final_market_value_usd`` -> ``Market value, end``."""
    if key in _OUTCOME_FORMS:
        return _OUTCOME_FORMS[key]
    for prefix, suffix in (("final_", "end"), ("total_", "total"), ("peak_", "peak"),
                           ("trough_", "trough")):  # fmt: skip
        if key.startswith(prefix):
            return f"{humanize(key.removeprefix(prefix))}, {suffix}"
    return humanize(key)


PANEL_TITLE_WIDTH = 24  # characters per line of a panel title, at three panels per row


def panel_title(ax: Any, outcome: str) -> None:
    """Title a panel with the outcome's label, wrapped to fit three panels per row."""
    ax.set_title(textwrap.fill(outcome_label(outcome), PANEL_TITLE_WIDTH), loc="left", fontsize=9)
