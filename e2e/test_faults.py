"""Faults injected into a running stack: each is survived, and nothing a user saved is lost."""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import docker
import pytest
from hub_api import HubAPI
from lab_ui import dismiss_server_unavailable, launch_desktop, open_lab
from ledger import Ledger
from playwright.sync_api import Page, expect
from stack_info import SPAWN_TIMEOUT_MS, StackInfo
from waiting import poll, wait_until
from xpra_client import focus_terminal, wait_for_drawn_window


class Desktops:
    """The desktop REST API of one user's server, through the whole stack."""

    def __init__(self, hub: HubAPI, user: str) -> None:
        self.hub, self.user = hub, user
        self.base = f"/user/{user}/desktops/api/desktops"

    def create(self, name: str) -> str:
        r = self.hub.request("POST", self.base, as_user=self.user, json={"name": name})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def get(self, desktop_id: str) -> dict[str, Any]:
        r = self.hub.request("GET", f"{self.base}/{desktop_id}", as_user=self.user)
        assert r.status_code == 200, r.text
        return r.json()

    def wait_state(self, desktop_id: str, state: str, timeout: float = 60) -> dict[str, Any]:
        return wait_until(
            lambda: (d := self.get(desktop_id))["state"] == state and d,
            timeout,
            f"desktop {desktop_id} to be {state}",
        )

    def serves_client(self, desktop: dict[str, Any]) -> bool:
        r = self.hub.request("GET", f"{desktop['url']}index.html", as_user=self.user)
        return r.status_code == 200 and "xpra" in r.text.lower()


def test_hub_restart_keeps_both_desktops(
    page: Page,
    stack: StackInfo,
    hub: HubAPI,
    user: str,
    ledger: Ledger,
    login: Callable[..., None],
    docker_client: docker.DockerClient,
) -> None:
    # One desktop open in a JupyterLab panel, one started through the API.
    open_lab(page, stack, hub, user, login)
    shown = launch_desktop(page)
    client = page.frame_locator(f'.miniswan-DesktopPanel[data-desktop-id="{shown}"] iframe')
    wait_for_drawn_window(client)
    desktops = Desktops(hub, user)
    ids = [shown, desktops.create("two")]
    before = [desktops.wait_state(i, "running") for i in ids]
    container = docker_client.containers.get(stack.container_name(user))
    started_at = container.attrs["State"]["StartedAt"]

    with ledger.fault("hub restart with two running desktops, one open in the browser"):
        stack.restart_service(docker_client, "hub")
        after = [desktops.get(i) for i in ids]
        assert [d["state"] for d in after] == ["running", "running"]
        assert [d["pid"] for d in after] == [d["pid"] for d in before]
        assert all(desktops.serves_client(d) for d in after)
        # No respawn: the same container, started once.
        container.reload()
        assert container.attrs["State"]["StartedAt"] == started_at
        assert hub.server(user) is not None
        # The open panel still works: its window is drawn and typing reaches the session.
        facts = wait_for_drawn_window(client)
        focus_terminal(client, facts)
        page.keyboard.type("echo after-hub-restart > ~/after-hub-restart.txt\n", delay=30)
        wait_until(
            lambda: hub.read_file(user, "after-hub-restart.txt") == "after-hub-restart\n",
            30,
            "the file typed in the open desktop after the hub restart",
        )


def test_xpra_killed_from_outside_fails_only_that_desktop(
    stack: StackInfo,
    hub: HubAPI,
    user: str,
    ledger: Ledger,
    docker_client: docker.DockerClient,
) -> None:
    hub.start_server(user)
    desktops = Desktops(hub, user)
    victim, survivor = desktops.create("victim"), desktops.create("survivor")
    pid = desktops.wait_state(victim, "running")["pid"]
    desktops.wait_state(survivor, "running")

    with ledger.fault("a desktop's Xpra killed with SIGKILL"):
        container = docker_client.containers.get(stack.container_name(user))
        assert container.exec_run(["kill", "-KILL", str(pid)]).exit_code == 0
        failed = desktops.wait_state(victim, "failed", timeout=30)
        assert failed["reason"] and failed["exit_status"] == -9
        assert desktops.serves_client(desktops.get(survivor))
        assert desktops.get(survivor)["state"] == "running"
        third = desktops.wait_state(desktops.create("third"), "running")
        assert desktops.serves_client(third)


