"""1. Login to JupyterLab ready, then "Desktop" click to the first window drawn, as a user in
Chromium does it; with the timestamps of each phase in between (the profile).

Each sample is a new user in a new browser (nothing cached), with the default settings:
one desktop prepared by the server (started when JupyterLab lists the desktops), which the
first click takes. Then, in the same browser: the panel closed and the running desktop
opened again from the Running sidebar (reopen), and a second desktop once its prepared
replacement is ready (the browser's cache now warm). Other samples turn preparing off
(the user's own server config, `DesktopApp.prepared_desktops = 0`): every click then waits
for Xpra to start."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Browser, Page, Request, expect

from . import xpra_log
from .canvas import new_context, wait_first_frame
from .common import Bench, now
from .login import login_to_lab
from .stats import summary

DESKTOP_CARD = re.compile(r"^\s*Desktop\s*$")
# An application of the default stack (docs/software-stacks.md): the same measure for a
# session that runs one program alone, which no desktop is prepared for. (Not anchored: the
# card's text holds more than its label.)
APP_CARD = re.compile(r"Plot browser")


def click_desktop(
    page: Page, bench: Bench, user: str, card_text: re.Pattern[str] = DESKTOP_CARD
) -> dict[str, Any]:
    """Click the Launcher's Desktop card (or another: an application's); time each phase
    until the first frame is drawn."""
    t: dict[str, float] = {}
    # Every request under the desktop's URL with when it started and ended: the client's
    # asset loads, seen from the browser.
    loads: list[dict[str, Any]] = []
    started_at: dict[int, float] = {}

    def on_request(request: Request) -> None:
        url = request.url
        if "/desktops/" in url:
            started_at[id(request)] = now()
        if request.method == "POST" and url.endswith("/desktops/api/desktops"):
            t.setdefault("api_create_sent", now())
        elif "/desktops/" in url and "/index.html" in url:
            t.setdefault("client_page_requested", now())
        elif "/desktops/" in url and url.endswith("/js/Client.js"):
            t.setdefault("client_js_requested", now())

    def on_response(response: Any) -> None:
        if response.request.method == "POST" and response.url.endswith("/desktops/api/desktops"):
            t.setdefault("api_create_answered", now())

    def on_finished(request: Request) -> None:
        if "/desktops/" in request.url and id(request) in started_at:
            ended = now()
            loads.append(
                {"url": request.url.split("/desktops/", 1)[1][:80],
                 "start": started_at[id(request)], "end": ended}
            )  # fmt: skip
            if "/desktops/" in request.url and request.resource_type in ("script", "stylesheet"):
                t["client_assets_loaded"] = ended

    def on_websocket(ws: Any) -> None:
        if "/desktops/" in ws.url:
            t.setdefault("websocket_opened", now())

    page.on("request", on_request)
    page.on("response", on_response)
    page.on("requestfinished", on_finished)
    page.on("websocket", on_websocket)
    card = page.locator(".jp-Launcher:visible .jp-LauncherCard").filter(has_text=card_text)
    t["click"] = now()
    card.click()
    panel = page.locator(".miniswan-DesktopPanel:visible")
    expect(panel).to_have_attribute("data-state", "running", timeout=60_000)
    t["panel_running"] = now()
    desktop_id = panel.get_attribute("data-desktop-id") or ""
    canvas = page.frame_locator("iframe.miniswan-DesktopFrame").locator("div.window canvas")
    t["first_frame"] = wait_first_frame(canvas.first)
    for event, handler in (
        ("request", on_request),
        ("response", on_response),
        ("requestfinished", on_finished),
        ("websocket", on_websocket),
    ):
        page.remove_listener(event, handler)
    # xpra's own view of the same start: socket, ready, client connection, handshake.
    container = bench.container(user)
    log = container.exec_run(
        ["sh", "-c", f"cat /tmp/miniswan-desktop-1000/desktop-{desktop_id}-*/xpra.log"]
    ).output.decode(errors="replace")
    for name, stamp in xpra_log.marks(log).items():
        t[f"xpra_{name}"] = stamp
    click = t["click"]
    requests = [
        {"url": x["url"], "start_s": x["start"] - click, "end_s": x["end"] - click} for x in loads
    ]
    return {
        "desktop_id": desktop_id,
        "marks": t,
        "requests": sorted(requests, key=lambda x: x["start_s"]),
        "xpra_log": log.splitlines()[-60:],
    }


def wait_prepared(bench: Bench, user: str, ready: int, timeout: float = 60) -> None:
    """Wait until `ready` desktops of the user's server have said so in their xpra log (the
    prepared one is unlisted: the container is the only place that shows it)."""
    script = "grep -l 'xpra is ready' /tmp/miniswan-desktop-1000/desktop-*/xpra.log | wc -l"
    container = bench.container(user)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = container.exec_run(["sh", "-c", script]).output.decode().strip()
        if out.isdigit() and int(out) >= ready:
            return
        time.sleep(0.2)
    raise TimeoutError(f"{user}'s server prepared no desktop within {timeout} s")


def reopen(page: Page, desktop_id: str) -> float:
    """Close the desktop's panel (the desktop keeps running), open it again from the
    Running sidebar; seconds from that click to its first frame."""
    panel = page.locator(f'.miniswan-DesktopPanel[data-desktop-id="{desktop_id}"]')
    page.locator(".lm-TabBar-tab.lm-mod-current .lm-TabBar-tabCloseIcon").first.click()
    expect(panel).to_have_count(0)
    running = page.locator(".jp-RunningSessions")
    if not running.is_visible():  # its tab toggles it: click only when it is closed
        page.get_by_role("tab", name=re.compile("Running Terminals and Kernels")).click()
    item = page.locator(f'.miniswan-RunningDesktop [data-desktop-id="{desktop_id}"]')
    clicked = now()
    item.click()
    canvas = panel.frame_locator("iframe").locator("div.window canvas")
    seconds = wait_first_frame(canvas.first) - clicked
    # Back to the Launcher for the next click.
    page.locator(".lm-TabBar-tab.lm-mod-current .lm-TabBar-tabCloseIcon").first.click()
    expect(panel).to_have_count(0)
    return seconds


def write_server_config(bench: Bench, user: str, config: dict[str, Any]) -> None:
    """The user's own Jupyter Server config in their home (~/.jupyter, hidden from the
    contents API, so written in the container as the user), read at the next start."""
    path = "$HOME/.jupyter/jupyter_server_config.json"
    script = f'mkdir -p "$HOME/.jupyter" && printf %s "$0" > "{path}"'
    result = bench.container(user).exec_run(
        ["sh", "-c", script, json.dumps(config)], user="jovyan"
    )
    if result.exit_code != 0:
        raise RuntimeError(f"could not write {user}'s server config: {result.output!r}")


def diagnose(bench: Bench, user: str) -> str:
    """What ran in the container and what xpra logged, for a sample that failed."""
    script = (
        "ps -eo pid,ppid,stat,etime,rss,args; "
        'for f in /tmp/miniswan-desktop-1000/desktop-*/xpra.log; do echo "== $f"; '
        'tail -n 40 "$f"; done'
    )
    try:
        return bench.container(user).exec_run(["sh", "-c", script]).output.decode()[-6000:]
    except Exception as exc:
        return f"could not look: {exc}"


def relative(marks: dict[str, float], origin: str) -> dict[str, float]:
    """Marks as seconds after `origin`, in time order."""
    zero = marks[origin]
    return dict(sorted(((k, v - zero) for k, v in marks.items()), key=lambda kv: kv[1]))


def sample_prepared(page: Page, bench: Bench, user: str, index: int) -> dict[str, Any]:
    login = login_to_lab(page, bench, user)
    wait_prepared(bench, user, 1)
    desktop = click_desktop(page, bench, user)
    reopen_s = reopen(page, desktop["desktop_id"])
    wait_prepared(bench, user, 2)  # the taken one and its replacement
    warm = click_desktop(page, bench, user)
    # Back to the Launcher (the desktop keeps running), for the application's card.
    page.locator(".lm-TabBar-tab.lm-mod-current .lm-TabBar-tabCloseIcon").first.click()
    expect(page.locator(".miniswan-DesktopPanel")).to_have_count(0)
    app = click_desktop(page, bench, user, APP_CARD)
    return {
        "login_to_lab_s": login["lab_ready"] - login["login_submit"],
        "click_to_first_frame_s": desktop["marks"]["first_frame"] - desktop["marks"]["click"],
        "reopen_s": reopen_s,
        "click_to_first_frame_warm_s": warm["marks"]["first_frame"] - warm["marks"]["click"],
        "click_to_first_frame_app_s": app["marks"]["first_frame"] - app["marks"]["click"],
        "desktop_marks": relative(desktop["marks"], "click"),
        "warm_marks": relative(warm["marks"], "click"),
        "xpra_log": desktop["xpra_log"],
        "requests": desktop["requests"],
    }


def sample_unprepared(page: Page, bench: Bench, user: str, index: int) -> dict[str, Any]:
    bench.hub.start_server(user)
    write_server_config(bench, user, {"DesktopApp": {"prepared_desktops": 0}})
    bench.hub.stop_server(user)
    login_to_lab(page, bench, user)
    desktop = click_desktop(page, bench, user)
    return {
        "click_to_first_frame_unprepared_s": (
            desktop["marks"]["first_frame"] - desktop["marks"]["click"]
        ),
        "unprepared_marks": relative(desktop["marks"], "click"),
    }


# How a sample is taken: the kinds run() measures, in order.
SAMPLERS: dict[str, Callable[[Page, Bench, str, int], dict[str, Any]]] = {
    "prepared": sample_prepared,
    "unprepared": sample_unprepared,
}


def one_sample(
    bench: Bench, browser: Browser, kind: str, index: int, repeats: int,
    measure: Callable[[Page, Bench, str, int], dict[str, Any]] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """One sample of `kind` (SAMPLERS' measure, unless another is given) for a new user in
    a new browser; a failure is recorded in the sample (with a screenshot and what ran in
    the container), never raised. The user's server is left running."""
    user = bench.new_user("ff" if kind == "prepared" else "fu")
    bench.hub.token(user)  # creates the user, as an admin would; not timed
    context = new_context(browser, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    sample: dict[str, Any] = {"user": user, "kind": kind, "ok": False}
    try:
        sample.update((measure or SAMPLERS[kind])(page, bench, user, index), ok=True)
        figures = ", ".join(f"{k} {v:.2f} s" for k, v in sample.items() if k.endswith("_s"))
        bench.log(f"first frame, {kind} {index + 1}/{repeats}: {figures}")
    except Exception as exc:  # a failed sample is recorded, not fatal
        sample["error"] = f"{type(exc).__name__}: {exc}"[:1000]
        page.screenshot(path=str(bench.out / f"first-frame-failed-{user}.png"))
        sample["diagnosis"] = diagnose(bench, user)
        bench.log(f"first frame, {kind} {index + 1}/{repeats} failed: {sample['error']}")
    finally:
        context.close()
    return sample


def summarise(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Each figure's summary over the samples that succeeded, and the prepared desktop's
    phases after the click."""
    ok = [s for s in samples if s["ok"]]

    def figure(key: str) -> dict[str, Any]:
        return summary([s[key] for s in ok if key in s])

    phases: dict[str, list[float]] = {}
    for s in ok:
        for name, value in s.get("desktop_marks", {}).items():
            phases.setdefault(name, []).append(value)
    return {
        "samples": samples,
        "login_to_lab_s": figure("login_to_lab_s"),
        "click_to_first_frame_s": figure("click_to_first_frame_s"),
        "click_to_first_frame_warm_s": figure("click_to_first_frame_warm_s"),
        "click_to_first_frame_unprepared_s": figure("click_to_first_frame_unprepared_s"),
        "click_to_first_frame_app_s": figure("click_to_first_frame_app_s"),
        "reopen_s": figure("reopen_s"),
        "phases_after_click_s": {k: summary(v) for k, v in phases.items()},
    }


def run(bench: Bench, browser: Browser) -> dict[str, Any]:
    repeats = 2 if bench.quick else 5
    samples: list[dict[str, Any]] = []
    for kind in SAMPLERS:
        users: list[str] = []
        for index in range(repeats):
            samples.append(one_sample(bench, browser, kind, index, repeats))
            users.append(samples[-1]["user"])
            time.sleep(1)
        bench.stop_all(users)
    return summarise(samples)
