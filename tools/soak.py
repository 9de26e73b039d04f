"""Soak the running stack (`nox -s up`): several users, each with a desktop open in
JupyterLab that redraws all the time (glxgears) and takes a typed line every sample; memory
of the proxy, the hub and every desktop sampled over time, dropped connections and lost
keystrokes counted, and a verdict per memory series: bounded or growing.

    nox -s soak -- --minutes 10 --users 3 --sample-every 30

Writes artifacts/soak/<UTC time>/soak.json and report.md (see docs/soak.md). Exit status 0
whatever the figures say (it reports, it does not judge a build); 1 if the run itself broke
(a server, a desktop or its client could not start).

The growth verdict, the lost-key count and the report are pure functions (tests/test_soak.py);
the stack's helpers (e2e/, bench/) and Playwright are imported where they are used, so those
tests need neither a browser nor Docker.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
import traceback
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import docker
    from hub_api import HubAPI
    from playwright.sync_api import Browser, FrameLocator, Page
    from stack_info import StackInfo

ROOT = Path(__file__).resolve().parent.parent
MIB = 2**20
# The growth verdict: samples skipped as warm-up, then the median of the last third against
# the median of the first third; "bounded" if it grew by less than either limit.
WARMUP_SAMPLES = 2
BOUND_PERCENT = 10.0
BOUND_MIB = 5.0
KEYS_FILE = "soak-keys.txt"
VIEWPORT = {"width": 1280, "height": 800}
# glxgears' window (pixels), and what openbox's frame adds around it (title bar, borders).
GEARS_SIZE, GEARS_FRAME = 300, 30
# On Xvfb glxgears has no vsync (about 1900 frames/s, a core each): three of them kept this
# 2-core machine at a load of 22-29 (nice does not help: each container is its own cgroup).
# A pacer in the container lets it run ON_S of every PERIOD_S (SIGCONT/SIGSTOP): the gears
# turn and the screen changes 20 times a second, for about a tenth of a core.
PACE_ON_S, PACE_PERIOD_S = 0.005, 0.05
PACER = """
import os, signal, sys, time
pid, on, period = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
while True:
    try:
        os.kill(pid, signal.SIGCONT)
        time.sleep(on)
        os.kill(pid, signal.SIGSTOP)
        time.sleep(period - on)
    except ProcessLookupError:
        break
"""
# Every change of a panel's `data-connection`, with its time (ms since the epoch).
WATCH_CONNECTION = """() => {
  if (window.__soakLog) return;
  const view = document.querySelector('.miniswan-DesktopView');
  window.__soakLog = [{ t: Date.now(), state: view ? view.dataset.connection ?? null : null }];
  new MutationObserver(records => {
    for (const r of records) {
      window.__soakLog.push({ t: Date.now(), state: r.target.dataset.connection ?? null });
    }
  }).observe(document.body, { attributes: true, subtree: true,
                              attributeFilter: ['data-connection'] });
}"""


# --- pure parts ----------------------------------------------------------------------------


def growth_verdict(
    values: list[float | None],
    warmup: int = WARMUP_SAMPLES,
    percent: float = BOUND_PERCENT,
    mib: float = BOUND_MIB,
) -> dict[str, Any]:
    """Whether a memory series (MiB, one value per sample, None where a sample failed) stays
    bounded: after `warmup` samples, the median of the last third against the median of the
    first third; bounded if the growth is under `percent` % or under `mib` MiB."""
    kept = [v for v in values[warmup:] if v is not None]
    third = len(kept) // 3
    if third < 1:
        return {
            "verdict": "too short",
            "first": None,
            "last": None,
            "growth_mib": None,
            "growth_percent": None,
            "samples": len(kept),
        }
    first = statistics.median(kept[:third])
    last = statistics.median(kept[-third:])
    growth = last - first
    growth_percent = growth / first * 100 if first > 0 else float("inf")
    bounded = growth < mib or growth_percent < percent
    return {
        "verdict": "bounded" if bounded else "growing",
        "first": first,
        "last": last,
        "growth_mib": growth,
        "growth_percent": growth_percent,
        "samples": len(kept),
    }


def slope_per_minute(
    times_s: list[float], values: list[float | None], warmup: int = WARMUP_SAMPLES
) -> float | None:
    """The trend of a series after the warm-up (least squares, MiB per minute): shown beside
    the verdict, because a slow steady climb stays under the verdict's limits in a short run."""
    pairs = zip(times_s[warmup:], values[warmup:], strict=True)
    points = [(t / 60, v) for t, v in pairs if v is not None]
    if len(points) < 2:
        return None
    mean_t = statistics.fmean(t for t, _ in points)
    mean_v = statistics.fmean(v for _, v in points)
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    if spread == 0:
        return None
    return sum((t - mean_t) * (v - mean_v) for t, v in points) / spread