def test_killed_user_container_is_noticed_and_the_home_survives(
    page: Page,
    stack: StackInfo,
    hub: HubAPI,
    user: str,
    ledger: Ledger,
    login: Callable[..., None],
    docker_client: docker.DockerClient,
) -> None:
    hub.start_server(user)
    saved = {"notes.txt": "measured 42\n", "analysis/run.py": "print('hello')\n"}
    hub.request(
        "PUT", f"/user/{user}/api/contents/analysis", as_user=user, json={"type": "directory"}
    )
    for path, text in saved.items():
        hub.write_file(user, path, text)

    with ledger.fault("user container killed"):
        docker_client.containers.get(stack.container_name(user)).kill()
        wait_until(lambda: hub.server(user) is None, 60, "the hub to notice the dead server")
        login(page, user)
        page.goto(f"{stack.url}/user/{user}/lab")
        expect(page.get_by_text(re.compile("not running", re.I)).first).to_be_visible()
        # Start again from that page; the home volume is still there.
        page.get_by_role("button", name=re.compile("Launch|Start", re.I)).first.click()
        # The click navigates to the spawn form (options to choose), or straight to the
        # progress page or JupyterLab: wait for one before deciding whether to press Start.
        form = page.locator("#session-jupyterlab")
        either = form.or_(page.locator("#progress-bar")).or_(page.locator(".jp-Launcher"))
        expect(either.first).to_be_visible(timeout=30_000)
        if form.is_visible():
            page.get_by_role("button", name="Start").click()
        expect(page.locator(".jp-Launcher")).to_be_visible(timeout=SPAWN_TIMEOUT_MS)
        found = {path: hub.read_file(user, path) for path in saved}
        assert ledger.files(saved, found) == []


@pytest.fixture
def user_image_missing(docker_client: docker.DockerClient, stack: StackInfo) -> Iterator[str]:
    """Take the user image's tag away (the image stays, under a holding tag), then restore."""
    name = os.environ.get("MINISWAN_USER_IMAGE", "miniswan/user:dev")
    image = docker_client.images.get(name)
    repository = name.rsplit(":", 1)[0]
    image.tag(repository, "e2e-hold")
    docker_client.images.remove(name)
    try:
        yield name
    finally:
        image.tag(*name.rsplit(":", 1))
        docker_client.images.remove(f"{repository}:e2e-hold")


def test_spawn_failure_is_explained_and_leaves_no_container(
    page: Page,
    stack: StackInfo,
    user: str,
    ledger: Ledger,
    login: Callable[..., None],
    docker_client: docker.DockerClient,
    user_image_missing: str,
) -> None:
    with ledger.fault("spawn with the user image missing"):
        login(page, user)
        page.goto(f"{stack.url}/hub/spawn/{user}")
        page.get_by_role("button", name="Start").click()
        # A fast failure comes back on the form, a slow one on the progress page: both
        # must name the image and say it is not available.
        expect(page.locator("body")).to_contain_text(
            f"The user image '{user_image_missing}' is not available", timeout=SPAWN_TIMEOUT_MS
        )
        names = [c.name for c in docker_client.containers.list(all=True)]
        assert stack.container_name(user) not in names


def test_start_command_that_exits_is_explained_and_leaves_no_container(
    page: Page,
    stack: StackInfo,
    hub: HubAPI,
    user: str,
    ledger: Ledger,
    login: Callable[..., None],
    docker_client: docker.DockerClient,
) -> None:
    # An environment script that ends the session before the server starts, as a user's
    # broken ~/.bashrc-like setup would: the container's start command exits with 3.
    hub.start_server(user)
    script = 'echo "setting up my analysis"\necho "my-env: cannot find ROOT" >&2\nexit 3\n'
    hub.write_file(user, "broken-env.sh", script)
    hub.stop_server(user)
    with ledger.fault("start command exits while the server starts"):
        login(page, user)
        page.goto(f"{stack.url}/hub/spawn/{user}")
        page.locator("#env-script").fill("broken-env.sh")
        page.get_by_role("button", name="Start").click()
        # The reason, with what the script printed, on the progress page; no 90 s wait.
        expect(page.locator("body")).to_contain_text("stopped while starting", timeout=60_000)
        expect(page.locator("body")).to_contain_text("my-env: cannot find ROOT")
        names = [c.name for c in docker_client.containers.list(all=True)]
        assert stack.container_name(user) not in names
        assert hub.server(user) is None
    # The user can start again without the script.
    hub.start_server(user)


