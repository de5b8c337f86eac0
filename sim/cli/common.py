"""What every ``sim`` command shares: the consoles, the one-line error form, a progress bar."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from sim.errors import PolicysimError

console = Console()
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = 2) -> None:
    """Print ``error: message`` on stderr and exit with ``code``."""
    err_console.print(f"error: {message}", markup=False)
    raise typer.Exit(code)


def handle_errors(func: F) -> F:
    """Turn the project's errors into a one-line message and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except PolicysimError as exc:
            fail(exc.cli_message(), exc.exit_code)
        except KeyboardInterrupt:
            fail("interrupted", 130)
        return None

    return wrapper  # type: ignore[return-value]


@contextmanager
def progress_bar(
    total: int | None, label: str, quiet: bool
) -> Iterator[Callable[..., None] | None]:
    """Yield a callback that moves a progress bar on stderr, gone when done (None when quiet).

    ``callback(n)`` advances the bar by ``n``; ``callback(done, total)`` sets both (a total not
    known up front, ``None``, shows as ``?``).
    """
    if quiet:
        yield None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task(label, total=total)

        def move(n: int, of: int | None = None) -> None:
            if of is None:
                bar.advance(task, n)
            else:
                bar.update(task, completed=n, total=of)

        yield move
