"""The commit a git checkout's HEAD names, read from the repository's files.

Results record the git commit of the source tree. ``git rev-parse HEAD`` tells it, but starting
it from a process that has loaded the model's libraries takes 7 to 10 ms, and every process that
writes results pays that before its first run. The common layouts can be read directly: a
``.git`` folder (or a ``.git`` file naming it, as in a linked worktree or a submodule), ``HEAD``
naming a branch or a commit, the branch as a loose ref or in ``packed-refs``.

:func:`read_head` reads those and returns None for anything else (another ref storage, an
environment that moves the repository, a branch with no commit yet, a file it cannot read), and
:func:`sim.results.store.git_commit` then asks git itself.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = ["read_head"]

_COMMIT = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")
"""A full SHA-1 or SHA-256 object name."""

#: Variables with which git finds its repository elsewhere than by walking up from the folder.
GIT_VARIABLES = ("GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_CEILING_DIRECTORIES",
                 "GIT_DISCOVERY_ACROSS_FILESYSTEM")  # fmt: skip
#: The most symbolic refs followed from HEAD.
MAX_LINKS = 5


def read_head(folder: Path) -> str | None:
    """Return the commit HEAD names in the repository holding ``folder``, or None.

    Args:
        folder: A folder inside the work tree.

    Returns:
        The commit's full name, or None when the repository's files do not tell it in one of the
        common layouts (the caller then asks git).
    """
    if any(name in os.environ for name in GIT_VARIABLES):
        return None
    try:
        git_dir = _git_dir(folder)
        if git_dir is None:
            return None
        common = git_dir
        if (git_dir / "commondir").is_file():
            common = (git_dir / (git_dir / "commondir").read_text().strip()).resolve()
        if (common / "reftable").exists():
            return None
        target = (git_dir / "HEAD").read_text().strip()
        for _ in range(MAX_LINKS):
            if not target.startswith("ref: "):
                return target if _COMMIT.fullmatch(target) else None
            target = _ref(git_dir, common, target[len("ref: "):].strip()) or ""
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return None


def _git_dir(folder: Path) -> Path | None:
    """Return the git folder of the repository holding ``folder`` (walking up), or None."""
    for where in (folder, *folder.parents):
        dot_git = where / ".git"
        if dot_git.is_dir():
            return dot_git
        if dot_git.is_file():
            text = dot_git.read_text().strip()
            if not text.startswith("gitdir: "):
                return None
            return (where / text[len("gitdir: "):].strip()).resolve()
    return None


def _ref(git_dir: Path, common: Path, name: str) -> str | None:
    """Return what a ref holds (a commit, or ``ref: <name>``), or None when it is not found."""
    if not name.startswith("refs/") or ".." in name.split("/"):
        return None
    # Refs under refs/ live in the common folder; a worktree keeps only a few of its own.
    for base in (git_dir, common) if git_dir != common else (common,):
        loose = base / name
        if loose.is_file():
            return loose.read_text().strip()
    packed = common / "packed-refs"
    if packed.is_file():
        for line in packed.read_text().splitlines():
            if line.startswith(("#", "^")):
                continue
            commit, _, ref = line.partition(" ")
            if ref.strip() == name:
                return commit.strip()
    return None
