"""Write a run's results: results.json (every raw figure), report.md (tables, ratios, the
targets and what costs the time) and PNG plots, all in one folder. The Markdown is built by
pure functions (unit-tested); the plots need matplotlib and are drawn only by `write`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import login_profile
from .stats import ratio, verdict

# Numbers we aim at: a desktop faster and lighter than the peer's (jupyter-remote-desktop-
# proxy), and many users at once.
TARGETS = {
    "first_frame_s": 1.0,
    "first_frame_unprepared_s": 2.0,
    "reopen_s": 0.3,
    "idle_desktop_mib": 80,
    "further_desktop_mib": 60,
    "assets_ratio": 1.5,
    "ws_ratio": 1.2,
    "concurrent_users": 10,
    "concurrent_spawn_p95_s": 25.0,
    "more_users": 20,
    "login_lab_returning_s": 5.0,
    "login_lab_first_s": 7.0,
    "login_desktop_returning_s": 6.0,
    "login_desktop_first_s": 8.0,
}
# The login part's four figures (bench/login.py): its key -> the report's words, the target.
LOGINS = {
    "jupyterlab_returning": (
        "login -> JupyterLab Launcher, returning user", "login_lab_returning_s"),
    "jupyterlab_first": (
        "login -> JupyterLab Launcher, a user's first login", "login_lab_first_s"),
    "desktop_returning": (
        "desktop-only: login -> desktop drawn, returning user", "login_desktop_returning_s"),
    "desktop_first": (
        "desktop-only: login -> desktop drawn, first login", "login_desktop_first_s"),
}  # fmt: skip
# What each first-frame mark means, in the order they normally happen.
PHASES = {
    "click": "click on the Desktop card",
    "api_create_sent": "frontend sends POST desktops/api/desktops",
    "api_create_answered": "server answers 201 (xpra launched)",
    "xpra_socket_created": "xpra created its unix socket",
    "xpra_command_started": "xpra started openbox + xterm",
    "xpra_xpra_ready": "xpra says ready",
    "panel_running": "panel sees state running, loads the client",
    "client_page_requested": "client index.html requested",
    "client_js_requested": "client scripts requested",
    "client_assets_loaded": "last client script/stylesheet loaded",
    "websocket_opened": "browser opens the client's websocket",
    "xpra_client_connected": "client websocket reaches xpra",
    "xpra_handshake": "xpra handshake complete",
    "xpra_client_hello": "client hello processed (display size)",
    "xpra_first_window": "first window sent to the client",
    "first_frame": "first window drawn on the canvas",
}


LOGIN_PHASES = login_profile.PHASES


def fmt(value: float | None, digits: int = 2, unit: str = "") -> str:
    if value is None:
        return "n/a"
    return f"{value:.{digits}f}{unit}"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def get(results: dict[str, Any], *path: str | int) -> Any:
    """results[path...] or None."""
    value: Any = results
    for key in path:
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            return None
    return value


def concurrency_level(results: dict[str, Any], users: int) -> dict[str, Any] | None:
    for level in get(results, "concurrency", "levels") or []:
        if level["users"] == users:
            return level
    return None


def target(what: str, value: float | None, limit: float, unit: str, digits: int = 2) -> dict:
    """One row of the targets table: below `limit` is met."""
    return {
        "what": what,
        "target": f"< {fmt(limit, digits)}{unit}",
        "measured": fmt(value, digits, unit),
        "verdict": verdict(value, limit),
    }


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target with the measured figure and 'met' / 'missed' / 'not measured'."""
    ff = get(results, "first_frame", "click_to_first_frame_s", "median")
    unprepared = get(results, "first_frame", "click_to_first_frame_unprepared_s", "median")
    reopen = get(results, "first_frame", "reopen_s", "median")
    peer_reopen = get(results, "peer", "reopen_s", "peer", "median")
    ws = get(results, "proxy_overhead", "ws", "ratio_proxied_to_direct")
    assets = get(results, "proxy_overhead", "assets", "ratio_proxied_to_direct")
    idle = get(results, "memory", "idle_desktop_pss_mib")
    further = get(results, "memory", "further_desktop_pss_mib")
    ten = concurrency_level(results, TARGETS["concurrent_users"])
    more = concurrency_level(results, TARGETS["more_users"])
    t = TARGETS
    logins = [
        target(
            f"{label} (median)", get(results, "login", key, "seconds", "median"), t[limit], " s"
        )
        for key, (label, limit) in LOGINS.items()
    ]
    crowd = [
        target(
            f"{t['concurrent_users']} users at once: spawn p95",
            get(ten, "steps", "spawn", "p95"),
            t["concurrent_spawn_p95_s"],
            " s",
            1,
        ),
        failures_row(ten, t["concurrent_users"]),
        failures_row(more, t["more_users"], get(more, "steps", "spawn", "p95")),
    ]
    return [
        target("Desktop click -> first window drawn (median)", ff, t["first_frame_s"], " s"),
        target(
            "same, no desktop prepared in advance (median)",
            unprepared,
            t["first_frame_unprepared_s"],
            " s",
        ),
        target(
            "reopen a running desktop in a panel -> drawn (median)", reopen, t["reopen_s"], " s"
        ),
        target(
            "the peer's reopen in a new tab (median, for comparison)",
            peer_reopen,
            t["reopen_s"],
            " s",
        ),
        target(
            "idle desktop PSS (Xpra + Xvfb + openbox + xterm)",
            idle,
            t["idle_desktop_mib"],
            " MiB",
            0,
        ),
        target("each further idle desktop, PSS", further, t["further_desktop_mib"], " MiB", 0),
        page_load_row(results, assets, t["assets_ratio"]),
        target("websocket hello, proxied / direct", ws, t["ws_ratio"], "x"),
        *logins,
        *crowd,
    ]


