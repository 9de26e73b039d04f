"""Looking at an Xpra HTML5 client the way a user does: through what its canvas shows.

The client draws each X window (in desktop mode, the whole X screen) on a <canvas> inside a
`div.window`. These helpers read that canvas's pixels in the page, so the tests assert on
what was drawn, not on the client's internals.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Error, FrameLocator, Locator, Page
from waiting import wait_until

# Distinct colours in a sample of the canvas, and the bounding box of pure white pixels (an
# xterm's background): enough to tell "a window is drawn" and where to click to focus it.
CANVAS_FACTS = """
canvas => {
  const { width, height } = canvas;
  if (!width || !height) return { width, height, colours: 0, white: null };  // (re)connecting
  const data = canvas.getContext('2d').getImageData(0, 0, width, height).data;
  const colours = new Set();
  let minX = width, minY = height, maxX = -1, maxY = -1;
  for (let y = 0; y < height; y += 2) {
    for (let x = 0; x < width; x += 2) {
      const i = (y * width + x) * 4;
      colours.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
      if (data[i] === 255 && data[i + 1] === 255 && data[i + 2] === 255) {
        minX = Math.min(minX, x); maxX = Math.max(maxX, x);
        minY = Math.min(minY, y); maxY = Math.max(maxY, y);
      }
    }
  }
  return { width, height, colours: colours.size,
           white: maxX < 0 ? null : { x: minX, y: minY, w: maxX - minX, h: maxY - minY } };
}
"""


# The client: the frame of a panel's iframe, or a whole page (a separate browser tab).
Client = FrameLocator | Page


def screen_canvas(client: Client) -> Locator:
    return client.locator("div.window canvas").first


def drawn_facts(canvas: Locator, timeout_ms: float = 2_000) -> dict[str, Any] | None:
    """The canvas facts if a window (a white xterm on the desktop) is drawn on `canvas` now,
    else None (also while the client is not there or is reconnecting). The one "window
    drawn" rule of the e2e suite and the benchmark (bench/canvas.py)."""
    try:
        facts = canvas.evaluate(CANVAS_FACTS, timeout=timeout_ms)
    except Error:
        return None
    white = facts["white"]
    return facts if facts["colours"] > 3 and white and white["w"] > 100 else None


def drawn_window(client: Client) -> dict[str, Any] | None:
    """The facts of the client's screen canvas if a window is drawn now, else None."""
    return drawn_facts(screen_canvas(client))


def wait_for_drawn_window(client: Client, timeout: float = 60) -> dict[str, Any]:
    """Wait until the screen canvas shows a drawn window."""
    return wait_until(
        lambda: drawn_window(client), timeout, "an X window drawn on the Xpra client's canvas"
    )


def focus_terminal(client: Client, facts: dict[str, Any]) -> None:
    """Click inside the xterm (the white region) so the window manager gives it the focus."""
    white = facts["white"]
    screen_canvas(client).click(
        position={"x": white["x"] + white["w"] / 2, "y": white["y"] + white["h"] / 2}
    )


# Pixels (every other row and column) where one channel clearly dominates, and a digest of
# the whole picture: colourful 3D content, and whether it moves between two looks.
CANVAS_COLOURS = """
canvas => {
  const { width, height } = canvas;
  if (!width || !height) return null;
  const data = canvas.getContext('2d').getImageData(0, 0, width, height).data;
  const dominant = { red: 0, green: 0, blue: 0 };
  let digest = 0;
  for (let y = 0; y < height; y += 2) {
    for (let x = 0; x < width; x += 2) {
      const i = (y * width + x) * 4, r = data[i], g = data[i + 1], b = data[i + 2];
      if (r > 120 && r > 2 * g && r > 2 * b) dominant.red++;
      if (g > 120 && g > 2 * r && g > 2 * b) dominant.green++;
      if (b > 120 && b > 2 * r && b > 2 * g) dominant.blue++;
      digest = (digest * 31 + r * 65536 + g * 256 + b) % 2147483647;
    }
  }
  return { ...dominant, digest };
}
"""


def canvas_colours(client: Client) -> dict[str, int] | None:
    """Counts of strongly red, green and blue pixels on the screen canvas, and a digest of
    its pixels; None while the client is not there."""
    try:
        return screen_canvas(client).evaluate(CANVAS_COLOURS, timeout=2_000)
    except Error:
        return None
