"""The proxy to a desktop's Xpra unix socket, and the JSON answers, that both servers use.

The Jupyter server extension (handlers.py: ``desktops/<id>/<path>``, many desktops) and the
desktop-only server (standalone/proxy.py: ``<prefix>desktop/<path>``, one desktop) differ in
how they authenticate and find the desktop; everything after that is here, once: wait for a
starting desktop, 503 with the reason for one that is not running, a screen mode of the
client's size, Jupyter and Hub credentials kept from Xpra, every HTTP verb handed to
jupyter-server-proxy's ``LocalProxyHandler`` (unix sockets), and the websocket relayed to
Xpra's own protocol on its socket (jupyter-server-proxy's raw-socket protocol).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from jupyter_server_proxy.rawsocket import RawSocketProtocol
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
    name: str

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
        self.name = f"desktop {desktop.id}"  # how RawSocketProtocol's log names it

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

    # The websocket: the browser's binary messages carry Xpra's packets as a byte stream (the
    # HTML5 client reassembles packets across messages, Protocol.js), and Xpra's socket takes
    # that stream as it is. So the relay writes the messages' bytes to the socket and sends
    # what it reads as messages, like jupyter-server-proxy's raw_socket_proxy, instead of a
    # second websocket to Xpra: no upstream handshake in Xpra's Python, no frames decoded and
    # encoded again in both processes (the benchmark's first-frame profile: Xpra's handshake
    # 27 ms after the browser's websocket opened, 50-57 ms with the second websocket).
    # The socket is opened with the client's first message, not before: Xpra peeks at a new
    # connection's first bytes to tell xpra from HTTP, and one that has sent nothing yet
    # makes it sleep a quarter of its peek timeout (250 ms, socket_util.peek_connection).
    _xpra: asyncio.Transport | None = None
    _closed = False

    async def open(self, *path_args: str) -> None:
        self._record_activity()  # type: ignore[attr-defined]

    async def on_message(self, message: str | bytes) -> None:
        # Tornado waits for this coroutine before it hands on the next message: the first
        # one connects, and none overtakes it.
        self._record_activity()  # type: ignore[attr-defined]
        data = message.encode() if isinstance(message, str) else message
        if self._xpra is None:
            assert self.unix_socket is not None  # attach() ran in prepare()
            try:
                self._xpra, _ = await asyncio.get_running_loop().create_unix_connection(
                    lambda: RawSocketProtocol(self), self.unix_socket
                )
            except OSError as e:
                self.log.warning("%s: cannot reach Xpra's socket: %s", self.name, e)  # type: ignore[attr-defined]
                self.close(1011, "the desktop's Xpra socket does not answer")  # type: ignore[attr-defined]
                return
            if self._closed:  # the browser left while the socket was opening
                self._xpra.close()
                return
        self._xpra.write(data)

    def on_ping(self, data: bytes) -> None:
        # Answered by tornado itself; Xpra's socket has no pings to pass them to.
        self._record_activity()  # type: ignore[attr-defined]

    def on_close(self) -> None:
        self._closed = True
        if self._xpra is not None:
            self._xpra.close()

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
