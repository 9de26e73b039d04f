"""Every route of the extension refuses unauthenticated HTTP and websocket requests."""

from __future__ import annotations

import re

import pytest
from tornado.httpclient import HTTPClientError
from tornado.web import RequestHandler

from miniswan_desktop.handlers import AUTH_RESOURCE, ClientFileHandler

BAD = {"Authorization": "token not-the-token"}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def refused(code: int, headers: dict[str, str]) -> bool:
    """403/401, or a browser-style redirect to the login page."""
    return code in (401, 403) or (code == 302 and "/login" in headers.get("Location", ""))


def sample_path(pattern: str) -> list[str]:
    """A concrete URL path (as jp_fetch parts) matching a route pattern."""
    path = re.sub(r"\([^)]*\)", "deadbeef", pattern).replace("/?", "").replace("$", "")
    return [part for part in path.strip("/").split("/") if part] or [""]


# Xpra's HTML5 client: Debian's static files, public like Jupyter Server's /static/
# (client_files.py says why); test_client_files.py checks it serves nothing else.
PUBLIC = {ClientFileHandler}


def extension_routes(jp_serverapp) -> list[tuple[str, type[RequestHandler]]]:
    """The routes the extension actually registered, read from the running server, but
    the public client files."""
    ext = jp_serverapp.extension_manager.extension_apps["miniswan_desktop"]
    (app,) = ext
    return [(p, handler) for p, handler, *_ in app.handlers if handler not in PUBLIC]


def test_routes_are_known(jp_serverapp):
    routes = extension_routes(jp_serverapp)
    assert len(routes) >= 4
    for _pattern, handler in routes:
        assert getattr(handler, "auth_resource", None) == AUTH_RESOURCE, handler


async def test_every_route_refuses_without_auth(jp_serverapp, jp_fetch):
    """Fails as soon as any verb of any registered route answers without a valid token."""
    checked = 0
    for pattern, _handler in extension_routes(jp_serverapp):
        for method in METHODS:
            body = b"{}" if method in ("POST", "PUT", "PATCH") else None
            r = await jp_fetch(
                *sample_path(pattern), method=method, body=body, headers=BAD,
                raise_error=False, follow_redirects=False,
            )  # fmt: skip
            # 405: the handler has no such verb, so nothing is reachable through it.
            # APIHandler answers a CORS preflight (OPTIONS) with an empty 200, by design.
            preflight = method == "OPTIONS" and r.code in (200, 204) and not r.body
            ok = refused(r.code, dict(r.headers)) or r.code == 405 or preflight
            assert ok, (pattern, method, r.code, r.body[:200])
            checked += refused(r.code, dict(r.headers))
    assert checked >= 12


@pytest.mark.parametrize("path", [("desktops", "deadbeef/"), ("desktops", "deadbeef", "x")])
async def test_websocket_refuses_without_auth(jp_ws_fetch, path):
    with pytest.raises(HTTPClientError) as err:
        await jp_ws_fetch(*path, headers=BAD, subprotocols=["binary"])
    assert err.value.code in (401, 403)


async def test_api_refuses_without_auth(jp_fetch):
    for method, body in (("GET", None), ("POST", b"{}"), ("DELETE", None)):
        r = await jp_fetch(
            "desktops", "api", "desktops", method=method, body=body, headers=BAD,
            raise_error=False,
        )  # fmt: skip
        assert r.code == 403, (method, r.code)
