"""The typed, frozen schema of a scenario.

A scenario is data: named actors (regulators, cities, funds, firms), behavioural parameters and a
timeline of dated events. Every model here forbids unknown keys and non-finite numbers and
declares its bounds, so that a bad value is refused with the allowed range.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from sim.scenario.base import (
    Clout,
    Dimension,
    Domain,
    FreezeKind,
    Frozen,
    Month,
    Unit,
    parse_month,
)
from sim.scenario.events import Event
from sim.scenario.params import ListTuple, Params


class Positions(Frozen):
    """A stakeholder's ideal position on each policy dimension (0 = lax, 1 = strict)."""

    platform_stringency: Unit = 0.3
    self_reliance: Unit = 0.3


class StakeholderSpec(Frozen):
    """Influence attributes shared by every stakeholder."""

    full_name: str = Field("", description="Full name of the actor.")
    clout: Clout = Field(
        1.0, description="Capability in the influence game (Bueno de Mesquita c_i)."
    )
    salience: Unit = Field(0.5, description="How much the actor cares about platform policy (s_i).")
    susceptibility: Unit = Field(
        0.5, description="Friedkin-Johnsen susceptibility: weight on others versus own anchor."
    )
    source: str = Field("", description="Where the actor's figures come from.")
    position: Positions = Field(
        default_factory=Positions, description="Ideal position on the policy dimensions."
    )


class RegulatorSpec(StakeholderSpec):
    """A central regulator."""

    domain: Domain = Field(description="The risk domain it enforces.")
    dimension: Dimension = Field(
        "platform_stringency", description="The policy dimension its stringency follows."
    )
    mandate: Annotated[float, Field(ge=-0.5, le=0.5)] = Field(
        0.0, description="Offset of its stringency from the effective policy of its dimension."
    )
    capacity: Annotated[float, Field(ge=0.0, le=100.0)] = Field(
        1.0, description="New investigations per month at stringency 1."
    )
    fine_rate: Annotated[float, Field(ge=0.0, le=0.5)] = Field(
        0.03, description="Fine as a share of the target's domestic annual revenue."
    )
    legal_cap: Annotated[float, Field(ge=0.0, le=0.5)] = Field(
        0.10, description="Legal cap of a fine as a share of annual revenue."
    )
    investigation_months: Annotated[
        tuple[Annotated[int, Field(ge=1, le=60)], Annotated[int, Field(ge=1, le=60)]], ListTuple
    ] = Field((3, 9), description="Shortest and longest investigation, months.")
    p_fine: Unit = Field(0.6, description="Escalation propensity to a fine at full pressure.")
    p_freeze: Unit = Field(0.2, description="Escalation propensity to a freeze at full pressure.")
    freeze_kind: FreezeKind = Field("app_removal", description="The freeze it imposes.")
    freeze_months: Annotated[int, Field(ge=1, le=120)] = Field(6, description="Freeze length.")

    caps: ClassVar[dict[str, str]] = {"fine_rate": "legal_cap"}

    @model_validator(mode="after")
    def _ordered_months(self) -> RegulatorSpec:
        lo, hi = self.investigation_months
        if lo > hi:
            raise ValueError(f"investigation_months must be [shortest, longest], got [{lo}, {hi}]")
        return self


class CitySpec(StakeholderSpec):
    """A municipal government."""

    growth_target: Annotated[float, Field(ge=-0.2, le=0.3)] = Field(
        0.06, description="Annual GDP growth target the city is judged on."
    )
    budget_cny_bn: Annotated[float, Field(ge=0.0, le=1e4)] = Field(
        20.0, description="Annual budget for deals and subsidies, billion CNY."
    )
    caution: Unit = Field(0.5, description="How far the city follows the centre's signals.")
    home_pull: Annotated[float, Field(ge=0.0, le=100.0)] = Field(
        4.0, description="Weight on courting its own hosted firms relative to others."
    )


class FundSpec(StakeholderSpec):
    """An investment fund or investor group."""

    kind: Literal["golden_share", "chip", "guidance", "investors"]
    capital_cny_bn: Annotated[float, Field(ge=0.0, le=1e5)] = Field(
        0.0, description="Capital available at the start, billion CNY."
    )
    deploy_rate: Unit = Field(0.03, description="Share of undeployed capital invested per month.")
    stake_propensity: Unit = Field(
        0.0, description="Golden-share fund: monthly chance scale of taking a stake."
    )

    @model_validator(mode="after")
    def _fields_of_its_kind(self) -> FundSpec:
        for name, kinds in FUND_FIELD_KINDS.items():
            default = type(self).model_fields[name].default
            if getattr(self, name) != default and self.kind not in kinds:
                raise ValueError(
                    f"{name} is not used by a fund of kind {self.kind}; "
                    f"allowed for kinds: {', '.join(kinds)}"
                )
        return self


#: Fund fields that only some kinds of fund read, and those kinds (another kind must leave them
#: at their defaults).
FUND_FIELD_KINDS: dict[str, tuple[str, ...]] = {
    "capital_cny_bn": ("golden_share", "chip", "guidance"),
    "deploy_rate": ("chip", "guidance"),
    "stake_propensity": ("golden_share",),
}


