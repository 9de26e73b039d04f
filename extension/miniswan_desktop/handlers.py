"""Thin authenticated handlers: the REST API and the proxy to each desktop's Xpra socket."""

from __future__ import annotations

import asyncio
from typing import Any

from jupyter_server.auth.decorator import allow_unauthenticated, authorized
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.utils import ensure_async, url_path_join
from jupyter_server_proxy.handlers import LocalProxyHandler
from tornado import web

from .client_files import CachedClientFileHandler, ClientFiles
from .desktop_proxy import JsonErrorsMixin, JsonWriterMixin, XpraProxyMixin, json_object
from .keyboard_api import DESKTOP_ROUTE, KEYBOARD_ROUTE, LAYOUTS_ROUTE, KeyboardAPI
from .manager import DesktopError, DesktopManager
from .session import Desktop

AUTH_RESOURCE = "desktops"
MANAGER_SETTING = "miniswan_desktop_manager"
CLIENT_SETTING = "miniswan_desktop_client"
CLIENT_FILES = "desktops/client"
"""Where Xpra's HTML5 client is served (client_files.py), below the server's base_url."""


def desktop_url(desktop: Desktop, base_url: str) -> dict[str, Any]:
    """The REST representation: the desktop plus the path to open it."""
    return {**desktop.to_dict(), "url": url_path_join(base_url, "desktops", desktop.id) + "/"}


class DesktopMixin:
    """Shared lookup of the manager and translation of DesktopError into HTTP errors."""

    settings: dict[str, Any]

    @property
    def manager(self) -> DesktopManager:
        return self.settings[MANAGER_SETTING]

    def get_desktop(self, desktop_id: str) -> Desktop:
        try:
            return self.manager.get(desktop_id)
        except DesktopError as e:
            raise web.HTTPError(e.status, e.message) from None


class BaseDesktopHandler(JsonWriterMixin, DesktopMixin, APIHandler):
    auth_resource = AUTH_RESOURCE

    def as_json(self, desktop: Desktop) -> dict[str, Any]:
        return {**desktop_url(desktop, self.base_url), "client_url": self.client_url()}

    def client_url(self) -> str:
        """The HTML5 client's page: cached files of the server, else the desktop's Xpra."""
        client: ClientFiles | None = self.settings.get(CLIENT_SETTING)
        if client is None or not client.available:
            return ""
        return client.index_path(url_path_join(self.base_url, CLIENT_FILES))


class DesktopsHandler(BaseDesktopHandler):
    """``desktops/api/desktops``: list, create, delete all."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        # The prepared desktop starts with the server (app.py); a listing replaces one that
        # has gone (manager.prepare: nothing if one is ready or none are wanted).
        self.manager.prepare()
        self.write_json([self.as_json(d) for d in self.manager.list()])

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = json_object(self.request.body)
        unknown = set(body) - {"name", "geometry", "layout", "variant", "app"}
        if unknown:
            raise web.HTTPError(400, f"unknown fields: {', '.join(sorted(unknown))}")
        try:
            desktop = await self.manager.create(
                body.get("name"),
                body.get("geometry"),
                body.get("layout"),
                body.get("variant"),
                app=body.get("app"),
            )
        except DesktopError as e:
            raise web.HTTPError(e.status, e.message) from None
        self.set_header("Location", self.as_json(desktop)["url"])
        self.write_json(self.as_json(desktop), status=201)

    @web.authenticated
    @authorized
    async def delete(self) -> None:
        desktops = await self.manager.delete_all()
        self.write_json([self.as_json(d) for d in desktops])


class DesktopHandler(KeyboardAPI, BaseDesktopHandler):
    """``desktops/api/desktops/<id>``: get one, switch its keyboard layout (keyboard_api.py),
    stop and delete one."""

    @web.authenticated
    @authorized
    async def get(self, desktop_id: str) -> None:
        self.write_json(self.as_json(self.get_desktop(desktop_id)))

    @web.authenticated
    @authorized
    async def patch(self, desktop_id: str) -> None:
        self.write_json(self.as_json(await self.switch_desktop(desktop_id)))

    @web.authenticated
    @authorized
    async def delete(self, desktop_id: str) -> None:
        try:
            desktop = await self.manager.delete(desktop_id)
        except DesktopError as e:
            raise web.HTTPError(e.status, e.message) from None
        self.write_json(self.as_json(desktop))


class KeyboardLayoutsHandler(KeyboardAPI, BaseDesktopHandler):
    """``desktops/api/keyboard-layouts``: the XKB layouts (and variants) a desktop may use."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.write_json(self.layouts_json())


