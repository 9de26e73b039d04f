"""Every route refuses anonymous requests, except those public by design.

The routes are not listed by hand: they are read from the running services themselves (the
hub's handler tables in the hub container; the single-user server's router in a user
container), so a route added by an upgrade or by our code cannot slip through unchecked.
"""

from __future__ import annotations

import json
import re

import docker
import pytest
import requests
from conftest import HubAPI, StackInfo
from ledger import Ledger

# Routes that answer anonymous requests on purpose, and why. A key is a route pattern as the
# service lists it, or the start of one.
HUB_PUBLIC = {
    "": "adds the trailing slash (a redirect to /hub/)",
    r"/login": "the login page",
    r"/logout": "logging out needs no login",
    r"/health$": "health check for the proxy and orchestrators",
    r"/api/health$": "health check",
    r"/api/?": "the hub's version, for clients",
    r"/error/(\d+)": "error pages the proxy renders",
    r"/security/csp-report": "browsers post CSP reports without credentials",
    r"/api/oauth2/token": "OAuth token exchange: authenticated by the client's secret",
}

LIST_HUB_ROUTES = (
    "import json; from jupyterhub import handlers, apihandlers; "
    "print(json.dumps([p for p, *_ in handlers.default_handlers + apihandlers.default_handlers]))"
)

# The single-user server's router, as the running server builds it: same config, same
# extensions (JupyterLab, Notebook, jupyter-server-proxy, the desktop extension...).
LIST_SERVER_ROUTES = r"""
import json
from jupyter_server.serverapp import ServerApp
app = ServerApp()
app.initialize(argv=["--ServerApp.port=0", "--ServerApp.open_browser=False"])
rules = app.web_app.wildcard_router.rules
print(json.dumps([r.matcher.regex.pattern for r in rules]))
"""

SERVER_PUBLIC = {
    r"/static/": "JupyterLab's and Jupyter Server's static assets",
    r"/lab/api/themes": "theme CSS, loaded by the login page too",
    r"/api/?$": "the server's version: the hub polls it to see the server is up",
    r"/login": "the login page (redirects to the hub)",
    r"/logout": "logging out",
    r"/oauth_callback": "the end of the hub's OAuth login",
    r"/favicon": "icons",
    r"/custom/custom.css": "user CSS slot",
    r"/nbextensions/": "legacy static assets",
    r"/api/kernelspecs/[^/]+/[^/]+": "kernel logos (static files)",
}


def sample_path(pattern: str, value: str) -> str:
    """A concrete path matching a Tornado route pattern, with `value` in every group."""
    path = pattern.rstrip("$").lstrip("^")
    path = re.sub(r"\(\?:([^()]*)\)\??", r"\1", path)  # keep non-capturing groups' text
    for _ in range(3):  # innermost groups first, then the groups around them
        path = re.sub(r"\((?:\?P<\w+>)?[^()]*\)\??", value, path)
    return path.replace("\\", "").replace("?", "") or "/"


def refused(response: requests.Response) -> bool:
    if response.status_code in (401, 403, 404, 405, 410):
        return True
    location = response.headers.get("Location", "")
    return response.status_code in (301, 302, 303) and "login" in location


def is_public(pattern: str, public: dict[str, str]) -> bool:
    return any(pattern == key or (key and pattern.startswith(key)) for key in public)


def check_anonymous(
    url_prefix: str, patterns: list[str], public: dict[str, str], user: str, ledger: Ledger
) -> list[str]:
    leaks = []
    for pattern in patterns:
        if is_public(pattern, public):
            continue
        path = sample_path(pattern, user)
        for method in ("GET", "POST", "DELETE"):
            with ledger.attack(f"anonymous {method} {url_prefix}{pattern}"):
                r = requests.request(
                    method, f"{url_prefix}{path}", allow_redirects=False, timeout=30
                )
                if not refused(r):
                    leaks.append(f"{method} {path} ({pattern}) -> {r.status_code}")
    return leaks


def test_every_hub_route_refuses_anonymous_requests(
    stack: StackInfo, hub: HubAPI, ledger: Ledger, docker_client: docker.DockerClient
) -> None:
    container = docker_client.containers.get(f"{stack.project}-hub-1")
    result = container.exec_run(["python3", "-c", LIST_HUB_ROUTES])
    assert result.exit_code == 0, result.output.decode()
    patterns = json.loads(result.output)
    assert len(patterns) > 30
    leaks = check_anonymous(f"{stack.url}/hub", patterns, HUB_PUBLIC, stack.admin_user, ledger)
    assert leaks == []


def test_every_single_user_route_refuses_anonymous_requests(
    stack: StackInfo,
    hub: HubAPI,
    user: str,
    ledger: Ledger,
    docker_client: docker.DockerClient,
) -> None:
    hub.start_server(user)
    container = docker_client.containers.get(stack.container_name(user))
    result = container.exec_run(["python3", "-c", LIST_SERVER_ROUTES], environment={})
    assert result.exit_code == 0, result.output.decode()[-2000:]
    patterns = [
        p.split(f"/user/{user}", 1)[-1] if f"/user/{user}" in p else p
        for p in json.loads(result.output.decode().strip().splitlines()[-1])
    ]
    # The desktop extension's routes are among them: the check covers our own code.
    assert any("desktops" in p for p in patterns), patterns
    if not patterns:
        pytest.fail("no routes read from the single-user server")
    leaks = check_anonymous(f"{stack.url}/user/{user}", patterns, SERVER_PUBLIC, "nothing", ledger)
    assert leaks == []