def page_load_row(results: dict[str, Any], ratio: float | None, limit: float) -> dict:
    """The client page's load: the issue's target is the ratio, or a client page that no
    longer loads through the desktop's proxy at all (served by the Jupyter server from its
    own copy, client_files.py); then the ratio is shown for information."""
    row = target("HTML5 client page load, as served / direct", ratio, limit, "x")
    served = get(results, "proxy_overhead", "proxied_targets", "assets")
    desktop = get(results, "proxy_overhead", "proxied_target")
    if row["verdict"] == "missed" and served and desktop and served != desktop:
        row["target"] += ", or not through the desktop's proxy"
        row["verdict"] = "met (served by the Jupyter server, not through the desktop's proxy)"
    return row


def failures_row(level: dict[str, Any] | None, users: int, p95: float | None = None) -> dict:
    """The targets table's row for N users at once: no failures (and the spawn p95 said)."""
    failures = None if level is None else level["failed"]
    measured = "n/a" if failures is None else str(failures)
    if p95 is not None:
        measured += f" (spawn p95 {fmt(p95, 1)} s)"
    return {
        "what": f"{users} users at once: failures",
        "target": "0",
        "measured": measured,
        "verdict": "not measured" if failures is None else verdict(failures, 1),
    }


def costs(phases: dict[str, dict[str, Any]]) -> list[tuple[str, str, float]]:
    """The intervals between consecutive first-frame marks (by median time after the click),
    longest first: (from, to, seconds). Marks before the click (a prepared desktop's start)
    are not part of what the user waits for."""
    ordered = sorted(
        (
            (name, s["median"])
            for name, s in phases.items()
            if s.get("median") is not None and s["median"] >= 0
        ),
        key=lambda item: item[1],
    )
    gaps = [(a, b, tb - ta) for (a, ta), (b, tb) in zip(ordered, ordered[1:], strict=False)]
    return sorted(gaps, key=lambda gap: -gap[2])


def process_name(cmd: str) -> str:
    """A short name for a command line: the script a Python runs, without Xpra's suffix."""
    words = cmd.split() or ["?"]
    first = words[0].rsplit("/", 1)[-1]
    if first.startswith("python") and len(words) > 1:
        first = words[1].rsplit("/", 1)[-1]
    return first.split("-for-Xpra")[0]


