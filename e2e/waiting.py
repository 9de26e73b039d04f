"""Waiting on a condition, the one way every e2e test and the benchmark wait (never a fixed
sleep followed by a look)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import docker
import requests


def wait_until(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.5) -> Any:
    """Poll `check` until it returns something truthy; fail with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except (requests.RequestException, docker.errors.APIError) as exc:
            last = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})")
