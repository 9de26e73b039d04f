"""1. Login to JupyterLab ready, then "Desktop" click to the first window drawn, as a user in
Chromium does it; with the timestamps of each phase in between (the profile)."""

from __future__ import annotations

import re
import time
from typing import Any

from playwright.sync_api import Browser, Page, Request, expect

from . import xpra_log
from .canvas import wait_first_frame
from .common import SPAWN_TIMEOUT_S, Bench, now
from .stats import summary

DESKTOP_CARD = re.compile(r"^\s*Desktop\s*$")


def login_to_lab(page: Page, bench: Bench, user: str) -> dict[str, float]:
    """Log in through the form, start the default session on the spawn page, wait for the
    Launcher. Returns wall-clock marks."""
    t: dict[str, float] = {}
    page.goto(f"{bench.stack.url}/hub/login")
    page.locator("#username_input").fill(user)
    page.locator("#password_input").fill(bench.stack.user_password)
    t["login_submit"] = now()
    page.locator("#login_submit").click()
    start = page.get_by_role("button", name="Start")
    launcher = page.locator(".jp-Launcher")
    expect(start.or_(launcher)).to_be_visible(timeout=60_000)
    if start.is_visible():
        t["spawn_form"] = now()
        start.click()
    expect(launcher).to_be_visible(timeout=SPAWN_TIMEOUT_S * 1000)
    t["lab_ready"] = now()
    return t


def click_desktop(page: Page, bench: Bench, user: str) -> dict[str, Any]:
    """Click the Launcher's Desktop card; time each phase until the first frame is drawn."""
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
    card = page.locator(".jp-Launcher:visible .jp-LauncherCard").filter(has_text=DESKTOP_CARD)
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


def run(bench: Bench, browser: Browser) -> dict[str, Any]:
    repeats = 2 if bench.quick else 5
    samples: list[dict[str, Any]] = []
    users: list[str] = []
    for index in range(repeats):
        user = bench.new_user("ff")
        users.append(user)
        bench.hub.token(user)  # creates the user, as an admin would; not timed
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        sample: dict[str, Any] = {"user": user, "ok": False}
        try:
            login = login_to_lab(page, bench, user)
            desktop = click_desktop(page, bench, user)
            sample.update(
                ok=True,
                login_to_lab_s=login["lab_ready"] - login["login_submit"],
                click_to_first_frame_s=desktop["marks"]["first_frame"] - desktop["marks"]["click"],
                login_marks=relative(login, "login_submit"),
                desktop_marks=relative(desktop["marks"], "click"),
                xpra_log=desktop["xpra_log"],
                requests=desktop["requests"],
            )
            bench.log(
                f"first frame {index + 1}/{repeats}: login->lab "
                f"{sample['login_to_lab_s']:.2f} s, click->frame "
                f"{sample['click_to_first_frame_s']:.2f} s"
            )
        except Exception as exc:  # a failed sample is recorded, not fatal
            sample["error"] = f"{type(exc).__name__}: {exc}"[:1000]
            page.screenshot(path=str(bench.out / f"first-frame-failed-{user}.png"))
            sample["diagnosis"] = diagnose(bench, user)
            bench.log(f"first frame {index + 1}/{repeats} failed: {sample['error']}")
        finally:
            context.close()
        samples.append(sample)
        time.sleep(1)
    bench.stop_all(users)
    ok = [s for s in samples if s["ok"]]
    phases: dict[str, list[float]] = {}
    for s in ok:
        for name, value in s["desktop_marks"].items():
            phases.setdefault(name, []).append(value)
    return {
        "samples": samples,
        "login_to_lab_s": summary([s["login_to_lab_s"] for s in ok]),
        "click_to_first_frame_s": summary([s["click_to_first_frame_s"] for s in ok]),
        "phases_after_click_s": {k: summary(v) for k, v in phases.items()},
    }
