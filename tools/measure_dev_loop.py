"""Measure the developer loop against the running dev stack (`nox -s dev -- --no-watch`).

Starts `jlpm watch`, spawns a throw-away user, times a Python edit (server autoreload) and a
TypeScript edit (rebuild, browser reload) as e2e/dev_loop.py describes, restores both files,
prints the figures and writes them to artifacts/dev-loop.json. Run with `nox -s dev_timing`.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# e2e/ and the repository's root are on PYTHONPATH (nox -s dev_timing sets it).

from dev_loop import frontend_watch, python_edit_seen, typescript_edit_seen  # noqa: E402
from hub_api import HubAPI  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from stack_info import CHROMIUM, CHROMIUM_ARGS, StackInfo, env_default  # noqa: E402


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
    figures: dict[str, float] = {}
    try:
        with frontend_watch(ROOT / "artifacts" / "dev-loop-watch.log"):
            hub.start_server(user)
            figures["python_edit_to_response_s"] = python_edit_seen(hub, user)
            print(f"python: {figures['python_edit_to_response_s']:.1f} s", flush=True)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page()
                page.goto(f"{stack.url}/hub/login")
                page.fill("#username_input", user)
                page.fill("#password_input", stack.user_password)
                page.click("#login_submit")
                figures |= typescript_edit_seen(page, f"{stack.url}/user/{user}/lab")
                browser.close()
    finally:
        hub.stop_server(user)

    out = ROOT / "artifacts" / "dev-loop.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(figures, indent=2))
    for name, seconds in figures.items():
        print(f"{name}: {seconds:.1f} s")


if __name__ == "__main__":
    main()
