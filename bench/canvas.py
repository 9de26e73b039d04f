"""Seeing the first frame in the browser: the e2e suite's canvas facts (e2e/xpra_client.py)
applied to any canvas, so Xpra's client and the peer's noVNC are judged by one rule."""

from __future__ import annotations

import time
from typing import Any

from playwright.sync_api import Error, Locator
from xpra_client import CANVAS_FACTS


def window_drawn(canvas: Locator) -> dict[str, Any] | None:
    """The canvas facts when an xterm (a white window over the desktop) is drawn, else None:
    the same rule as xpra_client.drawn_window."""
    try:
        facts = canvas.evaluate(CANVAS_FACTS, timeout=1_000)
    except Error:
        return None
    white = facts["white"]
    return facts if facts["colours"] > 3 and white and white["w"] > 100 else None


def wait_first_frame(canvas: Locator, timeout: float = 60, interval: float = 0.1) -> float:
    """Poll the canvas (every `interval` s) until a window is drawn; the wall-clock time it
    was first seen. Raises TimeoutError. Each look reads the whole canvas in the page, so
    looking much more often would slow the client being measured."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if window_drawn(canvas):
            return time.time()
        time.sleep(interval)
    raise TimeoutError(f"no window drawn on the canvas within {timeout} s")