# The websocket's hops, from the host inwards: each path in results (proxy_overhead) adds
# one hop to the next, and what the hop is.
WS_HOPS = (
    ("proxied", "the engine's port forwarding to the published port"),
    ("proxy_address", "configurable-http-proxy"),
    ("server_only", "the single-user server's proxy"),
)
WS_PATH_LABELS = {
    "server_only": "the same, through the single-user server alone (no configurable-http-proxy)",
    "proxy_address": (
        "the same, through configurable-http-proxy at its container's address (no port forwarding)"
    ),
}


def ws_split(results: dict[str, Any]) -> list[tuple[str, float]] | None:
    """What each hop adds to the websocket hello's median (s), the host's outermost first,
    and Xpra's socket itself last as ("direct", median); None without the server-only path.
    Results from before the proxy-address path fold the port forwarding into
    configurable-http-proxy's share."""
    po = results.get("proxy_overhead") or {}
    medians = {
        "direct": get(po, "ws", "direct_summary", "median"),
        "proxied": get(po, "ws", "proxied_summary", "median"),
        **{key: get(po, key, "summary", "median") for key in WS_PATH_LABELS},
    }
    if None in (medians["direct"], medians["proxied"], medians["server_only"]):
        return None
    hops = [(key, name) for key, name in WS_HOPS if medians[key] is not None]
    if medians["proxy_address"] is None:
        hops[0] = ("proxied", "configurable-http-proxy")
    inner = [medians[key] for key, _ in hops[1:]] + [medians["direct"]]
    split = [(name, medians[key] - below) for (key, name), below in zip(hops, inner, strict=True)]
    return split + [("direct", medians["direct"])]


def findings(results: dict[str, Any]) -> list[str]:
    """One line per part on where the time or memory goes, from the figures themselves."""
    out = []
    phases = get(results, "first_frame", "phases_after_click_s")
    if phases:
        a, b, seconds = costs(phases)[0]
        out.append(
            f"First frame: the longest step is {fmt(seconds)} s from *{PHASES.get(a, a)}* to "
            f"*{PHASES.get(b, b)}* (median; full profile in section 2)."
        )
    assets = get(results, "proxy_overhead", "assets")
    if assets:
        direct_count = len(assets["direct"].get("assets", []))
        served_count = len(assets["proxied"].get("assets", []))
        bulk = get(results, "proxy_overhead", "bulk", "ratio_proxied_to_direct")
        out.append(
            f"Proxies: the client's page as served ({served_count} files, through "
            "configurable-http-proxy and the Jupyter server) loads in "
            f"{fmt(assets['ratio_proxied_to_direct'], 1)}x the time of Xpra's own page on the "
            f"socket ({direct_count} files), and bulk transfer runs at {fmt(bulk, 2)}x the "
            "direct throughput."
        )
    split = ws_split(results)
    if split:
        *hops, (_, direct) = split
        adds = [f"{name} {fmt(seconds * 1000, 1)} ms" for name, seconds in reversed(hops)]
        out.append(
            f"Websocket hello: {fmt(direct * 1000, 1)} ms on Xpra's socket; each hop on the "
            "browser's way adds (differences of medians, section 3): " + ", ".join(adds) + "."
        )
    levels = get(results, "memory", "levels") or []
    if len(levels) > 1 and levels[1].get("breakdown_first_desktop"):
        no_gl = {
            process_name(p["cmd"]): p["pss_mib"]
            for p in get(results, "memory", "breakdown_no_gl") or []
        }
        parts = []
        for p in levels[1]["breakdown_first_desktop"][:2]:
            name = process_name(p["cmd"])
            without = f" ({fmt(no_gl[name], 0)} without GL)" if name in no_gl else ""
            parts.append(f"{name} {fmt(p['pss_mib'], 0)} MiB{without}")
        line = "Memory: " + ", ".join(parts) + " of one idle desktop's PSS"
        total_no_gl = get(results, "memory", "idle_desktop_no_gl_pss_mib")
        if total_no_gl is not None:
            line += f"; {fmt(total_no_gl, 0)} MiB in all without GL"
        further = get(results, "memory", "further_desktop_pss_mib")
        if further is not None:
            line += f"; each further desktop adds {fmt(further, 0)} MiB (section 5)"
        out.append(line + ".")
    return out


