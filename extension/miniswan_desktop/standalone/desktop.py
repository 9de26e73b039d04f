"""The one desktop of the desktop-only server, on top of the package's DesktopManager."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from ..applications import Application
from ..keyboard import load_preference
from ..manager import DesktopError, DesktopManager
from ..session import ACTIVE_STATES, Desktop

DESKTOP_NAME = "Desktop"


class SingleDesktop:
    """Start, restart and stop the server's single desktop.

    A restart replaces a dead (``failed`` or ``stopped``) desktop with a new one; the
    desktop id changes, its URL (``<prefix>desktop/``) does not.
    """

    def __init__(
        self,
        manager: DesktopManager,
        keyboard_file: Path | None = None,
        app: Application | None = None,
    ) -> None:
        self.manager = manager
        # the application this server runs alone instead of a desktop (None: a desktop)
        self.app = app
        # the user's saved keyboard layout (keyboard.preference_path); a restart keeps it
        self.keyboard_file = keyboard_file
        self.desktop: Desktop | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> Desktop:
        """Launch the desktop (state ``starting``); returns at once, xpra starts behind."""
        async with self._lock:
            return await self._create()

    async def restart(self) -> Desktop:
        """Replace a dead desktop; DesktopError(409) while one is starting or running."""
        async with self._lock:
            if self.desktop is not None and self.desktop.state in ACTIVE_STATES:
                raise DesktopError(409, f"the desktop is {self.desktop.state}, not dead")
            if self.desktop is not None:
                # (an application that exited is already forgotten by the manager)
                with contextlib.suppress(DesktopError):
                    await self.manager.delete(self.desktop.id)
            return await self._create()

    async def stop(self) -> None:
        """Stop the desktop and remove its private directory."""
        async with self._lock:
            await self.manager.delete_all()

    def status(self) -> dict[str, Any]:
        """The desktop as JSON (``state`` ``stopped`` before it was ever started)."""
        if self.desktop is None:
            return {"state": "stopped", "reason": "not started", "log_tail": []}
        return self.desktop.to_dict()

    async def _create(self) -> Desktop:
        saved = load_preference(self.keyboard_file) if self.keyboard_file else None
        layout, variant = saved or (None, None)
        if self.desktop is not None and not saved:  # a restart keeps the layout in use
            layout, variant = self.desktop.layout, self.desktop.variant
        self.desktop = await self.manager.create(
            self.app.name if self.app else DESKTOP_NAME,
            layout=layout,
            variant=variant,
            app=self.app.id if self.app else None,
        )
        return self.desktop
