"""Fixtures for the desktop-only server: a fake Hub API and the real console script.

Not a conftest.py: the tests one level up import helpers with ``from conftest import``,
and a second conftest module would shadow theirs. Test modules import these fixtures.

Fixtures:
- ``hub``: a ``FakeHub`` (a real Tornado HTTP server in a thread) answering the Hub API
  calls ``miniswan-desktop-server`` makes; tokens and OAuth codes are registered per test.
- ``start_server``: starts ``miniswan-desktop-server`` (the installed console script) as a
  subprocess on a free port, with the environment a Hub's spawner passes, waits until
  ``<prefix>api`` answers (as the Hub's ``User._wait_up`` does) and always stops it; its
  output is printed when a test fails.
- ``server``: one started server for the test.

Hub authentication is faked at the HTTP boundary only: a real JupyterHub (database,
configurable-http-proxy, a spawner launching this server) is impractical in a unit test
run, so the fake answers the three requests the server really sends (``GET api/user``,
``POST api/oauth2/token``, ``POST api/users/<name>/activity``) with the JSON a Hub sends.
Everything on the server's side (HubOAuth, scopes, cookies, XSRF, PKCE, xpra) is real.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from procfs import poll

pytest.importorskip(
    "jupyterhub",
    reason="jupyterhub is needed by the desktop-only server "
    "(install jupyter-server-proxy[standalone] or jupyterhub)",
)

import requests
from tornado import web
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

SCRIPT = shutil.which("miniswan-desktop-server", path=os.path.dirname(sys.executable))
OWNER = "alice"
PREFIX = f"/user/{OWNER}/"
CLIENT_ID = f"jupyterhub-user-{OWNER}"
SERVER_TOKEN = "server-api-token"  # the token the Hub gives the spawned server

requires_xpra = pytest.mark.skipif(shutil.which("xpra") is None, reason="xpra is not on PATH")
requires_script = pytest.mark.skipif(
    SCRIPT is None, reason="miniswan-desktop-server is not installed (pip install -e extension)"
)


# ---- the fake Hub -----------------------------------------------------------------------


@dataclass
class FakeHub:
    """The Hub's API as seen by one user server; see the module docstring."""

    users: dict[str, dict[str, Any]] = field(default_factory=dict)  # token -> user model
    codes: dict[str, tuple[str, str]] = field(default_factory=dict)  # code -> token, challenge
    activity: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    port: int = 0

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hub/api"

    def add_user(self, name: str, token: str, scopes: list[str] | None = None) -> str:
        """Register a user token; by default with the scopes a Hub gives a server's owner."""
        self.users[token] = {
            "kind": "user",
            "name": name,
            "admin": False,
            "groups": [],
            "scopes": scopes
            if scopes is not None
            else [f"access:servers!server={name}/", f"access:servers!user={name}"],
        }
        return token

    def authorize(self, code: str, token: str, code_challenge: str) -> None:
        """What the Hub does when the user accepts the OAuth request: issue a code."""
        self.codes[code] = (token, code_challenge)

    # The handlers below run in the hub's thread.

    def app(self) -> web.Application:
        hub = self

        class Base(web.RequestHandler):
            def check_xsrf_cookie(self) -> None:
                pass

            def token(self) -> str:
                auth = self.request.headers.get("Authorization", "")
                return auth.split(" ", 1)[1] if " " in auth else ""

        class User(Base):
            def get(self) -> None:
                model = hub.users.get(self.token())
                if model is None:
                    raise web.HTTPError(403)
                self.finish(model)

        class Token(Base):
            def post(self) -> None:
                form = {k: v[0] for k, v in parse_qs(self.request.body.decode()).items()}
                hub.token_requests.append(form)
                if form.get("client_id") != CLIENT_ID or form.get("client_secret") != (
                    SERVER_TOKEN
                ):
                    raise web.HTTPError(403)
                token, challenge = hub.codes.pop(form.get("code", ""), ("", ""))
                verifier = form.get("code_verifier", "")
                digest = hashlib.sha256(verifier.encode()).digest()
                if not token or base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != (
                    challenge
                ):
                    raise web.HTTPError(400)
                self.finish({"access_token": token, "token_type": "Bearer"})

        class Activity(Base):
            def post(self, name: str) -> None:
                if self.token() != SERVER_TOKEN:
                    raise web.HTTPError(403)
                hub.activity.append((name, json.loads(self.request.body)))
                self.set_status(204)

        return web.Application(
            [
                (r"/hub/api/user", User),
                (r"/hub/api/oauth2/token", Token),
                (r"/hub/api/users/([^/]+)/activity", Activity),
            ]
        )

    @classmethod
    def run(cls) -> Iterator[FakeHub]:
        hub = cls()
        ready = threading.Event()
        stop: dict[str, Any] = {}

        async def serve() -> None:
            sockets = bind_sockets(0, "127.0.0.1")
            hub.port = sockets[0].getsockname()[1]
            server = HTTPServer(hub.app())
            server.add_sockets(sockets)
            stop["event"], stop["loop"] = asyncio.Event(), asyncio.get_running_loop()
            ready.set()
            await stop["event"].wait()
            server.stop()

        thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
        thread.start()
        assert ready.wait(10), "the fake hub did not start"
        try:
            yield hub
        finally:
            stop["loop"].call_soon_threadsafe(stop["event"].set)
            thread.join(10)


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    yield from FakeHub.run()


