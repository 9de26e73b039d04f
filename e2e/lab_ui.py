"""Driving JupyterLab like a user: open it, start desktops, show the Running sidebar."""

from __future__ import annotations

import re
from collections.abc import Callable

from hub_api import HubAPI
from playwright.sync_api import Locator, Page, expect
from stack_info import StackInfo
from waiting import wait_until


def open_lab(page: Page, stack: StackInfo, hub: HubAPI, user: str, login: Callable) -> None:
    hub.start_server(user)
    login(page, user)
    page.goto(f"{stack.url}/user/{user}/lab")
    expect(page.locator(".jp-Launcher")).to_be_visible(timeout=60_000)


def dismiss_server_unavailable(page: Page) -> bool:
    """Dismiss JupyterLab's own "Server unavailable" dialog if it is up (JupyterLab shows it
    for its requests that failed while the proxy or the hub restarted); True if it was."""
    dialog = page.locator(".jp-Dialog", has_text="Server unavailable")
    if not dialog.count():
        return False
    dialog.get_by_role("button", name="Dismiss").click()
    return True


def show_running_panel(page: Page) -> None:
    """Open the Running sidebar (its tab toggles it: click only when it is closed)."""
    if not page.locator(".jp-RunningSessions").is_visible():
        page.get_by_role("tab", name=re.compile("Running Terminals and Kernels")).click()
    expect(page.locator(".jp-RunningSessions")).to_be_visible()


def launch_desktop(page: Page, from_menu: bool = False) -> str:
    """Start a desktop from the launcher's Desktop card (or File > New > Desktop); return
    the id of the panel that opens."""
    panels_before = page.locator(".miniswan-DesktopPanel").count()
    if from_menu:
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^File$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^New$")).hover()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Desktop$")).click()
    else:
        launcher = page.locator(".jp-Launcher:visible .jp-LauncherCard")
        launcher.filter(has_text=re.compile(r"^\s*Desktop\s*$")).click()
    expect(page.locator(".miniswan-DesktopPanel")).to_have_count(panels_before + 1)
    panel = page.locator(".miniswan-DesktopPanel:visible")
    expect(panel).to_have_attribute("data-state", "running", timeout=60_000)
    desktop_id = panel.get_attribute("data-desktop-id")
    assert desktop_id
    return desktop_id


def resize_panel(page: Page, frame: Locator, width: int, height: int) -> None:
    """Size the browser window so that a panel's client area (its iframe, `frame`) is
    width x height."""
    viewport = page.viewport_size
    assert viewport is not None
    box = frame.bounding_box()
    assert box is not None
    page.set_viewport_size(
        {
            "width": viewport["width"] + width - round(box["width"]),
            "height": viewport["height"] + height - round(box["height"]),
        }
    )
    # JupyterLab lays its panels out again after the window's resize event: wait for it.
    wait_until(
        lambda: (
            (b := frame.bounding_box())
            and (round(b["width"]), round(b["height"])) == (width, height)
        ),
        10,
        f"the panel to be {width}x{height}",
    )
