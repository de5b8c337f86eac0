"""The project's own error types.

Every error a user can cause (a bad scenario, a bad ``--set``, a results folder that is not a
batch) is raised as a :class:`PolicysimError` whose message is one line naming the file, the field
path, what is allowed and what was given. The CLI prints that line and exits with code 2.
"""

from __future__ import annotations


class PolicysimError(Exception):
    """Base class of every error caused by user input or user files."""

    exit_code: int = 2


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
            where.append(f"{file}:{line}" if line else file)
        if field:
            where.append(field)
        prefix = ": ".join(where)
        text = f"{prefix}: {message}" if prefix else message
        super().__init__(" ".join(text.split()))


class ResultsError(PolicysimError):
    """A results folder is missing, incomplete, corrupted or not of the expected kind."""


class ModelInvariantError(PolicysimError):
    """A model invariant was violated during a run with checks enabled.

    Args:
        message: Which agent, which variable and at which step.
    """
