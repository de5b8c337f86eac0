"""The Linux process table, for tests that check that child processes end with their parent."""

from __future__ import annotations

import socket
from pathlib import Path

HAS_PROC = Path("/proc/self/stat").exists()


def process_table() -> dict[int, tuple[int, str]]:
    """Every process: its parent's id and its state letter (from /proc)."""
    out = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            out[int(entry.name)] = (int(fields[1]), fields[0])
    return out


def descendants(pid: int) -> set[int]:
    """The live processes started, directly or not, by process ``pid``."""
    table = process_table()
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {p for p, (parent, state) in table.items()
                    if parent in frontier and state != "Z"} - found  # fmt: skip
        found |= frontier
    return found


def still_running(pids: set[int]) -> set[int]:
    """Those of ``pids`` that have not ended (zombies waiting to be reaped have ended)."""
    table = process_table()
    return {p for p in pids if p in table and table[p][1] != "Z"}


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """Tell whether nothing listens on ``host:port``."""
    with socket.socket() as sock:
        return sock.connect_ex((host, port)) != 0
