"""What a spawn is doing, told to the spawn page as it happens.

JupyterHub's spawn page follows `Spawner.progress()` (an event stream of
`{"progress": percent, "message": text}`), the way KubeSpawner reports its pod's events. The
spawner records each step here as it starts it; `events()` replays the steps so far to a
page that connects late, then follows the rest until the spawn ends.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from tornado import web

STEP_LOG = "spawn step"
"""How each step starts in the hub's log: `spawn step <user> +<seconds> <message>` (the
benchmark's login profile reads these lines)."""


class SpawnProgress:
    """The steps of one spawn, in order; each is logged with the seconds since the start."""

    def __init__(self, log: logging.Logger | None = None, user: str = "") -> None:
        self._events: list[dict[str, Any]] = []
        self._changed = asyncio.Event()
        self._ended = False
        self.current = ""
        self._log = log
        self._user = user
        self._started = time.monotonic()

    def step(self, percent: int, message: str) -> None:
        """A step begins (what the user waits for now)."""
        self.current = message
        self._record(message)
        self._add({"progress": percent, "message": message})

    def _record(self, message: str) -> None:
        if self._log is not None:
            elapsed = time.monotonic() - self._started
            self._log.info("%s %s +%.3f %s", STEP_LOG, self._user, elapsed, message)

    def failed(self, reason: str) -> str:
        """The spawn failed in the current step: a message that says which and why, for
        the error the spawner raises (JupyterHub shows it last, as the spawn's failure)."""
        return f"{self.current}: failed. {reason}" if self.current else reason

    def failure(self, error: web.HTTPError) -> web.HTTPError:
        """The error a spawn raises when `error` stopped it in the current step.

        JupyterHub shows the error's `jupyterhub_message`, not the exception, wherever a
        failure is read: the progress stream, and the "Spawn failed" page it renders when
        the spawn had already ended by the time the browser reached the pending page
        (without it, that page names no reason at all)."""
        message = self.failed(error.log_message or str(error))
        failure = web.HTTPError(error.status_code, message)
        failure.jupyterhub_message = message  # type: ignore[attr-defined]
        return failure

    def end(self) -> None:
        self._record("done")
        self._ended = True
        self._changed.set()

    @property
    def ended(self) -> bool:
        return self._ended

    def _add(self, event: dict[str, Any]) -> None:
        self._events.append(event)
        self._changed.set()

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        sent = 0
        while True:
            while sent < len(self._events):
                yield self._events[sent]
                sent += 1
            if self._ended:
                return
            self._changed.clear()
            await self._changed.wait()
