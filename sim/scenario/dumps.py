"""A validated scenario as JSON data: its dump, its hash, and variants that copy what they change.

A sweep or a lever study derives many scenarios from one base, each differing in a few fields,
and hashes each (``scenario_hash``, the run's identity in a results folder). Three things keep
that cost to what changes:

* :func:`shared_dump` keeps the base's JSON dump per scenario object (a scenario is frozen), and
  a variant copies only the mappings on its overrides' paths
  (:func:`~sim.scenario.layers.copied_along`), sharing the rest with the base's;
* :func:`scenario_hash` encodes the canonical JSON one top-level section at a time, and reuses the
  text of a section it encoded recently when the section's ``marshal`` form is the same (which
  tells ``1``, ``1.0`` and ``true`` apart, as JSON does; ``==`` does not);
* the text is the one ``json.dumps(content, sort_keys=True, separators=(",", ":"))`` gives:
  with sorted keys, a mapping's JSON is its keys' and values' JSON, in key order, joined.
"""

from __future__ import annotations

import functools
import hashlib
import json
import marshal
import threading
from typing import Any

from sim.scenario.schema import Scenario

#: Scenarios whose dump is kept (by identity, each entry keeping its scenario alive).
MAX_DUMPS = 16
#: Encoded section texts kept for :func:`scenario_hash` (each scenario has a dozen sections).
MAX_SECTIONS = 64
#: ``marshal`` format version: 2 writes no back-references, so the bytes do not depend on which
#: objects happen to be shared.
_MARSHAL_VERSION = 2

_lock = threading.Lock()
_dumps: dict[int, tuple[Scenario, dict[str, Any]]] = {}


def scenario_dict(scenario: Scenario) -> dict[str, Any]:
    """Return the scenario as plain JSON-compatible data (a new dict, the caller's to change)."""
    return scenario.model_dump(mode="json")


def content(scenario: Scenario) -> dict[str, Any]:
    """Return the scenario's data without ``extends``: its ancestry, not its content."""
    return {k: v for k, v in scenario_dict(scenario).items() if k != "extends"}


def shared_dump(scenario: Scenario) -> dict[str, Any]:
    """Return :func:`scenario_dict` of ``scenario``, kept for the next call with the same object.

    The dict is shared: it must not be changed (:func:`~sim.scenario.layers.copied_along` copies
    what an override changes).
    """
    key = id(scenario)
    with _lock:
        kept = _dumps.get(key)
    if kept is not None and kept[0] is scenario:
        return kept[1]
    data = scenario_dict(scenario)
    with _lock:
        if len(_dumps) >= MAX_DUMPS:
            _dumps.pop(next(iter(_dumps)))
        _dumps[key] = (scenario, data)
    return data


def scenario_hash(scenario: Scenario) -> str:
    """Return the SHA-256 of the scenario's canonical JSON form.

    The form is ``json.dumps(data, sort_keys=True, separators=(",", ":"))`` of the scenario's
    data without ``extends``; a section (``firms``, ``params``, ...) met recently is not encoded
    again.

    Args:
        scenario: A validated scenario.

    Returns:
        64 hex digits; equal scenarios have equal hashes (``extends``, the ancestry, is left out).
    """
    data = content(scenario)
    parts = [f"{json.dumps(key)}:{_section_text(data[key])}" for key in sorted(data)]
    return hashlib.sha256(("{" + ",".join(parts) + "}").encode()).hexdigest()


def _section_text(value: Any) -> str:
    """Return the canonical JSON of one top-level section, reusing a recent encoding of it."""
    try:
        form = marshal.dumps(value, _MARSHAL_VERSION)
    except ValueError:  # not marshal's types (never in a JSON-mode dump): encoded each time
        return _encode(value)
    return _encoded(form)


@functools.lru_cache(maxsize=MAX_SECTIONS)
def _encoded(form: bytes) -> str:
    """Return the canonical JSON of the value whose ``marshal`` form is ``form``.

    ``marshal`` gives back the very value it wrote (types, float bits and key order), so its
    text is the one the value has.
    """
    return _encode(marshal.loads(form))


def _encode(value: Any) -> str:
    """Return the canonical JSON text of ``value``."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
