"""The hub's pages driven like a user: the login form, the control panel's Stop button."""

from __future__ import annotations

import re

import docker
from playwright.sync_api import Page, expect
from stack_info import StackInfo
from waiting import wait_until


def log_in(page: Page, stack: StackInfo, username: str, password: str | None = None) -> None:
    """Log in through the hub's real login form."""
    page.goto(f"{stack.url}/hub/login")
    page.locator("#username_input").fill(username)
    page.locator("#password_input").fill(password or stack.user_password)
    page.locator("#login_submit").click()
    expect(page).not_to_have_url(re.compile(r"/hub/login"))


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
