"""The collection of desktops of one server (one user). No jupyter_server imports."""

from __future__ import annotations

import asyncio
import builtins
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .session import ACTIVE_STATES, Desktop
from .xpra import DEFAULT_START_COMMAND, check_geometry

_NAME = re.compile(r"^[\w][\w .,:@()+-]{0,63}$")


class DesktopError(Exception):
    """An error a client caused; ``status`` is the HTTP status to report."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class DesktopManager:
    """Create, list, get and stop desktops, never more than ``max_desktops`` active at once.

    An asyncio lock serialises create and delete so that concurrent requests cannot
    overshoot the maximum or stop a desktop twice.
    """

    def __init__(
        self,
        *,
        runtime_dir: Path,
        log_dir: Path | None = None,
        max_desktops: int = 4,
        geometry: str = "1280x800",
        max_geometry: str = "3840x2160",
        max_screen: str | None = None,
        start_command: list[str] | None = None,
        executable: str = "xpra",
        extra_args: list[str] | None = None,
        start_timeout: float = 30.0,
        stop_timeout: float = 5.0,
        on_change: Callable[[Desktop], Any] | None = None,
    ) -> None:
        self.runtime_dir = runtime_dir
        self.log_dir = log_dir
        self.max_desktops = max_desktops
        self.geometry = geometry
        self.max_geometry = max_geometry
        self.max_screen = max_screen
        self.start_command = list(start_command or DEFAULT_START_COMMAND)
        self.executable = executable
        self.extra_args = list(extra_args or [])
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.on_change = on_change
        self._desktops: dict[str, Desktop] = {}
        self._lock = asyncio.Lock()

    def list(self) -> list[Desktop]:
        return sorted(self._desktops.values(), key=lambda d: d.created)

    def get(self, desktop_id: str) -> Desktop:
        try:
            return self._desktops[desktop_id]
        except KeyError:
            raise DesktopError(404, f"no desktop with id {desktop_id!r}") from None

    def validate(self, name: Any = None, geometry: Any = None) -> tuple[str, str]:
        """Check a create request; returns (name, geometry) or raises DesktopError(400)."""
        if name is None:
            name = f"Desktop {len(self._desktops) + 1}"
        if not isinstance(name, str) or not _NAME.match(name):
            raise DesktopError(
                400,
                "name must be 1-64 letters, digits, spaces or ._,:@()+- (starting with a "
                "letter or digit)",
            )
        if geometry is None:
            geometry = self.geometry
        if not isinstance(geometry, str):
            raise DesktopError(400, "geometry must be a string like 1280x800")
        try:
            geometry = check_geometry(geometry, self.max_geometry)
        except ValueError as e:
            raise DesktopError(400, str(e)) from None
        return name, geometry

    async def create(self, name: Any = None, geometry: Any = None) -> Desktop:
        """Validate, check the maximum and launch a new desktop (state ``starting``)."""
        async with self._lock:
            name, geometry = self.validate(name, geometry)
            active = sum(1 for d in self._desktops.values() if d.state in ACTIVE_STATES)
            if active >= self.max_desktops:
                raise DesktopError(
                    409,
                    f"already {active} desktops running, the maximum is {self.max_desktops}: "
                    "stop one first",
                )
            desktop = Desktop(
                name=name,
                runtime_dir=self.runtime_dir,
                log_dir=self.log_dir,
                on_change=self._changed,
                start_timeout=self.start_timeout,
                stop_timeout=self.stop_timeout,
                geometry=geometry,
                max_screen=self.max_screen,
                start_command=list(self.start_command),
                executable=self.executable,
                extra_args=list(self.extra_args),
            )
            self._desktops[desktop.id] = desktop
            self._changed(desktop)
            await desktop.start()
            return desktop

    async def delete(self, desktop_id: str) -> Desktop:
        """Stop a desktop (if active) and forget it; returns its final state."""
        async with self._lock:
            desktop = self.get(desktop_id)
            await desktop.stop()
            self._desktops.pop(desktop_id, None)
            desktop.cleanup()
            return desktop

    async def delete_all(self) -> builtins.list[Desktop]:
        """Stop every desktop concurrently and forget them all."""
        async with self._lock:
            desktops = self.list()
            await asyncio.gather(*(d.stop() for d in desktops), return_exceptions=True)
            for d in desktops:
                self._desktops.pop(d.id, None)
                d.cleanup()
            return desktops

    def _changed(self, desktop: Desktop) -> None:
        if self.on_change is not None:
            self.on_change(desktop)
