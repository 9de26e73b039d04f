"""Fixtures of the browser suite. The stack is started by `nox -s e2e` (or already running,
with `--reuse-stack`); these fixtures only talk to it, as a user would.

- `browser_type_launch_args`: Debian's Chromium (never a downloaded browser).
- `stack`: where the stack is and what it is called (MINISWAN_URL, MINISWAN_STACK); it
  restarts services too.
- `docker_client`: the Docker engine the stack runs on, to look at containers.
- `hub`: a small client for the hub's REST API, logging in with the stack's passwords.
- `user`: a fresh user name for one test; its server is stopped afterwards.
- `login`: log a Playwright page in through the real login form.
- `ledger` (from ledger.py): records faults, attacks and bad inputs for the final summary.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import pytest
import requests
from playwright.sync_api import Page, expect

pytest_plugins = ["ledger"]

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("MINISWAN_CHROMIUM", "/usr/bin/chromium")
SPAWN_TIMEOUT_MS = 150_000
# Debian's Chromium in a container or CI machine: no sandbox, GPU or background traffic.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def env_default(name: str) -> str:
    """A setting as the stack sees it: the environment, else the default in compose/.env."""
    if name in os.environ:
        return os.environ[name]
    for line in (ROOT / "compose" / ".env").read_text().splitlines():
        if line.startswith(f"{name}="):
            return line.partition("=")[2].strip()
    raise KeyError(name)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": CHROMIUM_ARGS,
    }


@dataclass(frozen=True)
class StackInfo:
    url: str
    project: str
    user_password: str
    admin_user: str
    admin_password: str

    def healthy(self) -> bool:
        """The hub answers its health check through the proxy."""
        return requests.get(f"{self.url}/hub/health", timeout=5).ok

    def restart_service(
        self, docker_client: docker.DockerClient, service: str, timeout: float = 120
    ) -> None:
        """Restart one of the stack's services (hub, proxy) and wait up to `timeout` s until
        the hub answers through the proxy again."""
        docker_client.containers.get(f"{self.project}-{service}-1").restart(timeout=20)
        wait_until(self.healthy, timeout, f"the hub to answer after the {service} restart")

    def hub_log_about(self, username: str, lines: int = 15) -> str:
        """The hub's last log lines that name `username`: why a spawn did not finish."""
        result = subprocess.run(
            ["docker", "logs", "--tail", "2000", f"{self.project}-hub-1"],
            capture_output=True,
            text=True,
        )
        about = [line for line in (result.stdout + result.stderr).splitlines() if username in line]
        return "\n".join(about[-lines:])

    def container_name(self, username: str) -> str:
        """The container DockerSpawner names for `username` (letters and digits only)."""
        return f"{self.project}-user-{username}"


def home_path(username: str) -> str:
    """A user's home: their EOS home, /eos/user/<initial>/<name> (docs/eos.md)."""
    return f"/eos/user/{username[0]}/{username}"


@pytest.fixture(scope="session")
def stack() -> StackInfo:
    info = StackInfo(
        url=os.environ.get("MINISWAN_URL", "http://127.0.0.1:8010").rstrip("/"),
        project=os.environ.get("MINISWAN_STACK", "miniswan-e2e"),
        user_password=env_default("MINISWAN_USER_PASSWORD"),
        admin_user=env_default("MINISWAN_ADMIN_USER"),
        admin_password=env_default("MINISWAN_ADMIN_PASSWORD"),
    )
    wait_until(info.healthy, 120, "hub health")
    return info


@pytest.fixture(scope="session")
def docker_client() -> docker.DockerClient:
    return docker.from_env()


