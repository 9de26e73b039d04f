"""Fixtures of the browser suite. The stack is started by `nox -s e2e` (or already running,
with `--reuse-stack`); these fixtures only talk to it, as a user would. The helpers they
build on live in modules of their own, which tests and the benchmark import: stack_info.py
(where the stack is, its settings), hub_api.py, hub_ui.py (login form, control panel),
waiting.py (wait_until), lab_ui.py, xpra_client.py, x_session.py.

- From stack_fixtures.py (shared with e2e_swarm/): `browser_type_launch_args` (Debian's
  Chromium), `stack` (where the stack is and what it is called, MINISWAN_URL and
  MINISWAN_STACK; it restarts services too), `hub` (a client for the hub's REST API).
- `docker_client`: the Docker engine the stack runs on, to look at containers.
- `user`: a fresh user name for one test; its server is stopped afterwards.
- `login`: log a Playwright page in through the real login form.
- `ledger` (from ledger.py): records faults, attacks and bad inputs for the final summary.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator

import docker
import pytest
import requests
from hub_api import HubAPI
from hub_ui import log_in
from playwright.sync_api import Page
from stack_info import StackInfo

# Fixtures shared with e2e_swarm/ (stack_fixtures.py) and the ledger's.
pytest_plugins = ["stack_fixtures", "ledger"]


@pytest.fixture(scope="session")
def docker_client() -> docker.DockerClient:
    return docker.from_env()


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
        log_in(page, stack, username, password)

    return do_login
