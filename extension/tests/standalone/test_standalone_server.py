"""The real ``miniswan-desktop-server`` with real xpra, behind a fake Hub API.

The fake Hub and the fixtures are in ``standalone_support.py``."""

from __future__ import annotations

import os
import re
import signal
from typing import Any
from urllib.parse import parse_qs, quote, urlparse

import pytest
import websocket

pytest.importorskip(
    "jupyterhub",
    reason="the desktop-only server needs jupyterhub (jupyter-server-proxy[standalone])",
)
pytest.register_assert_rewrite("standalone_support")  # also a plugin, see below

import requests  # noqa: E402  (a dependency of jupyterhub)
from procfs import alive, comm, poll, session_pids  # noqa: E402
from standalone_support import (  # noqa: E402
    CLIENT_ID,
    OWNER,
    PREFIX,
    FakeHub,
    Server,
    page_data,
    requires_script,
    requires_xpra,
)
from xpra_wire import CLIENT_HELLO  # noqa: E402

# The fixtures (hub, start_server, server) live there; see its docstring for why.
pytest_plugins = ["standalone_support"]
pytestmark = [requires_xpra, requires_script]

ALICE = "alice-token"
BOB = "bob-token"


def xpra_handshake(ws: websocket.WebSocket) -> None:
    """Send a hello through the proxy and check that Xpra answers with its own hello."""
    assert ws.subprotocol == "binary"
    ws.send_binary(CLIENT_HELLO)
    ws.settimeout(15)
    first = ws.recv()
    assert isinstance(first, bytes) and first[:1] == b"P", first[:32]
    assert b"hello" in first[8:40]


@pytest.fixture
def users(hub: FakeHub) -> None:
    hub.add_user(OWNER, ALICE)
    hub.add_user("bob", BOB)


def test_health_check_needs_no_auth(server: Server) -> None:
    # The Hub's User._wait_up polls <server url>api and reads X-JupyterHub-Version.
    r = server.get("api")
    assert r.status_code == 200
    assert "version" in r.json()
    assert r.headers["X-JupyterHub-Version"]
    assert server.get("api/").status_code == 200


def test_owner_gets_page_client_and_websocket(server: Server, users: None) -> None:
    status = server.wait_state(ALICE, {"running"})
    assert status["url"] == f"{PREFIX}desktop/"
    # The client page is the server's cached copy; its websocket goes to the desktop.
    assert re.match(rf"{PREFIX}client/\w+/index.html\?", status["client_url"])
    assert f"path={quote(PREFIX + 'desktop/', safe='')}" in status["client_url"]
    # The same client parameters as JupyterLab's panel (src/client-params.json), e.g. Ctrl
    # stays Ctrl on macOS and the client takes over a desktop another client shows.
    for param in ("swap_keys=false", "steal=true", "exit_with_client=false", "video=false"):
        assert param in status["client_url"], param
    assert status["geometry"] == "800x600"

    page = server.get("", ALICE)
    assert page.status_code == 200
    assert "mini-SWAN desktop" in page.text and OWNER in page.text
    assert "Restart the desktop</button>" in page.text
    # The page's script is the bundle built from src/ (desktoppage.ts), below the prefix, and
    # it starts from the same status the API gives.
    assert f'<script src="{PREFIX}static/page.js' in page.text
    data = page_data(page.text)
    assert data["status"]["client_url"] == status["client_url"]
    assert data["xsrf"]
    # The prefix without its slash and desktop without its slash redirect.
    assert server.get(PREFIX.rstrip("/")[len(PREFIX) :]).status_code in (301, 302)
    r = server.get("desktop", ALICE)
    assert r.status_code in (301, 302) and r.headers["Location"] == f"{PREFIX}desktop/"

    client = server.get(status["client_url"][len(PREFIX) :], ALICE)
    assert client.status_code == 200
    assert "Xpra HTML5 Client" in client.text or "xpra" in client.text.lower()
    assert "immutable" in client.headers["Cache-Control"]
    # The client's files are public (Debian's client, no user data: client_files.py).
    anonymous = server.get(status["client_url"][len(PREFIX) :])
    assert anonymous.status_code == 200 and anonymous.text == client.text
    script = server.get("desktop/js/Protocol.js", ALICE)
    assert script.status_code == 200 and "XpraProtocol" in script.text

    ws = websocket.create_connection(
        server.ws_url + "desktop/",
        subprotocols=["binary"],
        header=[f"Authorization: token {ALICE}"],
        timeout=15,
    )
    try:
        xpra_handshake(ws)
    finally:
        ws.close()


