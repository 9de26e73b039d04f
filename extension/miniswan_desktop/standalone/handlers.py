"""Thin handlers of the desktop-only server: the page, the JSON API and the health check.

Every handler but the health check authenticates with the Hub (``HubOAuthenticated``): only
users the Hub's scopes allow (``$JUPYTERHUB_OAUTH_ACCESS_SCOPES``, normally the owner) get
in; others get 403; anonymous browsers are sent to the Hub's OAuth authorize URL, API calls
without credentials get 403. The desktop proxy is in ``proxy.py``.
"""

from __future__ import annotations

import json
from typing import Any

from jupyter_server.base.handlers import utcnow
from jupyterhub import __version__ as jupyterhub_version
from jupyterhub.services.auth import HubOAuthenticated
from tornado import web

from .. import __version__
from ..desktop_proxy import JsonErrorsMixin, JsonWriterMixin
from ..keyboard_api import KeyboardAPI
from ..manager import DesktopError, DesktopManager
from .activity import ACTIVITY_KEY
from .desktop import SingleDesktop

SERVICE_SETTING = "miniswan_desktop_service"
"""Application setting holding the SingleDesktop."""


class HubUserMixin(HubOAuthenticated):
    """Hub OAuth for a handler, the user being resolved without blocking the event loop."""

    settings: dict[str, Any]

    @property
    def hub_users(self) -> set[str]:
        # Only used by a Hub that passes no $JUPYTERHUB_OAUTH_ACCESS_SCOPES (JupyterHub < 2):
        # then the owner alone gets in. An empty set lets nobody in.
        user = self.settings.get("hub_user", "")
        return {user} if user else set()

    async def prepare(self) -> None:
        # HubAuth caches the user model on the handler: get_current_user(), which tornado
        # calls synchronously, then only checks it against the scopes.
        await self.hub_auth.get_user(self, sync=False)

    @property
    def service(self) -> SingleDesktop:
        return self.settings[SERVICE_SETTING]

    @property
    def manager(self) -> DesktopManager:
        return self.service.manager

    def record_activity(self) -> None:
        """Count this request as use of the server for the Hub's idle culler."""
        self.settings.setdefault("last_activity_times", {})[ACTIVITY_KEY] = utcnow()

    def desktop_status(self) -> dict[str, Any]:
        """The desktop as JSON, with the URLs of its proxy and of its HTML5 client."""
        return {
            **self.service.status(),
            "url": self.settings["desktop_url"],
            "client_url": self.settings["client_url"],
        }


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


class PageHandler(HubUserMixin, web.RequestHandler):
    """``<prefix>``: the desktop page (state while starting, Xpra's client once running)."""

    @web.authenticated
    def get(self) -> None:
        self.record_activity()
        user = self.current_user or {}
        # What the page's script (src/desktoppage.ts) starts from, as one JSON document.
        page_data = {
            "status": self.desktop_status(),
            "xsrf": _text(self.xsrf_token),
        }
        self.render(
            "page.html",
            title=self.settings["page_title"],
            # what runs here, in the page's words: "the desktop", or the application's name
            what=f"the application {app.name}" if (app := self.service.app) else "the desktop",
            user=user.get("name", ""),
            hub_home=self.settings["hub_home_url"],
            page_data=json.dumps(page_data).replace("</", "<\\/"),
        )


class ApiHandler(JsonErrorsMixin, JsonWriterMixin, HubUserMixin, web.RequestHandler):
    """JSON in and out; a request without credentials gets 403, never a redirect."""

    def get_login_url(self) -> str:
        raise web.HTTPError(403)

    def compute_etag(self) -> None:
        return None  # a state, not a document: never 304

    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")


class StatusHandler(ApiHandler):
    """``GET <prefix>api/status``: the desktop's state (does not count as activity)."""

    @web.authenticated
    def get(self) -> None:
        self.write_json(self.desktop_status())


class RestartHandler(ApiHandler):
    """``POST <prefix>api/restart``: replace a failed or stopped desktop (409 otherwise)."""

    @web.authenticated
    async def post(self) -> None:
        self.record_activity()
        try:
            await self.service.restart()
        except DesktopError as e:
            raise web.HTTPError(e.status, e.message) from None
        self.write_json(self.desktop_status())


class KeyboardLayoutsHandler(KeyboardAPI, ApiHandler):
    """``<prefix>desktops/api/keyboard-layouts``: the layouts (keyboard_api.py)."""

    @web.authenticated
    def get(self) -> None:
        self.write_json(self.layouts_json())


class KeyboardHandler(KeyboardAPI, ApiHandler):
    """``<prefix>desktops/api/keyboard``: the user's chosen layout, read and kept, as on the
    JupyterLab server (keyboard_api.py); the next desktop of this server starts with it."""

    @web.authenticated
    def get(self) -> None:
        self.write_json(self.choice_json())

    @web.authenticated
    def put(self) -> None:
        self.record_activity()
        self.write_json(self.keep_choice())

    @web.authenticated
    def delete(self) -> None:
        self.record_activity()
        self.write_json(self.forget_choice())


class DesktopLayoutHandler(KeyboardAPI, ApiHandler):
    """``PATCH <prefix>desktops/api/desktops/<id>``: switch the desktop's layout, as on the
    JupyterLab server (keyboard_api.py); answers with the page's status."""

    @web.authenticated
    async def patch(self, desktop_id: str) -> None:
        self.record_activity()
        await self.switch_desktop(desktop_id)
        self.write_json(self.desktop_status())


class VersionHandler(web.RequestHandler):
    """``GET <prefix>api``: unauthenticated health check, like jupyterhub-singleuser's.

    The Hub's ``User._wait_up`` polls ``<server url>api`` (``extra_path="api"``) until it
    answers below 500 and reads ``X-JupyterHub-Version`` from the answer.
    """

    def get(self) -> None:
        self.set_header("X-JupyterHub-Version", jupyterhub_version)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"version": __version__, "server": "miniswan-desktop-server"}))
