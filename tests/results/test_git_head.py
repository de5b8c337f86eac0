"""The commit HEAD names, read from the repository's files as git tells it: sim.results.git_head."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from sim.results import store
from sim.results.git_head import GIT_VARIABLES, read_head

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def git(folder: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in GIT_VARIABLES}
    env.update(GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@t")  # fmt: skip
    return subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, check=True,
                          env=env).stdout.strip()  # fmt: skip


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in GIT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    folder = tmp_path / "repo"
    (folder / "pkg" / "sub").mkdir(parents=True)
    git(folder, "init", "-q", "-b", "main")
    for n in range(2):
        (folder / "pkg" / "f.txt").write_text(str(n))
        git(folder, "add", "-A")
        git(folder, "commit", "-q", "-m", f"c{n}")
    return folder


def test_a_branch_is_read_loose_and_packed_from_any_folder_of_the_tree(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD")
    assert read_head(repo) == read_head(repo / "pkg" / "sub") == head
    git(repo, "pack-refs", "--all")
    assert not (repo / ".git" / "refs" / "heads" / "main").exists()
    assert read_head(repo / "pkg") == head


def test_a_detached_head_and_a_linked_worktree(repo: Path, tmp_path: Path) -> None:
    first = git(repo, "rev-parse", "HEAD~1")
    git(repo, "checkout", "-q", "--detach", first)
    assert read_head(repo) == first
    git(repo, "checkout", "-q", "main")
    git(repo, "worktree", "add", "-q", "-b", "other", str(tmp_path / "wt"), first)
    git(tmp_path / "wt", "commit", "-q", "--allow-empty", "-m", "in the worktree")
    assert read_head(tmp_path / "wt" / "pkg") == git(tmp_path / "wt", "rev-parse", "HEAD")
    assert read_head(repo) == git(repo, "rev-parse", "HEAD") != read_head(tmp_path / "wt")


def test_what_the_files_do_not_tell_is_left_to_git(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q", "-b", "main")
    assert read_head(empty) is None  # a branch with no commit yet
    monkeypatch.setenv("GIT_DIR", str(repo / ".git"))
    assert read_head(repo) is None
    monkeypatch.delenv("GIT_DIR")
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/../../config\n")
    assert read_head(repo) is None
    (repo / ".git" / "HEAD").write_text("not a commit\n")
    assert read_head(repo) is None
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (repo / ".git" / "reftable").mkdir()
    assert read_head(repo) is None


def test_a_folder_outside_any_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in GIT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    if any((p / ".git").exists() for p in (tmp_path, *tmp_path.parents)):
        pytest.skip("the temporary folder is inside a repository")
    assert read_head(tmp_path) is None


def test_the_source_trees_commit_is_the_one_git_tells() -> None:
    root = Path(store.__file__).resolve().parents[2]
    try:
        told = git(root, "rev-parse", "HEAD")
    except subprocess.CalledProcessError:
        pytest.skip("the source tree is not a git checkout")
    assert store.git_commit() == told