def test_other_user_gets_403(server: Server, users: None) -> None:
    server.wait_state(ALICE, {"running"})
    for path in ("", "api/status", "desktop/", "desktop/index.html"):
        assert server.get(path, BOB).status_code == 403, path
    assert server.request("POST", "api/restart", BOB).status_code == 403
    with pytest.raises(websocket.WebSocketBadStatusException) as e:
        websocket.create_connection(
            server.ws_url + "desktop/",
            subprotocols=["binary"],
            header=[f"Authorization: token {BOB}"],
            timeout=15,
        )
    assert e.value.status_code == 403
    # A token the Hub does not know is no user at all: API calls get 403.
    assert server.get("api/status", "no-such-token").status_code == 403


def test_anonymous_browser_is_sent_to_the_hub_login(server: Server) -> None:
    for path in ("", "desktop/index.html"):
        r = server.get(path)
        assert r.status_code == 302, path
        url = urlparse(r.headers["Location"])
        assert url.path == "/hub/api/oauth2/authorize"
        query = parse_qs(url.query)
        assert query["client_id"] == [CLIENT_ID]
        assert query["redirect_uri"] == [f"{PREFIX}oauth_callback"]
        assert query["response_type"] == ["code"] and query["state"]
    assert server.get("api/status").status_code == 403
    assert server.request("POST", "api/restart").status_code == 403
    with pytest.raises(websocket.WebSocketBadStatusException) as e:
        websocket.create_connection(server.ws_url + "desktop/", subprotocols=["binary"])
    assert e.value.status_code == 403


def test_oauth_login_then_cookie_for_page_api_and_websocket(
    server: Server, hub: FakeHub, users: None
) -> None:
    browser = requests.Session()
    r = browser.get(server.url, allow_redirects=False, headers={"Sec-Fetch-Mode": "navigate"})
    assert r.status_code == 302
    query = parse_qs(urlparse(r.headers["Location"]).query)
    # The Hub would log alice in and redirect back with a code (PKCE: S256 challenge).
    assert query["code_challenge_method"] == ["S256"]
    hub.authorize("code-1", ALICE, query["code_challenge"][0])
    r = browser.get(
        server.url + "oauth_callback",
        params={"code": "code-1", "state": query["state"][0]},
        allow_redirects=False,
    )
    assert r.status_code == 302, r.text
    assert r.headers["Location"] == PREFIX
    assert hub.token_requests[-1]["redirect_uri"] == f"{PREFIX}oauth_callback"
    assert browser.cookies.get(CLIENT_ID)

    page = browser.get(server.url, headers={"Sec-Fetch-Mode": "navigate"})
    assert page.status_code == 200
    xsrf = page_data(page.text)["xsrf"]
    # The page's own fetch() calls carry the XSRF token, as the Hub requires of them.
    fetch = {"Sec-Fetch-Mode": "cors", "Sec-Fetch-Site": "same-origin"}
    assert browser.get(server.url + "api/status", headers=fetch).status_code == 403
    r = browser.get(server.url + "api/status", headers={**fetch, "X-XSRFToken": xsrf})
    assert r.status_code == 200, r.text
    poll(
        lambda: browser.get(server.url + "api/status", headers={**fetch, "X-XSRFToken": xsrf})
        .json()["state"] == "running",
        timeout=20,
    )  # fmt: skip
    # The HTML5 client's Web Worker script and icon font are fetched same-origin in
    # modes that the Hub's XSRF rule covers, and without a token: they get through.
    for path, mode, dest in [
        ("desktop/js/Protocol.js", "same-origin", "worker"),
        ("desktop/icons/materialicons-regular.woff", "cors", "font"),
    ]:
        headers = {"Sec-Fetch-Mode": mode, "Sec-Fetch-Site": "same-origin", "Sec-Fetch-Dest": dest}
        assert browser.get(server.url + path, headers=headers).status_code == 200, path
    # A fetch() (destination "empty"), whose answer a script reads, still needs the token.
    r = browser.get(
        server.url + "desktop/index.html",
        headers={**fetch, "Sec-Fetch-Dest": "empty"},
        allow_redirects=False,
    )
    assert r.status_code == 302

    cookie = "; ".join(f"{c.name}={c.value}" for c in browser.cookies)
    ws = websocket.create_connection(
        server.ws_url + "desktop/",
        subprotocols=["binary"],
        header=["Sec-Fetch-Mode: websocket", f"Cookie: {cookie}"],
        origin=f"http://127.0.0.1:{server.port}",
        timeout=15,
    )
    try:
        xpra_handshake(ws)
    finally:
        ws.close()


