"""Measure the developer loop against a running dev stack (`nox -s dev`).

Two edits, each timed from the moment the file is saved until the running stack shows it:

1. Python: the server's 404 message for an unknown desktop id. Shown after a restart of the
   user's server (the documented step: stop and start it from the hub).
2. TypeScript: the launcher card's label. Shown after `jlpm watch` rebuilt the frontend and
   the browser reloaded the page.

Both edits are undone at the end, whatever happens. Prints the figures and writes them to
artifacts/dev-loop.json. Run with `nox -s dev_timing` (it starts `jlpm watch` itself).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "e2e"))

from conftest import CHROMIUM, HubAPI, StackInfo, env_default, wait_until  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

PY_FILE = ROOT / "extension" / "miniswan_desktop" / "manager.py"
PY_OLD = 'f"no desktop with id {desktop_id!r}"'
TS_FILE = ROOT / "extension" / "src" / "commands.ts"
TS_OLD = "(args.isPalette ? 'New Desktop' : 'Desktop')"


@contextmanager
def edited(path: Path, old: str, new: str) -> Iterator[None]:
    original = path.read_text()
    assert old in original, f"{old!r} is no longer in {path}: update this script"
    path.write_text(original.replace(old, new))
    try:
        yield
    finally:
        path.write_text(original)


def timed(action: Callable[[], None], shown: Callable[[], bool], what: str) -> float:
    started = time.monotonic()
    action()
    wait_until(shown, 180, what, interval=0.2)
    return time.monotonic() - started


def main() -> None:
    stack = StackInfo(
        url=f"http://127.0.0.1:{env_default('MINISWAN_PORT')}",
        project="miniswan",
        user_password=env_default("MINISWAN_USER_PASSWORD"),
        admin_user=env_default("MINISWAN_ADMIN_USER"),
        admin_password=env_default("MINISWAN_ADMIN_PASSWORD"),
    )
    hub = HubAPI(stack)
    user = f"dev{uuid.uuid4().hex[:6]}"
    hub.start_server(user)
    figures: dict[str, float] = {}

    # 1. Python: edit, restart the server, poll the API for the new message.
    marker = f"dev-loop-{uuid.uuid4().hex[:6]}"
    unknown = f"/user/{user}/desktops/api/desktops/nope"

    def restart_server() -> None:
        hub.stop_server(user)
        hub.start_server(user)

    def python_shown() -> bool:
        r = hub.request("GET", unknown, as_user=user)
        return r.status_code == 404 and marker in r.text

    with edited(PY_FILE, PY_OLD, f'f"{marker}: no desktop with id {{desktop_id!r}}"'):
        figures["python_edit_to_response_s"] = timed(
            restart_server, python_shown, "the edited server message"
        )
    print(f"python: {figures['python_edit_to_response_s']:.1f} s", flush=True)

    # 2. TypeScript: jlpm watch rebuilds, a browser reload shows the new label.
    label = f"Desktop {marker}"
    watch_log = ROOT / "artifacts" / "dev-loop-watch.log"
    watch_log.parent.mkdir(exist_ok=True)

    def watch_ready() -> bool:
        # tsc -w (src -> lib) and the labextension builder (lib -> bundle) both watching.
        text = watch_log.read_text(errors="replace")
        return "Watching for file changes" in text and "compiled" in text

    watch = subprocess.Popen(
        ["jlpm", "watch"],
        cwd=ROOT / "extension",
        stdout=watch_log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page()
            page.goto(f"{stack.url}/hub/login")
            page.fill("#username_input", user)
            page.fill("#password_input", stack.user_password)
            page.click("#login_submit")
            page.goto(f"{stack.url}/user/{user}/lab")
            page.wait_for_selector(".jp-Launcher", timeout=60_000)
            # Edit only once `jlpm watch` has finished its first build.
            wait_until(watch_ready, 180, "`jlpm watch` to finish its first build")

            static = ROOT / "extension" / "miniswan_desktop" / "labextension" / "static"

            def rebuilt() -> bool:
                return any(label in f.read_text(errors="replace") for f in static.glob("*.js"))

            def ts_shown() -> bool:
                page.reload()
                page.wait_for_selector(".jp-LauncherCard", timeout=30_000)
                return page.locator(".jp-LauncherCard", has_text=re.compile(label)).count() > 0

            with edited(TS_FILE, TS_OLD, f"(args.isPalette ? 'New Desktop' : '{label}')"):
                started = time.monotonic()
                wait_until(rebuilt, 120, "`jlpm watch` to rebuild the bundle", interval=0.1)
                figures["typescript_edit_to_bundle_s"] = time.monotonic() - started
                wait_until(ts_shown, 60, "the edited launcher label after a reload")
                figures["typescript_edit_to_page_s"] = time.monotonic() - started
            browser.close()
    finally:
        watch.terminate()
        hub.stop_server(user)

    out = ROOT / "artifacts" / "dev-loop.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(figures, indent=2))
    for name, seconds in figures.items():
        print(f"{name}: {seconds:.1f} s")


if __name__ == "__main__":
    main()
