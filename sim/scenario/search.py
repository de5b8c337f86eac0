"""Where scenarios are found: the shipped folder, ``POLICYSIM_SCENARIO_PATH``, and files by path."""

from __future__ import annotations

import os
from pathlib import Path

from sim.errors import ScenarioError
from sim.scenario.fields import suggest_path

PACKAGE_SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
ENV_PATH = "POLICYSIM_SCENARIO_PATH"


def scenario_dirs() -> list[Path]:
    """Return the scenario search path, in lookup order.

    The folders in ``$POLICYSIM_SCENARIO_PATH`` (separated by the OS path separator), then
    ``./scenarios`` of the working directory, then the project's shipped ``scenarios/``.

    Returns:
        Existing folders, without duplicates.
    """
    candidates = [Path(p) for p in os.environ.get(ENV_PATH, "").split(os.pathsep) if p]
    candidates += [Path.cwd() / "scenarios", PACKAGE_SCENARIOS]
    seen: list[Path] = []
    for folder in candidates:
        resolved = folder.resolve()
        if resolved.is_dir() and resolved not in seen:
            seen.append(resolved)
    return seen


def find_scenario(name_or_path: str | Path, *, relative_to: Path | None = None) -> Path:
    """Find a scenario file by name (on the search path) or by path.

    Args:
        name_or_path: A scenario name such as ``crackdown`` or a path to a YAML file.
        relative_to: For ``extends``: the folder of the extending file, searched first.

    Returns:
        The file.

    Raises:
        ScenarioError: When no such scenario exists; the message lists the known ones.
    """
    text = str(name_or_path)
    as_path = Path(text)
    if relative_to is None and (as_path.suffix in {".yaml", ".yml"} or os.sep in text):
        if as_path.is_file():
            return as_path
        raise ScenarioError(f"no such scenario file: {text}")
    if not text or any(c in text for c in "/\\") or text.startswith("."):
        raise ScenarioError(
            f"{text!r} is not a scenario name; `extends` takes a name such as 'baseline'"
        )
    folders = ([relative_to] if relative_to else []) + scenario_dirs()
    for folder in folders:
        candidate = folder / f"{text}.yaml"
        if candidate.is_file():
            return candidate
    known = sorted({p.stem for f in scenario_dirs() for p in f.glob("*.yaml")})
    hint = suggest_path(text, known)
    raise ScenarioError(
        f"unknown scenario{hint}; known: {', '.join(known) or 'none'}"
        f" (search path: {os.pathsep.join(str(f) for f in scenario_dirs())})"
    )
