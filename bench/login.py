"""1. Login: the login form submitted -> what the user came for, in Chromium, for both
session types and both kinds of login:

- first login: a user the hub has never spawned (their EOS home, key and network are
  made on the way), JupyterLab's Launcher shown, or for a desktop-only session the desktop's
  first window drawn;
- returning login: the same user, server stopped, logging in again in a fresh browser (no
  cache: the conservative case) and choosing the same session type.

Every JupyterLab login carries the server-side profile (login_profile.py: the hub's spawn
steps, Docker, the single-user server's log), so the report can say where the time goes.
"""

from __future__ import annotations

import re
import time
from typing import Any

from playwright.sync_api import Browser, Page, Request, expect

from . import login_profile
from .canvas import new_context, wait_first_frame
from .common import SPAWN_TIMEOUT_S, Bench, now
from .login_profile import KINDS, SESSIONS, end_mark, summarise


def submit_login(page: Page, bench: Bench, user: str) -> float:
    """Fill and submit the hub's login form; the wall-clock time of the submit."""
    page.goto(f"{bench.stack.url}/hub/login")
    page.locator("#username_input").fill(user)
    page.locator("#password_input").fill(bench.stack.user_password)
    submitted = now()
    page.locator("#login_submit").click()
    return submitted


# When the Launcher is first shown, noted by the page itself: Playwright's expect() polls every
# 500 ms once a wait is long (a spawn), and its checks queue behind JupyterLab's busy main thread,
# so the moment expect() returns was 0.1-0.6 s after the Launcher appeared. This looks at every
# animation frame (one querySelector each, until found) and keeps the frame's wall-clock time.
LAUNCHER_SHOWN_SCRIPT = """
(() => {
  if (!location.pathname.endsWith("/lab")) return;
  const look = () => {
    const launcher = document.querySelector(".jp-Launcher");
    if (launcher && launcher.checkVisibility() && launcher.getBoundingClientRect().width > 0) {
      window.__miniswanLauncherShown = performance.timeOrigin + performance.now();
      return;
    }
    requestAnimationFrame(look);
  };
  requestAnimationFrame(look);
})();
"""


def launcher_shown_at(page: Page) -> float:
    """Wall-clock seconds at which the page saw the Launcher (LAUNCHER_SHOWN_SCRIPT), or now if
    the page did not note it (then the mark is late, as before)."""
    shown = page.evaluate("window.__miniswanLauncherShown ?? null")
    return shown / 1000 if shown else now()


def with_server_marks(bench: Bench, user: str, t: dict[str, float]) -> dict[str, float]:
    """The browser's marks `t` with the server side's of the same login added."""
    try:
        t.update(
            login_profile.server_marks(
                f"{bench.stack.project}-hub-1", bench.container(user), user, t["login_submit"]
            )
        )
    except Exception as exc:  # the profile explains; a missing part must not lose the sample
        bench.log(f"login profile of {user} incomplete: {exc}")
    return t


def login_to_lab(page: Page, bench: Bench, user: str) -> dict[str, float]:
    """Log in through the form, start the default session on the spawn page, wait for the
    Launcher. Returns wall-clock marks: the browser's, and the server side's."""
    t: dict[str, float] = {}
    lab_path = f"/user/{user}/lab"

    def on_request(request: Request) -> None:
        if request.resource_type == "document" and request.url.split("?")[0].endswith(lab_path):
            t.setdefault("lab_page_requested", now())

    def on_response(response: Any) -> None:
        url = response.url.split("?")[0]
        if response.request.resource_type == "document" and url.endswith(lab_path):
            if response.status == 200:
                t.setdefault("lab_page_answered", now())

    def on_dom_loaded(_: Any) -> None:
        if "lab_page_answered" in t:  # JupyterLab's page, not the hub's
            t.setdefault("lab_dom_loaded", now())

    page.on("request", on_request)
    page.on("response", on_response)
    page.on("domcontentloaded", on_dom_loaded)
    page.context.add_init_script(LAUNCHER_SHOWN_SCRIPT)
    t["login_submit"] = submit_login(page, bench, user)
    start = page.get_by_role("button", name="Start")
    launcher = page.locator(".jp-Launcher")
    expect(start.or_(launcher)).to_be_visible(timeout=60_000)
    if start.is_visible():
        t["spawn_form"] = now()
        t["start_clicked"] = now()
        start.click()
    expect(launcher).to_be_visible(timeout=SPAWN_TIMEOUT_S * 1000)
    t["lab_ready"] = launcher_shown_at(page)
    page.remove_listener("request", on_request)
    page.remove_listener("response", on_response)
    page.remove_listener("domcontentloaded", on_dom_loaded)
    return with_server_marks(bench, user, t)


def login_to_desktop(page: Page, bench: Bench, user: str) -> dict[str, float]:
    """Log in, choose "Desktop only" on the spawn page, wait for the desktop's first window
    drawn on the desktop-only page (the server's root)."""
    t = {"login_submit": submit_login(page, bench, user)}
    page.locator("#session-desktop").check(timeout=60_000)
    t["start_clicked"] = now()
    page.get_by_role("button", name="Start").click()
    expect(page).to_have_url(re.compile(rf"/user/{user}/?$"), timeout=SPAWN_TIMEOUT_S * 1000)
    t["desktop_page"] = now()
    canvas = page.frame_locator("#client").locator("div.window canvas")
    t["first_frame"] = wait_first_frame(canvas.first)
    return with_server_marks(bench, user, t)


def one_login(browser: Browser, bench: Bench, user: str, session: str) -> dict[str, float]:
    """One login in a new browser (nothing cached), as marks relative to the submit."""
    context = new_context(browser, viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        try:
            marks = (login_to_lab if session == "jupyterlab" else login_to_desktop)(
                page, bench, user
            )
        except Exception:
            page.screenshot(path=str(bench.out / f"login-failed-{user}-{session}.png"))
            raise
    finally:
        context.close()
    zero = marks["login_submit"]
    return dict(sorted(((k, v - zero) for k, v in marks.items()), key=lambda kv: kv[1]))


def run(bench: Bench, browser: Browser) -> dict[str, Any]:
    repeats = 2 if bench.quick else 5
    samples: list[dict[str, Any]] = []
    for session in SESSIONS:
        for index in range(repeats):
            user = bench.new_user("lj" if session == "jupyterlab" else "ld")
            bench.hub.token(user)  # the user exists, as an admin would add them; not timed
            for kind in KINDS:
                sample: dict[str, Any] = {"user": user, "session": session, "kind": kind}
                try:
                    marks = one_login(browser, bench, user, session)
                    sample.update(ok=True, seconds=marks[end_mark(session)], marks=marks)
                    bench.log(
                        f"login {session} {kind} {index + 1}/{repeats}: {sample['seconds']:.2f} s"
                    )
                except Exception as exc:  # a failed sample is recorded, not fatal
                    sample.update(ok=False, error=f"{type(exc).__name__}: {exc}"[:1000])
                    bench.log(f"login {session} {kind} {index + 1}/{repeats} failed: {exc}")
                samples.append(sample)
                bench.stop_all([user])
                time.sleep(1)
    return summarise(samples)