def test_activity_is_reported_and_counts_proxied_traffic(
    start_server: Any, hub: FakeHub, users: None
) -> None:
    server = start_server("--DesktopServer.activity_interval=0.5")
    server.wait_state(ALICE, {"running"})
    # The first report comes at start (the start time), with the server token.
    name, first = poll(lambda: hub.activity and hub.activity[0], timeout=20)
    assert name == OWNER
    assert set(first) == {"servers", "last_activity"}
    assert first["servers"] == {"": {"last_activity": first["last_activity"]}}
    # Status polls are no activity; proxied traffic is.
    for _ in range(3):
        server.status(ALICE)
    assert server.get("desktop/index.html", ALICE).status_code == 200
    later = poll(
        lambda: [b for _, b in hub.activity if b["last_activity"] > first["last_activity"]],
        timeout=20,
    )
    assert later[0]["last_activity"] > first["last_activity"]


def test_killed_desktop_is_reported_and_restarted(server: Server, users: None) -> None:
    before = server.wait_state(ALICE, {"running"})
    assert server.request("POST", "api/restart", ALICE).status_code == 409
    xvfb = [p for p in session_pids(before["pid"]) if comm(p) == "Xvfb"]
    assert xvfb, "no Xvfb in xpra's session"
    os.kill(before["pid"], signal.SIGKILL)

    failed = server.wait_state(ALICE, {"failed"})
    assert "SIGKILL" in failed["reason"]
    assert failed["exit_status"] == -signal.SIGKILL
    poll(lambda: not any(alive(p) for p in xvfb), timeout=20)
    r = server.get("desktop/index.html", ALICE)
    assert r.status_code == 503 and "failed" in r.json()["message"]

    r = server.request("POST", "api/restart", ALICE)
    assert r.status_code == 200, r.text
    assert r.json()["state"] in ("starting", "running")
    after = server.wait_state(ALICE, {"running"})
    assert after["pid"] != before["pid"] and after["id"] != before["id"]
    assert server.get("desktop/index.html", ALICE).status_code == 200


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_desktop_and_exits_0(server: Server, users: None, sig: int) -> None:
    status = server.wait_state(ALICE, {"running"})
    procs = session_pids(status["pid"])
    assert "Xvfb" in {comm(p) for p in procs}
    # With a desktop open in a browser: the proxied websocket must not hold the exit.
    ws = websocket.create_connection(
        server.ws_url + "desktop/",
        subprotocols=["binary"],
        header=[f"Authorization: token {ALICE}"],
        timeout=15,
    )
    xpra_handshake(ws)
    server.proc.send_signal(sig)
    assert server.proc.wait(30) == 0, server.log()
    ws.close()
    assert not [p for p in procs if alive(p)], [comm(p) for p in procs if alive(p)]
    # The desktop's private directory (socket, config, log) is gone.
    assert not list(server.runtime_dir.iterdir())


def test_starts_into_the_spawn_pages_application_and_again_after_it_exits(
    start_server: Any, users: None, tmp_path: Any
) -> None:
    import json

    apps = tmp_path / "applications.json"
    # An "application" (a window) that exits a few seconds after it starts, as a user closing
    # it would.
    program = {"id": "short", "name": "Short one", "command": ["xterm", "-e", "sleep", "4"]}
    apps.write_text(json.dumps({"applications": [program]}))
    server = start_server(
        f"--DesktopServer.applications_file={apps}", MINISWAN_DESKTOP_APP="short"
    )
    first = server.wait_state(ALICE, {"running"})
    assert (first["app"], first["name"]) == ("short", "Short one")
    ended = server.wait_state(ALICE, {"stopped"}, timeout=30)
    assert ended["reason"] == "the program exited"
    # The page names the program, not "the desktop" (escaped: a stack's name is data).
    assert "Restart the application Short one</button>" in server.get("", ALICE).text
    r = server.request("POST", "api/restart", ALICE)  # what the page's Restart button does
    assert r.status_code == 200, r.text
    again = server.wait_state(ALICE, {"running"})
    assert again["app"] == "short" and again["id"] != first["id"]


def test_an_application_the_stack_does_not_ship_stops_the_server_naming_the_offered_ones(
    hub: FakeHub, tmp_path: Any
) -> None:
    import subprocess

    from standalone_support import SCRIPT

    result = subprocess.run(
        [str(SCRIPT), "--DesktopServer.applications_file=/nonexistent.json"],
        env={**os.environ, "MINISWAN_DESKTOP_APP": "viewer", "JUPYTERHUB_API_TOKEN": "x"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "unknown application 'viewer': this software stack offers none" in result.stderr
