"""Waiting on a condition, the one way every e2e test and the benchmark wait (never a fixed
sleep followed by a look)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import docker
import requests


def poll(check: Callable[[], Any], timeout: float, interval: float = 0.5) -> tuple[bool, Any]:
    """Poll `check` for up to `timeout` s: ``(True, result)`` as soon as it returns something
    truthy, else ``(False, its last result or error)``. For a test that does something else
    while it waits (a user typing between looks); `wait_until` fails instead."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return True, last
        except (requests.RequestException, docker.errors.APIError) as exc:
            last = exc
        time.sleep(interval)
    return False, last


def wait_until(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.5) -> Any:
    """Poll `check` until it returns something truthy; fail with `what` after `timeout` s."""
    done, last = poll(check, timeout, interval)
    if not done:
        raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})")
    return last
