"""Behavioural parameters of the model, grouped by submodel, with bounds and meanings.

Defaults are the calibrated values; ``docs/ODD.md`` explains each one. Bounds are the ranges a
sweep or a calibration may explore and the range a scenario may set.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

Weight = Annotated[float, Field(ge=0.0, le=100.0)]


def as_tuple(value: object) -> object:
    """Return a list as a tuple: files give lists where the schema keeps fixed-length tuples.

    Scenarios are validated in strict mode (no silent type conversion), which would otherwise
    refuse a YAML list for a tuple field.
    """
    return tuple(value) if isinstance(value, list) else value


ListTuple = BeforeValidator(as_tuple)


def _p(default: float, lo: float, hi: float, description: str) -> float:
    """Declare a bounded float parameter.

    Args:
        default: The default (calibrated) value.
        lo: Lowest allowed value.
        hi: Highest allowed value.
        description: What the parameter means, with its unit.

    Returns:
        A pydantic field (typed as float for the checker).
    """
    return Field(default, ge=lo, le=hi, description=description)


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class InfluenceParams(_Group):
    """Stakeholder influence (Friedkin-Johnsen) and the effective policy."""

    center_clout: float = _p(
        12.0, 0.0, 1000.0, "Clout of the central leadership, the heaviest voice."
    )
    center_salience: float = _p(1.0, 0.0, 1.0, "Salience of platform policy for the centre.")
    tie_weight: float = _p(
        2.0, 0.0, 50.0, "Extra listening weight a tie (deal, golden share) adds."
    )
    engagement_tie: float = _p(
        0.1, 0.0, 50.0, "Monthly tie of the centre and regulators to a firm per unit engagement."
    )
    tie_decay: float = _p(0.02, 0.0, 1.0, "Monthly decay of ties.")
    cooptation: float = _p(
        0.02, 0.0, 1.0, "Monthly drift of a tied actor's anchor toward the state."
    )


class CentreParams(_Group):
    """The central leadership's rules when it is free: what moves its position each month."""

    speed: float = _p(
        0.1, 0.0, 1.0, "Share of the summed pulls by which the centre's position moves a month."
    )
    priority_weight: float = _p(
        2.0, 0.0, 20.0,
        "Pull toward its own priorities (control, security, self-reliance: its anchor) per unit "
        "of distance.",
    )
    stakeholder_weight: float = _p(
        0.25, 0.0, 20.0,
        "Pull toward the stakeholders' clout-and-salience-weighted position per unit of distance.",
    )
    growth_weight: float = _p(
        80.0, 0.0, 100.0,
        "Pull on platform stringency per unit of the growth gap (GDP growth minus the official "
        "target, annual; positive gap tightens, negative eases).",
    )
    jobs_weight: float = _p(
        0.5, 0.0, 100.0,
        "Pull on platform stringency per unit of the jobs gap (annual growth of the jobs index "
        "minus jobs_growth_norm).",
    )
    jobs_growth_norm: float = _p(
        0.12, -0.5, 1.0, "Annual growth of the jobs index the centre counts as enough."
    )
    value_weight: float = _p(
        0.25, 0.0, 20.0,
        "Easing of platform stringency per unit of total platform market value's fall from its "
        "running peak (0-1).",
    )
    ai_weight: float = _p(
        0.3, 0.0, 20.0,
        "Easing of platform stringency, and push on self-reliance, per unit of log AI capability "
        "behind rivals.",
    )
    rival_ai_growth: float = _p(
        0.25, 0.0, 5.0, "Annual growth of rivals' AI capability (the frontier, 1 at the start)."
    )
    priority_drift: float = _p(
        0.1, 0.0, 1.0,
        "Monthly drift of the centre's priorities (anchor) toward the position it holds: a line "
        "held for long becomes its own.",
    )
    announce_weight: float = _p(
        10.0, 0.0, 100.0,
        "Strength of the confidence signal investors hear per unit of a month's easing by the "
        "centre (its turn announced); the signal's half-life is memory_months.",
    )
    memory_months: float = _p(
        12.0, 1.0, 60.0, "Months over which the centre averages growth and jobs to judge gaps."
    )


class EnforcementParams(_Group):
    """Regulators' stringency, targeting and the enforcement pyramid."""

    stringency_speed: float = _p(0.35, 0.0, 1.0, "Monthly adjustment of stringency to policy.")
    targeting_power: float = _p(1.0, 0.0, 5.0, "Exponent on firm size in target selection.")
    stringency_power: float = _p(3.5, 0.5, 6.0, "Exponent turning stringency into investigations.")
    full_pressure: float = _p(
        1.0 / 3.0, 0.01, 1.0,
        "Pyramid pressure at which a regulator's escalation propensities apply in full.",
    )
    strike_weight: float = _p(0.25, 0.0, 2.0, "Pyramid escalation per recent sanction (strike).")
    strike_decay: float = _p(0.04, 0.0, 1.0, "Monthly decay of strikes.")
    fine_compliance_jump: float = _p(
        0.6, 0.0, 1.0, "Share of the gap to full compliance closed by a fine."
    )
    order_compliance_jump: float = _p(0.15, 0.0, 1.0, "Same, for a rectification order.")
    freeze_compliance_jump: float = _p(0.4, 0.0, 1.0, "Same, for a freeze.")


