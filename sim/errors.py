"""The project's own error types.

Every error a user can cause (a bad scenario, a bad ``--set``, a results folder that is not a
batch) is raised as a :class:`PolicysimError` whose message is one line naming the file, the field
path, what is allowed and what was given. The CLI prints that line and exits with code 2.

An error about an argument names it as the caller spelled it: ``out=`` and ``force=True`` when
it comes through the Python API, ``--out`` and ``--force`` on the command line. Such an error is
built with :meth:`PolicysimError.about` from a message that names arguments through a
:class:`Spelling`; ``str(error)`` is the Python wording and :meth:`PolicysimError.cli_message`
the command line's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Self

_LINE_BREAKS = re.compile(r"\s*[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]+\s*")


def printable(text: str) -> str:
    r"""Return ``text`` with every character that is not printable (or is a line break) escaped.

    Keeps an error message on one line and shows a stray control character in a name as, for
    example, ``\x1d`` instead of hiding it.

    Example:
        >>> printable("a" + chr(10) + "b")
        'a\\nb'
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


class Spelling:
    """How a message names an argument: as the Python API spells it, or as the command line does.

    ``PYTHON.out`` is ``out=`` and ``CLI.out`` is ``--out``; a flag is named by the value that
    turns it on (``force=True`` / ``--force``, ``no_resume``: ``resume=False`` / ``--no-resume``).
    Called with a value, it names both: ``PYTHON("replicates", 0)`` is ``replicates=0`` and
    ``CLI("replicates", 0)`` is ``--replicates 0``.

    Args:
        cli: Spell arguments as command-line options.
    """

    _PYTHON_NAMES = {"force": "force=True", "resume": "resume=True", "no_resume": "resume=False",
                     "fail_fast": "fail_fast=True", "metric": "metrics=", "format": "fmt=",
                     "set": "overrides="}  # fmt: skip

    def __init__(self, *, cli: bool) -> None:
        self.cli = cli

    def __getattr__(self, name: str) -> str:
        if name.startswith("__"):
            raise AttributeError(name)
        if self.cli:
            return "--" + name.replace("_", "-")
        return self._PYTHON_NAMES.get(name, f"{name}=")

    def __call__(self, name: str, value: Any) -> str:
        """Name an argument with its value."""
        if self.cli:
            return f"{getattr(self, name)} {value}"
        return f"{getattr(self, name)}{value!r}"


PYTHON = Spelling(cli=False)
CLI = Spelling(cli=True)


class PolicysimError(Exception):
    """Base class of every error caused by user input or user files.

    Its text is always one line: line breaks (and the spaces around them) become one space, other
    unprintable characters are escaped.
    """

    exit_code: int = 2
    cli_text: str | None = None
    """The message as the command line words it, when it names arguments (:meth:`about`)."""

    def __str__(self) -> str:
        return printable(_LINE_BREAKS.sub(" ", super().__str__()).strip())

    @classmethod
    def about(cls, message: Callable[[Spelling], str], **kwargs: Any) -> Self:
        """Build an error whose message names arguments, worded for Python and for the CLI.

        Args:
            message: Returns the message, naming every argument through the spelling given.
            **kwargs: Other arguments of the error class (``file``, ``field``...).

        Returns:
            The error: ``str()`` names ``out=``, :meth:`cli_message` names ``--out``.

        Example:
            >>> error = PolicysimError.about(lambda a: f"{a('workers', 0)}: must be at least 1")
            >>> str(error), error.cli_message()
            ('workers=0: must be at least 1', '--workers 0: must be at least 1')
        """
        error = cls(message(PYTHON), **kwargs)
        error.cli_text = str(cls(message(CLI), **kwargs))
        return error

    def cli_message(self) -> str:
        """Return the message as the command line words it."""
        return self.cli_text or str(self)


class ScenarioError(PolicysimError, ValueError):
    """A scenario or sweep file (or an override of one) is invalid.

    Args:
        message: What is wrong, including what is allowed and what was given.
        file: The file the problem is in, when known.
        field: The dotted field path, when known.
        line: The 1-based line in ``file``, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        field: str | None = None,
        line: int | None = None,
    ) -> None:
        self.file = file
        self.field = field
        self.line = line
        self.detail = message
        where = []
        if file:
            where.append(printable(f"{file}:{line}" if line else file))
        if field:
            where.append(printable(field))
        prefix = ": ".join(where)
        message = " ".join(message.split())
        super().__init__(f"{prefix}: {message}" if prefix else message)


class ResultsError(PolicysimError):
    """A results folder is missing, incomplete, corrupted or not of the expected kind."""


class ModelInvariantError(PolicysimError):
    """A model invariant was violated during a run with checks enabled.

    Args:
        message: Which agent, which variable and at which step.
    """
