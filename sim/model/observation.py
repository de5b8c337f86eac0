"""What a run records each month, and the tables built from the records.

:class:`RunRecords` is a mixin of :class:`~sim.model.policy_model.PolicyModel`: after each month the
model calls :meth:`RunRecords._record_month` (the declared metrics, every stakeholder's position,
the influence matrix each December); at the end of a run the methods here turn the records into the
tables that :func:`~sim.model.runner.run_scenario` returns.
"""

from __future__ import annotations

import collections
import functools
import operator
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.model.mesa_interface import RUN_COLUMNS, month_start, months_through
from sim.model.metric_rows import RunCollector
from sim.model.metrics import METRIC_NAMES, METRICS, METRICS_BY_NAME, month_values
from sim.scenario.base import DIMENSIONS

if TYPE_CHECKING:
    from sim.model.influence import InfluenceNetwork
    from sim.scenario.schema import Scenario

FINE_COLUMNS = ("date", "regulator", "firm", "amount_cny_bn", "share_of_revenue", "legal_cap")
#: A fine: date, regulator, firm, amount, share of revenue, legal cap (:data:`FINE_COLUMNS`).
FineRecord = tuple[pd.Timestamp, str, str, float, float, float]


@functools.lru_cache(maxsize=64)
def month_dates(start: pd.Period, n: int) -> pd.DatetimeIndex:
    """Return the first days of ``n`` months from ``start`` (memoized: an index is immutable)."""
    return pd.to_datetime([month_start(start, i) for i in range(n)])


#: The dtype of each metric's column: ``np.asarray`` of ints (a count's values) or of floats.
_DTYPES = {m.name: np.dtype(np.int64 if m.unit == "count" else np.float64) for m in METRICS}


def _column(values: list[Any], dtype: np.dtype[Any] | None) -> np.ndarray:
    """Return ``np.asarray(values)``: values of one Python type, whose array has ``dtype``."""
    if dtype is None or not values:
        return np.asarray(values)
    return np.fromiter(values, dtype, len(values))


def timeseries_frame(columns: Mapping[str, Any]) -> pd.DataFrame:
    """Return the time series DataFrame of :meth:`RunRecords.timeseries_columns`."""
    return pd.DataFrame(columns)


def fines_frame(records: Sequence[FineRecord]) -> pd.DataFrame:
    """Return the fines table (:data:`FINE_COLUMNS`) of fine records, one row per fine."""
    return pd.DataFrame(records, columns=list(FINE_COLUMNS))


def _plan(collector: Any) -> tuple[list[Any] | None, list[tuple[Any, str]], list[tuple[Any, Any]]]:
    """Return a collector's columns to record: those of declared metrics, and the others.

    Each as its column's ``append`` and the metric's name (a reporter that is the declared
    metric's own ``Metric.compute``) or the reporter to call. When the metrics' columns are every
    declared metric in the order of :data:`~sim.model.metrics.METRICS` (a model's own
    collector), their appends come first, in that order (:func:`month_values`' order), and the
    list of names is empty.
    """
    metrics: list[tuple[Any, str]] = []
    others: list[tuple[Any, Any]] = []
    for name, reporter in collector.model_reporters.items():
        append = collector.model_vars[name].append
        metric = METRICS_BY_NAME.get(name)
        if metric is not None and reporter is metric.compute:
            metrics.append((append, name))
        else:
            others.append((append, reporter))
    if tuple(name for _, name in metrics) == METRIC_NAMES:
        return [append for append, _ in metrics], [], others
    return None, metrics, others


#: Calls each append of a list with the value at its place in another, in C (no bytecode a value).
_consume = collections.deque[None](maxlen=0).extend