class KeyboardHandler(KeyboardAPI, BaseDesktopHandler):
    """``desktops/api/keyboard``: the user's chosen layout, read and kept (keyboard_api.py)."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.write_json(self.choice_json())

    @web.authenticated
    @authorized
    async def put(self) -> None:
        self.write_json(self.keep_choice())

    @web.authenticated
    @authorized
    async def delete(self) -> None:
        self.write_json(self.forget_choice())


class ApplicationsHandler(BaseDesktopHandler):
    """``desktops/api/applications``: the programs of the server's software stack that a
    session can run alone (POST ``desktops`` with ``{"app": "<id>"}``)."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.write_json([app.to_dict() for app in self.manager.applications.values()])


class ClientPreloadHandler(BaseDesktopHandler):
    """``desktops/api/client``: the client's files a browser may fetch ahead (the page, its
    script bundle, its stylesheets), so that the first desktop opens from the browser's
    cache; empty when this server has no cached client."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        client: ClientFiles | None = self.settings.get(CLIENT_SETTING)
        files_url = url_path_join(self.base_url, CLIENT_FILES)
        # The page and the bundle are made in a thread at start: not on the event loop.
        paths = await asyncio.to_thread(client.preload_paths, files_url) if client else []
        self.write_json({"preload": paths})


class ClientFileHandler(JupyterHandler, CachedClientFileHandler):
    """``desktops/client/<version>/<path>``: a file of Xpra's HTML5 client, cached by the
    browser, public like Jupyter Server's /static/ (client_files.py says why)."""

    auth_resource = AUTH_RESOURCE

    @property
    def content_security_policy(self) -> str:
        # The client page runs in JupyterLab's panel, an iframe of the same origin; the
        # single-user server's default (frame-ancestors 'none') would blank it.
        return "frame-ancestors 'self'"

    @allow_unauthenticated
    def get(self, version: str, path: str, include_body: bool = True) -> Any:  # type: ignore[override]
        return CachedClientFileHandler.get(self, version, path, include_body)

    @allow_unauthenticated
    def head(self, version: str, path: str) -> Any:  # type: ignore[override]
        return CachedClientFileHandler.head(self, version, path)


class AddSlashHandler(JsonErrorsMixin, DesktopMixin, JupyterHandler):
    """``desktops/<id>`` -> ``desktops/<id>/`` (the HTML5 client loads assets relatively)."""

    auth_resource = AUTH_RESOURCE

    @web.authenticated
    @authorized("read")
    def get(self, desktop_id: str) -> None:
        self.get_desktop(desktop_id)
        query = f"?{self.request.query}" if self.request.query else ""
        self.redirect(self.request.path + "/" + query)


class DesktopProxyHandler(XpraProxyMixin, DesktopMixin, LocalProxyHandler):
    """``desktops/<id>/<path>``: HTTP and websocket proxy to the desktop's Xpra unix socket
    (desktop_proxy.py, shared with the desktop-only server).

    Authentication is enforced for every verb by jupyter-server-proxy's ``prepare``;
    authorization (resource ``desktops``, action ``execute``) is checked here too.
    """

    auth_resource = AUTH_RESOURCE

    async def prepare(self, *args: Any, **kwargs: Any) -> None:
        await super().prepare(*args, **kwargs)
        if self._finished:
            return
        allowed = await ensure_async(
            self.authorizer.is_authorized(self, self.current_user, "execute", AUTH_RESOURCE)
        )
        if not allowed:
            raise web.HTTPError(403)
        desktop = self.get_desktop(self.path_args[0])
        await self.attach(desktop, url_path_join("desktops", desktop.id))


# Order matters: the API and client routes must match before the catch-all proxy route.
default_handlers: list[tuple[str, type[web.RequestHandler]]] = [
    (r"desktops/api/desktops/?", DesktopsHandler),
    (LAYOUTS_ROUTE, KeyboardLayoutsHandler),
    (KEYBOARD_ROUTE, KeyboardHandler),
    (r"desktops/api/applications/?", ApplicationsHandler),
    (r"desktops/api/client/?", ClientPreloadHandler),
    (DESKTOP_ROUTE, DesktopHandler),
    (r"desktops/([^/]+)", AddSlashHandler),
    (r"desktops/([^/]+)/(.*)", DesktopProxyHandler),
]
