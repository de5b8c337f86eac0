"""Validation targets: the stylized facts of the record as data.

``sim/data/targets.yaml`` declares each target (see that file for the format): the scenario runs
it reads, the metric and window, the observed value or direction, a tolerance band and its source.
:func:`load_targets` reads and checks the file; :mod:`sim.analysis.target_checks` checks the targets
on one seed's runs and :mod:`sim.analysis.validation` over many seeds.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sim.errors import ScenarioError
from sim.model.metrics import METRIC_NAMES
from sim.scenario.fields import suggest_path
from sim.scenario.schema_errors import value_error_message
from sim.scenario.yamlio import LineMap, field_line, read_yaml

TARGETS_FILE = Path(__file__).resolve().parents[1] / "data" / "targets.yaml"
_M = TypeVar("_M", bound=BaseModel)
STATS = ("sum", "mean", "median", "min", "max", "first", "last", "change", "count")
FINE_COLUMNS = ("amount_cny_bn", "share_of_revenue", "legal_cap", "over_cap", "cap_headroom")
DATE_KEYS = ("peak_date", "trough_date", "centre_peak_date", "centre_turn_date")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
Stat = Literal["sum", "mean", "median", "min", "max", "first", "last", "change", "count"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _month(value: object) -> str:
    """Return ``value`` as ``YYYY-MM`` text or raise ``ValueError``."""
    text = str(value)
    if not _MONTH.match(text):
        raise ValueError(f"a month must be YYYY-MM text, given {value!r}")
    return text


Month = Annotated[str, Field(description="A month, YYYY-MM.")]


def _window(value: Any) -> tuple[str, str]:
    """Check a ``[from, to]`` window of months."""
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ValueError(f"a window must be [from, to] (YYYY-MM), given {value!r}")
    start, end = _month(value[0]), _month(value[1])
    if start > end:
        raise ValueError(f"a window must be [from, to] with from <= to, given [{start}, {end}]")
    return start, end


class Read(_Strict):
    """One number read from a run: a summary outcome, a metric over a window, or the fines."""

    scenario: str | None = Field(None, description="Scenario run to read (default: the file's).")
    summary: str | None = Field(
        None, description="A run-level outcome of sim.model.metrics.summarize."
    )
    metric: str | None = Field(None, description="A monthly metric (sim.model.metrics.METRICS).")
    fines: str | None = Field(None, description="A column of the run's fines table.")
    window: tuple[Month, Month] | None = Field(None, description="Months [from, to], inclusive.")
    stat: Stat | None = Field(None, description="How the window's values are reduced.")
    scale: float = Field(1.0, description="Factor applied to the number.")

    @field_validator("window", mode="before")
    @classmethod
    def _check_window(cls, value: Any) -> Any:
        return None if value is None else _window(value)

    @model_validator(mode="after")
    def _one_source(self) -> Read:
        given = [k for k in ("summary", "metric", "fines") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"give exactly one of summary, metric or fines, given {given or 'none'}"
            )
        if self.summary is not None:
            if self.window is not None or self.stat is not None:
                raise ValueError("summary: a summary outcome takes no window or stat")
            allowed = summary_keys()
            if self.summary not in allowed:
                raise ValueError(f"summary: unknown outcome {self.summary!r}"
                                 f"{suggest_path(self.summary, allowed)}")  # fmt: skip
        if self.metric is not None:
            if self.metric not in METRIC_NAMES:
                raise ValueError(f"metric: unknown metric {self.metric!r}"
                                 f"{suggest_path(self.metric, list(METRIC_NAMES))}")  # fmt: skip
            if self.window is None or self.stat is None:
                raise ValueError("metric: a metric needs a window and a stat")
        if self.fines is not None:
            if self.fines not in FINE_COLUMNS:
                raise ValueError(f"fines: allowed: {', '.join(FINE_COLUMNS)}; given {self.fines!r}")
            if self.stat is None:
                raise ValueError("fines: the fines need a stat")
        return self

    def label(self) -> str:
        """Return a short text naming what is read, e.g. ``deals_signed sum 2023-01..2023-12``."""
        if self.summary is not None:
            text = self.summary
        else:
            text = f"{self.metric or 'fines.' + str(self.fines)} {self.stat}"
            if self.window is not None:
                start, end = self.window
                text += f" {start}" if start == end else f" {start}..{end}"
        if self.scale != 1.0:
            text = f"{self.scale:g} x {text}"
        return f"{text} [{self.scenario}]" if self.scenario else text


class RangeCheck(_Strict):
    """A number must lie in ``[min, max]`` (either bound may be left out)."""

    kind: Literal["range"]
    value: Read
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _bounds(self) -> RangeCheck:
        if self.min is None and self.max is None:
            raise ValueError("a range check needs min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class DateCheck(_Strict):
    """A summary date (``peak_date``, ``trough_date``) must fall in a window of months."""

    kind: Literal["date"]
    key: Literal["peak_date", "trough_date", "centre_peak_date", "centre_turn_date"]
    window: tuple[Month, Month]
    scenario: str | None = None

    @field_validator("window", mode="before")
    @classmethod
    def _check_window(cls, value: Any) -> Any:
        return _window(value)


class CompareCheck(_Strict):
    """Two numbers (or a number and a constant) must compare as ``left op right``."""

    kind: Literal["compare"]
    left: Read
    op: Literal["<", "<=", ">", ">="]
    right: Read | float


Check = Annotated[RangeCheck | DateCheck | CompareCheck, Field(discriminator="kind")]


class Target(_Strict):
    """One stylized fact as checks on a run."""

    fact: int = Field(ge=1, le=6, description="The stylized fact of WORLD.md it stands for.")
    description: str = Field(min_length=1)
    observed: float | str = Field(description="Recorded value (a number) or direction (text).")
    tolerance: str = Field(min_length=1, description="Why the checks' band is what it is.")
    source: str = Field(min_length=1)
    weight: float = Field(1.0, ge=0.0, le=100.0, description="Weight in the calibration loss.")
    checks: list[Check] = Field(min_length=1)

    @field_validator("observed", mode="before")
    @classmethod
    def _observed_text(cls, value: Any) -> Any:
        return value if isinstance(value, int | float | str) else str(value)

    @model_validator(mode="after")
    def _magnitude(self) -> Target:
        if isinstance(self.observed, float) and not isinstance(self.checks[0], RangeCheck):
            raise ValueError(
                "observed: a numeric observed value is compared with the first check's value, "
                f"so the first check must be a range check, given {self.checks[0].kind}"
            )
        return self

    @property
    def magnitude(self) -> Read | None:
        """What the numeric ``observed`` value is compared with (None for a direction)."""
        first = self.checks[0]
        if isinstance(self.observed, float) and isinstance(first, RangeCheck):
            return first.value
        return None


class TargetSet(_Strict):
    """The targets file."""

    scenario: str = Field(min_length=1, description="Scenario a read uses unless it names one.")
    threshold: float = Field(0.9, ge=0.0, le=1.0, description="Pass rate a target needs.")
    targets: dict[str, Target] = Field(min_length=1)

    def scenarios(self) -> list[str]:
        """Return the scenario names the targets read, the file's scenario first."""
        names = [self.scenario]
        for target in self.targets.values():
            for read in _reads(target):
                name = read.scenario or self.scenario
                if name not in names:
                    names.append(name)
        return names


