"""The spawn page tells the truth: the hub's steps arrive as they happen, in order, on the
progress stream the spawn page reads; and JupyterLab asks nothing a user cannot act on."""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import requests
from hub_api import HubAPI
from playwright.sync_api import Page, expect
from stack_info import StackInfo
from waiting import wait_until

STEPS = [
    "Checking your choices against the software stacks",
    "Checking the software stack LCG_",
    "Preparing your EOS home",
    "Creating your private network",
    "Starting your container (",
    "Waiting for JupyterLab to answer",
]


def pending_progress(hub: HubAPI, user: str) -> list[dict] | None:
    """The spawn's whole progress stream, once the spawn is under way (None before: the hub
    answers 400 while no spawn is pending)."""
    try:
        return hub.progress_events(user)
    except requests.HTTPError as error:
        if error.response is not None and error.response.status_code == 400:
            return None
        raise


def test_the_spawn_progress_names_each_step_in_order(
    page: Page, stack: StackInfo, hub: HubAPI, user: str, login: Callable
) -> None:
    hub.token(user)  # the user exists before the clock starts
    # The progress stream is read while the spawn runs, as the spawn page reads it: it has
    # every step from the start. (Whether the POST's answer is 202 "pending" or 201 depends
    # on whether the spawn outlasts slow_spawn_timeout, 2 s: a spawn got faster than that.)
    with ThreadPoolExecutor(1) as pool:
        posted = pool.submit(
            hub.request, "POST", f"/hub/api/users/{user}/server", as_user=user, json={}
        )
        events = wait_until(
            lambda: pending_progress(hub, user), 30, "the spawn's progress stream", interval=0.05
        )
        r = posted.result()
    assert r.status_code in (201, 202), r.text
    assert events[-1].get("ready"), events
    messages = [e.get("message", "") for e in events]
    found = [next((i for i, m in enumerate(messages) if m.startswith(s)), -1) for s in STEPS]
    assert -1 not in found and found == sorted(found), messages
    percents = [e["progress"] for e in events if "progress" in e]
    assert percents == sorted(percents), percents

    # JupyterLab opens without asking about Jupyter news (a managed deployment decides):
    # the image's settings say "never", and no prompt is on the page once it has loaded.
    r = hub.request(
        "GET",
        f"/user/{user}/lab/api/settings/@jupyterlab/apputils-extension:notification",
        as_user=user,
    )
    # (overrides.json becomes the schema's defaults; the user has set nothing)
    defaults = {k: v.get("default") for k, v in r.json()["schema"]["properties"].items()}
    assert (defaults["fetchNews"], defaults["checkForUpdates"]) == ("false", False), defaults
    login(page, user)
    page.goto(f"{stack.url}/user/{user}/lab", wait_until="networkidle")
    expect(page.locator(".jp-Launcher")).to_be_visible(timeout=60_000)
    expect(page.get_by_text(re.compile("official Jupyter news", re.I))).to_have_count(0)
