"""Desktops that feel native: the clipboard both ways, the screen follows the panel, the
client reconnects to the same session after the proxy restarted. Each check runs against
both front doors (doors.py): a JupyterLab panel and the desktop-only page.

What the desktop sees is read inside its X session (`xdpyinfo`, `xdotool`, files written by
its terminal); what the browser sees through Chromium's real clipboard and the page.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from difflib import SequenceMatcher

import docker
import pytest
from doors import DOORS, OpenDesktop, home_file, open_desktop
from hub_api import HubAPI
from lab_ui import dismiss_server_unavailable, resize_panel
from playwright.sync_api import Error, Page, expect
from stack_info import StackInfo
from waiting import wait_until
from x_session import find_window, in_session, screen_size, session_env
from xpra_client import focus_terminal, wait_for_drawn_window


def dismiss_and_focus_terminal(page: Page, client, facts: dict) -> bool:
    """Click into the terminal, after dismissing JupyterLab's own "Server unavailable"
    dialog: JupyterLab shows it when one of its requests got the hub's answer during the
    outage (docs/desktops.md), which may arrive after the desktop reconnected."""
    dismiss_server_unavailable(page)
    try:
        screen = client.locator("div.window canvas").first
        white = facts["white"]
        screen.click(
            position={"x": white["x"] + white["w"] / 2, "y": white["y"] + white["h"] / 2},
            timeout=2_000,
        )
    except Error:
        return False
    return True


@pytest.fixture(params=DOORS)
def desktop(
    request: pytest.FixtureRequest,
    page: Page,
    stack: StackInfo,
    hub: HubAPI,
    user: str,
    login: Callable,
    docker_client,
) -> dict:
    """One desktop open in a JupyterLab panel, or on the desktop-only page (the fixture's
    parameter), its terminal drawn."""
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.url)
    page.set_viewport_size({"width": 1400, "height": 900})
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    opened = open_desktop(request.param, page, stack, hub, user, login)
    facts = wait_for_drawn_window(opened.client)
    pid = hub.request("GET", opened.status_api, as_user=user).json()["pid"]
    container = docker_client.containers.get(stack.container_name(user))
    return {
        "open": opened,
        "client": opened.client,
        "facts": facts,
        "api": opened.status_api,
        "pid": pid,
        "container": container,
        "env": session_env(container, pid),
        "sockets": sockets,
    }


def test_clipboard_both_ways_and_screen_follows_the_panel(
    page: Page, hub: HubAPI, user: str, desktop: dict
) -> None:
    token = uuid.uuid4().hex[:8]
    opened: OpenDesktop = desktop["open"]
    # The client passed its exact size on its websocket's URL, so that the server gave the
    # screen a mode of that size before Xpra heard the client (no half-second pause).
    first = next(url for url in desktop["sockets"] if opened.websocket_path in url)
    facts = desktop["facts"]
    assert first.endswith(f"/?screen={facts['width']}x{facts['height']}"), first
    # The client manages key repeat (client_page.py): Xpra does not hold keys down for it,
    # so a late key-up cannot make X repeat a character.
    assert opened.frame().evaluate("() => client.capabilities.keyboard_sync") is False
    # The toolbar (or the page's header) says the clipboard is shared (permission granted).
    expect(opened.clipboard).to_have_attribute("data-clipboard", "granted")
    focus_terminal(desktop["client"], desktop["facts"])

    # Copy in an X application (xclip fed by the terminal): it lands in the browser's
    # clipboard. (No "|" typed: the keyboard layout is another test's business.)
    page.keyboard.type(f"echo -n from-x-{token} > clip.txt\n", delay=30)
    page.keyboard.type("xclip -selection clipboard clip.txt\n", delay=30)
    frame = opened.frame()
    wait_until(
        lambda: frame.evaluate("navigator.clipboard.readText()") == f"from-x-{token}",
        30,
        "the text copied in the desktop to reach the browser's clipboard",
    )

    # Copy in the browser: pasted into the terminal (Shift+Insert), written to a file.
    frame.evaluate(f"navigator.clipboard.writeText('from-browser-{token}')")
    focus_terminal(desktop["client"], desktop["facts"])  # the client reads the clipboard
    container, env = desktop["container"], desktop["env"]
    wait_until(
        lambda: (
            in_session(container, env, "xclip", "-o", "-selection", "clipboard")
            == f"from-browser-{token}"
        ),
        30,
        "the browser's clipboard to become the desktop's CLIPBOARD",
    )
    page.keyboard.type("cat > ~/pasted.txt\n", delay=30)
    page.keyboard.press("Shift+Insert")

    def pasted() -> bool:
        # xterm inserts the selection when it arrives, maybe after a key typed later: send
        # the line (Enter) until cat has written it
        page.keyboard.press("Enter")
        content = home_file(container, "pasted.txt") or ""
        return f"from-browser-{token}" in content.splitlines()

    wait_until(pasted, 30, "the browser's clipboard pasted into the desktop's terminal", 1)
    page.keyboard.press("Control+d")

    # The screen follows the panel's (the page's) size (one test with the clipboard: one
    # server less).
    for width, height in ((1000, 700), (1400, 900)):
        resize_panel(page, opened.iframe, width, height)
        wanted = f"{width}x{height}"
        wait_until(
            lambda wanted=wanted: screen_size(container, env) == wanted,
            30,
            f"the X screen to become {wanted}",
        )
    # The desktop is drawn at that size: no scaling, no scrollbars.
    canvas = desktop["client"].locator("div.window canvas").first
    expect(canvas).to_have_js_property("width", 1400)
    expect(canvas).to_have_js_property("height", 900)
    frame = opened.frame()
    # no scrollbar takes room from the client's page
    assert frame.evaluate(
        "() => { const e = document.documentElement;"
        " return innerWidth === e.clientWidth && innerHeight === e.clientHeight; }"
    )


def test_proxy_restart_reconnects_to_the_same_session(
    page: Page,
    stack: StackInfo,
    hub: HubAPI,
    user: str,
    desktop: dict,
    docker_client: docker.DockerClient,
) -> None:
    container, env = desktop["container"], desktop["env"]
    view = desktop["open"].connection
    expect(view).to_have_attribute("data-connection", "connected")
    # A window opened before the drop.
    focus_terminal(desktop["client"], desktop["facts"])
    # grey and in the bottom-right corner: the white terminal stays where the test clicks;
    # the terminal then copies what is typed after the drop into a file, line by line (one
    # command line: typed before the new window appears and takes the focus)
    page.keyboard.type(
        "xterm -name before-drop -bg grey -geometry 30x5-0-0 & cat > ~/after-drop.txt\n",
        delay=30,
    )
    before = wait_until(
        lambda: find_window(container, env, "before-drop"),
        30,
        "the window opened before the drop",
    )
    # Record every connection state the panel (the page) shows.
    view.evaluate(
        """view => {
          window.__connectionLog = [];
          new MutationObserver(() => window.__connectionLog.push(view.dataset.connection))
            .observe(view, { attributes: true, attributeFilter: ['data-connection'] });
        }"""
    )

    stack.restart_service(docker_client, "proxy", timeout=60)

    expect(view).to_have_attribute("data-connection", "connected", timeout=90_000)
    log = page.evaluate("window.__connectionLog")
    assert "reconnecting" in log, log
    # The same session: same xpra process, the same window, drawn and taking input again.
    assert hub.request("GET", desktop["api"], as_user=user).json()["pid"] == desktop["pid"]
    assert find_window(container, env, "before-drop") == before
    wait_for_drawn_window(desktop["client"])

    # Typed once after the reconnect into the `cat` started before the drop: every key must
    # arrive; a lost key is counted and fails the test, never typed again. The click goes
    # where the terminal was before the drop (the same session: nothing moved); the white
    # pixels on the screen now include the title of the window opened before the drop, so
    # their middle would be the empty desktop.
    assert dismiss_and_focus_terminal(page, desktop["client"], desktop["facts"])
    line = "typed-after-the-drop 0123456789"
    page.keyboard.type(line + "\n", delay=30)

    def arrived() -> str:
        return home_file(container, "after-drop.txt") or ""

    try:
        wait_until(lambda: arrived() == line + "\n", 15, "the line typed after the reconnect")
    except AssertionError:
        got = arrived().rstrip("\n")
        common = sum(b.size for b in SequenceMatcher(None, line, got).get_matching_blocks())
        raise AssertionError(
            f"{len(line) - common} of {len(line)} keys typed after the reconnect were lost: "
            f"typed {line!r}, the session got {got!r}"
        ) from None
