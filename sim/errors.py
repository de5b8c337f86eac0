"""The project's own error types.

Every error a user can cause (a bad scenario, a bad ``--set``, a results folder that is not a
batch) is raised as a :class:`PolicysimError` whose message is one line naming the file, the field
path, what is allowed and what was given. The CLI prints that line and exits with code 2.
"""

from __future__ import annotations

import re

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


class PolicysimError(Exception):
    """Base class of every error caused by user input or user files.

    Its text is always one line: line breaks (and the spaces around them) become one space, other
    unprintable characters are escaped.
    """

    exit_code: int = 2

    def __str__(self) -> str:
        return printable(_LINE_BREAKS.sub(" ", super().__str__()).strip())


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
