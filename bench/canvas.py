"""Seeing the first frame in the browser: the e2e suite's "window drawn" rule
(e2e/xpra_client.py's drawn_facts) applied to any canvas, so Xpra's client and the peer's
noVNC are judged by one rule."""

from __future__ import annotations

import time

from playwright.sync_api import Locator
from xpra_client import drawn_facts


def wait_first_frame(canvas: Locator, timeout: float = 60, interval: float = 0.1) -> float:
    """Poll the canvas (every `interval` s) until a window is drawn; the wall-clock time it
    was first seen. Raises TimeoutError. Each look reads the whole canvas in the page, so
    looking much more often would slow the client being measured."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if drawn_facts(canvas, timeout_ms=1_000):
            return time.time()
        time.sleep(interval)
    raise TimeoutError(f"no window drawn on the canvas within {timeout} s")
