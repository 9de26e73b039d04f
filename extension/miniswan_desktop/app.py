"""The Jupyter server extension: settings (traitlets), handlers, events and shutdown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from traitlets import Float, Int, TraitError, Unicode, validate

from . import dev_reload, events
from .client_files import ClientFiles
from .handlers import (
    CLIENT_FILES,
    CLIENT_SETTING,
    MANAGER_SETTING,
    ClientFileHandler,
    default_handlers,
    desktop_url,
)
from .keyboard_api import KEYBOARD_FILE_SETTING
from .manager import DesktopManager
from .session import Desktop
from .settings import DesktopSettings, normalised_geometry


class DesktopApp(DesktopSettings, ExtensionApp):
    """Xpra browser desktops under ``<base_url>desktops/``; the launch settings are
    ``DesktopSettings``'s."""

    name = "miniswan_desktop"
    load_other_extensions = True

    max_geometry = Unicode(
        "3840x2160",
        help="Largest WxH a create request may ask for (~4 bytes of Xvfb memory a pixel).",
    ).tag(config=True)

    max_desktops = Int(
        4, help="Most desktops that may be starting or running at once for this server (user)."
    ).tag(config=True)

    prepared_desktops = Int(
        1,
        help="""Desktops kept started ahead of time, unlisted, for the next "Desktop" clicks
        to take at once: a click then waits for no Xpra start (about a second). Started with
        the server (after prepare_delay), and again after each one is taken; never beyond
        max_desktops. Each costs the memory of an idle desktop (docs/desktops.md). 0: every
        desktop starts on its click.""",
    ).tag(config=True)

    prepare_delay = Float(
        0.0,
        help="""Seconds between the server's start and the start of the prepared desktop
        (for a server with few cores that should serve JupyterLab's first load first; by
        default the desktop starts while the hub redirects the browser and JupyterLab loads,
        so that it is ready by the time a user can click).""",
    ).tag(config=True)

    @validate("max_geometry")
    def _validate_max_geometry(self, proposal: dict[str, Any]) -> str:
        return normalised_geometry(proposal["value"])

    @validate("max_desktops")
    def _validate_max(self, proposal: dict[str, Any]) -> int:
        if proposal["value"] < 0:
            raise TraitError("max_desktops must be >= 0")
        return int(proposal["value"])

    def initialize_settings(self) -> None:
        self.manager = DesktopManager(
            **self.manager_kwargs(),
            max_desktops=self.max_desktops,
            max_geometry=self.max_geometry,
            prepared=max(0, self.prepared_desktops),
            on_change=self._emit,
        )
        assert self.serverapp is not None and self.serverapp.event_logger is not None
        events.register(self.serverapp.event_logger)
        self.settings[MANAGER_SETTING] = self.manager
        self.settings[KEYBOARD_FILE_SETTING] = Path(self.keyboard_file)
        if self.serverapp.autoreload:  # a dev stack: see dev_reload.py
            dev_reload.watch()
        self.client = ClientFiles(self.xpra_html_dir)
        self.client.prepare()
        self.settings[CLIENT_SETTING] = self.client
        if not self.client.available:
            self.log.warning(
                "miniswan_desktop: no Xpra HTML5 client in %s: desktops load it from Xpra",
                self.xpra_html_dir,
            )
        self.log.info("miniswan_desktop: desktops under %s", self.runtime_dir)

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        # jupyter_server's hook once its event loop runs: prepare the first click's desktop
        # now. Prepared at JupyterLab's first listing instead, it was still starting when
        # the Launcher showed, and a quick first click waited for it (docs/benchmark.md).
        self.manager.prepare(delay=max(0.0, self.prepare_delay))

    def initialize_handlers(self) -> None:
        # ExtensionApp prepends the server's base_url to every pattern.
        client_route = (
            rf"{CLIENT_FILES}/([^/]+)/(.*)",
            ClientFileHandler,
            {"client": self.client},
        )
        self.handlers.extend([client_route, *default_handlers])

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
