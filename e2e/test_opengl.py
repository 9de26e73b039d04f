"""OpenGL in a desktop (the reason desktops exist: geometry viewers are OpenGL programs):
GLX answers with Mesa's software renderer, and glxgears' red, green and blue gears turn on
the browser's canvas."""

from __future__ import annotations

from collections.abc import Callable

import docker
from hub_api import HubAPI
from lab_ui import launch_desktop, open_lab
from playwright.sync_api import Page
from stack_info import StackInfo
from waiting import wait_until
from x_session import find_window, in_session, session_env
from xpra_client import canvas_colours, wait_for_drawn_window


def test_an_opengl_program_draws_and_animates_in_a_desktop(
    page: Page,
    stack: StackInfo,
    hub: HubAPI,
    user: str,
    login: Callable,
    docker_client: docker.DockerClient,
) -> None:
    page.set_viewport_size({"width": 1400, "height": 900})
    open_lab(page, stack, hub, user, login)
    desktop = launch_desktop(page)
    client = page.frame_locator(f'.miniswan-DesktopPanel[data-desktop-id="{desktop}"] iframe')
    wait_for_drawn_window(client)
    before = canvas_colours(client)
    assert before is not None and min(before["red"], before["green"], before["blue"]) < 50

    container = docker_client.containers.get(stack.container_name(user))
    pid = hub.request("GET", f"/user/{user}/desktops/api/desktops/{desktop}", as_user=user).json()[
        "pid"
    ]
    env = session_env(container, pid)
    info = in_session(container, env, "glxinfo", "-B")
    assert "direct rendering: Yes" in info, info
    assert "llvmpipe" in info, info

    container.exec_run(["glxgears"], environment=env, user="jovyan", detach=True)
    wait_until(lambda: find_window(container, env, "^glxgears$", by="name"), 30, "glxgears")

    def gears_drawn() -> dict[str, int] | None:
        now = canvas_colours(client)
        return now if now and min(now["red"], now["green"], now["blue"]) > 200 else None

    first = wait_until(gears_drawn, 30, "red, green and blue gears on the canvas")
    # Turning: the picture keeps changing while the gears stay on screen.
    wait_until(
        lambda: (now := gears_drawn()) and now["digest"] != first["digest"],
        15,
        "the gears to turn on the canvas",
    )
