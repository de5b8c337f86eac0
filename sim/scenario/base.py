"""The building blocks of the scenario schema: domains, dimensions, months, the frozen base."""

from __future__ import annotations

import functools
import re
from typing import Annotated, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

Domain = Literal["data", "antitrust", "fintech", "industry", "trade"]
DOMAINS: tuple[Domain, ...] = ("data", "antitrust", "fintech", "industry", "trade")
DIMENSIONS: tuple[str, ...] = ("platform_stringency", "self_reliance")
FREEZE_KINDS: tuple[str, ...] = ("listing_halt", "app_removal", "licence_freeze")

Dimension = Literal["platform_stringency", "self_reliance"]
FreezeKind = Literal["listing_halt", "app_removal", "licence_freeze"]
Unit = Annotated[float, Field(ge=0.0, le=1.0)]
Clout = Annotated[float, Field(ge=0.0, le=1000.0)]
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


class LimitError(ValueError):
    """A field is above the field of the same model that caps it (see :attr:`Frozen.caps`).

    Args:
        field: The capped field's name.
        value: Its value.
        limit: The name of the field that caps it.
        cap: The cap's value.
    """

    def __init__(self, field: str, value: float, limit: str, cap: float) -> None:
        self.field = field
        self.value = value
        self.limit = limit
        self.cap = cap
        super().__init__(f"{field}: {value} is above {limit} {cap}; allowed: {field} <= {limit}")


class Frozen(BaseModel):
    """Base of every schema model: frozen, strict about keys, finite numbers only."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    #: Fields capped by another field of the same model, ``{field: limiting field}``: the
    #: field's valid range is its stated range cut at the other field's value.
    caps: ClassVar[dict[str, str]] = {}

    @model_validator(mode="after")
    def _within_caps(self) -> Self:
        for name, limit in self.caps.items():
            value, cap = getattr(self, name), getattr(self, limit)
            if value > cap:
                raise LimitError(name, value, limit, cap)
        return self


def parse_month(value: object) -> str:
    """Normalize a month given as ``YYYY-MM`` (or a date) to ``YYYY-MM``.

    Args:
        value: A string such as ``"2021-04"`` or a ``datetime.date``.

    Returns:
        The month as ``YYYY-MM``.

    Raises:
        ValueError: When the value is not a month between 1900-01 and 2200-12.
    """
    if hasattr(value, "year") and hasattr(value, "month"):
        value = f"{value.year}-{value.month:02d}"
    if not isinstance(value, str):
        raise ValueError(f"expected a month as YYYY-MM (e.g. 2021-04), got {value!r}")
    return _month_of_text(value)


@functools.lru_cache(maxsize=4096)
def _month_of_text(value: str) -> str:
    """Return :func:`parse_month` of text (remembered).

    A scenario's events are validated again with each variant of it (a sweep's design points),
    their dates among the rest.
    """
    match = _MONTH.match(value.strip())
    if not match or not (1 <= int(match.group(2)) <= 12) or not 1900 <= int(match.group(1)) <= 2200:
        raise ValueError(f"expected a month as YYYY-MM (e.g. 2021-04), got {value!r}")
    return f"{int(match.group(1)):04d}-{int(match.group(2)):02d}"


def month_index(month: str, start: str) -> int:
    """Return the number of months from ``start`` to ``month`` (both ``YYYY-MM``)."""
    y1, m1 = (int(x) for x in month.split("-"))
    y0, m0 = (int(x) for x in start.split("-"))
    return (y1 - y0) * 12 + (m1 - m0)


Month = Annotated[str, Field(description="A month as YYYY-MM.")]
