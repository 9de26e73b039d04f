"""The Jupyter server extension: settings (traitlets), handlers, events and shutdown."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from traitlets import Float, Int, List, TraitError, Unicode, default, validate

from . import events
from .handlers import MANAGER_SETTING, default_handlers, desktop_url
from .manager import DesktopManager
from .session import Desktop
from .xpra import DEFAULT_START_COMMAND, GeometryError, parse_geometry


class DesktopApp(ExtensionApp):
    """Xpra browser desktops under ``<base_url>desktops/``."""

    name = "miniswan_desktop"
    load_other_extensions = True

    start_command = List(
        Unicode(),
        default_value=list(DEFAULT_START_COMMAND),
        minlen=1,
        help="""Command xpra starts in each desktop (--start-child), as an argv list.
        The desktop ends when this command exits, so it should be long-lived: the default
        runs an xterm beside an openbox window manager and lives as long as openbox.""",
    ).tag(config=True)

    geometry = Unicode(
        "1280x800",
        help="Default desktop size WxH (the Xvfb screen) when a create request gives none.",
    ).tag(config=True)

    max_geometry = Unicode(
        "3840x2160",
        help="Largest WxH a create request may ask for (~4 bytes of Xvfb memory a pixel).",
    ).tag(config=True)

    xpra_executable = Unicode(
        "xpra", help="The xpra program (name on PATH or absolute path); xpra 3.1 is expected."
    ).tag(config=True)

    xpra_extra_args = List(
        Unicode(),
        default_value=[],
        help="Extra arguments appended to the `xpra start-desktop` command line, e.g. "
        "['--encoding=jpeg']. Must not add TCP listeners: xpra has no auth here.",
    ).tag(config=True)

    max_desktops = Int(
        4, help="Most desktops that may be starting or running at once for this server (user)."
    ).tag(config=True)

    start_timeout = Float(
        30.0, help="Seconds a desktop may take to answer GET /Status before it is failed."
    ).tag(config=True)

    stop_timeout = Float(
        5.0, help="Seconds to wait after SIGTERM before the desktop's processes get SIGKILL."
    ).tag(config=True)

    runtime_dir = Unicode(
        help="""Directory for the private 0700 per-desktop directories (unix socket, xpra
        config, log). Default: $MINISWAN_DESKTOP_RUNTIME_DIR, else
        $XDG_RUNTIME_DIR/miniswan-desktop, else <tmp>/miniswan-desktop-<uid>. Keep it short:
        unix socket paths are limited to 107 bytes.""",
    ).tag(config=True)

    log_dir = Unicode(
        "",
        help="Directory for xpra logs (desktop-<id>.log), kept after a desktop is deleted. "
        "Empty: the log lives in the desktop's private directory and goes with it.",
    ).tag(config=True)

    @default("runtime_dir")
    def _default_runtime_dir(self) -> str:
        if os.environ.get("MINISWAN_DESKTOP_RUNTIME_DIR"):
            return os.environ["MINISWAN_DESKTOP_RUNTIME_DIR"]
        xdg = os.environ.get("XDG_RUNTIME_DIR")
        if xdg and os.path.isdir(xdg) and os.access(xdg, os.W_OK):
            return os.path.join(xdg, "miniswan-desktop")
        return os.path.join(tempfile.gettempdir(), f"miniswan-desktop-{os.getuid()}")

    @validate("geometry", "max_geometry")
    def _validate_geometry(self, proposal: dict[str, Any]) -> str:
        try:
            w, h = parse_geometry(proposal["value"])
        except GeometryError as e:
            raise TraitError(str(e)) from None
        return f"{w}x{h}"

    @validate("max_desktops")
    def _validate_max(self, proposal: dict[str, Any]) -> int:
        if proposal["value"] < 0:
            raise TraitError("max_desktops must be >= 0")
        return int(proposal["value"])

    def initialize_settings(self) -> None:
        runtime_dir = Path(self.runtime_dir)
        ensure_private_dir(runtime_dir)
        self.manager = DesktopManager(
            runtime_dir=runtime_dir,
            log_dir=Path(self.log_dir) if self.log_dir else None,
            max_desktops=self.max_desktops,
            geometry=self.geometry,
            max_geometry=self.max_geometry,
            start_command=list(self.start_command),
            executable=self.xpra_executable,
            extra_args=list(self.xpra_extra_args),
            start_timeout=self.start_timeout,
            stop_timeout=self.stop_timeout,
            on_change=self._emit,
        )
        assert self.serverapp is not None and self.serverapp.event_logger is not None
        events.register(self.serverapp.event_logger)
        self.settings[MANAGER_SETTING] = self.manager
        self.log.info("miniswan_desktop: desktops under %s", runtime_dir)

    def initialize_handlers(self) -> None:
        # ExtensionApp prepends the server's base_url to every pattern.
        self.handlers.extend(default_handlers)

    def _emit(self, desktop: Desktop) -> None:
        assert self.serverapp is not None and self.serverapp.event_logger is not None
        base_url = self.serverapp.base_url
        try:
            events.emit(self.serverapp.event_logger, desktop_url(desktop, base_url))
        except Exception:  # an event must never break supervision
            self.log.exception("miniswan_desktop: could not emit event for %s", desktop.id)
        self.log.info(
            "desktop %s (%s) is %s %s", desktop.id, desktop.name, desktop.state, desktop.reason
        )

    async def stop_extension(self) -> None:
        """Stop every desktop when Jupyter Server shuts down."""
        manager: DesktopManager | None = getattr(self, "manager", None)
        if manager is not None and manager.list():
            self.log.info("miniswan_desktop: stopping %d desktop(s)", len(manager.list()))
            await manager.delete_all()


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` 0700, or check that an existing one is ours and not group/world writable."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    st = path.stat()
    if st.st_uid != os.getuid() or st.st_mode & 0o022:
        raise RuntimeError(f"{path} must be owned by uid {os.getuid()} and not writable by others")