def section_machine(results: dict[str, Any]) -> str:
    m = results.get("machine", {})
    rows = [
        ["cores", str(m.get("cores"))],
        ["memory", f"{m.get('memory_gib')} GiB"],
        ["CPU", str(m.get("cpu_model"))],
        ["kernel", str(m.get("kernel"))],
        ["Docker engine", str(m.get("docker_engine"))],
        ["Compose", str(m.get("docker_compose"))],
        ["Chromium", str(m.get("chromium"))],
        [
            "load average at start / end",
            f"{m.get('loadavg_at_start')} / {m.get('loadavg_at_end')}",
        ],
    ]
    load_rows = [
        [part, str(v.get("before")), str(v.get("after")), fmt(v.get("seconds"), 0, " s")]
        for part, v in results.get("load", {}).items()
    ]
    return "\n\n".join(
        [
            "## Machine",
            table(["", ""], rows),
            "Load average (1, 5, 15 min) around each part: above the core count, the machine "
            "was busy with other work and every time below is inflated.\n",
            table(["part", "load before", "load after", "duration"], load_rows),
        ]
    )


def section_login(results: dict[str, Any]) -> str:
    lo = results.get("login")
    if not lo:
        return "## 1. Login\n\nNot measured."
    rows = []
    for key, (label, _) in LOGINS.items():
        s = lo[key]["seconds"]
        rows.append([label, str(s["n"]), fmt(s["median"]), fmt(s["min"]), fmt(s["max"]),
                     str(lo[key]["failed"])])  # fmt: skip
    parts = [
        "## 1. Login (Chromium, warm images)",
        "From the login form submitted to the JupyterLab Launcher shown, or for a desktop-only "
        "session to the desktop's first window drawn. A first login is a user the hub has never "
        "spawned (EOS home, key and network made on the way); a returning one is the same user "
        "again, server stopped, in a fresh browser with nothing cached (bench/login.py).",
        table(["login", "n", "median s", "min s", "max s", "failed"], rows),
    ]
    errors = [s for s in lo["samples"] if not s["ok"]]
    if errors:
        parts.append(
            "Failures:\n\n"
            + "\n".join(f"- `{s['user']}` ({s['session']}, {s['kind']}): {s['error'][:300]}"
                        for s in errors)
        )  # fmt: skip
    for session, title in (("jupyterlab", "JupyterLab"), ("desktop", "desktop-only")):
        first = lo[f"{session}_first"]["phases_s"]
        returning = lo[f"{session}_returning"]["phases_s"]
        if not (first or returning):
            continue
        names = sorted(
            set(first) | set(returning),
            key=lambda n: (returning.get(n) or first.get(n) or {}).get("median") or 0,
        )
        phase_rows = [
            [LOGIN_PHASES.get(n, n), f"`{n}`", fmt(get(first, n, "median")),
             fmt(get(returning, n, "median"))]
            for n in names
        ]  # fmt: skip
        top = [
            f"- **{fmt(seconds)} s** from *{LOGIN_PHASES.get(a, a)}* to *{LOGIN_PHASES.get(b, b)}*"
            for a, b, seconds in costs(returning or first)[:4]
        ]
        parts += [
            f"### Where a {title} login's time goes (median seconds after the submit)\n\n"
            "Browser marks from Playwright; `hub_*` from the hub's `spawn step` log lines, "
            "`container_started` from Docker, `server_*` from the server's log "
            "(bench/login_profile.py; same clock).",
            table(["phase", "mark", "first login", "returning"], phase_rows),
            "Longest intervals of a returning login (medians):\n\n" + "\n".join(top),
        ]
    return "\n\n".join(parts)


