"""``<prefix>desktop/<path>``: HTTP and websocket proxy to the desktop's Xpra unix socket.

What happens once the user is known (the desktop's state, credentials kept from Xpra, the
verbs and the websocket) is ``desktop_proxy.XpraProxyMixin``, shared with the Jupyter
server extension's proxy; this module is how the desktop-only server lets a user in.

The proxying is jupyter-server-proxy's ``LocalProxyHandler`` (unix sockets since 4.0,
websocket subprotocols such as Xpra's ``binary``, activity recording), used outside
Jupyter Server the way its standalone mode does it (``jupyter_server_proxy/standalone/
proxy.py``): ``HubOAuthenticated`` is mixed in first, and the parts of ``JupyterHandler``
that need a Jupyter server (its ``prepare``, templates, origin and CSP settings) are
replaced. Unlike that standalone handler, ``prepare`` authenticates *every* request,
websockets included (403 for them, as jupyter-server-proxy's own ``prepare`` does).
"""

from __future__ import annotations

from typing import Any

from jupyter_server_proxy.handlers import LocalProxyHandler
from tornado import web
from tornado.websocket import WebSocketHandler

from ..desktop_proxy import XpraProxyMixin
from .handlers import HubUserMixin

# Sec-Fetch-Dest of fetch() and XMLHttpRequest: scripts can read what these return.
_READABLE_DESTS = frozenset({"", "empty"})


class DesktopProxyHandler(XpraProxyMixin, HubUserMixin, LocalProxyHandler):
    """Proxy to the Xpra of the server's single desktop, for its owner only."""

    async def prepare(self, *args: Any, **kwargs: Any) -> None:
        await HubUserMixin.prepare(self)
        if self.request.headers.get("Upgrade", "").lower() == "websocket":
            # A websocket is no page: no redirect to the login, a plain 403.
            if not self.current_user:
                raise web.HTTPError(403)
        else:
            # Redirects anonymous browsers to the Hub's login, 403 for a disallowed user.
            web.authenticated(lambda handler: None)(self)
            if self._finished:
                return
        await self.attach(self.service.desktop, "desktop")

    def set_default_headers(self) -> None:
        # Not JupyterHandler's (its CSP points at a Jupyter report URL); Xpra sends its own.
        web.RequestHandler.set_default_headers(self)

    def check_origin(self, origin: str | None = None) -> bool:
        # Not JupyterHandler's (Jupyter settings): tornado's same-host check.
        return WebSocketHandler.check_origin(self, origin or "")

    def check_xsrf_cookie(self) -> None:
        # The Hub's rule (a cookie-authenticated request with Sec-Fetch-Mode other than
        # navigate/no-cors/websocket needs an XSRF token) refuses subresources that
        # browsers fetch in mode "cors" or "same-origin" without one: the HTML5 client's
        # Web Worker scripts (`new Worker('js/Protocol.js')`) and its icon font (@font-face).
        # Let same-origin GETs of such subresources through; fetch()/XHR (destination
        # "empty"), whose answers a script can read, still need the token.
        headers = self.request.headers
        if (
            self.request.method in ("GET", "HEAD")
            and headers.get("Sec-Fetch-Site") == "same-origin"
            and headers.get("Sec-Fetch-Dest", "") not in _READABLE_DESTS
        ):
            return
        HubUserMixin.check_xsrf_cookie(self)