class FirmParams(_Group):
    """Firms' budget split and responses."""

    budget_share: float = _p(
        0.12, 0.0, 1.0, "Share of revenue spent on the four policy-sensitive uses."
    )
    pressure_response: float = _p(
        5.0, 0.0, 100.0,
        "How strongly the expected cost of enforcement, relative to the firm's own compliance "
        "budget, shifts budget to compliance.",
    )
    support_response: float = _p(
        1.5, 0.0, 20.0, "How strongly supportive policy shifts budget to expansion."
    )
    compliance_efficiency: float = _p(
        0.05, 0.0, 1.0, "Compliance gained per unit of compliance effort."
    )
    compliance_decay: float = _p(0.01, 0.0, 1.0, "Monthly erosion of compliance without effort.")
    expansion_growth: float = _p(0.15, 0.0, 2.0, "Extra annual growth at full expansion effort.")
    expansion_exposure: float = _p(
        0.01, 0.0, 1.0, "Monthly rise in antitrust exposure at full expansion."
    )
    freeze_growth_penalty: float = _p(
        0.15, 0.0, 2.0, "Annual growth lost while an app or licence is frozen."
    )
    alignment_drift: float = _p(
        0.01, 0.0, 1.0, "Monthly drift of alignment toward the state's push."
    )
    golden_share_alignment: float = _p(
        0.3, 0.0, 1.0, "Alignment jump when a golden share is taken."
    )
    golden_share_compliance: float = _p(
        0.1, 0.0, 1.0, "Compliance jump when a golden share is taken."
    )
    cash_constraint: float = _p(
        0.3, 0.0, 1.0, "Expansion weight kept by a firm whose cash is exhausted."
    )
    macro_beta: float = _p(1.0, 0.0, 5.0, "Sensitivity of firm growth to GDP growth above 6%.")
    long_run_growth: float = _p(0.05, -0.5, 1.0, "Annual growth that underlying growth reverts to.")
    growth_reversion: float = _p(0.05, 0.0, 1.0, "Monthly reversion of underlying growth.")
    base_split: Annotated[tuple[Weight, Weight, Weight, Weight], ListTuple] = Field(
        (1.0, 1.5, 2.0, 0.5),
        description="Base budget weights of compliance, R&D, expansion and engagement.",
    )


class ValuationParams(_Group):
    """Private and foreign investors: their beliefs, discount rate and valuation."""

    discount_rate: float = _p(
        0.10, 0.0, 0.5,
        "Investors' discount rate at the start (the start's regulatory uncertainty priced in), "
        "per year.",
    )
    horizon_years: float = _p(
        30.0, 1.0, 40.0, "Years of expected cash flow investors value."
    )
    b_uncertainty: float = _p(
        0.12, 0.0, 2.0, "Discount rate added per unit of regulatory uncertainty."
    )
    signal_weight: float = _p(
        3.5, 0.0, 10.0,
        "Change of investors' log perceived probe rate per unit of (negative) outside signal.",
    )
    hazard_learning: float = _p(
        0.1, 0.0, 1.0, "Monthly weight investors give the probes they observe in their belief."
    )
    foreign_listing_jump: float = _p(
        0.05, 0.0, 1.0,
        "Foreign-listing risk (discount rate on firms listed abroad) per unit of negative "
        "delisting signal.",
    )
    foreign_listing_halflife: float = _p(
        12.0, 0.5, 240.0, "Half-life of the foreign-listing risk when nothing happens, months."
    )
    b_risk_appetite: float = _p(
        0.02, 0.0, 1.0, "Discount rate removed per unit of global risk appetite."
    )
    volatility_scale: float = _p(
        20.0, 0.0, 200.0, "Uncertainty per unit of mean monthly policy change."
    )
    b_golden_share: float = _p(
        0.01, 0.0, 0.2, "Discount rate removed by a golden share (lower policy risk)."
    )
    b_export_control: float = _p(
        0.05, 0.0, 1.0, "Discount rate per unit of blocked foreign chips x dependence."
    )
    adjust_speed: float = _p(
        0.15, 0.0, 1.0, "Monthly adjustment of the discount rate to its target."
    )
    uncertainty_halflife: float = _p(6.0, 0.5, 60.0, "Half-life of policy volatility, months.")
    easing_weight: float = _p(
        0.1, 0.0, 1.0, "Weight of an easing move relative to a tightening move in volatility."
    )
    sanction_saturation: float = _p(
        7.0, 0.1, 100.0, "Market sanction memory at which its uncertainty reaches tanh(1)."
    )
    sanction_halflife: float = _p(
        36.0, 0.5, 240.0, "Half-life of investors' memory of sanctions, months."
    )
    usd_per_cny: float = _p(0.145, 0.01, 1.0, "Exchange rate, US$ per CNY.")


