"""Seeing the first frame in the browser: the e2e suite's "window drawn" rule
(e2e/xpra_client.py's drawn_facts) applied to any canvas, so Xpra's client and the peer's
noVNC are judged by one rule."""

from __future__ import annotations

import time
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Locator
from xpra_client import drawn_facts

# Each page notes when it draws on a canvas that is on the page (the clients draw a window
# offscreen, then copy it to the visible canvas): wall-clock ms, the last 500. The poll below
# looks at the canvas every 0.1 s; these marks say when, within the 0.1 s before the first
# look that saw a window, the frame was actually drawn. Installed in every frame (the
# client's iframe starts as about:blank and keeps that document's window).
DRAW_MARKS_SCRIPT = """
(() => {
  if (window.__miniswanDraws) return;
  const marks = window.__miniswanDraws = [];
  for (const name of ['drawImage', 'putImageData']) {
    const draw = CanvasRenderingContext2D.prototype[name];
    CanvasRenderingContext2D.prototype[name] = function (...args) {
      if (this.canvas && this.canvas.isConnected) {
        marks.push(performance.timeOrigin + performance.now());
        if (marks.length > 500) marks.shift();
      }
      return draw.apply(this, args);
    };
  }
})();
"""


def new_context(browser: Browser, **options: Any) -> BrowserContext:
    """A browser context (nothing cached) whose pages note their canvas draws."""
    context = browser.new_context(**options)
    context.add_init_script(DRAW_MARKS_SCRIPT)
    return context


def wait_first_frame(canvas: Locator, timeout: float = 60, interval: float = 0.1) -> float:
    """Poll the canvas (every `interval` s) until a window is drawn; the wall-clock time it
    was drawn: the page's last draw on a visible canvas since the previous look, if it noted
    its draws (new_context), else when it was seen. Raises TimeoutError. Each look reads the
    whole canvas in the page, so looking much more often would slow the client measured."""
    deadline = time.monotonic() + timeout
    looked = time.time()
    while time.monotonic() < deadline:
        if drawn_facts(canvas, timeout_ms=1_000):
            seen = time.time()
            draws = canvas.evaluate("c => c.ownerDocument.defaultView.__miniswanDraws || []")
            since = [ms / 1000 for ms in draws if looked < ms / 1000 <= seen]
            return max(since) if since else seen
        looked = time.time()
        time.sleep(interval)
    raise TimeoutError(f"no window drawn on the canvas within {timeout} s")