def section_first_frame(results: dict[str, Any]) -> str:
    ff = results.get("first_frame")
    if not ff:
        return "## 2. First frame\n\nNot measured."
    rows = []
    for key, label in (
        ("login_to_lab_s", "(before the clicks) first login -> JupyterLab Launcher shown"),
        ("click_to_first_frame_s", '"Desktop" click -> first window drawn (prepared desktop)'),
        ("reopen_s", "panel closed, desktop opened again from Running -> drawn"),
        ("click_to_first_frame_warm_s", "second desktop, browser cache warm -> drawn"),
        (
            "click_to_first_frame_app_s",
            '"Plot browser" application click -> drawn (never prepared)',
        ),
        (
            "click_to_first_frame_unprepared_s",
            '"Desktop" click -> drawn, no desktop prepared (prepared_desktops = 0)',
        ),
    ):
        s = ff.get(key)
        if s:
            rows.append([label, str(s["n"]), fmt(s["median"]), fmt(s["min"]), fmt(s["max"])])
    failed = [s for s in ff["samples"] if not s["ok"]]
    phase_rows = [
        [PHASES.get(name, name), f"`{name}`", fmt(s["median"]), fmt(s["min"]), fmt(s["max"])]
        for name, s in sorted(
            ff["phases_after_click_s"].items(), key=lambda kv: kv[1]["median"] or 0
        )
    ]
    gaps = costs(ff["phases_after_click_s"])
    top = [
        f"- **{fmt(seconds)} s** from *{PHASES.get(a, a)}* to *{PHASES.get(b, b)}*"
        for a, b, seconds in gaps[:4]
    ]
    parts = [
        "## 2. First frame (Chromium, warm images)",
        table(["step", "n", "median s", "min s", "max s"], rows),
    ]
    if failed:
        parts.append(
            f"{len(failed)} sample(s) failed: "
            + "; ".join(
                f"`{s['user']}`: {s.get('error', '')[:200]} (screenshot "
                f"`first-frame-failed-{s['user']}.png`, processes and xpra log in results.json)"
                for s in failed
            )
        )
    parts += [
        "### Where the time goes after the click (seconds after the click)\n\n"
        "Browser marks are taken by the benchmark (Playwright request events; the first "
        "frame from the page's own marks of its canvas draws, bench/canvas.py); `xpra_*` "
        "marks are the lines xpra logs (same clock).",
        table(["phase", "mark", "median", "min", "max"], phase_rows),
        "Longest intervals (medians):\n\n" + "\n".join(top),
    ]
    return "\n\n".join(parts)


def proxy_row(label: str, direct: dict, proxied: dict, unit: str, scale: float) -> list[str]:
    """One measure of section 3: n, both medians and their ratio (proxied / direct)."""
    return [
        label,
        str(direct["n"]),
        f"{fmt(direct['median'] * scale, 1)} {unit}",
        f"{fmt(proxied['median'] * scale, 1)} {unit}",
        fmt(ratio(proxied["median"], direct["median"]), 2, "x"),
    ]


def section_proxy(results: dict[str, Any]) -> str:
    po = results.get("proxy_overhead")
    if not po:
        return "## 3. Proxy overhead\n\nNot measured."
    rows = []
    labels = {
        "ws": ("websocket connect + Xpra hello -> first server packet", "ms", 1000),
        "assets": (
            "HTML5 client page load (index.html + all its scripts, keep-alive)",
            "ms",
            1000,
        ),
        "bulk": ("bulk transfer of the largest asset", "MiB/s", 1),
    }
    for kind, (label, unit, scale) in labels.items():
        if kind not in po:
            continue
        direct = po[kind]["direct_summary"]
        rows.append(proxy_row(label, direct, po[kind]["proxied_summary"], unit, scale))
        if kind == "ws":
            for key, path_label in reversed(WS_PATH_LABELS.items()):
                if po.get(key):
                    rows.append(proxy_row(path_label, direct, po[key]["summary"], unit, scale))
    return "\n\n".join(
        [
            "## 3. Proxy overhead",
            "The same desktop reached directly on its unix socket (probe run inside the "
            "container) and through configurable-http-proxy + jupyter-server-proxy (the same "
            "probe on the host), alternating. Ratios are proxied / direct medians: for latency "
            "above 1 means slower through the proxies; for throughput below 1 means slower.",
            table(["measure", "n", "direct (median)", "proxied (median)", "ratio"], rows),
        ]
    )