def test_the_culler_stops_the_idle_server_and_spares_the_one_in_use_across_restarts(
    page: Page,
    stack: StackInfo,
    hub: HubAPI,
    user: str,
    ledger: Ledger,
    login: Callable[..., None],
    docker_client: docker.DockerClient,
) -> None:
    """Two users: one works in a desktop (a key every few seconds), the other started a
    server with a desktop and went away. The proxy restarts, then the hub (and the culler
    with it). The idle server is stopped on time, its desktop with it, cleanly; the working
    user's server is never stopped and the desktop still takes input at the end."""
    timeout = int(os.environ.get("MINISWAN_CULL_IDLE_TIMEOUT", "0"))
    every = int(os.environ.get("MINISWAN_CULL_EVERY", "60"))
    if not 0 < timeout <= 300:
        pytest.skip("the stack's idle timeout is off or too long to wait for here")
    idle = f"idle{uuid.uuid4().hex[:6]}"
    hub.start_server(idle)
    idle_started = time.monotonic()
    since = int(time.time())
    try:
        Desktops(hub, idle).create("left open")
        open_lab(page, stack, hub, user, login)
        server = hub.server(user)
        assert server is not None
        desktop_id = launch_desktop(page)
        client = page.frame_locator(
            f'.miniswan-DesktopPanel[data-desktop-id="{desktop_id}"] iframe'
        )
        view = page.locator(
            f'.miniswan-DesktopPanel[data-desktop-id="{desktop_id}"] .miniswan-DesktopView'
        )
        facts = wait_for_drawn_window(client)
        focus_terminal(client, facts)
        restarts = iter([(20, "proxy"), (50, "hub")])  # seconds after the idle server started
        next_restart = next(restarts, None)
        culled_after = None

        def press_a_key() -> None:
            """A key and its undo in the working user's terminal, once the panel is
            connected (it reconnects by itself after the proxy restart)."""
            expect(view).to_have_attribute("data-connection", "connected", timeout=60_000)
            page.keyboard.press("x")
            page.keyboard.press("Backspace")

        with ledger.fault("idle server left alone, proxy and hub restarted"):
            # on time: not before its timeout, and within a few of the culler's rounds (+ the
            # two restarts)
            latest = timeout + 3 * every + 90
            while culled_after is None and time.monotonic() < idle_started + latest:
                press_a_key()
                elapsed = time.monotonic() - idle_started
                if next_restart and elapsed >= next_restart[0]:
                    stack.restart_service(docker_client, next_restart[1], timeout=90)
                    next_restart = next(restarts, None)
                # the user's pace, a key every 5 s, watching for the cull meanwhile
                culled, _ = poll(lambda: hub.server(idle) is None, 5)
                if culled:
                    culled_after = time.monotonic() - idle_started
            assert culled_after is not None, "the idle server was never culled"
            assert next_restart is None, f"culled after {culled_after:.0f} s, before the restarts"
            assert timeout <= culled_after <= latest, culled_after
            names = [c.name for c in docker_client.containers.list(all=True)]
            assert stack.container_name(idle) not in names
            # stopped cleanly: the server ended its desktops and exited by itself (0), not
            # killed after Docker's grace period (137)
            died = docker_client.events(
                since=since,
                until=int(time.time()) + 1,
                filters={"container": stack.container_name(idle), "event": "die"},
                decode=True,
            )
            codes = [event["Actor"]["Attributes"].get("exitCode") for event in died]
            assert codes == ["0"], codes

        with ledger.fault("desktop in use across proxy and hub restarts"):
            after = hub.server(user)
            assert after is not None and after["started"] == server["started"]
            dismiss_server_unavailable(page)
            expect(view).to_have_attribute("data-connection", "connected")
            focus_terminal(client, wait_for_drawn_window(client))
            page.keyboard.type("echo still-here > ~/still-here.txt\n", delay=30)
            wait_until(
                lambda: hub.read_file(user, "still-here.txt") == "still-here\n",
                30,
                "the keys typed at the end to reach the session",
            )
    finally:
        if hub.server(idle) is not None:
            hub.stop_server(idle)