def _reads(target: Target) -> list[Read | DateCheck]:
    """Return every read (and date check) of a target, in order."""
    out: list[Read | DateCheck] = []
    for check in target.checks:
        if isinstance(check, RangeCheck):
            out.append(check.value)
        elif isinstance(check, DateCheck):
            out.append(check)
        else:
            out += [check.left] + ([check.right] if isinstance(check.right, Read) else [])
    return out


def summary_keys() -> list[str]:
    """Return the keys of :func:`sim.model.metrics.summarize` (numbers and dates)."""
    from sim.model.metrics import summary_types

    return list(summary_types())


def data_file_error(exc: ValidationError, file: str, lines: LineMap) -> ScenarioError:
    """Turn the first pydantic error of a data file into a located one-line ScenarioError.

    Args:
        exc: The validation error.
        file: The file's path, for the message.
        lines: Line of each dotted field path (see :func:`sim.scenario.yamlio.read_yaml`).

    Returns:
        The error to raise.
    """
    err = exc.errors(include_url=False)[0]
    loc = [f"[{p}]" if isinstance(p, int) else str(p) for p in err["loc"]]
    loc = [p for p in loc if p not in ("range", "date", "compare", "Read", "float")]
    field = ".".join(loc).replace(".[", "[")
    kind, given = err["type"], err.get("input")
    if kind == "extra_forbidden":
        message = f"unknown field {loc[-1]!r}"
    elif kind == "missing":
        message = "required field is missing"
    elif kind == "value_error":
        field, message = value_error_message(err, field)
    else:
        shown = type(given).__name__ if isinstance(given, dict | list) else repr(given)
        message = f"{err['msg'][0].lower()}{err['msg'][1:]}; given: {shown}"
    return ScenarioError(message, file=file, field=field or None, line=field_line(field, lines))


def load_targets(path: str | Path | None = None) -> TargetSet:
    """Read and check a targets file.

    Args:
        path: The YAML file (default: the shipped ``sim/data/targets.yaml``).

    Returns:
        The targets.

    Raises:
        ScenarioError: When the file is missing or any field is invalid (file, line, field).
    """
    file = Path(path) if path is not None else TARGETS_FILE
    targets, _ = load_data_file(file, TargetSet, "targets")
    return targets


def load_data_file(file: Path, model: type[_M], kind: str) -> tuple[_M, LineMap]:
    """Read and check a YAML data file against its schema.

    Args:
        file: The YAML file.
        model: The file's schema.
        kind: What the file holds, for messages (``targets``, ``free-parameters``).

    Returns:
        The checked file and the line of each dotted field path.

    Raises:
        ScenarioError: When the file is missing or any field is invalid (file, line, field).
    """
    if not file.is_file():
        raise ScenarioError(f"no such {kind} file", file=str(file))
    raw, lines = read_yaml(file)
    if not isinstance(raw, dict):
        raise ScenarioError(f"a {kind} file must be a mapping of fields", file=str(file))
    try:
        return model.model_validate(raw), lines
    except ValidationError as exc:
        raise data_file_error(exc, str(file), lines) from None