def section_peer(results: dict[str, Any]) -> str:
    pe = results.get("peer")
    if not pe:
        return "## 4. Peer: jupyter-remote-desktop-proxy\n\nNot measured."
    rows = []
    for key, label, unit in (
        ("first_frame_s", "ask -> first window drawn", "s"),
        ("reopen_s", "running desktop opened again in a new tab -> drawn", "s"),
        ("pss_mib", "idle PSS with its client connected", "MiB"),
    ):
        if key not in pe:
            continue
        o, p = pe[key]["ours"], pe[key]["peer"]
        rows.append(
            [
                label,
                f"{fmt(o['median'])} {unit} ({fmt(o['min'])}-{fmt(o['max'])}, n={o['n']})",
                f"{fmt(p['median'])} {unit} ({fmt(p['min'])}-{fmt(p['max'])}, n={p['n']})",
                fmt(pe[key]["ratio_ours_to_peer"], 2, "x"),
            ]
        )
    return "\n\n".join(
        [
            "## 4. Peer: jupyter-remote-desktop-proxy (TigerVNC + noVNC)",
            f"Both in one Jupyter server of the same image (`bench/peer.Dockerfile`), both "
            f"running openbox + xterm at {pe['geometry']}, opened in Chromium without "
            "JupyterLab around them. Ours: from the REST call creating the desktop; the peer: "
            "from opening its /desktop/ page (which starts its VNC server).",
            table(["measure", "mini-SWAN (Xpra)", "peer (VNC)", "ours / peer"], rows),
        ]
    )


def section_memory(results: dict[str, Any]) -> str:
    mem = results.get("memory")
    if not mem:
        return "## 5. Memory\n\nNot measured."
    rows = []
    for level in mem["levels"]:
        each = level.get("pss_per_desktop", {})
        rows.append(
            [
                str(level["desktops"]),
                fmt(each.get("median"), 0),
                fmt(level.get("pss_total_mib"), 0),
                fmt(level["container_working_set_mib"], 0),
            ]
        )
    first = mem["levels"][1]["breakdown_first_desktop"] if len(mem["levels"]) > 1 else []
    no_gl = {process_name(p["cmd"]): p["pss_mib"] for p in mem.get("breakdown_no_gl", [])}
    breakdown = [
        [process_name(p["cmd"]), fmt(p["pss_mib"], 1), fmt(no_gl.get(process_name(p["cmd"])), 1)]
        for p in first
    ]
    return "\n\n".join(
        [
            "## 5. Memory of idle desktops (no client connected)",
            f"One server, desktops at {mem['geometry']}; PSS shares libraries fairly between "
            "processes, so desktops' figures add up. The container's working set is what "
            "`docker stats` shows (usage minus inactive file cache), Jupyter server included.",
            table(
                [
                    "desktops",
                    "PSS per desktop MiB (median)",
                    "PSS all desktops MiB",
                    "container MiB",
                ],
                rows,
            ),  # fmt: skip
            f"Each added desktop costs the container about "
            f"{fmt(mem['container_per_added_desktop_mib'], 0)} MiB. One desktop, by process, "
            "with OpenGL (the default) and without (`DesktopApp.gl = False`, in a server of its "
            f"own: {fmt(mem.get('idle_desktop_no_gl_pss_mib'), 0)} MiB in all):",
            table(["process", "PSS MiB", "without GL"], breakdown),
        ]
    )


def section_concurrency(results: dict[str, Any]) -> str:
    co = results.get("concurrency")
    if not co:
        return "## 6. Concurrency\n\nNot measured."
    rows = []
    for level in co["levels"]:
        row = [str(level["users"]), f"{level['succeeded']}/{level['users']}"]
        for step in ("login", "spawn", "desktop", "connect", "total"):
            s = level["steps"][step]
            row.append(f"{fmt(s['median'])} / {fmt(s['p95'])}")
        row.append(
            f"{fmt(level['hub_cpu_percent']['median'], 0)} / "
            f"{fmt(level['hub_cpu_percent']['max'], 0)}"
        )
        row.append(fmt(level["hub_memory_mib"]["max"], 0))
        rows.append(row)
    errors = [e for level in co["levels"] for e in level["errors"]]
    parts = [
        "## 6. Concurrency (REST API and websocket clients, no browsers)",
        "N users start at the same moment: login (a token from the password), spawn (until "
        "the hub says ready), desktop (created and running), connect (websocket through the "
        "proxies, Xpra hello answered). Seconds p50 / p95 per step; hub CPU in % of one core "
        "(median / max over the run); hub memory max.",
        table(
            [
                "users",
                "ok",
                "login",
                "spawn",
                "desktop",
                "connect",
                "total",
                "hub CPU %",
                "hub MiB",
            ],
            rows,
        ),  # fmt: skip
    ]
    if errors:
        parts.append("Failures:\n\n" + "\n".join(f"- {e[:300]}" for e in errors))
    return "\n\n".join(parts)


