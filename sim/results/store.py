"""Writing files safely, and provenance: what every stage that writes results needs.

Every file is written to a temporary file in the same folder and then renamed over the target, so a
reader never sees a half-written file. Nothing here knows the model.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import os
import platform
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import IO, Any

import pandas as pd
import pyarrow as pa

from sim.errors import ResultsError
from sim.results.git_head import read_head

PACKAGES = ("policysim", "mesa", "numpy", "scipy", "pandas", "pyarrow", "pydantic")


_temporary_names = itertools.count()


def _temporary(target: Path) -> tuple[int, Path]:
    """Create a new temporary file beside ``target``; return its open descriptor and its path.

    It is created exclusively (``O_EXCL``) with mode ``0o666``, so the umask gives its permissions
    as ``open`` would, and named ``.<target name>.<process id>-<n>.tmp``: a name left by a killed
    process of the same id is stepped over. The folder is made only when it is missing.
    """
    made_folder = False
    while True:
        tmp = target.with_name(f".{target.name}.{os.getpid()}-{next(_temporary_names)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:
            continue
        except FileNotFoundError:
            if made_folder:
                raise
            target.parent.mkdir(parents=True, exist_ok=True)
            made_folder = True


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` on success.

    Args:
        target: The final file.

    Yields:
        A temporary file path to write to. It is removed if the block raises.
    """
    tmp = new_temporary(target)
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def new_temporary(target: Path) -> Path:
    """Create an empty temporary file beside ``target`` and return its path.

    For a file written over a longer time than one ``with`` block (see :func:`atomic_path`): the
    caller renames it over ``target`` (``os.replace``) when it is complete, or removes it. A
    batch removes the temporary files a killed process left (``BatchFolder.clean_temporary``).
    """
    fd, tmp = _temporary(target)
    os.close(fd)
    return tmp


def write_bytes_atomic(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` atomically, without flushing it to the device.

    For a file whose bytes are in hand (a landed chunk's files): written through the temporary
    file's own descriptor, not opened again by name as with :func:`atomic_path`.

    Args:
        target: The final file.
        data: Its bytes.
    """
    fd, tmp = _temporary(target)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_atomic(target: Path, writer: Callable[[IO[bytes]], object]) -> None:
    """Write ``target`` atomically with ``writer(file)``, fsyncing before the rename."""
    with atomic_path(target) as tmp, tmp.open("wb") as fh:
        writer(fh)
        fh.flush()
        os.fsync(fh.fileno())


def write_json(target: Path, data: Any, encoded: EncodedValues | None = None) -> None:
    """Write ``data`` as indented JSON, atomically.

    Args:
        target: The file.
        data: What to write.
        encoded: Kept between writes of similar data (see :func:`indented_json`).
    """
    text = indented_json(data, encoded) + "\n"
    write_atomic(target, lambda fh: fh.write(text.encode()))


EncodedValues = dict[str, tuple[Any, str]]
"""The text of the top-level values of a JSON object, by key, with the value it encodes."""


def indented_json(data: Any, encoded: EncodedValues | None = None) -> str:
    """Return ``json.dumps(data, indent=2, default=str)``, reusing the text of unchanged values.

    With ``encoded``, each top-level value of a mapping is encoded on its own and kept there, and a
    later call whose value under the same key is the very same object reuses its text: a file
    written again and again with a few values changed (a manifest) encodes the large, fixed
    values once. Such values must not be changed in place between calls.

    Args:
        data: What to encode.
        encoded: Text kept between calls, or None to encode everything.

    Returns:
        The JSON text (without a final newline).
    """
    if encoded is None or not data or not isinstance(data, dict) \
            or not all(isinstance(k, str) for k in data):  # fmt: skip
        return json.dumps(data, indent=2, default=str)
    items = []
    for key, value in data.items():
        kept = encoded.get(key)
        if kept is None or kept[0] is not value:
            # Strings are encoded with their line breaks escaped: every line break of the text is
            # the encoder's, and one more level of indentation follows each.
            text = json.dumps(value, indent=2, default=str).replace("\n", "\n  ")
            kept = encoded[key] = (value, text)
        items.append(f"  {json.dumps(key)}: {kept[1]}")
    return "{\n" + ",\n".join(items) + "\n}"


def dictionary_columns(schema: pa.Schema) -> list[str]:
    """Return the columns to dictionary-encode in a results file: all but the floating-point ones.

    A run's floats are nearly all distinct. By default pyarrow starts a dictionary for every
    column and gives it up for a float column once it grows too large, which took three quarters
    of the time of writing the compacted time series of 400 history runs (29.5 ms, 7.5 without)
    and left that file larger (7.0 MB, 6.0 without). Identifiers, dates and counts repeat, and
    stay dictionary-encoded.

    Args:
        schema: The file's schema.

    Returns:
        The names to pass as ``use_dictionary`` to :func:`pyarrow.parquet.write_table`.
    """
    return [f.name for f in schema if not pa.types.is_floating(f.type)]


def write_table(target: Path, table: pa.Table) -> None:
    """Write an Arrow table as Parquet, atomically, all but its floats dictionary-encoded.

    See :func:`dictionary_columns`.
    """
    import pyarrow.parquet as pq  # not at import: commands that write no Parquet skip it

    with atomic_path(target) as tmp:
        pq.write_table(table, tmp, use_dictionary=dictionary_columns(table.schema))


def write_parquet(target: Path, frame: pd.DataFrame) -> None:
    """Write a DataFrame as Parquet, atomically (its index left out), as :func:`write_table`."""
    write_table(target, pa.Table.from_pandas(frame, preserve_index=False))


@functools.cache
def _versions() -> tuple[tuple[str, str], ...]:
    return tuple(_read_versions().items())


def versions() -> dict[str, str]:
    """Return the Python version and the versions of the packages results depend on.

    Read once per process: they cannot change while it runs.
    """
    return dict(_versions())


def _read_versions() -> dict[str, str]:
    """Read the versions from the installed packages' metadata."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


@functools.cache
def git_commit() -> str | None:
    """Return the git commit of the source tree, when it is a git checkout (once per process).

    Read from the repository's files where they tell it (:func:`sim.results.git_head.read_head`),
    else from ``git rev-parse HEAD``.
    """
    root = Path(__file__).resolve().parents[2]
    read = read_head(root)
    if read is not None:
        return read
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5,
            check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and commit else None


def provenance() -> dict[str, Any]:
    """Return what is needed to reproduce results: versions, git commit, platform, command."""
    return {
        "versions": versions(),
        "git_commit": git_commit(),
        "platform": platform.platform(),
        "command": sys.argv,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def ensure_writable_dir(folder: Path) -> None:
    """Create ``folder`` if needed and check that it is a writable directory.

    Raises:
        ResultsError: When it is a file, or cannot be created or written.
    """
    if folder.exists() and not folder.is_dir():
        raise ResultsError(f"{folder}: output path exists and is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ResultsError(f"{folder}: cannot create output folder ({exc.strerror})") from None
    if not os.access(folder, os.W_OK):
        raise ResultsError(f"{folder}: output folder is not writable")
