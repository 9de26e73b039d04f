"""The two front doors to a desktop, driven the same way by the tests that check that both
behave alike (keys, layout, clipboard, reconnect): a desktop in a JupyterLab panel, and the
desktop-only server's page (the hub spawns `miniswan-desktop-server` instead of JupyterLab).

`open_desktop(door, ...)` starts the user's server of that kind, opens the desktop in the
browser and returns an `OpenDesktop`: where its client is, the node whose `data-connection`
says how the connection stands, its keyboard selector and clipboard button, and the REST
path that describes the desktop (its layout, its xpra pid). Files the desktop writes are read
inside the user's container, so the same check works without JupyterLab's contents API.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import docker
from hub_api import HubAPI
from lab_ui import launch_desktop, open_lab
from playwright.sync_api import Frame, FrameLocator, Locator, Page, expect
from stack_info import StackInfo

DOORS = ("panel", "page")
"""`panel`: a desktop in JupyterLab; `page`: the desktop-only server's page."""


@dataclass
class OpenDesktop:
    door: str
    page: Page
    desktop_id: str
    iframe_selector: str
    # the node whose data-connection says connecting / connected / reconnecting / ended
    connection: Locator
    layout_select: Locator
    clipboard: Locator
    # GET: the desktop as JSON (id, state, layout, variant, pid, ...)
    status_api: str
    # what the client's websocket URL contains
    websocket_path: str

    @property
    def iframe(self) -> Locator:
        return self.page.locator(self.iframe_selector)

    @property
    def client(self) -> FrameLocator:
        return self.page.frame_locator(self.iframe_selector)

    def frame(self) -> Frame:
        """The client's page (to evaluate in it)."""
        handle = self.iframe.element_handle()
        assert handle is not None
        content = handle.content_frame()
        assert content is not None
        return content


def open_desktop(
    door: str, page: Page, stack: StackInfo, hub: HubAPI, user: str, login: Callable
) -> OpenDesktop:
    """Start `user`'s server for that door and open a desktop in `page`."""
    if door == "panel":
        open_lab(page, stack, hub, user, login)
        return panel_desktop(page, user, launch_desktop(page))
    hub.start_server(user, {"session": "desktop"})
    login(page, user)
    return open_page(page, stack, user, hub)


def panel_desktop(page: Page, user: str, desktop_id: str) -> OpenDesktop:
    """The desktop `desktop_id` open in a JupyterLab panel of `page`."""
    panel = f'.miniswan-DesktopPanel[data-desktop-id="{desktop_id}"]'
    return OpenDesktop(
        door="panel",
        page=page,
        desktop_id=desktop_id,
        iframe_selector=f"{panel} iframe",
        connection=page.locator(f"{panel} .miniswan-DesktopView"),
        layout_select=page.locator(f"{panel} select.miniswan-KeyboardLayout-select"),
        clipboard=page.locator(f"{panel} .miniswan-ClipboardButton"),
        status_api=f"/user/{user}/desktops/api/desktops/{desktop_id}",
        websocket_path=f"/desktops/{desktop_id}/",
    )


def open_page(page: Page, stack: StackInfo, user: str, hub: HubAPI) -> OpenDesktop:
    """The desktop-only server's page of `user` (already running), its client shown."""
    page.goto(f"{stack.url}/user/{user}/")
    expect(page.locator("#client")).to_be_visible(timeout=60_000)
    status = hub.request("GET", f"/user/{user}/api/status", as_user=user).json()
    return OpenDesktop(
        door="page",
        page=page,
        desktop_id=status["id"],
        iframe_selector="#client",
        connection=page.locator("main"),
        layout_select=page.locator("#keyboard-layout"),
        clipboard=page.locator(".miniswan-ClipboardButton"),
        status_api=f"/user/{user}/api/status",
        websocket_path=f"/user/{user}/desktop/",
    )


def home_file(container: docker.models.containers.Container, name: str) -> str | None:
    """A text file of the user's home as the server sees it; None if it is not there."""
    result = container.exec_run(["sh", "-c", 'cat "$HOME/$0"', name])
    return result.output.decode() if result.exit_code == 0 else None
