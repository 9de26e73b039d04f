"""3. The peer: jupyter-remote-desktop-proxy (TigerVNC + noVNC), the most used desktop for
Jupyter, in the same image and the same Jupyter server as ours (bench/peer.Dockerfile, run
directly): time from asking to the first window drawn, time to see the running desktop
again in a new tab, and idle memory, side by side.

Both sessions run openbox + xterm at the peer's fixed 1680x1050 screen, in a browser window of
that size. "Asking" is the REST call that creates our desktop, and opening the peer's
/desktop/ page (it starts its VNC server on the first connection)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from playwright.sync_api import Browser

from .canvas import new_context, wait_first_frame
from .common import ROOT, Bench, now
from .direct import DirectServer, direct_server
from .stats import ratio, summary

GEOMETRY = "1680x1050"  # jupyter-remote-desktop-proxy's fixed VNC screen
VIEWPORT = {"width": 1680, "height": 1050}
# The same client parameters the extension's panel passes (extension/src/xpra.ts).
XPRA_PARAMS = {
    "action": "connect",
    "sharing": "true",
    "steal": "true",
    "exit_with_client": "false",
    "exit_with_children": "false",
    "floating_menu": "true",
    "clipboard": "true",
    "reconnect": "true",
    "file_transfer": "false",
    "printing": "false",
    "sound": "false",
    "keyboard_layout": "us",
}
PEER_PROCESSES = ("vncserver", "Xtigervnc", "websockify", "peer-xstartup", "/opt/bench/xstartup")


def build_image(bench: Bench, log_file: Path) -> float:
    """Build the peer image FROM the run's user image (bench/peer-compose.yml)."""
    env = {
        "MINISWAN_USER_IMAGE": bench.user_image,
        "MINISWAN_PEER_IMAGE": bench.peer_image,
    }
    started = time.monotonic()
    with log_file.open("w") as log:
        subprocess.run(
            [
                "docker",
                "compose",
                "-f",
                str(ROOT / "bench" / "peer-compose.yml"),
                "--profile",
                "images",
                "build",
                "--progress",
                "plain",
            ],
            env={**os.environ, **env},
            stdout=log,
            stderr=log,
            check=True,
        )
    return time.monotonic() - started


def reopen_s(context: Any, url: str, canvas: str) -> float:
    """A running desktop opened again in a new tab of the same browser (its cache warm):
    seconds from opening the tab to the first frame."""
    page = context.new_page()
    t0 = now()
    page.goto(url)
    first = wait_first_frame(page.locator(canvas).first)
    page.close()
    return first - t0


def ours(server: DirectServer, browser: Browser) -> tuple[dict[str, Any], Any]:
    context = new_context(browser, viewport=VIEWPORT)
    page = context.new_page()
    t0 = now()
    desktop = server.start_desktop(GEOMETRY)
    server.wait_running(desktop["id"])  # as the panel does before it loads the client
    # The client page as the panel opens it: the server's cached copy, if it serves one.
    params = {**XPRA_PARAMS, "token": server.token}
    if desktop.get("client_url"):
        url = (
            f"{server.url}{desktop['client_url']}?{urlencode({**params, 'path': desktop['url']})}"
        )
    else:
        url = f"{server.url}{desktop['url']}index.html?{urlencode(params)}"
    page.goto(url)
    first = wait_first_frame(page.locator("div.window canvas").first)
    result = {"first_frame_s": first - t0, "desktop_id": desktop["id"], "pid": desktop["pid"]}
    result["reopen_s"] = reopen_s(context, url, "div.window canvas")
    return result, context


def peer(server: DirectServer, browser: Browser) -> tuple[dict[str, Any], Any]:
    context = new_context(browser, viewport=VIEWPORT)
    page = context.new_page()
    t0 = now()
    url = f"{server.url}/desktop/?token={server.token}"
    page.goto(url)
    first = wait_first_frame(page.locator("canvas").first)
    return {"first_frame_s": first - t0, "reopen_s": reopen_s(context, url, "canvas")}, context


def run(bench: Bench, browser: Browser) -> dict[str, Any]:
    repeats = 1 if bench.quick else 3
    idle_wait = 5 if bench.quick else 15
    samples = []
    for index in range(repeats):
        sample: dict[str, Any] = {}
        with direct_server(bench, bench.peer_image, f"peer{index}") as server:
            # Alternate who goes first, so neither always gets the cold caches.
            order = [("ours", ours), ("peer", peer)]
            if index % 2:
                order.reverse()
            contexts = []
            for name, measure in order:
                try:
                    result, context = measure(server, browser)
                    contexts.append(context)
                    sample[name] = result
                    bench.log(
                        f"peer {index + 1}/{repeats}: {name} {result['first_frame_s']:.2f} s"
                    )
                except Exception as exc:
                    sample[name] = {"error": f"{type(exc).__name__}: {exc}"[:500]}
                    bench.log(f"peer {index + 1}/{repeats}: {name} failed: {exc}")
            time.sleep(idle_wait)  # both clients connected and idle
            if "pid" in sample.get("ours", {}):
                sample["ours"]["memory"] = server.memory([sample["ours"]["pid"]])
            if "first_frame_s" in sample.get("peer", {}):
                sample["peer"]["memory"] = server.memory([], PEER_PROCESSES)
            for context in contexts:
                context.close()
        samples.append(sample)

    def values(who: str, key: str) -> list[float]:
        out = []
        for s in samples:
            item = s.get(who, {})
            value = item.get("memory", {}).get("pss_mib") if key == "pss_mib" else item.get(key)
            if value is not None:
                out.append(value)
        return out

    result: dict[str, Any] = {"geometry": GEOMETRY, "samples": samples}
    for key in ("first_frame_s", "reopen_s", "pss_mib"):
        o, p = summary(values("ours", key)), summary(values("peer", key))
        result[key] = {"ours": o, "peer": p, "ratio_ours_to_peer": ratio(o["median"], p["median"])}
    return result
