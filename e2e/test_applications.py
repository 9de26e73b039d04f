"""Applications of the software stack, each alone in its own JupyterLab panel: the OpenGL
detector-geometry viewer of LCG_106 (pyg4ometry + VTK) and a Tk plot browser, started from
their Launcher cards, drawn, driven with the mouse, resized with the panel and closed."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import docker
import requests
from hub_api import HubAPI
from lab_ui import resize_panel, show_running_panel
from playwright.sync_api import FrameLocator, Page, expect
from stack_info import StackInfo
from waiting import wait_until
from x_session import find_window, in_session, screen_size, session_env
from xpra_client import CANVAS_FACTS, screen_canvas

STACK = "LCG_106"
VIEWER, PLOTS = "detector-viewer", "plot-browser"


def canvas_facts(client: FrameLocator) -> dict[str, Any] | None:
    try:
        return screen_canvas(client).evaluate(CANVAS_FACTS, timeout=2_000)
    except Exception:
        return None


def picture_digest(client: FrameLocator) -> str:
    """The canvas's pixels as a data URL: equal only if the picture is."""
    return screen_canvas(client).evaluate("c => c.toDataURL('image/png')")


def rendered(client: FrameLocator, min_colours: int) -> dict[str, Any] | None:
    """The canvas facts once it shows a shaded picture: many distinct colours (a text window
    or a blank screen has a handful)."""
    facts = canvas_facts(client)
    return facts if facts and facts["colours"] >= min_colours else None


def open_app(page: Page, name: str, app: str, from_menu: bool = False) -> tuple[str, FrameLocator]:
    """Click the application's card in the Launcher's Applications section (or File > New >
    its name); return the id of the session whose panel opens, and its client."""
    if from_menu:
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^File$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^New$")).hover()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(rf"^{name}$")).click()
    else:
        section = page.locator(".jp-Launcher:visible .jp-Launcher-section").filter(
            has=page.locator(".jp-Launcher-sectionTitle", has_text=re.compile(r"^Applications$"))
        )
        section.locator(".jp-LauncherCard", has_text=name).click()
    panel = page.locator(f'.miniswan-DesktopPanel[data-app="{app}"]')
    expect(panel).to_have_attribute("data-state", "running", timeout=60_000)
    session_id = panel.get_attribute("data-desktop-id")
    assert session_id
    return session_id, panel.frame_locator("iframe")


def test_stack_applications_open_draw_follow_the_panel_and_close(
    page: Page,
    stack: StackInfo,
    hub: HubAPI,
    user: str,
    login: Callable,
    docker_client: docker.DockerClient,
) -> None:
    api = f"/user/{user}/desktops/api"
    page.set_viewport_size({"width": 1400, "height": 900})
    hub.start_server(user, {"stack": STACK})
    login(page, user)
    page.goto(f"{stack.url}/user/{user}/lab?reset")
    expect(page.locator(".jp-Launcher")).to_be_visible(timeout=60_000)

    # The REST API refuses an id the stack does not ship, naming the ones it does.
    r = hub.request("POST", f"{api}/desktops", as_user=user, json={"app": "no-such-app"})
    assert r.status_code == 400, r.text
    assert VIEWER in r.json()["message"] and PLOTS in r.json()["message"]

    # The OpenGL viewer draws the shaded geometry (hundreds of colours, not a blank or a
    # text window) in its own panel.
    viewer, client = open_app(page, "Detector geometry", VIEWER)
    wait_until(lambda: rendered(client, 100), 60, "the detector geometry drawn")
    container = docker_client.containers.get(stack.container_name(user))
    pid = hub.request("GET", f"{api}/desktops/{viewer}", as_user=user).json()["pid"]
    env = session_env(container, pid)
    assert "llvmpipe" in in_session(container, env, "glxinfo", "-B")

    # A drag rotates the picture.
    before = picture_digest(client)
    box = screen_canvas(client).bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(x + 20 * step, y + 8 * step)
    page.mouse.up()
    wait_until(lambda: picture_digest(client) != before, 15, "the picture to turn with the drag")

    # The program's window fills the panel and follows its size.
    window = wait_until(
        lambda: find_window(container, env, "^Detector geometry", by="name"), 10, "its window"
    )

    def window_size() -> str:
        out = in_session(container, env, "xdotool", "getwindowgeometry", window.split()[0])
        return out.split("Geometry:")[1].split()[0]

    frame = page.locator(f'.miniswan-DesktopPanel[data-desktop-id="{viewer}"] iframe')
    resize_panel(page, frame, 1000, 640)
    wait_until(lambda: screen_size(container, env) == "1000x640", 30, "the screen at 1000x640")
    wait_until(lambda: window_size() == "1000x640", 30, "the viewer's window at 1000x640")

    # The Running sidebar names it, with its own icon.
    show_running_panel(page)
    item = page.locator(f'.miniswan-RunningDesktop-label[data-app="{VIEWER}"]')
    expect(item).to_have_text("Detector geometry")

    # Another user cannot reach the session, nor its client.
    intruder = f"{user}x"
    for path in (f"{api}/desktops/{viewer}", f"/user/{user}/desktops/{viewer}/"):
        r = requests.get(
            f"{stack.url}{path}",
            headers={"Authorization": f"token {hub.token(intruder)}"},
            allow_redirects=False,
            timeout=30,
        )
        assert r.status_code in (403, 404), f"{path}: {r.status_code}"

    # The non-OpenGL program (matplotlib in Tk) opens beside it, in a panel of its own, from
    # File > New this time.
    plots, plots_client = open_app(page, "Plot browser", PLOTS, from_menu=True)
    assert plots != viewer
    wait_until(lambda: rendered(plots_client, 20), 60, "the plot browser drawn")

    # Quitting the viewer (VTK's `q`) ends its session: panel and Running item go.
    page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text="Detector geometry").click()
    expect(page.locator(f'.miniswan-DesktopPanel[data-desktop-id="{viewer}"]')).to_be_visible()
    screen_canvas(client).click(position={"x": 200, "y": 200})
    page.keyboard.press("q")
    expect(page.locator(f'.miniswan-DesktopPanel[data-desktop-id="{viewer}"]')).to_have_count(
        0, timeout=30_000
    )
    expect(item).to_have_count(0)
    listed = hub.request("GET", f"{api}/desktops", as_user=user).json()
    assert [(d["id"], d["app"]) for d in listed] == [(plots, PLOTS)]
