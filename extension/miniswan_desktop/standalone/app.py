"""``miniswan-desktop-server``: the Tornado app JupyterHub spawns for a desktop-only server.

It replaces ``jupyterhub-singleuser``: it reads the environment the Hub passes
(``JUPYTERHUB_SERVICE_URL``, ``JUPYTERHUB_SERVICE_PREFIX``, ``JUPYTERHUB_API_TOKEN``,
``JUPYTERHUB_API_URL``, ``JUPYTERHUB_CLIENT_ID``, ``JUPYTERHUB_OAUTH_CALLBACK_URL``,
``JUPYTERHUB_OAUTH_ACCESS_SCOPES``, ``JUPYTERHUB_USER``, ``JUPYTERHUB_ACTIVITY_URL``, ...),
logs users in through the Hub (OAuth), starts one Xpra desktop with the package's
``DesktopManager`` and serves it under its prefix. SIGTERM or SIGINT stop the desktop, then
the process exits with status 0.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlparse

from jupyter_server.base.handlers import utcnow
from jupyterhub.services.auth import HubOAuth, HubOAuthCallbackHandler
from jupyterhub.utils import url_path_join
from tornado import web
from tornado.httpserver import HTTPServer
from tornado.log import enable_pretty_logging
from traitlets import Dict, Float, Int, Unicode, default, validate
from traitlets.config import Application

from .. import __version__
from ..client_files import CachedClientFileHandler, ClientFiles
from ..client_page import client_params
from ..keyboard_api import DESKTOP_ROUTE, KEYBOARD_FILE_SETTING, KEYBOARD_ROUTE, LAYOUTS_ROUTE
from ..manager import DesktopError, DesktopManager
from ..session import Desktop
from ..settings import DesktopSettings
from .activity import ActivityReporter, last_activity
from .desktop import SingleDesktop
from .handlers import (
    SERVICE_SETTING,
    DesktopLayoutHandler,
    KeyboardHandler,
    KeyboardLayoutsHandler,
    PageHandler,
    RestartHandler,
    StatusHandler,
    VersionHandler,
)
from .proxy import DesktopProxyHandler

TEMPLATES = Path(__file__).parent / "templates"
# The page's script, built from src/standalone.ts by `jlpm build:page` (the wheel has it).
STATIC = Path(__file__).parent / "static"


def _service_url() -> Any:
    return urlparse(os.environ.get("JUPYTERHUB_SERVICE_URL", ""))


class DesktopServer(DesktopSettings, Application):
    """One Xpra desktop behind JupyterHub's OAuth, in place of jupyterhub-singleuser; the
    desktop's settings are ``DesktopSettings``'s."""

    name = "miniswan-desktop-server"
    version = __version__
    description = """Serve one Xpra browser desktop for a JupyterHub user, without Jupyter.
    JupyterHub spawns it in place of jupyterhub-singleuser (Spawner.cmd =
    ["miniswan-desktop-server"]); its settings come from the JUPYTERHUB_* environment."""

    aliases = {  # noqa: RUF012 (traitlets reads it from the class)
        "ip": "DesktopServer.ip",
        "port": "DesktopServer.port",
        "base-url": "DesktopServer.base_url",
        "geometry": "DesktopServer.geometry",
        "config": "DesktopServer.config_file",
        "log-level": "Application.log_level",
    }

    config_file = Unicode(
        "", help="A Python config file (c.DesktopServer.<name> = ...) to load, if any."
    ).tag(config=True)

    # ---- where to listen --------------------------------------------------------------

    ip = Unicode(
        help="""Address to listen on. Default: the host of $JUPYTERHUB_SERVICE_URL (the Hub
        sets it to the spawner's bind address, e.g. http://0.0.0.0:8888/user/alice/), else
        127.0.0.1.""",
    ).tag(config=True)

    @default("ip")
    def _default_ip(self) -> str:
        return _service_url().hostname or "127.0.0.1"

    port = Int(
        help="Port to listen on. Default: the port of $JUPYTERHUB_SERVICE_URL, else 8888.",
    ).tag(config=True)

    @default("port")
    def _default_port(self) -> int:
        return _service_url().port or 8888

    base_url = Unicode(
        help="""URL prefix of this server, e.g. /user/alice/. Default:
        $JUPYTERHUB_SERVICE_PREFIX, else the path of $JUPYTERHUB_SERVICE_URL, else /.""",
    ).tag(config=True)

    @default("base_url")
    def _default_base_url(self) -> str:
        return os.environ.get("JUPYTERHUB_SERVICE_PREFIX") or _service_url().path or "/"

    @validate("base_url")
    def _validate_base_url(self, proposal: dict[str, Any]) -> str:
        return "/" + proposal["value"].strip("/") + "/" if proposal["value"].strip("/") else "/"

    # ---- the desktop ------------------------------------------------------------------

    app = Unicode(
        help="""Start into this application of the software stack (its id, see
        applications_file) instead of a desktop: the program alone in the browser tab, and a
        new one when the page is reloaded after it exits. Default: $MINISWAN_DESKTOP_APP (the
        spawn page's choice), else a desktop. An id the stack does not ship stops the server
        at start with a message naming the ones it does.""",
    ).tag(config=True)

    @default("app")
    def _default_app(self) -> str:
        return os.environ.get("MINISWAN_DESKTOP_APP", "")

    client_params = Dict(
        Unicode(),
        help="""URL parameters of Xpra's HTML5 client (www/index.html: encoding, swap_keys,
        ...). Default: the JupyterLab panel's (src/client-params.json, with why each). Passed
        explicitly because the client otherwise falls back to values left in the browser's
        sessionStorage.""",
    ).tag(config=True)

    @default("client_params")
    def _default_client_params(self) -> dict[str, str]:
        return dict(client_params())

    page_title = Unicode("mini-SWAN desktop", help="Title of the desktop page.").tag(config=True)

    # ---- the Hub ----------------------------------------------------------------------

    hub_user = Unicode(
        help="Owner of this server. Default: $JUPYTERHUB_USER. Used to check users only "
        "when the Hub passes no $JUPYTERHUB_OAUTH_ACCESS_SCOPES (JupyterHub < 2).",
    ).tag(config=True)

    @default("hub_user")
    def _default_hub_user(self) -> str:
        return os.environ.get("JUPYTERHUB_USER", "")

    server_name = Unicode(
        help="Name of this server for the Hub ('' for the default server). "
        "Default: $JUPYTERHUB_SERVER_NAME.",
    ).tag(config=True)

    @default("server_name")
    def _default_server_name(self) -> str:
        return os.environ.get("JUPYTERHUB_SERVER_NAME", "")

    hub_home_url = Unicode(
        help="Link to the Hub's control panel on the page. Default: "
        "$JUPYTERHUB_PUBLIC_HUB_URL/home, else $JUPYTERHUB_BASE_URL/hub/home.",
    ).tag(config=True)

    @default("hub_home_url")
    def _default_hub_home_url(self) -> str:
        public = os.environ.get("JUPYTERHUB_PUBLIC_HUB_URL")
        if public:
            return url_path_join(public, "home")
        return url_path_join(os.environ.get("JUPYTERHUB_BASE_URL") or "/", "hub/home")

    activity_url = Unicode(
        help="Hub URL to POST activity to. Default: $JUPYTERHUB_ACTIVITY_URL, else "
        "$JUPYTERHUB_API_URL/users/<user>/activity.",
    ).tag(config=True)

    @default("activity_url")
    def _default_activity_url(self) -> str:
        if os.environ.get("JUPYTERHUB_ACTIVITY_URL"):
            return os.environ["JUPYTERHUB_ACTIVITY_URL"]
        api_url = os.environ.get("JUPYTERHUB_API_URL")
        if api_url and self.hub_user:
            return url_path_join(api_url, "users", self.hub_user, "activity")
        return ""

    activity_interval = Float(
        help="""Seconds between activity reports to the Hub (for its idle culler); 0
        disables them. Proxied traffic to the desktop (including the HTML5 client's pings
        every 5 s: an open tab counts as use), page views and restarts count as activity.
        Default: $JUPYTERHUB_ACTIVITY_INTERVAL, else 300.""",
    ).tag(config=True)

    @default("activity_interval")
    def _default_activity_interval(self) -> float:
        return float(os.environ.get("JUPYTERHUB_ACTIVITY_INTERVAL") or 300)

    @default("log_level")
    def _default_log_level(self) -> int:
        return logging.INFO

    # ---- lifecycle --------------------------------------------------------------------

    def initialize(self, argv: Any = None) -> None:
        super().initialize(argv)
        if self.config_file:
            self.load_config_file(self.config_file)
            self.update_config(self.cli_config)  # the command line wins over the file
        # Tornado's access log, HubAuth's and our own messages, all on stderr.
        enable_pretty_logging()
        level: Any = self.log_level
        logging.getLogger().setLevel(level)
        for name in ("JUPYTERHUB_SSL_KEYFILE", "JUPYTERHUB_SSL_CERTFILE"):
            if os.environ.get(name):
                raise SystemExit(f"{self.name}: internal SSL ({name}) is not supported")
        self.hub_auth = HubOAuth.instance(parent=self, base_url=self.base_url)
        try:  # fail now, not at the first request, when the Hub's environment is missing
            self.hub_auth.api_token, self.hub_auth.oauth_client_id  # noqa: B018
        except ValueError as e:
            raise SystemExit(f"{self.name}: {e} (is JUPYTERHUB_API_TOKEN/CLIENT_ID set?)") from e
        self.started = utcnow()
        self.manager = DesktopManager(
            **self.manager_kwargs(),
            max_desktops=1,
            max_geometry=self.geometry,
            on_change=self._log_change,
        )
        try:  # a wrong id is a configuration error: say so now, not at the first page load
            application = self.manager.validate_app(self.app or None)
        except DesktopError as e:
            raise SystemExit(f"{self.name}: {e.message}") from None
        self.desktop = SingleDesktop(
            self.manager, keyboard_file=Path(self.keyboard_file), app=application
        )
        self.web_app = self.make_app()

    def make_app(self) -> web.Application:
        prefix = self.base_url
        desktop_url = url_path_join(prefix, "desktop") + "/"
        client = ClientFiles(self.xpra_html_dir)
        client.prepare()
        files_url = url_path_join(prefix, "client")
        if client.available:  # the server's cached copy, its websocket going to the desktop
            params = {**self.client_params, "path": desktop_url}
            client_url = client.index_path(files_url) + "?" + urlencode(params)
        else:
            self.log.warning("No Xpra HTML5 client in %s: loading it from Xpra", client.www)
            client_url = url_path_join(desktop_url, "index.html")
            client_url += "?" + urlencode(self.client_params)
        route = re.escape
        handlers: list[Any] = [
            (route(prefix), PageHandler),
            (route(url_path_join(prefix, "oauth_callback")), HubOAuthCallbackHandler),
            (route(url_path_join(prefix, "api")) + "/?", VersionHandler),
            (route(url_path_join(prefix, "api/status")), StatusHandler),
            (route(url_path_join(prefix, "api/restart")), RestartHandler),
            # the keyboard API of both servers (keyboard_api.py)
            (route(prefix) + LAYOUTS_ROUTE, KeyboardLayoutsHandler),
            (route(prefix) + KEYBOARD_ROUTE, KeyboardHandler),
            (route(prefix) + DESKTOP_ROUTE, DesktopLayoutHandler),
            # Public, cached: see client_files.py.
            (route(files_url) + "/([^/]+)/(.*)", CachedClientFileHandler, {"client": client}),
            (route(desktop_url.rstrip("/")), web.RedirectHandler, {"url": desktop_url}),
            (route(desktop_url) + "(.*)", DesktopProxyHandler),
        ]
        if prefix != "/":
            # The Hub may link to the prefix without its slash; the page needs it.
            handlers.append((route(prefix.rstrip("/")), web.RedirectHandler, {"url": prefix}))
        settings: dict[str, Any] = dict(
            base_url=prefix,
            template_path=str(TEMPLATES),
            # tornado serves it below the prefix; static_url() adds a content hash, and a
            # hashed URL is cached for good (a new build is a new hash)
            static_path=str(STATIC),
            static_url_prefix=url_path_join(prefix, "static") + "/",
            # the hash is taken again for each page, so that a rebuilt script (`jlpm watch`
            # in the dev loop) gets a new URL; hashing 14 KiB per page load costs nothing
            static_hash_cache=False,
            cookie_secret=os.urandom(32),
            # xsrf is the Hub's (HubAuthenticated.check_xsrf_cookie), not tornado's.
            xsrf_cookies=False,
            hub_user=self.hub_user,
            page_title=self.page_title,
            hub_home_url=self.hub_home_url,
            desktop_url=desktop_url,
            client_url=client_url,
            last_activity_times={},
            **{KEYBOARD_FILE_SETTING: Path(self.keyboard_file)},
        )
        settings[SERVICE_SETTING] = self.desktop
        return web.Application(handlers, **settings)

    def start(self) -> None:
        asyncio.run(self.serve())

    async def serve(self) -> None:
        """Listen, start the desktop and report activity until SIGTERM or SIGINT."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        server = HTTPServer(self.web_app, xheaders=True)
        server.listen(self.port, self.ip)
        self.log.info(
            "%s %s listening on http://%s:%d%s for user %r",
            self.name,
            __version__,
            self.ip,
            self.port,
            self.base_url,
            self.hub_user,
        )
        await self.desktop.start()
        reporter = None
        if self.activity_interval > 0 and self.activity_url:
            reporter = ActivityReporter(
                url=self.activity_url,
                api_token=self.hub_auth.api_token,
                server_name=self.server_name,
                interval=self.activity_interval,
                get_last_activity=self.last_activity,
            )
            reporter.start()
        else:
            self.log.warning("Activity reports to the Hub are disabled")
        await stop.wait()
        self.log.info("Stopping: the desktop, then the HTTP server")
        server.stop()
        if reporter is not None:
            await reporter.stop()
        await self.desktop.stop()
        try:
            await asyncio.wait_for(server.close_all_connections(), 5)
        except TimeoutError:
            self.log.warning("Some HTTP connections did not close within 5 s")
        self.log.info("Stopped")

    def last_activity(self) -> datetime:
        return last_activity(self.web_app.settings, self.started)

    def _log_change(self, desktop: Desktop) -> None:
        log = self.log.warning if desktop.state == "failed" else self.log.info
        log("desktop %s is %s %s", desktop.id, desktop.state, desktop.reason)


def main(argv: list[str] | None = None) -> None:
    DesktopServer.launch_instance(argv)


if __name__ == "__main__":
    main()