def section_up(results: dict[str, Any]) -> str:
    up = results.get("up_times")
    if not up:
        return "## 7. `nox -s up` times\n\nNot measured."
    rows = []
    labels = {
        "warm_fresh": "warm: images cached, stack not running",
        "warm_running": "warm: images cached, stack already running",
        "cold": "cold: `--no-cache` build (apt/pip/yarn cache mounts still apply)",
    }
    for key, label in labels.items():
        if key in up:
            v = up[key]
            rows.append([label, fmt(v.get("build_s"), 0), fmt(v.get("up_s"), 0),
                         fmt(v.get("total_s"), 0)])  # fmt: skip
    if "cold" not in up:
        rows.append([labels["cold"], "not run (`--quick` or `--no-cold`)", "", ""])
    return "\n\n".join(
        [
            "## 7. `nox -s up` times",
            "Build (both images) then `docker compose up` until the hub answers through the "
            "proxy, in seconds. The engine is shared, so it is never pruned: the cold build "
            "uses its own image tags and `--no-cache`.",
            table(["case", "build s", "up s", "total s"], rows),
        ]
    )


# The first-frame figures the swarm part shares with the first-frame part: key -> words.
SWARM_FIRST_FRAME = {
    "login_to_lab_s": "first login -> JupyterLab Launcher shown",
    "click_to_first_frame_s": '"Desktop" click -> first window drawn (prepared desktop)',
    "reopen_s": "desktop opened again from Running -> drawn",
    "click_to_first_frame_warm_s": "second desktop -> drawn",
    "click_to_first_frame_app_s": '"Plot browser" application click -> drawn',
}


def median_of(s: dict[str, Any] | None) -> str:
    """'median (min-max, n=N)' of a summary, 'n/a' without samples."""
    if not s or not s.get("n"):
        return "n/a"
    return f"{fmt(s['median'])} ({fmt(s['min'])}-{fmt(s['max'])}, n={s['n']})"


