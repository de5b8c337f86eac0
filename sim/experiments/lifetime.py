"""Child processes that end with the process that started them, even when it is killed.

A parent stopped by SIGKILL runs no clean-up code, so its children must notice on their own:

* :func:`watch_parent` starts a thread in a worker process that ends the worker as soon as the
  given process (the one that started the batch) has exited. Worker processes started by the
  ``forkserver`` are the server's children, not the batch's, so they watch the batch's process id
  rather than their own parent.
* :func:`end_with_parent` is a ``preexec_fn`` for :class:`subprocess.Popen` that asks the Linux
  kernel to send the child SIGTERM when its parent dies (``PR_SET_PDEATHSIG``); elsewhere it does
  nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
ORPHAN_EXIT_CODE = 3
POLL_S = 0.5


def _alive(pid: int) -> bool:
    """Tell whether process ``pid`` still exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists but belongs to someone else
        return True
    return True


def wait_for_exit(pid: int, poll_s: float = POLL_S) -> None:
    """Block until process ``pid`` has exited.

    Uses a pidfd where the platform has one (Linux 5.3 and later: no polling, no reuse of the
    id by another process), else checks every ``poll_s`` seconds.
    """
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    except (AttributeError, OSError):
        while _alive(pid):
            time.sleep(poll_s)
        return
    try:
        select.select([fd], [], [])
    finally:
        os.close(fd)


def _exit_when_gone(pid: int) -> None:
    wait_for_exit(pid)
    os._exit(ORPHAN_EXIT_CODE)  # nothing to clean up: the run in hand belongs to no one now


def watch_parent(pid: int) -> threading.Thread:
    """End this process as soon as process ``pid`` has exited.

    Args:
        pid: The process whose end this one must not outlive.

    Returns:
        The watching thread (a daemon: it never keeps the process alive).
    """
    thread = threading.Thread(target=_exit_when_gone, args=(pid,), name="policysim-watch-parent",
                              daemon=True)  # fmt: skip
    thread.start()
    return thread


def end_with_parent() -> None:
    """Ask the kernel to send this process SIGTERM when its parent dies (Linux only).

    Meant as :class:`subprocess.Popen`'s ``preexec_fn``: it runs in the child between fork and
    exec. When the parent has already gone by then, the child ends at once.
    """
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    if os.getppid() != parent:
        os._exit(ORPHAN_EXIT_CODE)
