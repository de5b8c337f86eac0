"""The declared metrics of many months at once, from one row of numbers kept per month.

Each month the model keeps one row of the numbers its metrics read (:func:`capture`): the firm
sums of :func:`sim.model.sum_kernels.metric_sums`, the month's flows, the regulators' stringency
and open investigations, the chip market's, the investors' and the centre's numbers. The metrics
are computed from rows (:func:`metric_columns`): a run's months at once when its records are read
(the model's own collector, :class:`RunCollector`, keeps its rows), or the month just recorded
(:func:`sim.model.metrics.month_values`).

Each metric is the same IEEE operations, in the same order, on the same numbers as when it was
computed one month at a time in Python floats: a row holds each number as the float64 it was (the
counts are whole numbers far below 2**53, so exact), an element-wise product, quotient or
comparison of arrays is that of the scalars, a ratio whose denominator is not positive is 0.0
(``np.where``), and the jobs index keeps Python's power a month (NumPy's vectorized ``power`` may
differ from the C library's in the last bit).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np
from numpy.typing import NDArray

from sim.model import sum_kernels
from sim.model.centre import PULLS
from sim.model.kernels import contiguous

if TYPE_CHECKING:
    from sim.model.policy_model import PolicyModel

FloatArray = NDArray[np.float64]

BN = 1e9
#: The month's flows a row keeps, by their names in ``model.flows``.
FLOWS = (
    "fines_count", "fines_value_cny_bn", "deals_signed", "subsidies_cny_bn",
    "fund_capital_deployed_cny_bn",
)  # fmt: skip
#: What a row keeps after the firm sums and the flows.
STATE = (
    "stringency_sum", "open_investigations", "performance_gap", "shortfall_share", "uncertainty",
    "deal_jobs", "effective_stringency", "effective_self_reliance", "central_stance",
    "central_self_reliance", *(f"pull_{source}" for source in PULLS),
)  # fmt: skip
#: A row's numbers, in order.
ROW = (*sum_kernels.METRIC_SUMS, *FLOWS, *STATE)
N_ROW = len(ROW)
#: Each pull's metric and its number in a row.
_PULL_NAMES = tuple((f"centre_pull_{source}", f"pull_{source}") for source in PULLS)
_FLOWS_AT = sum_kernels.N_SUMS
_STATE_AT = _FLOWS_AT + len(FLOWS)
_CENTRE_AT = _STATE_AT + STATE.index("effective_stringency")


def capture(m: PolicyModel, row: FloatArray) -> None:
    """Write the numbers the metrics read of the month just simulated into ``row``.

    Args:
        m: The model, after its month.
        row: A contiguous float array of :data:`N_ROW` entries (its firm sums are written by the
            compiled pass itself).
    """
    f = m.firms
    sum_kernels.metric_sums(
        f.compliance, f.alignment, contiguous(f.split[:, 2]), f.revenue, contiguous(f.rd_spend),
        f.ai_capability, f.compute_foreign, f.compute_domestic, 1.0 - m.chips.performance_gap,
        contiguous(f.market_value), f.discount_rate, f.listed, f.golden_share, f.freeze_until,
        int(m.month), f.sector, len(f.sector_names), f.buffers.empty("gathered value", (2 * f.n,)),
        row[:_FLOWS_AT],
    )  # fmt: skip
    flows, regulators, chips = m.flows, m.regulators, m.chips
    row[_FLOWS_AT:_CENTRE_AT] = [
        *[flows[name] for name in FLOWS],
        # Summed in order, as np.mean of a handful of floats and Python's sum add them.
        sum([r.stringency for r in regulators]), sum([len(r.investigations) for r in regulators]),
        chips.performance_gap, chips.shortfall_share, m.uncertainty, m.deal_jobs,
    ]  # fmt: skip
    row[_CENTRE_AT : _CENTRE_AT + 2] = m.policy[:2]
    row[_CENTRE_AT + 2 : _CENTRE_AT + 4] = m.influence.position[0, :2]
    row[_CENTRE_AT + 4 :] = m.centre.pulls[:, 0]


def jobs_index(revenue_ratio: float, deal_jobs: float) -> float:
    """Return the jobs proxy: ``100 * revenue_ratio ** 0.6 + deal_jobs`` (a Python float power)."""
    return 100.0 * revenue_ratio**0.6 + deal_jobs


def _column_ratio(num: FloatArray, den: FloatArray) -> FloatArray:
    """``num / den``, or 0.0 where ``den`` is not positive (NaN included), element by element."""
    return np.where(den > 0, num / den, 0.0)


def _ratio(num: float, den: float) -> float:
    """``num / den``, or 0.0 when ``den`` is not positive (NaN included)."""
    return num / den if den > 0 else 0.0


def _column_count(values: FloatArray) -> NDArray[np.int64]:
    """Whole numbers kept as floats, as int64 (each is ``int(value)``)."""
    return values.astype(np.int64)


def metric_columns(m: PolicyModel, rows: FloatArray) -> dict[str, NDArray[Any]]:
    """Return every declared metric's values for ``rows`` (one row a month, from :func:`capture`).

    In the order of :data:`sim.model.metrics.METRICS`; counts as int64, other values as float64.
    A column may be a view of ``rows``.

    Args:
        m: The model whose months the rows are (its firms' count, its regulators' count, its
            exchange rate and its starting capability and revenue).
        rows: The rows, shape ``(months, N_ROW)``.
    """
    c = dict(zip(ROW, rows.T, strict=True))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = (c["revenue"] / m.start_revenue()).tolist()
        jobs = np.array(list(map(jobs_index, ratios, c["deal_jobs"].tolist())), dtype=np.float64)
        nan = np.full(rows.shape[0], np.nan)
        return _metrics(m, c, jobs, nan, _column_ratio, _column_count)


def row_values(m: PolicyModel, row: FloatArray) -> dict[str, float | int]:
    """Return every declared metric's value for one month's ``row``, as Python numbers.

    What :func:`metric_columns` gives for that row, computed in Python floats (a call on arrays of
    one element would cost several times more).
    """
    c = dict(zip(ROW, row.tolist(), strict=True))
    jobs = jobs_index(float(c["revenue"] / m.start_revenue()), c["deal_jobs"])
    return _metrics(m, c, jobs, float("nan"), _ratio, int)


def _metrics(
    m: PolicyModel,
    c: dict[str, Any],
    jobs: Any,
    nan: Any,
    ratio: Callable[[Any, Any], Any],
    count: Callable[[Any], Any],
) -> dict[str, Any]:
    """Return the metrics of ``c``, a row's numbers by name: floats (a month) or columns (months).

    ``jobs`` is the jobs index, ``nan`` what a mean over none is, ``ratio`` and ``count`` the
    ratio and the whole number of one value or of columns.
    """
    n, n_regulators = m.firms.n, len(m.regulators)
    usd_per_cny = m.params.valuation.usd_per_cny
    # An amount in CNY bn in USD is cny_bn * BN * usd_per_cny, left to right.
    return {
        "market_value_usd": c["listed_value"] * BN,
        "unlisted_value_usd": c["unlisted_value"] * BN,
        "fines_count": count(c["fines_count"]),
        "fines_value_usd": c["fines_value_cny_bn"] * BN * usd_per_cny,
        "mean_compliance": c["compliance"] / n if n else nan,
        "mean_alignment": c["alignment"] / n if n else nan,
        "expansion_share": ratio(c["expansion_revenue"], c["revenue"]),
        "open_investigations": count(c["open_investigations"]),
        "freezes_active": count(c["freezes"]),
        "deals_signed": count(c["deals_signed"]),
        "subsidies_usd": c["subsidies_cny_bn"] * BN * usd_per_cny,
        "fund_capital_deployed_usd": c["fund_capital_deployed_cny_bn"] * BN * usd_per_cny,
        "golden_shares": count(c["golden_shares"]),
        "rd_spend_usd": c["rd_spend"] * BN * usd_per_cny,
        "ai_capability": c["ai_capability"] / max(m.firms.ai_capability0, 1e-12),
        "foreign_compute_share": ratio(c["compute_foreign"], c["compute_total"]),
        "domestic_compute_share": ratio(c["compute_domestic"], c["compute_total"]),
        "chip_self_reliance": ratio(c["effective_domestic"], c["effective_total"]),
        "domestic_performance_gap": c["performance_gap"],
        "compute_shortfall_share": c["shortfall_share"],
        "effective_stringency": c["effective_stringency"],
        "effective_self_reliance": c["effective_self_reliance"],
        "central_stance": c["central_stance"],
        "mean_regulator_stringency": c["stringency_sum"] / n_regulators if n_regulators else nan,
        "regulatory_uncertainty": c["uncertainty"],
        "mean_discount_rate": ratio(c["rate_listed_value"], c["listed_weight"]),
        "hhi": c["hhi"],
        "jobs_index": jobs,
        "central_self_reliance": c["central_self_reliance"],
        **{metric: c[number] for metric, number in _PULL_NAMES},
    }


class RunCollector(mesa.DataCollector):
    """A model's own DataCollector, which keeps a row a month and fills its metrics when read.

    Each month the model has it keep the numbers the declared metrics read (:meth:`keep_month`)
    instead of computing every metric; whatever reads ``model_vars`` (``get_model_vars_dataframe``,
    Mesa's ``batch_run``, a notebook between two steps) finds the months so far, the metrics
    computed from the rows with the values their reporters give. Other reporters (the date, the
    scenario's name) are called each month, as Mesa's collector calls them. The model keeps rows
    only when the collector has every declared metric's reporter, in order.

    Args:
        source: The model whose months it collects.
        **kwargs: Mesa's ``DataCollector`` arguments.
    """

    def __init__(self, source: PolicyModel, **kwargs: Any) -> None:
        self.reported: dict[str, list[Any]] = {}
        self.source = source
        self._rows: FloatArray = np.empty((0, N_ROW))
        self.months_kept = 0
        self._months_filled = 0
        super().__init__(**kwargs)

    @property
    def model_vars(self) -> dict[str, list[Any]]:
        """Each model reporter's values, one a month (the metrics' months filled when read)."""
        if self._months_filled < self.months_kept:
            rows = self._rows[self._months_filled : self.months_kept]
            self._months_filled = self.months_kept
            for name, values in metric_columns(self.source, rows).items():
                self.reported[name].extend(values.tolist())
        return self.reported

    @model_vars.setter
    def model_vars(self, value: dict[str, list[Any]]) -> None:
        self.reported = value

    def keep_month(self) -> None:
        """Keep the row of the month the source has just simulated (:func:`capture`)."""
        rows, kept = self._rows, self.months_kept
        if kept == rows.shape[0]:  # room for the scenario's months, then twice as many
            grown = np.empty((max(2 * kept, self.source.scenario.months, 1), N_ROW))
            grown[:kept] = rows[:kept]
            self._rows = rows = grown
        capture(self.source, rows[kept])
        self.months_kept = kept + 1

    def metric_arrays(self) -> dict[str, NDArray[Any]]:
        """Return the declared metrics of the months kept, as new arrays (see metric_columns)."""
        columns = metric_columns(self.source, self._rows[: self.months_kept])
        return {name: np.array(values) for name, values in columns.items()}
