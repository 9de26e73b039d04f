"""The developer loop, short form (issue: it broke once and nothing noticed): a dev stack of
its own (`nox -s dev`'s settings: the extension's source mounted into user servers), `jlpm
watch` running, then one Python edit and one TypeScript edit seen by the browser, both
restored. The figures go to artifacts/dev-loop.json (docs/development.md quotes them)."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator

import pytest
from dev_loop import EXTENSION, frontend_watch, python_edit_seen, typescript_edit_seen
from hub_api import HubAPI
from playwright.sync_api import Page, expect
from stack_info import ROOT, StackInfo, env_default

from tools.stack import Stack

ARTIFACTS = ROOT / "artifacts" / "e2e"


@pytest.fixture(scope="module")
def dev_stack() -> Iterator[StackInfo]:
    """A stack beside the suite's, as `nox -s dev` starts it, with `jlpm watch` running."""
    project = f"{os.environ.get('MINISWAN_STACK', 'miniswan-e2e')}-dev"
    port = int(os.environ.get("MINISWAN_E2E_DEV_PORT", "8030"))
    stack = Stack(project, port, {"MINISWAN_DEV_EXTENSION_DIR": str(EXTENSION)})
    with frontend_watch(ARTIFACTS / "dev-loop-watch.log"):
        try:
            stack.up()
            yield StackInfo(
                url=stack.url,
                project=project,
                user_password=env_default("MINISWAN_USER_PASSWORD"),
                admin_user=env_default("MINISWAN_ADMIN_USER"),
                admin_password=env_default("MINISWAN_ADMIN_PASSWORD"),
            )
        finally:
            stack.collect_logs(ARTIFACTS / "logs" / "dev-stack")
            stack.down(volumes=True)


def test_python_and_typescript_edits_show_in_the_running_stack(
    dev_stack: StackInfo, page: Page
) -> None:
    hub = HubAPI(dev_stack)
    user = f"devloop{uuid.uuid4().hex[:6]}"
    hub.start_server(user)
    try:
        figures = {"python_edit_to_response_s": python_edit_seen(hub, user)}
        page.goto(f"{dev_stack.url}/hub/login")
        page.locator("#username_input").fill(user)
        page.locator("#password_input").fill(dev_stack.user_password)
        page.locator("#login_submit").click()
        expect(page).not_to_have_url(f"{dev_stack.url}/hub/login")
        figures |= typescript_edit_seen(page, f"{dev_stack.url}/user/{user}/lab")
    finally:
        hub.stop_server(user)
    (ARTIFACTS / "dev-loop.json").write_text(json.dumps(figures, indent=2))
    print("dev loop:", ", ".join(f"{name} {s:.1f} s" for name, s in figures.items()))