# ---- the server under test --------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path
    runtime_dir: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{PREFIX}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}{PREFIX}"

    def get(self, path: str = "", token: str | None = None, **kw: Any) -> requests.Response:
        return self.request("GET", path, token, **kw)

    def request(
        self, method: str, path: str = "", token: str | None = None, **kw: Any
    ) -> requests.Response:
        headers = kw.pop("headers", {})
        if token:
            headers["Authorization"] = f"token {token}"
        kw.setdefault("allow_redirects", False)
        kw.setdefault("timeout", 30)
        return requests.request(method, self.url + path, headers=headers, **kw)

    def status(self, token: str) -> dict[str, Any]:
        r = self.get("api/status", token)
        assert r.status_code == 200, r.text
        return r.json()

    def wait_state(self, token: str, states: set[str], timeout: float = 30.0) -> dict[str, Any]:
        return poll(lambda: (s := self.status(token))["state"] in states and s, timeout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def start_server(hub: FakeHub, tmp_path: Path) -> Iterator[Callable[..., Server]]:
    if SCRIPT is None:
        pytest.skip("miniswan-desktop-server is not installed")
    servers: list[Server] = []

    def start(*args: str, **env: str) -> Server:
        port = free_port()
        # Short path: unix socket paths are limited to 107 bytes. msd- so that the parent
        # conftest prints xpra logs on failure.
        runtime_dir = Path(tempfile.mkdtemp(prefix="msd-sa-"))
        full_env = {
            **os.environ,
            # What a Hub's Spawner.get_env() passes (JupyterHub 5, default server).
            "JUPYTERHUB_SERVICE_URL": f"http://127.0.0.1:{port}{PREFIX}",
            "JUPYTERHUB_SERVICE_PREFIX": PREFIX,
            "JUPYTERHUB_API_TOKEN": SERVER_TOKEN,
            "JUPYTERHUB_API_URL": hub.api_url,
            "JUPYTERHUB_ACTIVITY_URL": f"{hub.api_url}/users/{OWNER}/activity",
            "JUPYTERHUB_CLIENT_ID": CLIENT_ID,
            "JUPYTERHUB_OAUTH_CALLBACK_URL": f"{PREFIX}oauth_callback",
            "JUPYTERHUB_OAUTH_ACCESS_SCOPES": json.dumps(
                [f"access:servers!server={OWNER}/", f"access:servers!user={OWNER}"]
            ),
            "JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES": "[]",
            "JUPYTERHUB_USER": OWNER,
            "JUPYTERHUB_SERVER_NAME": "",
            "JUPYTERHUB_BASE_URL": "/",
            "JUPYTERHUB_HOST": "",
            "JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED": "0",
            "MINISWAN_DESKTOP_RUNTIME_DIR": str(runtime_dir),
            **env,
        }
        log_path = tmp_path / f"server-{port}.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [str(SCRIPT), "--DesktopServer.geometry=800x600", *args],
                env=full_env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        server = Server(proc=proc, port=port, log_path=log_path, runtime_dir=runtime_dir)
        servers.append(server)

        def up() -> bool:
            assert proc.poll() is None, f"server exited with {proc.returncode}:\n{server.log()}"
            try:
                return server.get("api", timeout=2).status_code == 200
            except requests.ConnectionError:
                return False

        poll(up, timeout=30)
        return server

    yield start
    for server in servers:
        if server.proc.poll() is None:
            server.proc.send_signal(signal.SIGTERM)
            try:
                server.proc.wait(20)
            except subprocess.TimeoutExpired:
                server.proc.kill()
                server.proc.wait()
        # Shown by pytest only when the test failed.
        print(f"---- miniswan-desktop-server on port {server.port} ----\n{server.log()}")
        shutil.rmtree(server.runtime_dir, ignore_errors=True)


@pytest.fixture
def server(start_server: Callable[..., Server]) -> Server:
    return start_server()


def page_data(html: str) -> dict[str, Any]:
    """What the desktop-only page's script starts from (the page's JSON data block)."""
    marker = '<script id="miniswan-page-data" type="application/json">'
    data: dict[str, Any] = json.loads(html.split(marker, 1)[1].split("</script>", 1)[0])
    return data
