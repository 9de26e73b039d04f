"""Linux process helpers based on /proc: find and kill every process of a session.

Xpra is started with ``start_new_session=True``, so the session id of everything it spawns
(Xvfb, which xpra moves to its own process group, the window manager, the terminal) is the
xpra pid. Killing the session, not only the process group, leaves no orphan Xvfb even when
xpra itself was SIGKILLed. No jupyter_server imports here.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Iterable
from pathlib import Path

PROC = Path("/proc")


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name, or None if gone."""
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name may contain spaces and parentheses: split after the last ')'.
    return raw[raw.rfind(")") + 2 :].split()


def is_alive(pid: int) -> bool:
    """True if the process exists and is not a zombie."""
    fields = _stat_fields(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def session_members(sid: int) -> list[int]:
    """Pids of live (non-zombie) processes whose session id is ``sid``."""
    members = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        # fields: 0 state, 1 ppid, 2 pgrp, 3 session
        if fields and fields[0] not in ("Z", "X") and int(fields[3]) == sid:
            members.append(int(entry.name))
    return members


def signal_group(pgid: int, sig: int) -> bool:
    """Send ``sig`` to a process group; False if it no longer exists."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    return True


def _signal_all(pids: Iterable[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


async def kill_session(sid: int, grace: float = 2.0, poll: float = 0.05) -> list[int]:
    """SIGTERM every process of session ``sid``, SIGKILL what is left after ``grace`` s.

    Returns the pids that were found. Never signals our own session.
    """
    if sid <= 1 or sid == os.getsid(0):
        return []
    found = session_members(sid)
    if not found:
        return []
    _signal_all(found, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not any(is_alive(pid) for pid in found):
            return found
        await asyncio.sleep(poll)
    _signal_all(session_members(sid), signal.SIGKILL)
    return found
