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
    # Wait for the hub's answer to the form, which sets the login cookie: the page's URL
    # could leave /hub/login while the POST was still in flight, and a test's next goto
    # then cancelled it, logging nobody in (seen once in CI, Playwright's trace: POST
    # cancelled, then the server's OAuth sent the browser back to the login form).
    with page.expect_response(
        lambda r: r.request.method == "POST" and "/hub/login" in r.url
    ) as answer:
        page.locator("#login_submit").click()
    assert answer.value.status == 302, f"login refused: HTTP {answer.value.status}"
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
