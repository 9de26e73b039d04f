"""The developer loop, seen from a browser: a Python edit and a TypeScript edit to the desktop
extension, each timed from the moment the file is saved until the running dev stack shows it.

Used by e2e/test_dev_loop.py (a short form of the loop on every CI run) and by
tools/measure_dev_loop.py (`nox -s dev_timing`, against the stack of `nox -s dev`).

1. Python: the server's 404 message for an unknown desktop id. A dev stack runs JupyterLab
   servers with Jupyter Server's autoreload (services/hub/jupyterhub_config.py): the saved
   file re-executes the server in place, nobody restarts it.
2. TypeScript: the launcher card's label. `jlpm watch` rebuilds the bundle into the folder
   the dev stack mounts; a browser reload shows it.

Every edit is undone when its block ends, whatever happens.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hub_api import HubAPI
from playwright.sync_api import Page, expect
from waiting import wait_until

ROOT = Path(__file__).resolve().parent.parent
EXTENSION = ROOT / "extension"
PY_FILE = EXTENSION / "miniswan_desktop" / "manager.py"
PY_OLD = 'f"no desktop with id {desktop_id!r}"'
TS_FILE = EXTENSION / "src" / "commands.ts"
TS_OLD = "(args.isPalette ? 'New Desktop' : 'Desktop')"
BUNDLE = EXTENSION / "miniswan_desktop" / "labextension" / "static"
# Generous bounds: a change that never shows is a broken loop, a slow one is a figure.
SHOWN_WITHIN_S = 120


@contextmanager
def edited(path: Path, old: str, new: str) -> Iterator[None]:
    """`path` with `old` replaced by `new` for the duration of the block."""
    original = path.read_text()
    assert old in original, f"{old!r} is no longer in {path}: update e2e/dev_loop.py"
    path.write_text(original.replace(old, new))
    try:
        yield
    finally:
        path.write_text(original)


@contextmanager
def frontend_watch(log_file: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`jlpm watch` in extension/ (tsc -w and the labextension builder), returned once its
    first build is done; stopped at the end of the block. Its output goes to `log_file`.

    A build comes first, as in `nox -s dev`: the builder's watch refuses to start where
    the labextension folder does not exist yet (a fresh clone)."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    build_log = log_file.with_suffix(".build.log")
    with build_log.open("w") as log:
        built = subprocess.run(
            ["jlpm", "build"], cwd=EXTENSION, stdout=log, stderr=subprocess.STDOUT
        )
    assert built.returncode == 0, f"`jlpm build` failed:\n{build_log.read_text()[-3000:]}"
    with log_file.open("w") as log:
        watch = subprocess.Popen(
            ["jlpm", "watch"],
            cwd=EXTENSION,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def first_build_done() -> bool:
        if watch.poll() is not None:
            raise AssertionError(
                f"`jlpm watch` exited with {watch.returncode}:\n{log_file.read_text()[-3000:]}"
            )
        text = log_file.read_text(errors="replace")
        return "Watching for file changes" in text and "compiled" in text

    try:
        wait_until(first_build_done, 300, "`jlpm watch` to finish its first build")
        yield watch
    finally:
        # The whole process group: jlpm, run-p, tsc and the webpack watcher.
        subprocess.run(["kill", "--", f"-{watch.pid}"], check=False)
        watch.wait(timeout=30)


def current_bundle() -> str:
    """The extension's code the server hands out now: the chunk its current remote entry
    (labextension/package.json) loads. A watch build leaves older chunks beside it."""
    try:
        meta = json.loads((BUNDLE.parent / "package.json").read_text())
        entry = (BUNDLE.parent / meta["jupyterlab"]["_build"]["load"]).read_text()
    except (OSError, ValueError, KeyError):
        return ""  # being written
    chunk = re.search(r'"lib_index_js":"(\w+)"', entry)
    if not chunk:
        return ""
    try:
        return (BUNDLE / f"lib_index_js.{chunk.group(1)}.js").read_text(errors="replace")
    except OSError:
        return ""


def python_edit_seen(hub: HubAPI, user: str) -> float:
    """Seconds from saving a Python edit to the user's running server answering with it."""
    marker = f"dev-loop-{uuid.uuid4().hex[:6]}"
    unknown = f"/user/{user}/desktops/api/desktops/nope"

    def answer() -> str:
        """The 404's message; empty while the server reloads (the hub answers 503)."""
        r = hub.request("GET", unknown, as_user=user)
        return r.text if r.status_code == 404 else ""

    assert marker not in answer()
    with edited(PY_FILE, PY_OLD, f'f"{marker}: no desktop with id {{desktop_id!r}}"'):
        started = time.monotonic()
        wait_until(lambda: marker in answer(), SHOWN_WITHIN_S, "the edited message", 0.2)
        seconds = time.monotonic() - started
    # Restored: the server reloads again and answers as before.
    wait_until(
        lambda: (text := answer()) and marker not in text,
        SHOWN_WITHIN_S,
        "the restored server message",
        0.2,
    )
    return seconds


def typescript_edit_seen(page: Page, lab_url: str) -> dict[str, float]:
    """Seconds from saving a TypeScript edit to the rebuilt bundle, and to the page showing
    it after a reload. `jlpm watch` must be running; `page` must be logged in."""
    marker = f"dev-loop-{uuid.uuid4().hex[:6]}"
    label = f"Desktop {marker}"
    page.goto(lab_url)
    expect(page.locator(".jp-LauncherCard").first).to_be_visible(timeout=60_000)
    cards = page.locator(".jp-LauncherCard", has_text=re.compile(label))
    expect(cards).to_have_count(0)

    def rebuilt() -> bool:
        return label in current_bundle()

    # The extension's card, under its old or its new label: JupyterLab adds it once the
    # extension has loaded, a moment after the first cards.
    desktop_card = page.locator(".jp-LauncherCard", has_text=re.compile(r"^\s*Desktop"))

    def shown() -> bool:
        page.reload()
        expect(desktop_card.first).to_be_visible(timeout=30_000)
        return cards.count() > 0

    figures: dict[str, float] = {}
    with edited(TS_FILE, TS_OLD, f"(args.isPalette ? 'New Desktop' : '{label}')"):
        started = time.monotonic()
        wait_until(rebuilt, SHOWN_WITHIN_S, "`jlpm watch` to rebuild the bundle", interval=0.1)
        figures["typescript_edit_to_bundle_s"] = time.monotonic() - started
        wait_until(shown, SHOWN_WITHIN_S, "the edited launcher label after a reload")
        figures["typescript_edit_to_page_s"] = time.monotonic() - started
    wait_until(lambda: not rebuilt(), SHOWN_WITHIN_S, "`jlpm watch` to rebuild the original")
    return figures
