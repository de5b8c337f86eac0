"""How values of the outcome metrics' units are written, for every table, axis and terminal line.

US$ amounts are shown in trillions, billions or millions, shares in percent, counts as numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Scale:
    """How to show values of one unit on an axis: multiply by ``factor``, label with ``label``."""

    factor: float
    label: str
    prefix: str = ""
    suffix: str = ""


def unit_scale(unit: str, values: Sequence[float] | Any, *, flow: bool = False) -> Scale:
    """Choose the display scale of an axis from the unit and the largest value shown.

    Args:
        unit: The metric's unit.
        values: The values to be shown (any array-like of numbers).
        flow: The metric is a monthly flow (the label says "per month").

    Returns:
        The scale: US$ in trillions, billions or millions, shares in percent, others as they are.
    """
    per = " per month" if flow else ""
    if unit == "USD":
        finite = [abs(float(v)) for v in _flat(values) if math.isfinite(float(v))]
        top = max(finite, default=0.0)
        for factor, word, suffix in ((1e12, "trillion", "T"), (1e9, "billion", "B"),
                                     (1e6, "million", "M")):  # fmt: skip
            if top >= factor:
                return Scale(1.0 / factor, f"US$ {word}{per}", "US$", suffix)
        return Scale(1.0, f"US${per}", "US$")
    if unit == "share":
        return Scale(100.0, f"%{per}" if per else "%", "", "%")
    if unit == "count":
        return Scale(1.0, f"number{per}" if per else "number")
    return Scale(1.0, unit + per if unit else per.strip())


def _flat(values: Any) -> list[Any]:
    """Flatten an array-like of numbers into a list."""
    try:
        import numpy as np

        return list(np.asarray(values, dtype=float).ravel())
    except (TypeError, ValueError):
        return []


def format_number(value: float, digits: int = 3) -> str:
    """Format a number with ``digits`` significant digits, without exponents from 1e-4 up."""
    if not math.isfinite(value):
        return "–"
    if abs(value) >= 10 ** (digits - 1):
        return f"{value:,.0f}"
    if value != 0 and abs(value) < 1e-4:
        return f"{value:.{digits - 1}e}"
    return f"{value:.{digits}g}"


def format_value(value: float | None, unit: str, *, digits: int = 3) -> str:
    """Format one value with its unit for tables: ``US$4.42T``, ``61.2%``, ``7,632``.

    Args:
        value: The number.
        unit: Its unit.
        digits: Significant digits.

    Returns:
        The text (``–`` for a missing value).
    """
    return format_interval(value, None, None, unit, digits=digits)


def format_interval(
    mean: float | None, low: float | None, high: float | None, unit: str, *, digits: int = 3
) -> str:
    """Format a mean and its confidence interval on one scale: ``US$4.42T [4.31–4.53]``.

    Args:
        mean: The mean.
        low: The lower bound, or ``None``/NaN for no interval.
        high: The upper bound.
        unit: The unit (US$ amounts share the scale of the largest of the three).
        digits: Significant digits.

    Returns:
        The text (``–`` for a missing mean).
    """
    if mean is None or not math.isfinite(float(mean)):
        return "–"
    bounds = [float(b) for b in (low, high) if b is not None and math.isfinite(float(b))]
    if unit == "USD":
        scale = unit_scale("USD", [mean, *bounds])
    elif unit == "share":
        scale = Scale(100.0, "%", "", "%")
    else:
        scale = Scale(1.0, unit)
    shown = float(mean) * scale.factor
    sign = "-" if shown < 0 and scale.prefix else ""
    number = format_number(abs(shown) if sign else shown, digits)
    text = f"{sign}{scale.prefix}{number}{scale.suffix}"
    if len(bounds) == 2:
        lo, hi = (format_number(b * scale.factor, digits) for b in bounds)
        text += f" [{lo} to {hi}]"
    return text


def format_change(
    mean: float | None, low: float | None, high: float | None, unit: str, *, digits: int = 3
) -> str:
    """Format a difference and its interval like :func:`format_interval`, shares in points.

    A difference of two shares is written in percentage points: ``1.2 pp [0.8 to 1.6]``.
    """
    text = format_interval(mean, low, high, unit, digits=digits)
    return text.replace("%", " pp", 1) if unit == "share" else text


def format_usd(value: float) -> str:
    """Format a US$ amount on its own scale: ``US$1.23T``, ``US$4.5B`` or ``US$6.7M``."""
    return format_value(value, "USD")