def gears_position(facts: dict[str, Any]) -> tuple[int, int]:
    """Where glxgears goes: the first corner of the screen (the canvas, 1:1 with the X screen)
    whose window would not cover the point where the typing clicks, the middle of the xterm
    (`facts` from xpra_client.wait_for_drawn_window). A click on the gears would give them
    the keys."""
    white = facts["white"]
    click_x, click_y = white["x"] + white["w"] / 2, white["y"] + white["h"] / 2
    span = GEARS_SIZE + GEARS_FRAME
    right, bottom = max(facts["width"] - span, 0), max(facts["height"] - span, 0)
    for x, y in ((0, 0), (right, 0), (0, bottom), (right, bottom)):
        if not (x <= click_x <= x + span and y <= click_y <= y + span):
            return x, y
    return right, bottom  # a screen too small for both: the typing will show it


def in_order(typed: str, arrived: str) -> int:
    """How many of the typed keys arrived, in order: the longest common subsequence. (Not
    difflib's matching blocks: they pair the longest block first and miss the rest when
    keys repeat; on a real run they counted 139 of 350 keys where all 350 had arrived.)"""
    previous = [0] * (len(arrived) + 1)
    for key in typed:
        current = [0]
        for j, got in enumerate(arrived):
            current.append(previous[j] + 1 if key == got else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def key_count(typed: str, arrived: str) -> dict[str, int]:
    """Keys typed (characters, Enter included) against what the session wrote: those that
    arrived in order, the lost ones, and extra ones (e.g. a key repeated by the X server's
    autorepeat when its release came late)."""
    matched = in_order(typed, arrived)
    return {
        "typed": len(typed),
        "arrived": matched,
        "lost": len(typed) - matched,
        "extra": len(arrived) - matched,
    }


def count_drops(states: list[str | None]) -> int:
    """How often a connection left "connected" (to reconnecting, ended, or gone)."""
    return sum(
        1
        for before, now in zip(states, states[1:], strict=False)
        if before == "connected" and now != "connected"
    )


def working_set_mib(stats: dict[str, Any]) -> float:
    """A container's memory as `docker stats` shows it: usage minus the inactive file cache
    (cgroup v2 `inactive_file`, v1 `total_inactive_file`), from the engine's stats."""
    memory = stats["memory_stats"]
    detail = memory.get("stats", {})
    cache = detail.get("inactive_file", detail.get("total_inactive_file", 0))
    return (memory["usage"] - cache) / MIB


def typed_line(index: int, user: str) -> str:
    """The line typed in sample `index`: numbered, letters, digits and spaces only (no key
    that depends on the keyboard layout)."""
    return f"{index:03d} {user} the quick brown fox jumps over the lazy dog 0123456789"


def series(samples: list[dict[str, Any]], users: list[str]) -> dict[str, list[float | None]]:
    """The memory series of a run: proxy, hub, and each user's desktop PSS (MiB)."""
    out: dict[str, list[float | None]] = {
        "proxy": [s.get("proxy_mib") for s in samples],
        "hub": [s.get("hub_mib") for s in samples],
    }
    for user in users:
        out[f"desktop {user}"] = [s.get("desktops", {}).get(user) for s in samples]
    return out


def process_label(cmd: str) -> str:
    """A process's program name from its command line (xpra runs as `python3 /usr/bin/xpra`)."""
    words = [w.rsplit("/", 1)[-1] for w in cmd.split()] or ["?"]
    return "xpra" if words[0].startswith("python") and "xpra" in words[1:3] else words[0]


def verdicts(samples: list[dict[str, Any]], users: list[str]) -> dict[str, dict[str, Any]]:
    """The growth verdict and the trend of every memory series."""
    times = [s["t_s"] for s in samples]
    return {
        name: {**growth_verdict(values), "slope_mib_per_min": slope_per_minute(times, values)}
        for name, values in series(samples, users).items()
    }


def fmt(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def samples_table(samples: list[dict[str, Any]], users: list[str]) -> str:
    """One row per sample: minute, load, proxy and hub MiB, each desktop's PSS MiB."""
    header = ["minute", "load (1 min)", "proxy MiB", "hub MiB"]
    header += [f"{user} desktop PSS MiB" for user in users]
    rows = [
        [
            fmt(s["t_s"] / 60, 1),
            fmt(s.get("load"), 2),
            fmt(s.get("proxy_mib")),
            fmt(s.get("hub_mib")),
            *(fmt(s.get("desktops", {}).get(user)) for user in users),
        ]
        for s in samples
    ]
    return table(header, rows)


def verdicts_table(by_series: dict[str, dict[str, Any]]) -> str:
    rows = [
        [
            name,
            fmt(v["first"]),
            fmt(v["last"]),
            fmt(v["growth_mib"]),
            fmt(v["growth_percent"]),
            v["verdict"],
            fmt(v.get("slope_mib_per_min"), 2),
        ]
        for name, v in by_series.items()
    ]
    header = ["series", "first third MiB", "last third MiB", "growth MiB", "growth %", "verdict"]
    header += ["trend MiB/min"]
    return table(header, rows)


def summary_line(result: dict[str, Any]) -> str:
    """One line: duration, users, drops, keys lost, and which series grew."""
    by_series = result["verdicts"]
    growing = [name for name, v in by_series.items() if v["verdict"] == "growing"]
    short = [name for name, v in by_series.items() if v["verdict"] == "too short"]
    keys = result["keys"]
    typed = sum(k["typed"] for k in keys.values())
    lost = sum(k["lost"] for k in keys.values())
    drops = sum(c["drops"] for c in result["connections"].values())
    memory = (
        f"growing: {', '.join(growing)}"
        if growing
        else "too short for a verdict"
        if short
        else "all bounded"
    )
    return (
        f"soak {result['minutes']:g} min, {len(result['users'])} users, "
        f"{len(result['samples'])} samples: {drops} dropped connection(s), "
        f"{lost} of {typed} keys lost; memory {memory}"
    )


def render_report(result: dict[str, Any]) -> str:
    """report.md: the run, its summary, the samples over time, the verdicts, the drops and
    the keys per user."""
    users = result["users"]
    connections = [
        [
            u,
            str(c["drops"]),
            " -> ".join(c["states"]) or "n/a",
            str(c["page_reloads"]),
            str(c["dialogs"]),
        ]
        for u, c in result["connections"].items()
    ]
    keys = [
        [
            u,
            str(k["lines"]),
            str(k["typed"]),
            str(k["arrived"]),
            str(k["lost"]),
            str(k["extra"]),
            str(k.get("focus_elsewhere", "n/a")),
        ]
        for u, k in result["keys"].items()
    ]
    redraw = [
        [u, f"{r['redrawn']}/{max(r['looked'] - 1, 0)}", f"{r['glxgears_alive']}/{r['looked']}"]
        for u, r in result["redraw"].items()
    ]
    parts = [
        "# Soak report",
        "",
        f"Started {result['started']} against {result['url']} (commit {result['commit']}): "
        f"{len(users)} users for {result['minutes']:g} min, a sample every "
        f"{result['sample_every_s']:g} s.",
        "",
        f"**{result['summary']}**",
        "",
        "## Memory over time",
        "",
        "Proxy and hub: the container's memory as `docker stats` counts it (usage minus "
        "inactive file cache). Desktops: PSS of xpra, its Xvfb, openbox, the xterm, its shell "
        "and `cat`, and glxgears.",
        "",
        samples_table(result["samples"], users),
        "",
        "## Growth verdicts",
        "",
        f"After {result['warmup_samples']} warm-up samples, the median of the last third of "
        "the samples against the median of the first third: bounded if it grew by less than "
        f"{BOUND_PERCENT:g} % or less than {BOUND_MIB:g} MiB. The trend is the slope of a "
        "straight line fitted to the samples after the warm-up.",
        "",
        verdicts_table(result["verdicts"]),
        "",
        "## Connections",
        "",
        table(
            ["user", "drops", "states seen", "page reloads", "'Server unavailable' dialogs"],
            connections,
        ),
        "",
        "## Keystrokes",
        "",
        "A numbered line typed into `cat >> ~/soak-keys.txt` in each desktop's xterm every "
        "sample (30 ms between keys); arrived = typed keys found in order in the file (longest "
        "common subsequence), lost = typed minus arrived, extra = characters in the file "
        "beyond those (a key repeated by X autorepeat when its release came late).",
        "",
        table(
            [
                "user",
                "lines",
                "keys typed",
                "arrived",
                "lost",
                "extra",
                "lines typed with the focus elsewhere",
            ],
            keys,
        ),
        "",
        "## Redrawing",
        "",
        "glxgears turns in every desktop (paced to 20 bursts a second); the canvas is looked "
        "at once per sample.",
        "",
        table(["user", "canvas changed since the last sample", "glxgears running"], redraw),
        "",
    ]
    if result.get("errors"):
        parts += ["## Errors during the run", ""]
        parts += [f"- {e}" for e in result["errors"]] + [""]
    return "\n".join(parts)


# --- against the stack ---------------------------------------------------------------------


@dataclass
class Soaker:
    """One user's server, desktop and browser page."""

    user: str
    desktop_id: str = ""
    pid: int = 0
    container: Any = None
    env: list[str] = field(default_factory=list)
    page: Page | None = None
    client: FrameLocator | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    states: list[str | None] = field(default_factory=list)
    seen: int = 0  # entries of the page's connection log already in `states`
    page_reloads: int = 0
    dialogs: int = 0
    last_digest: int | None = None
    redrawn: int = 0
    looked: int = 0
    glxgears_alive: int = 0
    focused: list[str] = field(default_factory=list)  # WM_CLASS with the focus, per line


def log(message: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {message}", flush=True)


def stack_from_env() -> StackInfo:
    from stack_info import StackInfo, env_default

    return StackInfo(
        url=f"http://127.0.0.1:{env_default('MINISWAN_PORT')}",
        project=env_default("MINISWAN_STACK"),
        user_password=env_default("MINISWAN_USER_PASSWORD"),
        admin_user=env_default("MINISWAN_ADMIN_USER"),
        admin_password=env_default("MINISWAN_ADMIN_PASSWORD"),
    )


def desktops_api(user: str) -> str:
    return f"/user/{user}/desktops/api/desktops"


def create_desktop(
    hub: HubAPI, soaker: Soaker, dock: docker.DockerClient, stack: StackInfo
) -> None:
    """A desktop through the REST API, running, with its X session's environment."""
    from waiting import wait_until

    user = soaker.user
    r = hub.request("POST", desktops_api(user), as_user=user, json={"name": "soak"})
    if r.status_code != 201:
        raise RuntimeError(f"{user}: creating a desktop answered {r.status_code}: {r.text}")
    soaker.desktop_id = r.json()["id"]
    desktop = wait_until(
        lambda: (
            (
                d := hub.request(
                    "GET", f"{desktops_api(user)}/{soaker.desktop_id}", as_user=user
                ).json()
            )["state"]
            == "running"
            and d
        ),
        60,
        f"{user}'s desktop to run",
    )
    soaker.pid = desktop["pid"]
    soaker.container = dock.containers.get(stack.container_name(user))
    soaker.env = wait_until(lambda: x_env(soaker), 30, f"{user}'s X session (openbox)")


def x_env(soaker: Soaker) -> list[str] | None:
    from x_session import session_env

    try:
        return session_env(soaker.container, soaker.pid)
    except StopIteration:  # openbox not started yet
        return None


def open_desktop(browser: Browser, stack: StackInfo, soaker: Soaker) -> None:
    """Log in, open JupyterLab, open the desktop from the Running sidebar, wait until its
    window is drawn, watch its connection, and start `cat >> ~/soak-keys.txt` in its xterm."""
    from hub_ui import log_in
    from lab_ui import show_running_panel
    from playwright.sync_api import expect
    from xpra_client import wait_for_drawn_window

    user, desktop_id = soaker.user, soaker.desktop_id
    page = browser.new_context(viewport=VIEWPORT).new_page()
    soaker.page = page
    log_in(page, stack, user)
    page.goto(f"{stack.url}/user/{user}/lab")
    expect(page.locator(".jp-Launcher")).to_be_visible(timeout=90_000)
    show_running_panel(page)
    page.locator(f'.miniswan-RunningDesktop [data-desktop-id="{desktop_id}"]').click()
    panel = page.locator(f'.miniswan-DesktopPanel[data-desktop-id="{desktop_id}"]')
    expect(panel).to_have_attribute("data-state", "running", timeout=60_000)
    soaker.client = page.frame_locator(
        f'.miniswan-DesktopPanel[data-desktop-id="{desktop_id}"] iframe'
    )
    soaker.facts = wait_for_drawn_window(soaker.client, timeout=90)
    expect(panel.locator(".miniswan-DesktopView")).to_have_attribute(
        "data-connection", "connected", timeout=60_000
    )
    page.evaluate(WATCH_CONNECTION)
    start_cat(soaker)


def focus(soaker: Soaker) -> None:
    """Click into the xterm (where it was first drawn: nothing moves it), after dismissing
    JupyterLab's "Server unavailable" dialog if one is up."""
    from lab_ui import dismiss_server_unavailable
    from xpra_client import focus_terminal

    assert soaker.page is not None and soaker.client is not None
    if dismiss_server_unavailable(soaker.page):
        soaker.dialogs += 1
    focus_terminal(soaker.client, soaker.facts)


def start_cat(soaker: Soaker) -> None:
    """`cat >> ~/soak-keys.txt` in the xterm (the command line is setup, not measured: typed
    again if cat did not start)."""
    from waiting import wait_until

    assert soaker.page is not None
    for attempt in range(3):
        focus(soaker)
        if attempt:
            soaker.page.keyboard.press("Control+c")
        soaker.page.keyboard.type(f"cat >> ~/{KEYS_FILE}\n", delay=30)
        try:
            wait_until(
                lambda: soaker.container.exec_run(["pgrep", "-x", "cat"]).exit_code == 0,
                15,
                f"{soaker.user}'s cat to start",
            )
            return
        except AssertionError:
            log(f"{soaker.user}: cat did not start (attempt {attempt + 1}), typing it again")
    raise RuntimeError(f"{soaker.user}: could not start cat in the desktop's xterm")


def start_glxgears(soaker: Soaker) -> None:
    """glxgears in the desktop's X session, as e2e/test_opengl.py starts it; then the focus
    back on the xterm (the window manager gives it to the new window)."""
    from waiting import wait_until
    from x_session import find_window

    container = soaker.container
    x, y = gears_position(soaker.facts)
    gears = ["glxgears", "-geometry", f"{GEARS_SIZE}x{GEARS_SIZE}+{x}+{y}"]
    container.exec_run(gears, environment=soaker.env, user="jovyan", detach=True)
    wait_until(
        lambda: find_window(container, soaker.env, "^glxgears$", by="name"),
        30,
        f"glxgears in {soaker.user}'s desktop",
    )
    pid = container.exec_run(["pgrep", "-n", "-x", "glxgears"]).output.decode().strip()
    pacer = ["python3", "-c", PACER, pid, str(PACE_ON_S), str(PACE_PERIOD_S)]
    container.exec_run(pacer, user="jovyan", detach=True)
    focus(soaker)


def focused_window(soaker: Soaker) -> str:
    """The WM_CLASS of the window that has the X focus (xterm, glxgears, ...)."""
    cmd = 'xprop -id "$(xdotool getwindowfocus)" WM_CLASS'
    result = soaker.container.exec_run(["sh", "-c", cmd], environment=soaker.env)
    out = result.output.decode().strip()
    return out.split("=", 1)[1].strip() if "=" in out else out or "unknown"


def type_round(soaker: Soaker, index: int, errors: list[str]) -> None:
    """Focus the xterm and type this sample's numbered line (once: never retyped)."""
    assert soaker.page is not None
    line = typed_line(index, soaker.user)
    try:
        focus(soaker)
        soaker.focused.append(focused_window(soaker))
        soaker.page.keyboard.type(line + "\n", delay=30)
    except Exception as exc:  # a failed round is a finding, not a crash
        errors.append(f"sample {index}: typing for {soaker.user} failed: {exc}")
    soaker.lines.append(line)  # counted as typed even if the browser failed part-way


def watch_connection(soaker: Soaker) -> None:
    """Append the panel's connection states since the last look; a page that lost its log
    (reloaded) gets the watch again and is counted."""
    assert soaker.page is not None
    log_now = soaker.page.evaluate("window.__soakLog || null")
    if log_now is None:
        soaker.page_reloads += 1
        soaker.page.evaluate(WATCH_CONNECTION)
        soaker.states.append(None)
        soaker.seen = 0
        return
    soaker.states += [entry["state"] for entry in log_now[soaker.seen :]]
    soaker.seen = len(log_now)


def look_at_canvas(soaker: Soaker) -> None:
    """Has the canvas changed since the last sample (glxgears turning)?"""
    from xpra_client import canvas_colours

    assert soaker.client is not None
    now = canvas_colours(soaker.client)
    soaker.looked += 1
    digest = now["digest"] if now else None
    if digest is not None and soaker.last_digest is not None and digest != soaker.last_digest:
        soaker.redrawn += 1
    soaker.last_digest = digest


def desktop_memory(soaker: Soaker) -> dict[str, Any]:
    """PSS of the desktop (xpra's tree and session, plus glxgears, started beside it) with
    bench/processes.py's helper, run in the container."""
    from bench.processes import group_pss

    memory = group_pss(soaker.container, [soaker.pid], match=("glxgears",))
    if any("glxgears" in p["cmd"] for p in memory["processes"]):
        soaker.glxgears_alive += 1
    return memory


def take_sample(
    index: int,
    t_s: float,
    soakers: list[Soaker],
    services: dict[str, Any],
    errors: list[str],
) -> dict[str, Any]:
    """Type a line in every desktop, then read memory, connections and the canvases."""
    began = time.monotonic()
    for soaker in soakers:
        type_round(soaker, index, errors)
    sample: dict[str, Any] = {
        "index": index,
        "t_s": t_s,
        "typing_s": time.monotonic() - began,
        "load": os.getloadavg()[0],
        "desktops": {},
        "containers": {},
        "processes": {},
    }
    for name, container in services.items():
        try:
            sample[f"{name}_mib"] = working_set_mib(container.stats(stream=False))
        except Exception as exc:
            errors.append(f"sample {index}: {name} stats failed: {exc}")
    for soaker in soakers:
        try:
            memory = desktop_memory(soaker)
            sample["desktops"][soaker.user] = memory["pss_mib"]
            sample["containers"][soaker.user] = memory["container_working_set_mib"]
            sample["processes"][soaker.user] = {
                f"{process_label(p['cmd'])} ({p['pid']})": round(p["pss_mib"], 1)
                for p in memory["processes"]
            }
        except Exception as exc:
            errors.append(f"sample {index}: {soaker.user}'s desktop memory failed: {exc}")
        try:
            watch_connection(soaker)
            look_at_canvas(soaker)
        except Exception as exc:
            errors.append(f"sample {index}: {soaker.user}'s page failed: {exc}")
    sample["took_s"] = time.monotonic() - began
    return sample


def arrived_keys(hub: HubAPI, soaker: Soaker) -> str | None:
    """What cat wrote, once it is all there or two reads agree (the last line may still be
    on its way); None if the contents API never returned the file."""
    from waiting import wait_until

    typed = sum(len(line) + 1 for line in soaker.lines)
    reads: list[str] = []

    def settled() -> bool:
        text = hub.read_file(soaker.user, KEYS_FILE)
        if text is None:
            return False
        reads.append(text)
        return len(text) >= typed or (len(reads) > 1 and reads[-2] == text)

    try:
        wait_until(settled, 30, f"{soaker.user}'s keys file to settle", interval=2)
    except AssertionError:
        pass
    return reads[-1] if reads else None


def commit() -> str:
    result = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    return result.stdout.strip() or "unknown"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10, help="how long (default 10)")
    parser.add_argument("--users", type=int, default=3, help="users with a desktop (default 3)")
    parser.add_argument(
        "--sample-every", type=float, default=30, help="seconds between samples (default 30)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "artifacts" / "soak")
    return parser.parse_args(argv)


def set_up(
    hub: HubAPI, stack: StackInfo, dock: docker.DockerClient, browser: Browser, users: list[str]
) -> list[Soaker]:
    """Servers, desktops, pages, cat in every xterm; glxgears last (it loads the CPU)."""
    soakers = [Soaker(user) for user in users]
    for soaker in soakers:
        log(f"{soaker.user}: starting the server")
        hub.start_server(soaker.user)
        create_desktop(hub, soaker, dock, stack)
        log(f"{soaker.user}: desktop {soaker.desktop_id} runs (xpra pid {soaker.pid})")
        open_desktop(browser, stack, soaker)
        log(f"{soaker.user}: desktop open in JupyterLab, cat runs in its xterm")
    for soaker in soakers:
        start_glxgears(soaker)
    log("glxgears runs in every desktop")
    return soakers


def soak_loop(
    soakers: list[Soaker], services: dict[str, Any], minutes: float, every: float
) -> tuple[list[dict[str, Any]], list[str]]:
    samples: list[dict[str, Any]] = []
    errors: list[str] = []
    started = time.monotonic()
    index = 0
    while True:
        t_s = time.monotonic() - started
        sample = take_sample(index, t_s, soakers, services, errors)
        samples.append(sample)
        desktops = ", ".join(f"{fmt(v)}" for v in sample["desktops"].values())
        log(
            f"sample {index} at {t_s / 60:.1f} min: proxy {fmt(sample.get('proxy_mib'))} MiB, "
            f"hub {fmt(sample.get('hub_mib'))} MiB, desktops {desktops} MiB PSS, "
            f"load {sample['load']:.1f} (typing {sample['typing_s']:.0f} s, "
            f"sample {sample['took_s']:.0f} s)"
        )
        index += 1
        next_at = next_sample_at(time.monotonic() - started, every)
        if next_at > minutes * 60 + 1e-6:
            return samples, errors
        time.sleep(max(0.0, next_at - (time.monotonic() - started)))


def next_sample_at(elapsed_s: float, every: float) -> float:
    """The next slot on the sample grid (0, every, 2 every, ...) after `elapsed_s`: a sample
    that took longer than the period skips the slots it overran, the run keeps its length."""
    return (math.floor(elapsed_s / every) + 1) * every


def finish(
    hub: HubAPI, soakers: list[Soaker], errors: list[str]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Keys per user (from the files cat wrote), connections and redraws per user."""
    keys, connections, redraw = {}, {}, {}
    for soaker in soakers:
        typed = "".join(line + "\n" for line in soaker.lines)
        arrived = arrived_keys(hub, soaker) if soaker.lines else ""
        if arrived is None:
            errors.append(f"{soaker.user}: ~/{KEYS_FILE} could not be read (contents API)")
            arrived = ""
        keys[soaker.user] = {
            "lines": len(soaker.lines),
            **key_count(typed, arrived),
            "focus_elsewhere": sum(
                1 for f in soaker.focused if f != "unknown" and "xterm" not in f.lower()
            ),
            "focused": soaker.focused,
        }
        if keys[soaker.user]["lost"] or keys[soaker.user]["extra"]:
            keys[soaker.user]["arrived_text"] = arrived
        states = soaker.states
        connections[soaker.user] = {
            "drops": count_drops(states),
            "states": [str(s) for s in dict.fromkeys(states)],
            "log": [str(s) for s in states],
            "page_reloads": soaker.page_reloads,
            "dialogs": soaker.dialogs,
        }
        redraw[soaker.user] = {
            "redrawn": soaker.redrawn,
            "looked": soaker.looked,
            "glxgears_alive": soaker.glxgears_alive,
        }
    return keys, connections, redraw


def keep_evidence(out: Path, soakers: list[Soaker]) -> None:
    """What a reader needs to check the figures: each page's screenshot and the end of each
    desktop's xpra log, taken before the servers stop."""
    out.mkdir(parents=True, exist_ok=True)
    for soaker in soakers:
        try:
            if soaker.page is not None:
                soaker.page.screenshot(path=str(out / f"{soaker.user}.png"))
            find = (
                f"find / -xdev \\( -path '*desktop-{soaker.desktop_id}-*/xpra.log' -o "
                f"-name 'desktop-{soaker.desktop_id}.log' \\) 2>/dev/null | head -1 | "
                "xargs -r tail -n 400"
            )
            log_tail = soaker.container.exec_run(["sh", "-c", find]).output
            (out / f"{soaker.user}-xpra.log").write_bytes(log_tail)
        except Exception as exc:  # evidence is best effort
            log(f"{soaker.user}: could not keep the screenshot or xpra log: {exc}")


def write(out: Path, result: dict[str, Any]) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    (out / "soak.json").write_text(json.dumps(result, indent=2))
    report = out / "report.md"
    report.write_text(render_report(result))
    return report


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import docker
    from hub_api import HubAPI
    from playwright.sync_api import sync_playwright
    from stack_info import CHROMIUM, CHROMIUM_ARGS

    stack = stack_from_env()
    hub = HubAPI(stack)
    dock = docker.from_env()
    services = {
        name: dock.containers.get(f"{stack.project}-{name}-1") for name in ("proxy", "hub")
    }
    users = [f"soak{uuid.uuid4().hex[:6]}" for _ in range(args.users)]
    started = datetime.now(UTC)
    out = args.out / started.strftime("%Y%m%dT%H%M%SZ")
    result: dict[str, Any] = {
        "started": started.isoformat(timespec="seconds"),
        "url": stack.url,
        "commit": commit(),
        "minutes": args.minutes,
        "sample_every_s": args.sample_every,
        "warmup_samples": WARMUP_SAMPLES,
        "users": users,
        "cores": os.cpu_count(),
    }
    soakers: list[Soaker] = []
    samples: list[dict[str, Any]] = []
    errors: list[str] = []
    keys: dict[str, Any] = {}
    connections: dict[str, Any] = {}
    redraw: dict[str, Any] = {}
    broke: str | None = None
    log(f"{args.users} users ({', '.join(users)}) for {args.minutes:g} min against {stack.url}")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                soakers = set_up(hub, stack, dock, browser, users)
                samples, errors = soak_loop(soakers, services, args.minutes, args.sample_every)
                keys, connections, redraw = finish(hub, soakers, errors)
                keep_evidence(out, soakers)
            finally:
                browser.close()
    except Exception as exc:  # the run broke: say why, still clean up
        broke = f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
    finally:
        for user in users:
            try:
                if hub.server(user) is not None:
                    hub.stop_server(user)
            except Exception as exc:
                log(f"could not stop {user}'s server: {exc}")
        log("servers stopped")
    if broke:
        result |= {"broke": broke, "samples": samples, "errors": errors}
        out.mkdir(parents=True, exist_ok=True)
        (out / "soak.json").write_text(json.dumps(result, indent=2))
        print(f"soak broke: {broke} (partial results: {out / 'soak.json'})", file=sys.stderr)
        return 1
    result |= {
        "samples": samples,
        "verdicts": verdicts(samples, users),
        "keys": keys,
        "connections": connections,
        "redraw": redraw,
        "errors": errors,
    }
    result["summary"] = summary_line(result)
    report = write(out, result)
    print(f"report: {report.relative_to(ROOT) if report.is_relative_to(ROOT) else report}")
    print(result["summary"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