class FirmSpec(StakeholderSpec):
    """A platform firm (or a domestic AI-chip maker)."""

    hq: str = Field(description="Headquarters city (a key of `cities`).")
    sector: str = Field(
        min_length=1,
        description="Primary sector: the market whose concentration (HHI) its revenue counts in.",
    )
    revenue_cny_bn: Annotated[float, Field(gt=0.0, le=1e5)] = Field(
        description="Annual revenue at the start, billion CNY."
    )
    revenue_growth: Annotated[float, Field(ge=-0.9, le=3.0)] = Field(
        0.2, description="Underlying annual revenue growth before policy effects."
    )
    domestic_share: Unit = Field(0.9, description="Share of revenue earned in mainland China.")
    margin: Annotated[float, Field(ge=-1.0, le=1.0)] = Field(
        0.15, description="Operating margin before the policy-sensitive budget."
    )
    cash_cny_bn: Annotated[float, Field(ge=0.0, le=1e5)] = Field(
        10.0, description="Cash at the start, billion CNY."
    )
    market_value_usd_bn: Annotated[float, Field(ge=0.0, le=1e5)] = Field(
        description="Market (or private) value at the start, billion US$."
    )
    listed: bool = Field(True, description="Listed at the start (counts in market value).")
    listed_abroad: bool = Field(
        False,
        description="Listed (or to list) in the United States, so exposed to a delisting threat.",
    )
    exposure: dict[Domain, Unit] = Field(
        default_factory=dict, description="Risk exposure per domain (missing domains: 0.1)."
    )
    alignment: Unit = Field(0.4, description="Initial alignment with state goals a.")
    rd_intensity: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        0.08, description="R&D spend as a share of revenue."
    )
    compute: Annotated[float, Field(ge=0.0, le=1e6)] = Field(
        1.0, description="AI compute stock at the start (index, 1 = a large platform in 2020)."
    )
    foreign_chip_share: Unit = Field(0.9, description="Foreign share of the compute stock.")
    ai_capability: Annotated[float, Field(ge=0.0, le=1e6)] = Field(
        1.0, description="AI capability index at the start."
    )
    chip_maker: bool = Field(False, description="Supplies domestic AI chips.")
    golden_share: bool = Field(False, description="A state golden share is held at the start.")


class Scenario(Frozen):
    """A fully resolved scenario: actors, parameters and timeline."""

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    extends: str | list[str] | None = Field(
        None, description="The scenario(s) this one extends, merged in order."
    )
    start: Month = Field("2020-01", description="First simulated month.")
    months: Annotated[int, Field(ge=1, le=1200)] = Field(72, description="Months to simulate.")
    n_synthetic_firms: Annotated[int, Field(ge=0, le=5_000_000)] = Field(
        0, description="Size of the synthetic long tail of smaller firms."
    )
    regulators: dict[str, RegulatorSpec]
    cities: dict[str, CitySpec]
    funds: dict[str, FundSpec]
    firms: dict[str, FirmSpec]
    centre: Literal["free", "pinned"] = Field(
        "free",
        description="free: the centre's position moves by its rules (priorities, outcomes, "
        "stakeholders) and stance events are shocks to it; pinned: its position is the latest "
        "stance event's, held regardless of outcomes.",
    )
    params: Params = Field(default_factory=Params)
    timeline: dict[str, Event] = Field(default_factory=dict)

    @field_validator("start", mode="before")
    @classmethod
    def _start(cls, value: object) -> str:
        return parse_month(value)

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        for name, firm in self.firms.items():
            _check_ref(firm.hq, self.cities, f"firms.{name}.hq", "city")
        if not self.firms:
            raise ValueError("firms: at least one firm is needed")
        tables = (
            ("firm", self.firms, "firm"),
            ("regulator", self.regulators, "regulator"),
            ("fund", self.funds, "fund"),
            ("city", self.cities, "city"),
        )
        for key, event in self.timeline.items():
            # An event's fields are in its __dict__; getattr on a kind without the field would
            # go through pydantic's __getattr__ and an AttributeError, the dearest part of a
            # validation (a sweep validates each design point's scenario).
            fields = vars(event)
            for attr, table, what in tables:
                ref = fields.get(attr)
                if ref is not None:
                    _check_ref(ref, table, f"timeline.{key}.{attr}", what)
        return self


def _check_ref(ref: str, table: Mapping[str, object], path: str, what: str) -> None:
    """Raise when ``ref`` is not a key of ``table``.

    Args:
        ref: The referenced name.
        table: The actors of that kind.
        path: Dotted field path, for the message.
        what: The kind of actor, for the message.

    Raises:
        ValueError: When the name is unknown; the message lists the allowed names.
    """
    if ref not in table:
        allowed = ", ".join(sorted(table))
        raise ValueError(f"{path}: unknown {what} {ref!r}; allowed: {allowed}")