class CityParams(_Group):
    """Municipal deals, subsidies and lobbying."""

    growth_memory_months: float = _p(
        12.0, 1.0, 60.0, "Months over which a city averages GDP growth to judge its gap."
    )
    deal_rate: float = _p(0.6, 0.0, 10.0, "Deals per month at full growth gap and full support.")
    gap_scale: float = _p(0.02, 0.001, 1.0, "Growth gap (annual) that counts as a full gap.")
    support_threshold: float = _p(
        0.45, 0.0, 1.0, "Central stringency above which cities hold back."
    )
    deal_size_cny_bn: float = _p(2.0, 0.0, 1000.0, "Mean investment of a deal, billion CNY.")
    subsidy_share: float = _p(
        0.3, 0.0, 1.0, "Share of a deal paid as subsidy from the city budget."
    )
    deal_growth: float = _p(0.01, 0.0, 1.0, "Extra annual growth a deal gives the firm, fading.")
    jobs_per_bn: float = _p(0.5, 0.0, 100.0, "Jobs index points per billion CNY invested.")
    lobby_strength: float = _p(0.5, 0.0, 5.0, "Softening of a city's position per unit growth gap.")


class FundParams(_Group):
    """State funds' behaviour."""

    stake_sanction_weight: float = _p(
        2.0, 0.0, 20.0, "Weight of past sanctions in the golden-share fund's choice of firms."
    )
    stake_cost_cny_bn: float = _p(0.01, 0.0, 100.0, "Cost of a ~1% golden share, billion CNY.")
    guidance_alignment_min: float = _p(
        0.5, 0.0, 1.0, "Minimum alignment for guidance-fund co-investment."
    )


class ChipParams(_Group):
    """Compute purchases, export controls and domestic chips."""

    performance_gap: float = _p(0.6, 0.0, 0.99, "Initial shortfall of domestic chips' performance.")
    gap_halving_cny_bn: float = _p(250.0, 1.0, 1e5, "Chip-fund investment that halves the gap.")
    domestic_price_ratio: float = _p(
        1.1, 0.1, 10.0, "Price of domestic compute relative to foreign."
    )
    compute_price_cny_bn: float = _p(10.0, 0.01, 1e4, "Price of one unit of compute, billion CNY.")
    depreciation: float = _p(0.02, 0.0, 0.5, "Monthly depreciation of compute.")
    choice_sensitivity: float = _p(4.0, 0.0, 50.0, "Logit sensitivity of chip choice to value.")
    self_reliance_pull: float = _p(1.5, 0.0, 20.0, "Pull of the self-reliance push x alignment.")
    domestic_capacity_units: float = _p(
        0.06, 0.0, 1e4, "Domestic AI-chip supply at the start, units of compute a month."
    )
    capacity_cost_cny_bn: float = _p(
        1200.0, 1.0, 1e5, "Chip-fund investment that adds one unit a month of domestic supply."
    )
    learning_exponent: float = _p(
        0.3, 0.0, 1.0, "Growth of domestic supply per doubling of cumulative output (exponent)."
    )
    capability_rate: float = _p(
        0.02, 0.0, 1.0, "Monthly capability growth per unit of effective compute."
    )
    capability_decay: float = _p(0.005, 0.0, 1.0, "Monthly obsolescence of AI capability.")


class SyntheticParams(_Group):
    """The synthetic long tail of smaller firms."""

    revenue_median_cny_bn: float = _p(0.05, 0.001, 1e4, "Median annual revenue of a tail firm.")
    revenue_sigma: float = _p(1.0, 0.0, 5.0, "Log-normal sigma of tail revenue.")
    value_to_revenue: float = _p(
        0.4, 0.0, 100.0, "Market value (US$) per CNY of revenue, tail firms."
    )
    listed_share: float = _p(0.05, 0.0, 1.0, "Share of tail firms that are listed.")


class Params(_Group):
    """All behavioural parameters."""

    influence: InfluenceParams = Field(default_factory=InfluenceParams)
    centre: CentreParams = Field(default_factory=CentreParams)
    enforcement: EnforcementParams = Field(default_factory=EnforcementParams)
    firms: FirmParams = Field(default_factory=FirmParams)
    valuation: ValuationParams = Field(default_factory=ValuationParams)
    cities: CityParams = Field(default_factory=CityParams)
    funds: FundParams = Field(default_factory=FundParams)
    chips: ChipParams = Field(default_factory=ChipParams)
    synthetic: SyntheticParams = Field(default_factory=SyntheticParams)
