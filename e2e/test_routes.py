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
from hub_api import HubAPI
from ledger import Ledger
from stack_info import StackInfo

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

def patterns(router):
    # Extensions add their handlers as nested routers: walk them all.
    for rule in router.rules:
        if hasattr(rule.target, "rules"):
            yield from patterns(rule.target)
        elif hasattr(rule.matcher, "regex"):
            yield rule.matcher.regex.pattern

print("ROUTES " + json.dumps(sorted(set(patterns(app.web_app.default_router)))))
"""

SERVER_PUBLIC = {
    "/$": "redirects to the default URL, which itself needs a login",
    "/.*/$": "removes a trailing slash (a redirect)",
    "/(favicon": "icons",
    "/(robots": "robots.txt",
    "/api$": "the server's version: the hub polls it to see the server is up",
    "/static/": "JupyterLab's and Jupyter Server's static assets",
    "/custom/custom.css": "user CSS slot",
    "/lab/api/themes/": "theme CSS, loaded before login",
    "/lab/extensions/": "labextension bundles (static JavaScript)",
    "/login$": "the login page (redirects to the hub)",
    "/logout$": "logging out",
    "/api/security/csp-report$": "browsers post CSP reports without credentials",
    "/api/notebooks/": "legacy alias: redirects to /api/contents, which refuses",
    "/desktops/client/": "Xpra's HTML5 client: Debian's static files (client_files.py)",
}


def sample_path(pattern: str, value: str) -> str:
    """A concrete path matching a Tornado route pattern, with `value` in every group."""
    path = pattern.rstrip("$").lstrip("^")
    path = re.sub(r"\(\?:([^()]*)\)\??", r"\1", path)  # keep non-capturing groups' text
    for _ in range(3):  # innermost groups first, then the groups around them
        path = re.sub(r"\((?:\?P<\w+>)?[^()]*\)\??", value, path)
    path = path.replace("\\", "").replace("?", "")
    return path if path.startswith("/") else "/" + path


# Anonymous requests that fail with a server error instead of a refusal, without leaking
# anything (checked by hand); listed so that any new one is noticed.
KNOWN_ERRORS = {
    ("POST", "/api/authorizations/token/([^/]+)"): "JupyterHub 5.5: deprecated route, 500",
    # jupyterlab_server's LicensesHandler.finish() takes an extra argument, so sending the
    # 403 raises and the request never gets an answer (no data either).
    ("*", "/lab/api/licenses/(.*)$"): "jupyterlab_server: the 403 crashes, no answer",
}


def refused(response: requests.Response) -> bool:
    if response.status_code in (401, 403, 404, 405, 410):
        return True
    location = response.headers.get("Location", "")
    # Sent to log in: the hub's login page, or the hub's OAuth authorization (which logs in).
    return response.status_code in (301, 302, 303) and (
        "login" in location or "/hub/api/oauth2/authorize" in location
    )


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
            known = (method, pattern) in KNOWN_ERRORS or ("*", pattern) in KNOWN_ERRORS
            with ledger.attack(f"anonymous {method} {url_prefix}{pattern}"):
                try:
                    r = requests.request(
                        method, f"{url_prefix}{path}", allow_redirects=False, timeout=10
                    )
                    answer = str(r.status_code)
                    ok = refused(r)
                except requests.ReadTimeout:
                    answer, ok = "no answer", False
                if not ok and not known:
                    leaks.append(f"{method} {path} ({pattern}) -> {answer}")
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
    assert not leaks, "\n".join(leaks)


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
    listing = next(
        line for line in result.output.decode().splitlines() if line.startswith("ROUTES ")
    )
    patterns = json.loads(listing.removeprefix("ROUTES "))
    # The desktop extension's routes are among them: the check covers our own code.
    assert any("desktops" in p for p in patterns), patterns
    if not patterns:
        pytest.fail("no routes read from the single-user server")
    leaks = check_anonymous(f"{stack.url}/user/{user}", patterns, SERVER_PUBLIC, "nothing", ledger)
    assert not leaks, "\n".join(leaks)
