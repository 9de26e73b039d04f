"""The proxy to a desktop's Xpra unix socket, and the JSON answers, that both servers use.

The Jupyter server extension (handlers.py: ``desktops/<id>/<path>``, many desktops) and the
desktop-only server (standalone/proxy.py: ``<prefix>desktop/<path>``, one desktop) differ in
how they authenticate and find the desktop; everything after that is here, once: wait for a
starting desktop, 503 with the reason for one that is not running, a screen mode of the
client's size, Jupyter and Hub credentials kept from Xpra, and every HTTP verb and the
websocket handed to jupyter-server-proxy's ``LocalProxyHandler`` (unix sockets, Xpra's
``binary`` subprotocol).
"""

from __future__ import annotations

import json
from typing import Any

from tornado import web

from .session import FAILED, RUNNING, STOPPED, Desktop


class JsonErrorsMixin:
    """Errors as JSON ``{"message", "reason"}`` like Jupyter Server's APIHandler."""

    _reason: str

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        message = getattr(exc, "log_message", None) or self._reason
        self.set_header("Content-Type", "application/json")  # type: ignore[attr-defined]
        self.finish(json.dumps({"message": message, "reason": self._reason}))  # type: ignore[attr-defined]


class JsonWriterMixin:
    """``write_json``: a JSON answer with its status."""

    def write_json(self, data: Any, status: int = 200) -> None:
        self.set_status(status)  # type: ignore[attr-defined]
        self.set_header("Content-Type", "application/json")  # type: ignore[attr-defined]
        self.finish(json.dumps(data))  # type: ignore[attr-defined]


def json_object(raw: bytes) -> dict[str, Any]:
    """A request body that must be a JSON object (400 otherwise; empty is ``{}``)."""
    try:
        body = json.loads(raw) if raw.strip() else {}
    except ValueError as e:
        raise web.HTTPError(400, f"request body is not valid JSON: {e}") from None
    if not isinstance(body, dict):
        raise web.HTTPError(400, "request body must be a JSON object")
    return body


class XpraProxyMixin(JsonErrorsMixin):
    """Mixed in before jupyter-server-proxy's ``LocalProxyHandler``. A server's handler
    authenticates in its ``prepare``, then calls :meth:`attach` with the desktop. The last
    path argument of every route is the path inside the desktop."""

    unix_socket: str | None
    proxy_base: str

    async def attach(self, desktop: Desktop | None, proxy_base: str) -> None:
        """Proxy this request to `desktop` (mounted at `proxy_base`), once it runs."""
        if desktop is None:
            raise web.HTTPError(503, "the desktop is not started")
        if desktop.active:
            await desktop.wait_for({RUNNING, STOPPED, FAILED}, timeout=desktop.start_timeout)
        if desktop.state != RUNNING:
            reason = f": {desktop.reason}" if desktop.reason else ""
            raise web.HTTPError(503, f"desktop {desktop.id} is {desktop.state}{reason}")
        # The client page passes its exact size on the websocket's URL (`path=...?screen=WxH`,
        # client_page.py): with a screen mode of that size in place Xpra answers its hello at once.
        screen = self.get_query_argument("screen", "")  # type: ignore[attr-defined]
        if screen:
            await desktop.add_screen_mode(screen)
        self.unix_socket = str(desktop.socket_path)
        self.proxy_base = proxy_base

    def proxy_request_headers(self) -> Any:
        # Xpra needs none of the Jupyter or Hub credentials: do not hand them on.
        headers = super().proxy_request_headers()  # type: ignore[misc]
        for name in ("Cookie", "Authorization"):
            headers.pop(name, None)
        return headers

    def _proxy(self, path_args: tuple[str, ...]) -> Any:
        return self.proxy(0, path_args[-1])  # type: ignore[attr-defined]

    async def http_get(self, *path_args: str) -> Any:
        return await self._proxy(path_args)

    async def open(self, *path_args: str) -> Any:
        return await self.proxy_open("localhost", 0, path_args[-1])  # type: ignore[attr-defined]

    def post(self, *path_args: str) -> Any:
        return self._proxy(path_args)

    def put(self, *path_args: str) -> Any:
        return self._proxy(path_args)

    def delete(self, *path_args: str) -> Any:
        return self._proxy(path_args)

    def head(self, *path_args: str) -> Any:
        return self._proxy(path_args)

    def patch(self, *path_args: str) -> Any:
        return self._proxy(path_args)

    def options(self, *path_args: str) -> Any:
        return self._proxy(path_args)
