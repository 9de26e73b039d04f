"""The stack stands up: log in, spawn, use JupyterLab, stop, survive a hub restart."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

import docker
import requests
from hub_api import HubAPI
from hub_ui import stop_from_control_panel
from playwright.sync_api import Page, expect
from stack_info import SPAWN_TIMEOUT_MS, StackInfo
from waiting import wait_until


def test_wrong_password_is_refused_with_the_login_pages_error(
    page: Page, stack: StackInfo
) -> None:
    page.goto(f"{stack.url}/hub/login")
    page.locator("#username_input").fill("mallory")
    page.locator("#password_input").fill("not-the-password")
    page.locator("#login_submit").click()
    expect(page.locator(".login_error")).to_contain_text("Invalid username or password")
    expect(page).to_have_url(re.compile(r"/hub/login"))


def test_anonymous_request_to_a_server_is_sent_to_login(page: Page, stack: StackInfo) -> None:
    r = requests.get(f"{stack.url}/user/alice/lab", allow_redirects=True, timeout=30)
    assert "/hub/login" in r.url
    page.goto(f"{stack.url}/user/alice/lab")
    expect(page).to_have_url(re.compile(r"/hub/login\?next="))
    expect(page.locator("#login_submit")).to_be_visible()


def test_spawn_run_a_cell_and_stop_from_the_control_panel(
    page: Page,
    stack: StackInfo,
    user: str,
    login: Callable[..., None],
    docker_client: docker.DockerClient,
) -> None:
    # JupyterLab logs each plugin that failed to activate (e.g. one whose required plugin an
    # image disabled), and goes on without it: the feature is silently missing.
    failed_plugins: list[str] = []
    page.on(
        "console",
        lambda message: (
            "failed to activate" in message.text and failed_plugins.append(message.text[:200])
        ),
    )
    login(page, user)
    # The real spawn page: its form (JupyterLab is the default), progress, then JupyterLab.
    page.goto(f"{stack.url}/hub/spawn/{user}")
    expect(page.locator("#session-jupyterlab")).to_be_checked()
    page.get_by_role("button", name="Start").click()
    expect(page.locator(".jp-Launcher")).to_be_visible(timeout=SPAWN_TIMEOUT_MS)
    assert docker_client.containers.get(stack.container_name(user)).status == "running"

    page.locator('.jp-LauncherCard[data-category="Notebook"]').first.click()
    expect(page.locator(".jp-Notebook")).to_be_visible()
    # "Idle" alone is also shown before the kernel is attached ("No Kernel | Idle").
    # The kernel is the default software stack's (docs/software-stacks.md), e.g. LCG_105.
    expect(page.get_by_text(re.compile(r"Python 3 \(LCG_\w+\) \| Idle"))).to_be_visible(
        timeout=60_000
    )
    # Plugins activate before the Launcher shows; their messages have arrived by now.
    assert failed_plugins == []
    cell = page.locator(".jp-Notebook .jp-Cell .cm-content").first
    cell.click()
    page.keyboard.type("1+1")
    page.keyboard.press("Shift+Enter")
    expect(page.locator(".jp-OutputArea-output").first).to_have_text("2", timeout=60_000)

    stop_from_control_panel(page, stack, docker_client, user)


def route_host(hub: HubAPI, stack: StackInfo, user: str) -> str | None:
    """The host of the proxy's route to the user's server (the hub's proxy API)."""
    r = hub.request("GET", "/hub/api/proxy", as_user=stack.admin_user)
    r.raise_for_status()
    route = r.json().get(f"/user/{user}/")
    return urlsplit(route["target"]).hostname if route else None


def test_hub_restart_keeps_running_servers(
    page: Page,
    stack: StackInfo,
    hub: HubAPI,
    user: str,
    login: Callable[..., None],
    docker_client: docker.DockerClient,
) -> None:
    server = hub.start_server(user)
    before = docker_client.containers.get(stack.container_name(user))
    # The proxy reaches the server by its address on the user's network, not by a name it
    # would look up at every request (services/hub/jupyterhub_config.py).
    addresses = {n["IPAddress"] for n in before.attrs["NetworkSettings"]["Networks"].values()}
    assert route_host(hub, stack, user) in addresses

    stack.restart_service(docker_client, "hub")

    def checked() -> dict | None:
        # A restarted hub may answer before it has polled every running server (JupyterHub's
        # init_spawners_timeout, 10 s, on a loaded machine): the server is then pending
        # "check", not ready. Gone (None) or any other state fails at once.
        model = hub.server(user)
        assert model is not None, "the restarted hub lost the running server"
        assert model["ready"] or model["pending"] == "check", model
        return model if model["ready"] else None

    after_server = wait_until(checked, 60, "the restarted hub to find the server ready")
    assert after_server["started"] == server["started"], "the hub spawned the server again"
    after = docker_client.containers.get(stack.container_name(user))
    assert after.id == before.id
    assert route_host(hub, stack, user) in addresses
    assert after.attrs["State"]["StartedAt"] == before.attrs["State"]["StartedAt"]
    # Reachable through the proxy with the user's own credentials, no new spawn.
    status = hub.request("GET", f"/user/{user}/api/status", as_user=user)
    assert status.status_code == 200, status.text
    login(page, user)
    page.goto(f"{stack.url}/user/{user}/lab")
    expect(page.locator(".jp-Launcher")).to_be_visible(timeout=60_000)
    expect(page).to_have_url(re.compile(rf"/user/{user}/lab"))


def test_admin_panel_lists_users(
    page: Page, stack: StackInfo, hub: HubAPI, user: str, login: Callable[..., None]
) -> None:
    hub.token(user)  # logging in through the API creates the user
    login(page, stack.admin_user, stack.admin_password)
    page.goto(f"{stack.url}/hub/admin")
    # The first page lists the oldest users (the admin is the first); a new user is found
    # by name, as an admin of a hub with more users than a page does.
    expect(page.get_by_test_id(f"user-name-div-{stack.admin_user}")).to_be_visible(timeout=30_000)
    page.get_by_label("user-search").fill(user)
    expect(page.get_by_test_id(f"user-name-div-{user}")).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id(f"user-name-div-{stack.admin_user}")).to_be_hidden()
