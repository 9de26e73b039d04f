"""The JupyterLab client: launch, view, use, list and close desktops in the browser."""

from __future__ import annotations

import re
from collections.abc import Callable

import docker
from hub_api import HubAPI
from lab_ui import launch_desktop, open_lab, show_running_panel
from playwright.sync_api import Page, expect
from stack_info import StackInfo
from waiting import wait_until
from xpra_client import focus_terminal, wait_for_drawn_window


def test_launch_use_and_close_desktops_from_jupyterlab(
    page: Page,
    stack: StackInfo,
    hub: HubAPI,
    user: str,
    login: Callable,
    docker_client: docker.DockerClient,
) -> None:
    page.set_viewport_size({"width": 1400, "height": 900})
    # What the client's page asks for (the client connects without first starting a worker
    # to check websockets in workers: client_page.py).
    asked: list[str] = []
    page.context.on("request", lambda r: asked.append(r.url))
    open_lab(page, stack, hub, user, login)
    api = f"/user/{user}/desktops/api/desktops"
    # Before any click, the page fetches the client's script bundle ahead (preload.ts).
    # (Playwright delivers request events only while one of its calls runs: a plain poll of
    # `asked` would never see a request made after open_lab returned.)
    bundle = "/js/miniswan-client.js"
    if not any(url.endswith(bundle) for url in asked):
        page.context.wait_for_event("request", lambda r: r.url.endswith(bundle), timeout=30_000)

    first = launch_desktop(page)
    client = page.frame_locator(f'.miniswan-DesktopPanel[data-desktop-id="{first}"] iframe')
    facts = wait_for_drawn_window(client)

    # Type into the desktop's terminal; the command's effect shows in the home directory.
    assert any("/desktops/client/" in url for url in asked), asked
    assert not any("wsworker_check" in url for url in asked), asked
    focus_terminal(client, facts)
    page.keyboard.type("echo typed-in-desktop > ~/from-desktop.txt\n", delay=30)
    wait_until(
        lambda: (
            hub.request(
                "GET", f"/user/{user}/api/contents/from-desktop.txt?content=1", as_user=user
            )
            .json()
            .get("content")
            == "typed-in-desktop\n"
        ),
        30,
        "the file written from the desktop's terminal",
    )

    # The panel's "Open in Tab": the same desktop in its own browser tab.
    with page.context.expect_page() as opened:
        page.get_by_text("Open in Tab").first.click()
    wait_for_drawn_window(opened.value)
    opened.value.close()

    # Closing the panel leaves the desktop running; the Running panel reopens it.
    page.locator(".lm-TabBar-tab.lm-mod-current .lm-TabBar-tabCloseIcon").first.click()
    expect(page.locator(f'.miniswan-DesktopPanel[data-desktop-id="{first}"]')).to_have_count(0)
    assert hub.request("GET", f"{api}/{first}", as_user=user).json()["state"] == "running"
    show_running_panel(page)
    page.locator(f'.miniswan-RunningDesktop [data-desktop-id="{first}"]').click()
    reopened = page.locator(f'.miniswan-DesktopPanel[data-desktop-id="{first}"]')
    expect(reopened).to_have_attribute("data-state", "running")
    wait_for_drawn_window(
        page.frame_locator(f'.miniswan-DesktopPanel[data-desktop-id="{first}"] iframe')
    )

    second = launch_desktop(page, from_menu=True)
    assert second != first
    second_pid = hub.request("GET", f"{api}/{second}", as_user=user).json()["pid"]
    first_pid = hub.request("GET", f"{api}/{first}", as_user=user).json()["pid"]

    # Shut the first down from the Running panel, confirming the dialog.
    show_running_panel(page)
    item = page.locator(".miniswan-RunningDesktop").filter(
        has=page.locator(f'[data-desktop-id="{first}"]')
    )
    item.hover()
    item.get_by_title("Shut Down Desktop").click()
    page.locator(".jp-Dialog .jp-mod-accept").click()

    wait_until(
        lambda: hub.request("GET", f"{api}/{first}", as_user=user).status_code == 404,
        30,
        "the first desktop to be gone from the API",
    )
    container = docker_client.containers.get(stack.container_name(user))
    processes = container.exec_run(["ps", "-eo", "pid=,sid=,comm="]).output.decode()
    rows = [line.split(None, 2) for line in processes.splitlines() if line.strip()]
    # Nothing of the first desktop's session is left (its Xvfb included); the second's runs.
    # (The server may be preparing a desktop for the next click: a session of its own.)
    assert not [r for r in rows if int(r[1]) == first_pid], processes
    assert [r for r in rows if int(r[1]) == second_pid and r[2] == "Xvfb"], processes
    assert hub.request("GET", f"{api}/{second}", as_user=user).json()["state"] == "running"
    expect(item).to_have_count(0)


def test_live_updates_and_a_dying_desktop_is_notified(
    page: Page,
    stack: StackInfo,
    hub: HubAPI,
    user: str,
    login: Callable,
    docker_client: docker.DockerClient,
) -> None:
    open_lab(page, stack, hub, user, login)
    show_running_panel(page)

    # Started elsewhere (the REST API): it appears without a reload.
    api = f"/user/{user}/desktops/api/desktops"
    r = hub.request("POST", api, as_user=user, json={"name": "from-api"})
    assert r.status_code == 201, r.text
    desktop_id = r.json()["id"]
    listed = page.locator(f'.miniswan-RunningDesktop [data-desktop-id="{desktop_id}"]')
    expect(listed).to_have_attribute("data-state", "running", timeout=60_000)

    # It dies: the list marks it and a notification gives the server's reason.
    pid = hub.request("GET", f"{api}/{desktop_id}", as_user=user).json()["pid"]
    container = docker_client.containers.get(stack.container_name(user))
    assert container.exec_run(["kill", "-KILL", str(pid)]).exit_code == 0
    expect(listed).to_have_attribute("data-state", "failed", timeout=30_000)
    expect(page.get_by_text(re.compile(r"Desktop .from-api. failed: .*SIGKILL"))).to_be_visible()


def test_notebook7_tree_new_desktop_opens_in_a_tab(
    page: Page, stack: StackInfo, hub: HubAPI, user: str, login: Callable
) -> None:
    hub.start_server(user)
    login(page, user)
    page.goto(f"{stack.url}/user/{user}/tree")
    new_button = page.locator(".jp-FileBrowser-toolbar .lm-MenuBar-itemLabel", has_text="New")
    expect(new_button).to_be_visible(timeout=60_000)
    new_button.click()
    with page.context.expect_page() as opened:
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Desktop$")).click()
    tab = opened.value
    expect(tab).to_have_url(re.compile(rf"/user/{user}/desktops/[^/]+/"), timeout=60_000)
    wait_for_drawn_window(tab)