class RunRecords:
    """Mixin for the model: monthly records and the result tables built from them.

    The model sets these attributes in its constructor.
    """

    scenario: Scenario
    running: bool
    start: pd.Period
    month: int
    influence: InfluenceNetwork
    datacollector: Any  # mesa.DataCollector (mesa ships no type information)
    #: One record per fine: date, regulator, firm, amount, share of revenue, legal cap.
    fine_records: list[FineRecord]
    _firm_rows: list[dict[str, Any]]
    _positions: list[np.ndarray]
    _networks: list[tuple[int, np.ndarray]]
    #: The collector; the appends of every declared metric in order, or None; per other metric
    #: reporter, its column's ``append`` and the metric's name; per other reporter, its column's
    #: ``append`` and the reporter (bound once per collector).
    _collecting: (
        tuple[Any, list[Any] | None, list[tuple[Any, str]], list[tuple[Any, Any]]] | None
    ) = None
    #: Whether the collector keeps the metrics as rows (:class:`RunCollector`) rather than having
    #: them appended each month.
    _as_rows: bool = False
    #: The first days of the scenario's months (:func:`~sim.model.mesa_interface.month_starts`).
    _dates: tuple[pd.Timestamp, ...] = ()
    #: The scenario's last month (``months - 1``) and the calendar month of its first (1-12).
    _last_month: int
    _start_month: int

    @property
    def date(self) -> pd.Timestamp:
        """The first day of the month being (or last) simulated (memoized, as the metrics')."""
        month = self.month
        dates = self._dates
        if 0 <= month < len(dates):
            return dates[month]
        if month < 0:
            return month_start(self.start, 0)
        # Stepped past the scenario's last month: the longer tuple is kept for the next months.
        self._dates = dates = months_through(self.start, month)
        return dates[month]

    def _record_month(self) -> None:
        """Record the month: the metrics, the positions, and W each December and at the end.

        After the scenario's last month ``running`` turns false (Mesa's ``batch_run`` stops).
        The metrics go into the DataCollector's ``model_vars`` as ``DataCollector.collect`` puts
        them, without its deep copy of each value: every reporter returns a scalar, a new object
        each month. The declared metrics' reporters are not called one by one: with the model's
        own collector (:class:`RunCollector`, every metric in order) the month's numbers are
        kept as a row and the metrics computed when read; with another collector their values
        are computed in one pass a month (:func:`~sim.model.metrics.month_values`), each the
        value its reporter returns. Any other reporter is called.
        """
        collector = self.datacollector
        if self._collecting is None or self._collecting[0] is not collector:
            self._collecting = (collector, *_plan(collector))
            self._as_rows = (
                type(collector) is RunCollector and collector.source is self
                and self._collecting[1] is not None
            )  # fmt: skip
        _, in_order, metrics, others = self._collecting
        if self._as_rows:
            collector.keep_month()
        elif in_order is not None:
            values = month_values(self)  # type: ignore[arg-type]
            _consume(map(operator.call, in_order, values.values()))
        elif metrics:
            values = month_values(self)  # type: ignore[arg-type]
            for append, name in metrics:
                append(values[name])
        for append, reporter in others:
            append(reporter(self))
        month, last = self.month, self._last_month
        if month >= last:
            self.running = False
        self._positions.append(self.influence.position.copy())
        if month == last or (self._start_month + month) % 12 == 0:
            self._networks.append((month, self.influence.weights()))

    def timeseries_columns(self) -> dict[str, Any]:
        """Return the collected metrics as arrays, ``date`` (a ``DatetimeIndex``) first.

        A metric's values are ints for a count and floats otherwise (see
        :class:`~sim.model.metrics.Metric`): each column is read into the dtype that
        ``np.asarray`` would infer for them, without inferring it (half the cost). Metrics kept
        as rows are computed from the rows, not read back from the collector's lists.
        """
        collector = self.datacollector
        kept = self._as_rows and self._collecting is not None \
            and self._collecting[0] is collector and collector.months_kept > 0  # fmt: skip
        values = collector.reported if kept else collector.model_vars
        from_rows = collector.metric_arrays() if kept else {}
        columns = {name: from_rows[name] if name in from_rows else _column(v, _DTYPES.get(name))
                   for name, v in values.items() if name not in RUN_COLUMNS}  # fmt: skip
        n = len(next(iter(columns.values()))) if columns else 0
        return {"date": month_dates(self.start, n), **columns}

    def timeseries(self, columns: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """Return the collected metrics, one row per simulated month, with a ``date`` column.

        Args:
            columns: :meth:`timeseries_columns`, when already built.
        """
        return timeseries_frame(self.timeseries_columns() if columns is None else columns)

    def stakeholder_timeseries(self) -> pd.DataFrame:
        """Return every stakeholder's position on each dimension per month (long by stakeholder).

        Columns: ``date``, ``stakeholder``, ``kind``, ``clout``, ``salience`` and one column per
        policy dimension.
        """
        net = self.influence
        columns = ["date", "stakeholder", "kind", "clout", "salience", *DIMENSIONS]
        if not self._positions:
            return pd.DataFrame(columns=columns)
        n_months, k = len(self._positions), len(net.names)
        positions = np.concatenate(self._positions)
        dates = pd.DatetimeIndex([month_start(self.start, i) for i in range(n_months)])
        data = {
            "date": dates.repeat(k),
            "stakeholder": np.tile(np.asarray(net.names, dtype=object), n_months),
            "kind": np.tile(np.asarray(net.kinds, dtype=object), n_months),
            "clout": np.tile(net.clout, n_months),
            "salience": np.tile(net.salience, n_months),
        }
        for j, dim in enumerate(DIMENSIONS):
            data[dim] = positions[:, j]
        return pd.DataFrame(data, columns=columns)

    def network_timeseries(self, min_weight: float = 0.01) -> pd.DataFrame:
        """Return the influence matrix W each December and in the last month (long format).

        Args:
            min_weight: Weights below this are left out.

        Returns:
            Columns ``date``, ``listener``, ``speaker``, ``weight``.
        """
        names = np.asarray(self.influence.names, dtype=object)
        columns = ["date", "listener", "speaker", "weight"]
        months: list[int] = []
        listeners: list[np.ndarray] = []
        speakers: list[np.ndarray] = []
        weights: list[np.ndarray] = []
        for month, w in self._networks:
            i, j = np.nonzero(w >= min_weight)
            months.append(month)
            listeners.append(i)
            speakers.append(j)
            weights.append(w[i, j])
        counts = [len(i) for i in listeners]
        if not sum(counts):
            return pd.DataFrame([], columns=columns)
        dates = pd.DatetimeIndex([month_start(self.start, month) for month in months])
        return pd.DataFrame(
            {
                "date": dates.repeat(counts),
                "listener": names[np.concatenate(listeners)],
                "speaker": names[np.concatenate(speakers)],
                "weight": np.concatenate(weights),
            },
            columns=columns,
        )

    def fines_table(self) -> pd.DataFrame:
        """Return one row per fine imposed during the run.

        Columns: ``date``, ``regulator``, ``firm``, ``amount_cny_bn``, ``share_of_revenue`` (of
        the firm's domestic annual revenue) and ``legal_cap`` (the regulator's cap, same basis).
        """
        return fines_frame(self.fine_records)

    def firm_timeseries(self) -> pd.DataFrame:
        """Return each named firm's state per month (needs ``collect_firms=True``)."""
        return pd.DataFrame(self._firm_rows)
