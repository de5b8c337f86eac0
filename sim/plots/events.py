"""The policy events marked on time-series figures, and the jumps each metric shows.

Events with ``mark: true`` in a scenario's timeline are marked on every time-series figure. A
metric also jumps at events that act on it directly although nobody marked them: fines on the
fines metrics, freezes on the count of freezes in force (when they start, and when their months
run out, which the model decides and no timeline names), investigations, golden shares, fund
capital, deals and listings on theirs. :func:`timeline_events` adds those to the figures of the
metrics they move, merged with a marked event of the same month when there is one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

EVENT_METRICS: dict[str, tuple[str, ...]] = {
    "fine": ("fines_count", "fines_value_usd"),
    "freeze": ("freezes_active",),
    "investigation": ("open_investigations",),
    "golden_share": ("golden_shares",),
    "fund_capital": ("fund_capital_deployed_usd",),
    "deal": ("deals_signed", "subsidies_usd"),
    "listing": ("market_value_usd", "unlisted_value_usd"),
}
"""The metrics each kind of timeline event moves at once."""


@dataclass(frozen=True)
class Event:
    """A policy event marked on time-series figures.

    Attributes:
        date: First day of the event's month.
        label: The text shown in the key.
        scenarios: The scenarios whose timeline has it.
    """

    date: pd.Timestamp
    label: str
    scenarios: tuple[str, ...]


def _month(text: object, plus: int = 0) -> str:
    """Return ``YYYY-MM`` of a timeline date, ``plus`` months later."""
    period = pd.Period(str(text)[:7], freq="M") + plus
    return f"{period.year:04d}-{period.month:02d}"


def _describe(event: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """Return ``(month, what, who)`` of each change an unmarked event makes to its metrics."""
    kind, firm = event.get("type"), str(event.get("firm", ""))
    start = _month(event["date"])
    if kind == "freeze":
        what = str(event.get("kind", "freeze")).replace("_", " ")
        months = int(event.get("months") or 0)
        ends = [(_month(event["date"], months), f"{what} ends", firm)] if months else []
        return [(start, what, firm), *ends]
    if kind == "fund_capital":
        return [(start, "new capital", str(event.get("fund", "")))]
    if kind == "deal":
        return [(start, "city deal", f"{event.get('city', '')} with {firm}")]
    verb = {"fine": "fined", "investigation": "probe opened", "golden_share": "golden share",
            "listing": "listing"}.get(str(kind))  # fmt: skip
    return [(start, verb, firm)] if verb else []


def timeline_events(
    resolved: Mapping[str, Any], scenarios: Iterable[str], metric: str | None = None
) -> list[Event]:
    """Return the events to mark, for every figure or for one metric's figures.

    Args:
        resolved: Each scenario's resolved fields (the manifest's ``resolved_scenarios``).
        scenarios: The scenarios shown.
        metric: A metric: add the unmarked events that move it (see :data:`EVENT_METRICS`).

    Returns:
        The events sorted by date; events of one month and label are merged across scenarios,
        and a metric's own events join the marked event of their month.
    """
    marked: dict[tuple[str, str], list[str]] = {}
    extra: dict[str, dict[str, dict[str, list[str]]]] = {}
    for name in scenarios:
        timeline = (resolved.get(name) or {}).get("timeline") or {}
        items = timeline.values() if isinstance(timeline, dict) else timeline
        for event in items:
            if not isinstance(event, dict) or not event.get("date"):
                continue
            if event.get("mark"):
                label = str(event.get("label") or event.get("type") or "event")
                marked.setdefault((_month(event["date"]), label), []).append(name)
            elif metric is not None and metric in EVENT_METRICS.get(str(event.get("type")), ()):
                for month, what, who in _describe(event):
                    whom = extra.setdefault(month, {}).setdefault(what, {})
                    whom.setdefault(who, []).append(name)
    events = {key: Event(pd.Timestamp(f"{key[0]}-01"), key[1], tuple(names))
              for key, names in marked.items()}  # fmt: skip
    for month, changes in extra.items():
        names = tuple(dict.fromkeys(n for whom in changes.values() for group in whom.values()
                                    for n in group))  # fmt: skip
        added = "; ".join(f"{what}: {', '.join(whom)}" for what, whom in changes.items())
        key = next((k for k in events if k[0] == month), None)
        if key is None:
            events[(month, added)] = Event(pd.Timestamp(f"{month}-01"), added, names)
        else:
            old = events[key]
            merged = tuple(dict.fromkeys((*old.scenarios, *names)))
            events[key] = Event(old.date, f"{old.label}; {added}", merged)
    return sorted(events.values(), key=lambda e: (e.date, e.label))