def section_swarm(results: dict[str, Any]) -> str:
    title = "## 8. Swarm cluster: user servers on workers"
    sw = results.get("swarm")
    if not sw:
        return (
            f"{title}\n\nNot run (not a default part: `nox -s bench -- --only swarm`, or "
            "`--only first_frame,concurrency,swarm` for the single-machine figures beside it)."
        )
    spawn = sw.get("spawn") or {}
    n = spawn.get("users")
    alone = concurrency_level(results, n) if n else None
    not_here = "not in this run"

    def single(summary_: dict[str, Any] | None) -> str:
        return median_of(summary_) if summary_ else not_here

    def pct(s: dict[str, Any] | None) -> str:
        if not s or not s.get("n"):
            return not_here if s is None else "n/a"
        return f"{fmt(s['median'])} / {fmt(s['p95'])} (n={s['n']})"

    rows = [
        [f"{n} users at once: spawn until the hub says ready, p50 / p95 s",
         pct(spawn.get("spawn_s")), pct(get(alone, "steps", "spawn"))],
        [f"{n} users at once: login to desktop connected, p50 / p95 s",
         pct(spawn.get("total_s")), pct(get(alone, "steps", "total"))],
        [f"{n} users at once: succeeded", f"{spawn.get('succeeded')}/{spawn.get('attempts')}",
         f"{alone['succeeded']}/{alone['users']}" if alone else not_here],
    ]  # fmt: skip
    ff = sw.get("first_frame") or {}
    for key, label in SWARM_FIRST_FRAME.items():
        rows.append([f"{label}, median (min-max) s", median_of(ff.get(key)),
                     single(get(results, "first_frame", key))])  # fmt: skip
    placed = [
        [f"`{user}`", "spawn", str(node)] for user, node in (spawn.get("nodes") or {}).items()
    ] + [
        [f"`{s['user']}`", "first frame", str(s.get("node")) if s["ok"] else "failed"]
        for s in ff.get("samples", [])
    ]
    steps = sw.get("cluster_up_steps_s") or {}
    parts = [
        title,
        f"The cluster of `nox -s swarm` ({', '.join(f'`{x}`' for x in sw['nodes'])}: "
        "Docker-in-Docker nodes on this machine, sharing its cores and disk), the hub on the "
        "manager with `MINISWAN_ENGINE=swarm`. Up in "
        f"{fmt(sw.get('cluster_up_s'), 0, ' s')} ("
        + ", ".join(f"{name} {fmt(sec, 0)} s" for name, sec in steps.items())
        + "). The same measurements as parts 2 and 6, pointed at its hub; the users at once "
        f"ask for {get(spawn, 'options', 'cores')} core and "
        f"{get(spawn, 'options', 'memory')} GB each. *One machine* is this run's parts 2 and 6 "
        "(the same number of users), where they ran.",
        table(["measure", "Swarm (server on a worker)", "one machine"], rows),
        "Where each server ran (the manager's tasks API):",
        table(["user", "for", "node"], placed),
    ]
    at_once, alone_steps = spawn.get("hub_steps_s") or {}, ff.get("hub_steps_s") or {}
    if at_once or alone_steps:
        step_rows = [
            [name, median_of(at_once.get(name)), median_of(alone_steps.get(name))]
            for name in {**at_once, **alone_steps}
        ]
        parts += [
            "Where a spawn's time goes on the cluster (the hub's spawn steps in the manager's "
            "log, bench/login_profile.py), median (min-max) s; the server's own start follows:",
            table(["step", f"{n} users at once", "first-frame users, one at a time"], step_rows),
        ]
    errors = [e for level in spawn.get("rounds", []) for e in level["errors"]] + [
        f"`{s['user']}`: {s.get('error', '')}" for s in ff.get("samples", []) if not s["ok"]
    ]
    if errors:
        parts.append("Failures:\n\n" + "\n".join(f"- {e[:300]}" for e in errors))
    return "\n\n".join(parts)


def markdown(results: dict[str, Any], plots: list[str]) -> str:
    run = results.get("run", {})
    target_rows = [[t["what"], t["target"], t["measured"], t["verdict"]] for t in targets(results)]
    missed = [t for t in targets(results) if t["verdict"] == "missed"]
    parts = [
        "# mini-SWAN benchmark",
        f"Run {results.get('machine', {}).get('started')} at commit "
        f"`{run.get('git_commit')}`{' (quick)' if run.get('quick') else ''}; "
        f"{fmt(run.get('seconds'), 0)} s. Raw figures: `results.json`.",
        "## Targets",
        table(["what", "target", "measured", "verdict"], target_rows),
    ]
    if missed:
        parts.append(
            "Missed: " + "; ".join(t["what"] for t in missed) + ". What costs the most, "
            "from the measurements below:\n\n" + "\n".join(f"- {f}" for f in findings(results))
        )
    parts += [
        section_machine(results),
        section_login(results),
        section_first_frame(results),
        section_proxy(results),
        section_peer(results),
        section_memory(results),
        section_concurrency(results),
        section_up(results),
        section_swarm(results),
    ]
    if results.get("errors"):
        parts.append(
            "## Errors\n"
            + "\n\n".join(
                f"`{part}`:\n\n```\n{text[-1500:]}\n```"
                for part, text in results["errors"].items()
            )
        )
    if plots:
        parts.append("## Plots\n\n" + "\n\n".join(f"![{p}]({p})" for p in plots))
    return "\n\n".join(parts) + "\n"


def write(results: dict[str, Any], out: Path) -> None:
    """results.json, the plots, then report.md (which links the plots)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str))
    try:
        from . import plots

        names = plots.draw(results, out)
    except ImportError:  # matplotlib missing: the report without plots
        names = []
    except Exception as exc:  # a plot must never cost the report
        results.setdefault("errors", {})["plots"] = f"{type(exc).__name__}: {exc}"
        names = []
    (out / "report.md").write_text(markdown(results, names))
