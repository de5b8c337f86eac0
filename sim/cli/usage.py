"""Option-parser errors in the CLI's one-line form: ``error: --replicates -1: ...``, exit code 2.

Click reports a bad option value, an unknown option or a missing argument with a usage block and
a capitalised ``Error:`` line. :class:`OneLineErrors`, the app's command group, turns each into
the same one line on stderr that every other refusal prints.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

import typer
from typer.core import TyperGroup

# Click's exception classes, from the Click that typer uses (some typer versions bundle their own).
_click_errors = importlib.import_module(typer.BadParameter.__module__)
UsageError: type[Exception] = _click_errors.UsageError
_HELP_ERRORS: tuple[type[Exception], ...] = tuple(
    getattr(_click_errors, name) for name in ("NoArgsIsHelpError",) if hasattr(_click_errors, name)
)


def usage_line(exc: Any) -> str:
    """Return a parser error as one line naming the option (and the value given).

    Args:
        exc: Click's error.

    Returns:
        For example ``--replicates: -1 is not in the range x>=1 (see sim batch --help)``.
    """
    missing = isinstance(exc, _click_errors.MissingParameter)
    if isinstance(exc, typer.BadParameter) and exc.param is not None and not missing:
        param = exc.param
        option = param.param_type_name == "option"
        name = "/".join(param.opts) if option else str(param.name).upper()
        text = f"{name}: {exc.message}"
    else:
        text = exc.format_message()
    text = " ".join(text.split()).rstrip(".")
    if exc.ctx is not None and exc.ctx.command_path:
        text += f" (see {exc.ctx.command_path} --help)"
    return text[:1].lower() + text[1:]


class OneLineUsageError(UsageError):  # type: ignore[misc, valid-type]
    """A parser error shown as ``error: ...`` on one line, without the usage block."""

    def show(self, file: IO[Any] | None = None) -> None:
        """Print the one line on stderr."""
        typer.echo(f"error: {self.message}", file=file, err=True)


@contextmanager
def _one_line() -> Iterator[None]:
    """Re-raise click's usage errors (except help shown for no arguments) as one-line errors."""
    try:
        yield
    except UsageError as exc:
        if isinstance(exc, (OneLineUsageError, *_HELP_ERRORS)):
            raise
        raise OneLineUsageError(usage_line(exc), ctx=getattr(exc, "ctx", None)) from None


class OneLineErrors(TyperGroup):
    """The app's command group: parser errors of the group and its commands are one line."""

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        """Parse the group's own options."""
        with _one_line():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: Any) -> Any:
        """Find the command and parse its options (where most parser errors arise)."""
        with _one_line():
            return super().invoke(ctx)
