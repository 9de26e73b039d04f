"""Where one login's time goes, from the server side: the hub's spawn steps (its log's
`spawn step` lines, miniswan_hub/progress.py), the container's start (Docker), the
single-user server's own log (its first line: the session wrapper and the stack's setup are
done and Python runs; "is running at": it listens), and the hub's "took N seconds to start".
The browser's marks (form, JupyterLab page, Launcher, desktop drawn) are taken by login.py,
whose samples `summarise` groups. All are wall-clock seconds, comparable with `common.now()`.
"""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime
from typing import Any

from .stats import summary

# The login part's samples (login.py): each session type, each a first and a returning login.
SESSIONS = ("jupyterlab", "desktop")
KINDS = ("first", "returning")

# JupyterHub's and Jupyter Server's log prefix: `[I 2026-12-02 05:20:01.123 JupyterHub ...]`
_STAMP = re.compile(r"^\[[A-Z] (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) ")
_STEP = re.compile(r"spawn step (\S+) \+[\d.]+ (.*)$")

# Hub step messages (spawner.py) -> mark names: the messages say more than the report needs.
STEP_MARKS = (
    ("Checking your choices", "hub_options"),
    ("Checking the software stack", "hub_stack_check"),
    ("Preparing your EOS home", "hub_eos_home"),
    ("Creating your private network", "hub_network"),
    ("Starting your container", "hub_docker_start"),
    # The swarm engine's (swarm_spawner.py): the service created, until its task runs.
    ("Placing your server", "hub_swarm_place"),
    ("Waiting for", "hub_wait_answer"),
    ("done", "hub_spawn_done"),
)

PHASES = {
    "login_submit": "login form submitted",
    "spawn_form": "spawn page shown",
    "start_clicked": "Start clicked",
    "hub_options": "hub: options checked against the catalog",
    "hub_stack_check": "hub: the stack's view checked on the CVMFS stand-in",
    "hub_eos_home": "hub: EOS home prepared (XRootD)",
    "hub_network": "hub: the user's network",
    "hub_docker_start": "hub: Docker create + start asked",
    "hub_swarm_place": "hub: Swarm service created, its task placed",
    "container_started": "Docker: container started",
    "hub_wait_answer": "hub: waiting for the server to answer",
    "server_first_log": "container: session wrapper done, the server's Python logs",
    "server_listening": "container: the server listens",
    "hub_spawn_done": "hub: the server answered",
    "lab_page_requested": "browser: JupyterLab's page requested",
    "lab_page_answered": "browser: JupyterLab's page received",
    "lab_dom_loaded": "browser: page parsed (DOMContentLoaded)",
    "lab_ready": "browser: JupyterLab's Launcher shown",
    "desktop_page": "browser: the desktop-only page reached",
    "first_frame": "browser: the desktop's first window drawn",
}


def _stamp(line: str) -> float | None:
    m = _STAMP.match(line)
    if not m:
        return None
    # The containers log in UTC (no TZ set in the images).
    return datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC).timestamp()


def hub_marks(log_text: str, user: str, since: float) -> dict[str, float]:
    """The last spawn's steps for `user` logged after `since` (each step's first line)."""
    marks: dict[str, float] = {}
    for line in log_text.splitlines():
        step = _STEP.search(line)
        at = _stamp(line)
        if not step or at is None or step.group(1) != user or at < since:
            continue
        for prefix, name in STEP_MARKS:
            if step.group(2).startswith(prefix):
                marks[name] = at
    return marks


def server_log_marks(log_text: str) -> dict[str, float]:
    """The single-user server's first log line and the one that says it listens."""
    marks: dict[str, float] = {}
    for line in log_text.splitlines():
        at = _stamp(line)
        if at is None:
            continue
        marks.setdefault("server_first_log", at)
        if "is running at" in line or "listening on" in line.lower():
            marks.setdefault("server_listening", at)
    return marks


def docker_started_at(value: str) -> float | None:
    """Docker's `State.StartedAt` (RFC 3339 with nanoseconds) as a timestamp."""
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z$", value or "")
    if not m:
        return None
    fraction = float(m.group(2) or 0)
    base = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    return base.timestamp() + fraction


def server_marks(
    hub_container: str, user_container: Any, user: str, since: float
) -> dict[str, float]:
    """Every server-side mark of `user`'s spawn that started after `since`."""
    hub_log = subprocess.run(
        ["docker", "logs", "--since", str(int(since) - 1), hub_container],
        capture_output=True,
        text=True,
    )
    marks = hub_marks(hub_log.stdout + hub_log.stderr, user, since)
    started = docker_started_at(user_container.attrs["State"].get("StartedAt", ""))
    if started is not None:
        marks["container_started"] = started
    logs = user_container.logs().decode(errors="replace")
    marks.update(server_log_marks(logs))
    return marks


def end_mark(session: str) -> str:
    """The mark a login of this session type ends at: what the user came for is shown."""
    return "lab_ready" if session == "jupyterlab" else "first_frame"


def summarise(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Per session type and kind: the figure, and the median of each mark (the profile)."""
    out: dict[str, Any] = {"samples": samples}
    for session in SESSIONS:
        for kind in KINDS:
            ok = [s for s in samples if s["ok"] and s["session"] == session and s["kind"] == kind]
            phases: dict[str, list[float]] = {}
            for s in ok:
                for name, value in s["marks"].items():
                    phases.setdefault(name, []).append(value)
            out[f"{session}_{kind}"] = {
                "seconds": summary([s["seconds"] for s in ok]),
                "failed": sum(
                    1
                    for s in samples
                    if not s["ok"] and s["session"] == session and s["kind"] == kind
                ),
                "phases_s": {k: summary(v) for k, v in phases.items()},
            }
    return out