def wait_until(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.5) -> Any:
    """Poll `check` until it returns something truthy; fail with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except (requests.RequestException, docker.errors.APIError) as exc:
            last = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})")


class HubAPI:
    """The hub's REST API with per-user tokens, obtained with the stack's passwords."""

    def __init__(self, stack: StackInfo) -> None:
        self.stack = stack
        self._tokens: dict[str, str] = {}

    def token(self, username: str) -> str:
        if username not in self._tokens:
            admin = username == self.stack.admin_user
            if not admin:
                # The hub hands out tokens only to users it knows: create the user first.
                r = self.request("POST", f"/hub/api/users/{username}", self.stack.admin_user)
                assert r.status_code in (201, 409), r.text
            password = self.stack.admin_password if admin else self.stack.user_password
            r = requests.post(
                f"{self.stack.url}/hub/api/users/{username}/tokens",
                json={"auth": {"username": username, "password": password}, "note": "e2e"},
                timeout=30,
            )
            r.raise_for_status()
            self._tokens[username] = r.json()["token"]
        return self._tokens[username]

    def request(self, method: str, path: str, as_user: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"token {self.token(as_user)}", **kwargs.pop("headers", {})}
        return requests.request(
            method, f"{self.stack.url}{path}", headers=headers, timeout=30, **kwargs
        )

    def user_model(self, username: str) -> dict[str, Any]:
        r = self.request("GET", f"/hub/api/users/{username}", as_user=self.stack.admin_user)
        r.raise_for_status()
        return r.json()

    def write_file(self, username: str, path: str, text: str) -> None:
        """Save a text file in the user's home the way JupyterLab does (contents API)."""
        r = self.request(
            "PUT",
            f"/user/{username}/api/contents/{path}",
            as_user=username,
            json={"type": "file", "format": "text", "content": text},
        )
        assert r.status_code in (200, 201), r.text

    def read_file(self, username: str, path: str) -> str | None:
        """A text file of the user's home through the contents API; None if it is not there."""
        r = self.request(
            "GET", f"/user/{username}/api/contents/{path}?content=1", as_user=username
        )
        return r.json()["content"] if r.status_code == 200 else None

    def server(self, username: str) -> dict[str, Any] | None:
        return self.user_model(username)["servers"].get("")

    def start_server(self, username: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
        """Spawn through the API and wait until the hub reports the server ready."""
        r = self.request(
            "POST", f"/hub/api/users/{username}/server", as_user=username, json=options or {}
        )
        assert r.status_code in (201, 202), r.text
        try:
            return wait_until(
                lambda: (s := self.server(username)) and s["ready"] and s,
                SPAWN_TIMEOUT_MS / 1000,
                f"{username}'s server to be ready",
            )
        except AssertionError as error:
            raise AssertionError(
                f"{error}\nThe hub's log about {username}:\n{self.stack.hub_log_about(username)}"
            ) from None

    def stop_server(self, username: str) -> None:
        r = self.request(
            "DELETE", f"/hub/api/users/{username}/server", as_user=self.stack.admin_user
        )
        assert r.status_code in (202, 204, 400, 404), r.text
        wait_until(lambda: self.server(username) is None, 60, f"{username}'s server to stop")


@pytest.fixture(scope="session")
def hub(stack: StackInfo) -> HubAPI:
    return HubAPI(stack)


@pytest.fixture
def user(request: pytest.FixtureRequest, hub: HubAPI) -> Iterator[str]:
    """A user name no other test uses; whatever server it gets is stopped afterwards."""
    # Letters and digits only: DockerSpawner then uses the name as is in the container name.
    stem = re.sub(r"[^a-z0-9]", "", request.node.name.lower().replace("test_", ""))[:12]
    name = f"{stem}{uuid.uuid4().hex[:6]}"
    yield name
    try:
        if hub.server(name) is not None:
            hub.stop_server(name)
    except requests.HTTPError:
        pass  # the user never logged in: nothing to stop


@pytest.fixture
def login(stack: StackInfo) -> Callable[..., None]:
    def do_login(page: Page, username: str, password: str | None = None) -> None:
        page.goto(f"{stack.url}/hub/login")
        page.locator("#username_input").fill(username)
        page.locator("#password_input").fill(password or stack.user_password)
        page.locator("#login_submit").click()
        expect(page).not_to_have_url(re.compile(r"/hub/login"))

    return do_login


def stop_from_control_panel(
    page: Page, stack: StackInfo, docker_client: docker.DockerClient, user: str
) -> None:
    """Stop the logged-in user's server with the hub's control panel button; wait until the
    hub says so and the container is gone."""
    # networkidle: the button does nothing until home.js (loaded by requirejs) binds it.
    page.goto(f"{stack.url}/hub/home", wait_until="networkidle")
    page.locator("#stop").click()
    expect(page.locator("#start")).to_be_visible(timeout=60_000)

    def container_gone() -> bool:
        try:
            docker_client.containers.get(stack.container_name(user))
        except docker.errors.NotFound:
            return True
        return False

    wait_until(container_gone, 60, f"{user}'s container to be removed")
