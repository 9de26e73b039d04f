"""The collection of desktops of one server (one user). No jupyter_server imports."""

from __future__ import annotations

import asyncio
import builtins
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .applications import Application
from .keyboard import LayoutError, check_layout
from .session import ACTIVE_STATES, STOPPED, Desktop
from .xpra import DEFAULT_START_COMMAND, check_geometry, parse_geometry

_NAME = re.compile(r"^[\w][\w .,:@()+-]{0,63}\Z")


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

    With ``prepared`` > 0, that many desktops are started ahead of time (``prepare()``),
    unlisted and silent, and the next creates take them: a click then waits for no Xpra
    start. A prepared desktop counts against ``max_desktops`` only once it is taken, and
    is never prepared beyond it.
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
        gl: bool = True,
        start_command: list[str] | None = None,
        executable: str = "xpra",
        extra_args: list[str] | None = None,
        start_timeout: float = 30.0,
        stop_timeout: float = 5.0,
        on_change: Callable[[Desktop], Any] | None = None,
        keyboard_layout: str = "us",
        extra_keys: bool = True,
        prepared: int = 0,
        applications: dict[str, Application] | None = None,
    ) -> None:
        self.runtime_dir = runtime_dir
        self.log_dir = log_dir
        self.max_desktops = max_desktops
        self.geometry = geometry
        self.max_geometry = max_geometry
        self.max_screen = max_screen
        self.gl = gl
        self.start_command = list(start_command or DEFAULT_START_COMMAND)
        self.executable = executable
        self.extra_args = list(extra_args or [])
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.on_change = on_change
        self.keyboard_layout = keyboard_layout
        self.extra_keys = extra_keys
        self._desktops: dict[str, Desktop] = {}
        self._lock = asyncio.Lock()
        self.prepared = prepared
        # The programs of the server's software stack that a session may run alone.
        self.applications = dict(applications or {})
        self._ready: builtins.list[Desktop] = []
        self._preparing: asyncio.Task[None] | None = None

    def list(self) -> list[Desktop]:
        return sorted(self._desktops.values(), key=lambda d: d.created)

    def get(self, desktop_id: str) -> Desktop:
        try:
            return self._desktops[desktop_id]
        except KeyError:
            raise DesktopError(404, f"no desktop with id {desktop_id!r}") from None

    def validate_app(self, app: Any) -> Application | None:
        """The application a create request names (None: a desktop), or DesktopError(400)
        naming the ones this server offers."""
        if app is None:
            return None
        if isinstance(app, str) and app in self.applications:
            return self.applications[app]
        offered = ", ".join(sorted(self.applications)) or "none"
        raise DesktopError(
            400, f"unknown application {app!r}: this software stack offers {offered}"
        )

    def validate(
        self, name: Any = None, geometry: Any = None, app: Application | None = None
    ) -> tuple[str, str]:
        """Check a create request; returns (name, geometry) or raises DesktopError(400)."""
        if name is None:
            name = app.name if app else f"Desktop {len(self._desktops) + 1}"
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

    def validate_layout(self, layout: Any = None, variant: Any = None) -> tuple[str, str]:
        """Check a keyboard layout (default: ``keyboard_layout``); DesktopError(400) if XKB
        does not know it."""
        try:
            return check_layout(self.keyboard_layout if layout is None else layout, variant)
        except LayoutError as e:
            raise DesktopError(400, str(e)) from None

    async def set_layout(self, desktop_id: str, layout: Any, variant: Any = None) -> Desktop:
        """Change a desktop's keyboard layout. Its clients apply it (Xpra's
        ``layout-changed``), which is what makes Xpra re-read the keymap."""
        desktop = self.get(desktop_id)
        desktop.set_layout(*self.validate_layout(layout, variant))
        return desktop

    def _new_desktop(
        self, name: str, geometry: str, layout: str, variant: str, app: Application | None = None
    ) -> Desktop:
        return Desktop(
            name=name,
            runtime_dir=self.runtime_dir,
            log_dir=self.log_dir,
            on_change=self._changed,
            start_timeout=self.start_timeout,
            stop_timeout=self.stop_timeout,
            geometry=geometry,
            max_screen=self.max_screen,
            # an application that needs OpenGL gets it even where desktops go without
            gl=self.gl or bool(app and app.gl),
            app=app,
            start_command=app.start_command() if app else list(self.start_command),
            executable=self.executable,
            extra_args=list(self.extra_args),
            layout=layout,
            variant=variant,
            extra_keys=self.extra_keys,
        )

    def _active(self) -> int:
        return sum(1 for d in self._desktops.values() if d.state in ACTIVE_STATES)

    async def create(
        self,
        name: Any = None,
        geometry: Any = None,
        layout: Any = None,
        variant: Any = None,
        app: Any = None,
    ) -> Desktop:
        """Validate, check the maximum and hand out a prepared desktop or launch a new one
        (state ``starting``, or ``running`` if a prepared one was ready). With `app` (an
        application id), a session that runs that program alone (never a prepared one)."""
        async with self._lock:
            application = self.validate_app(app)
            name, geometry = self.validate(name, geometry, application)
            layout, variant = self.validate_layout(layout, variant)
            active = self._active()
            if active >= self.max_desktops:
                raise DesktopError(
                    409,
                    f"already {active} desktops running, the maximum is {self.max_desktops}: "
                    "stop one first",
                )
            desktop = None
            if application is None:
                desktop = self._take_prepared(name, geometry, layout, variant)
            if desktop is None:
                desktop = self._new_desktop(name, geometry, layout, variant, application)
                self._desktops[desktop.id] = desktop
                self._changed(desktop)
                await desktop.start()
        self.prepare()  # the next one
        return desktop

    def _take_prepared(
        self, name: str, geometry: str, layout: str, variant: str
    ) -> Desktop | None:
        """A prepared desktop, now listed as the user's, if one is ready and its screen can
        take `geometry` (the client sets the size it shows at anyway)."""
        w, h = parse_geometry(geometry)
        for desktop in self._ready:
            fb_w, fb_h = desktop.spec.framebuffer()
            if desktop.active and w <= fb_w and h <= fb_h:
                self._ready.remove(desktop)
                desktop.name = name
                desktop.created = datetime.now(UTC)
                desktop.apply_layout(layout, variant)
                # What was asked for: the screen takes the size of the first client anyway.
                desktop.spec.geometry = geometry
                self._desktops[desktop.id] = desktop
                self._changed(desktop)
                return desktop
        return None

    def prepare(self, delay: float = 0.0) -> None:
        """Start, in the background and after `delay` seconds, the desktops to keep ready
        (none if ``prepared`` is 0, never beyond ``max_desktops``). Needs a running event
        loop."""
        # Every listing calls this: start no task when the ready ones are enough already.
        if len(self._ready) < self.prepared and self._preparing is None:
            self._preparing = asyncio.ensure_future(self._prepare(delay))

    async def _prepare(self, delay: float) -> None:
        try:
            await asyncio.sleep(delay)
            async with self._lock:
                while (
                    len(self._ready) < self.prepared
                    and self._active() + len(self._ready) < self.max_desktops
                ):
                    layout, variant = self.validate_layout()
                    desktop = self._new_desktop("prepared", self.geometry, layout, variant)
                    self._ready.append(desktop)
                    await desktop.start()
                    if not desktop.active:  # could not even launch: do not loop on it
                        break
        finally:
            self._preparing = None

    async def delete(self, desktop_id: str) -> Desktop:
        """Stop a desktop (if active) and forget it; returns its final state."""
        async with self._lock:
            desktop = self.get(desktop_id)
            await desktop.stop()
            self._desktops.pop(desktop_id, None)
            desktop.cleanup()
        self.prepare()  # a place may have freed up
        return desktop

    async def delete_all(self) -> builtins.list[Desktop]:
        """Stop every desktop concurrently and forget them all (prepared ones too, which
        are not returned)."""
        async with self._lock:
            desktops = self.list()
            ready, self._ready = self._ready, []
            await asyncio.gather(*(d.stop() for d in desktops + ready), return_exceptions=True)
            for d in desktops:
                self._desktops.pop(d.id, None)
                d.cleanup()
            for d in ready:
                d.cleanup()
            return desktops

    def _changed(self, desktop: Desktop) -> None:
        if desktop in self._ready:
            # Prepared: nobody is told. One that ended by itself is dropped (a new one is
            # prepared at the next create or listing).
            if not desktop.active:
                self._ready.remove(desktop)
                desktop.cleanup()
            return
        if self.on_change is not None:
            self.on_change(desktop)
        if desktop.app is not None and desktop.state == STOPPED and desktop.ended_by_itself:
            # The program exited: its session is over, and listed no more (clients were
            # told just above). Sessions we stopped are forgotten by delete().
            self._desktops.pop(desktop.id, None)
            desktop.cleanup()
