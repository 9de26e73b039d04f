"""Desktop-only servers: the hub spawns a desktop instead of JupyterLab."""

from __future__ import annotations

import re
from collections.abc import Callable

import docker
from hub_api import HubAPI
from hub_ui import stop_from_control_panel
from ledger import Ledger
from playwright.sync_api import Browser, Page, expect
from stack_info import SPAWN_TIMEOUT_MS, StackInfo
from xpra_client import wait_for_drawn_window


def test_desktop_only_session_from_the_spawn_page(
    page: Page,
    browser: Browser,
    stack: StackInfo,
    hub: HubAPI,
    user: str,
    ledger: Ledger,
    login: Callable[..., None],
    docker_client: docker.DockerClient,
) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    login(page, user)
    page.goto(f"{stack.url}/hub/spawn/{user}")
    page.locator("#session-desktop").check()
    page.get_by_role("button", name="Start").click()

    # Lands on the desktop page at the server's root, with an X window drawn.
    expect(page).to_have_url(re.compile(rf"/user/{user}/?$"), timeout=SPAWN_TIMEOUT_MS)
    expect(page.locator("#client")).to_be_visible(timeout=60_000)
    wait_for_drawn_window(page.frame_locator("#client"))
    container = docker_client.containers.get(stack.container_name(user))
    assert "miniswan-desktop-server" in " ".join(container.attrs["Config"]["Cmd"])
    processes = container.exec_run(["ps", "-eo", "args="]).output.decode()
    assert "jupyterhub-singleuser" not in processes and "xpra" in processes

    # Another logged-in user is refused; an anonymous browser is sent to log in.
    other = f"other{user[-6:]}"
    hub.token(other)
    for who in ("another user", "anonymous"):
        context = browser.new_context()
        try:
            intruder = context.new_page()
            if who == "another user":
                login(intruder, other)
            with ledger.attack(f"{who} opens a desktop-only server"):
                response = intruder.goto(f"{stack.url}/user/{user}/")
                assert response is not None
                if who == "another user":
                    assert response.status == 403
                else:
                    expect(intruder).to_have_url(re.compile(r"/hub/login"))
                expect(intruder.locator("#client")).to_have_count(0)
        finally:
            context.close()

    # Stopping the server from the hub removes the container.
    stop_from_control_panel(page, stack, docker_client, user)


def test_desktop_only_session_starts_into_an_application(
    page: Page, stack: StackInfo, user: str, login: Callable[..., None]
) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    login(page, user)
    page.goto(f"{stack.url}/hub/spawn/{user}")
    page.locator("#session-desktop").check()
    page.locator("#app").select_option("plot-browser")  # the default stack ships it
    page.get_by_role("button", name="Start").click()

    # The program alone fills the tab (its white figure, not a desktop with a terminal).
    expect(page).to_have_url(re.compile(rf"/user/{user}/?$"), timeout=SPAWN_TIMEOUT_MS)
    client = page.frame_locator("#client")
    facts = wait_for_drawn_window(client)
    assert facts["white"]["w"] > 0.8 * facts["width"], facts

    # Quitting it (matplotlib's `q`) ends the session; Restart starts it again.
    client.locator("div.window canvas").first.click(
        position={"x": facts["width"] // 2, "y": facts["height"] // 2}
    )
    page.keyboard.press("q")
    expect(page.locator("#restart")).to_be_visible(timeout=30_000)
    page.locator("#restart").click()
    wait_for_drawn_window(page.frame_locator("#client"))
