"""The timeline's event types: dated decisions and shocks a scenario schedules."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import Field, field_validator, model_validator

from sim.scenario.base import (
    FreezeKind,
    Frozen,
    Month,
    Unit,
    parse_month,
)


class EventBase(Frozen):
    """Fields every timeline event has."""

    date: Month
    label: str = Field("", description="Short text used when the event is marked on plots.")
    mark: bool = Field(False, description="Mark the event on time-series plots.")

    @field_validator("date", mode="before")
    @classmethod
    def _month(cls, value: object) -> str:
        return parse_month(value)


class StanceEvent(EventBase):
    """The central leadership's stance from this month on."""

    type: Literal["stance"]
    platform_stringency: Unit
    self_reliance: Unit


class MacroEvent(EventBase):
    """Annual GDP growth and global risk appetite from this month on."""

    type: Literal["macro"]
    gdp_growth: Annotated[float, Field(ge=-0.3, le=0.3)]
    risk_appetite: Annotated[float, Field(ge=-1.0, le=1.0)] = Field(
        0.0, description="Global investors' risk appetite (lowers the discount rate when positive)."
    )
    growth_target: Annotated[float, Field(ge=-0.3, le=0.3)] | None = Field(
        None,
        description="The official annual GDP growth target from this month on (the centre judges "
        "its growth gap against it); left out, the last target stays (none: no growth gap).",
    )


class SignalEvent(EventBase):
    """A confidence signal from outside the model: positive is supportive, negative is alarming.

    It acts on one of investors' named beliefs (``belief``), which then evolves with what they
    observe: the perceived probe hazard (a read-across from another sector's crackdown, a
    political signal) or the risk of a forced foreign delisting (a US delisting threat), which
    only firms listed abroad bear. Cities read its strength as confidence, fading with
    ``half_life_months``.
    """

    type: Literal["signal"]
    strength: Annotated[float, Field(ge=-1.0, le=1.0)]
    half_life_months: Annotated[float, Field(gt=0.0, le=240.0)] = 6.0
    belief: Literal["probe_hazard", "foreign_listing"] = Field(
        "probe_hazard", description="The investors' belief the signal acts on."
    )


class ExportControlEvent(EventBase):
    """Foreign export controls: the share of foreign AI-chip supply blocked from this month on."""

    type: Literal["export_control"]
    blocked_share: Unit


class SourcingRuleEvent(EventBase):
    """A state sourcing rule: the minimum domestic share of new compute purchases."""

    type: Literal["sourcing_rule"]
    domestic_share_required: Unit
    power_subsidy: Unit = Field(0.0, description="Price discount on domestic compute.")


class FundCapitalEvent(EventBase):
    """New capital for a fund (e.g. a Big Fund phase)."""

    type: Literal["fund_capital"]
    fund: str
    capital_cny_bn: Annotated[float, Field(ge=0.0, le=1e5)]


class FineEvent(EventBase):
    """A fine decision on a named firm by a regulator.

    Its amount follows the regulator's rule (``fine_rate`` x the firm's domestic annual revenue,
    capped at ``legal_cap``) unless the decision pins a recorded share or amount.
    """

    type: Literal["fine"]
    firm: str
    regulator: str
    share_of_revenue: Annotated[float, Field(gt=0.0, le=0.5)] | None = Field(
        None, description="A pinned fine as a share of domestic annual revenue."
    )
    amount_cny_bn: Annotated[float, Field(gt=0.0, le=1e4)] | None = Field(
        None, description="A pinned (recorded) fine, billion CNY."
    )

    @model_validator(mode="after")
    def _one_size(self) -> FineEvent:
        if self.share_of_revenue is not None and self.amount_cny_bn is not None:
            raise ValueError(
                "give at most one of share_of_revenue or amount_cny_bn "
                "(neither: the regulator's fine_rate)"
            )
        return self


class FreezeEvent(EventBase):
    """A freeze imposed on a named firm (listing halt, app removal or licence freeze)."""

    type: Literal["freeze"]
    firm: str
    regulator: str
    kind: FreezeKind
    months: Annotated[int, Field(ge=1, le=600)]


class InvestigationEvent(EventBase):
    """An investigation opened into a named firm; it closes by the enforcement pyramid."""

    type: Literal["investigation"]
    firm: str
    regulator: str
    months: Annotated[int, Field(ge=1, le=60)]


class GoldenShareEvent(EventBase):
    """A golden-share fund takes a stake in a named firm."""

    type: Literal["golden_share"]
    firm: str
    fund: str


class ListingEvent(EventBase):
    """A firm lists (IPO); it is refused while a listing halt is in force."""

    type: Literal["listing"]
    firm: str
    market_value_usd_bn: Annotated[float, Field(ge=0.0, le=1e5)] | None = None


class DealEvent(EventBase):
    """A cooperation deal between a city and a named firm."""

    type: Literal["deal"]
    city: str
    firm: str
    amount_cny_bn: Annotated[float, Field(ge=0.0, le=1e4)]


EVENT_MODELS: tuple[type[EventBase], ...] = (
    StanceEvent, MacroEvent, SignalEvent, ExportControlEvent, SourcingRuleEvent, FundCapitalEvent,
    FineEvent, FreezeEvent, InvestigationEvent, GoldenShareEvent, ListingEvent, DealEvent,
)  # fmt: skip
Event = Annotated[
    StanceEvent
    | MacroEvent
    | SignalEvent
    | ExportControlEvent
    | SourcingRuleEvent
    | FundCapitalEvent
    | FineEvent
    | FreezeEvent
    | InvestigationEvent
    | GoldenShareEvent
    | ListingEvent
    | DealEvent,
    Field(discriminator="type"),
]
#: The event types, read from each event model's ``type`` literal.
EVENT_TYPES: tuple[str, ...] = tuple(
    get_args(model.model_fields["type"].annotation)[0] for model in EVENT_MODELS
)
