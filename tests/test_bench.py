"""The benchmark's pure parts (bench/): statistics, grouping processes into desktops, the
targets' verdicts and the Markdown report. Results here are made up by hand, so the tests
need no Docker, browser or stack."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import processes, report, stats, xpra_log


def test_percentiles_interpolate_between_ranks_like_numpy() -> None:
    values = [5.0, 1.0, 3.0, 2.0, 4.0]
    assert stats.percentile(values, 50) == 3.0
    assert stats.percentile(values, 0) == 1.0
    assert stats.percentile(values, 100) == 5.0
    assert stats.percentile(values, 95) == pytest.approx(4.8)
    assert stats.percentile([], 50) is None
    with pytest.raises(ValueError, match="0..100"):
        stats.percentile(values, 101)


def test_summary_and_ratio_handle_missing_samples() -> None:
    s = stats.summary([2, 4, 9])
    assert (s["n"], s["median"], s["min"], s["max"]) == (3, 4.0, 2.0, 9.0)
    assert stats.summary([])["median"] is None
    assert stats.ratio(3.0, 2.0) == 1.5
    assert stats.ratio(None, 2.0) is None and stats.ratio(1.0, 0.0) is None


def test_verdicts_compare_with_the_target() -> None:
    assert stats.verdict(1.2, 1.5) == "met"
    assert stats.verdict(1.5, 1.5) == "missed"
    assert stats.verdict(None, 1.5) == "not measured"
    assert stats.verdict(10, 10, lower_is_better=False) == "met"


SNAPSHOT = {
    "processes": [
        {"pid": 1, "ppid": 0, "sid": 1, "pss_kb": 100, "rss_kb": 100, "cmd": "tini"},
        {"pid": 7, "ppid": 1, "sid": 1, "pss_kb": 90_000, "rss_kb": 1, "cmd": "jupyter"},
        {"pid": 11, "ppid": 7, "sid": 11, "pss_kb": 102_400, "rss_kb": 1, "cmd": "xpra"},
        # Xvfb: a child of xpra's in its session; the xterm's shell: a child of a child.
        {"pid": 14, "ppid": 11, "sid": 11, "pss_kb": 40_960, "rss_kb": 1, "cmd": "Xvfb"},
        {"pid": 21, "ppid": 11, "sid": 11, "pss_kb": 1024, "rss_kb": 1, "cmd": "xterm"},
        {"pid": 38, "ppid": 21, "sid": 38, "pss_kb": 1024, "rss_kb": 1, "cmd": "bash"},
        # Another desktop: not ours.
        {"pid": 50, "ppid": 7, "sid": 50, "pss_kb": 99_999, "rss_kb": 1, "cmd": "xpra"},
        {"pid": 60, "ppid": 7, "sid": 1, "pss_kb": 5000, "rss_kb": 1, "cmd": "sh -c vncserver"},
        {"pid": 61, "ppid": 60, "sid": 61, "pss_kb": 2048, "rss_kb": 1, "cmd": "Xtigervnc"},
    ],
    "cgroup": {"working_set_bytes": 300 * 2**20},
}


def test_a_desktop_is_its_process_tree_and_session() -> None:
    mem = processes.group_memory(SNAPSHOT, roots=[11])
    assert {p["pid"] for p in mem["processes"]} == {11, 14, 21, 38}
    assert mem["pss_mib"] == pytest.approx((102_400 + 40_960 + 1024 + 1024) / 1024)
    assert mem["container_working_set_mib"] == 300


def test_the_peer_is_found_by_its_commands() -> None:
    mem = processes.group_memory(SNAPSHOT, roots=[], match=("vncserver",))
    assert {p["pid"] for p in mem["processes"]} == {60, 61}  # never pid 1's session


def test_xpra_log_marks_are_read_in_utc() -> None:
    log = (
        "2026-11-26 15:13:31,208 created unix domain socket '/tmp/x/xpra.sock'\n"
        "Openbox-Message: not a timestamped line\n"
        "2026-11-26 15:13:32,605 xpra is ready.\n"
        "2026-11-26 15:13:41,099 Handshake complete; enabling connection\n"
    )
    marks = xpra_log.marks(log)
    assert marks["xpra_ready"] - marks["socket_created"] == pytest.approx(1.397)
    assert marks["handshake"] == pytest.approx(1795706021.099)
    assert "first_window" not in marks


def results(first_frame_s: float, failures: int) -> dict:
    phases = {
        "click": 0.0,
        "xpra_xpra_ready": 1.0,
        "client_assets_loaded": 3.5,
        "first_frame": 4.0,
    }
    return {
        "machine": {"cores": 2, "loadavg_at_start": [1.0, 1.0, 1.0]},
        "run": {"quick": True, "git_commit": "abc1234", "seconds": 60},
        "load": {"first_frame": {"before": [1, 1, 1], "after": [2, 2, 2], "seconds": 10}},
        "errors": {"peer": "Traceback: the peer image did not build"},
        "first_frame": {
            "samples": [{"user": "u1", "ok": True}, {"user": "u2", "ok": False, "error": "boom"}],
            "login_to_lab_s": stats.summary([10.0]),
            "click_to_first_frame_s": stats.summary([first_frame_s]),
            "phases_after_click_s": {k: stats.summary([v]) for k, v in phases.items()},
        },
        "login": {
            "samples": [
                {"user": "lj1", "session": "jupyterlab", "kind": "first", "ok": True},
                {"user": "ld1", "session": "desktop", "kind": "first", "ok": False,
                 "error": "TimeoutError: no window drawn"},
            ],
            "jupyterlab_first": {"seconds": stats.summary([6.5]), "failed": 0,
                                 "phases_s": {"login_submit": stats.summary([0.0]),
                                              "hub_options": stats.summary([0.4]),
                                              "lab_ready": stats.summary([6.5])}},
            "jupyterlab_returning": {"seconds": stats.summary([5.5]), "failed": 0,
                                     "phases_s": {"login_submit": stats.summary([0.0]),
                                                  "server_first_log": stats.summary([2.0]),
                                                  "lab_ready": stats.summary([5.5])}},
            "desktop_first": {"seconds": stats.summary([]), "failed": 1, "phases_s": {}},
            "desktop_returning": {"seconds": stats.summary([4.0]), "failed": 0,
                                  "phases_s": {}},
        },
        "concurrency": {
            "levels": [
                {
                    "users": 10,
                    "succeeded": 10 - failures,
                    "failed": failures,
                    "errors": ["TimeoutError: server not ready"] * failures,
                    "steps": {s: stats.summary([1.0]) for s in ("login", "spawn", "desktop",
                                                                 "connect", "total")},
                    "hub_cpu_percent": stats.summary([50.0]),
                    "hub_memory_mib": stats.summary([130.0]),
                    "results": [],
                }
            ]
        },
    }  # fmt: skip


FIRST_FRAME = "Desktop click -> first window drawn (median)"


def test_targets_say_met_missed_or_not_measured() -> None:
    verdicts = {t["what"]: t["verdict"] for t in report.targets(results(0.8, 0))}
    assert verdicts[FIRST_FRAME] == "met"
    assert verdicts["10 users at once: failures"] == "met"
    assert verdicts["idle desktop PSS (Xpra + Xvfb + openbox + xterm)"] == "not measured"
    # Login: 5.5 s misses the returning user's 5 s, 6.5 s meets the first login's 7 s.
    assert verdicts["login -> JupyterLab Launcher, returning user (median)"] == "missed"
    assert verdicts["login -> JupyterLab Launcher, a user's first login (median)"] == "met"
    assert verdicts["desktop-only: login -> desktop drawn, returning user (median)"] == "met"
    assert verdicts["desktop-only: login -> desktop drawn, first login (median)"] == (
        "not measured"
    )
    assert verdicts["10 users at once: spawn p95"] == "met"
    assert verdicts["20 users at once: failures"] == "not measured"
    verdicts = {t["what"]: t["verdict"] for t in report.targets(results(1.2, 2))}
    assert verdicts[FIRST_FRAME] == "missed"
    assert verdicts["10 users at once: failures"] == "missed"


def test_the_page_load_is_met_by_a_page_not_served_through_the_desktops_proxy() -> None:
    desktop = "http://hub/user/u/desktops/d1/"
    data = results(0.8, 0)
    page_load = "HTML5 client page load, as served / direct"

    def row(served: str, ratio: float) -> dict:
        data["proxy_overhead"] = {
            "proxied_target": desktop,
            "proxied_targets": {"assets": served},
            "assets": {"ratio_proxied_to_direct": ratio},
        }
        return next(t for t in report.targets(data) if t["what"] == page_load)

    assert row(desktop, 1.2)["verdict"] == "met"
    assert row(desktop, 2.1)["verdict"] == "missed"
    # Served by the Jupyter server from its own copy: the other way to meet it.
    served = row("http://hub/user/u/desktops/client/abc/", 2.1)
    assert served["verdict"].startswith("met (") and served["measured"] == "2.10x"


def test_the_websocket_hello_is_split_between_the_hops() -> None:
    data = results(0.8, 0)
    ws = {
        "direct_summary": stats.summary([0.010]),
        "proxied_summary": stats.summary([0.016]),
        "ratio_proxied_to_direct": 1.6,
    }
    data["proxy_overhead"] = {"ws": ws}
    # Without the server-only path there is no split to tell.
    assert report.ws_split(data) is None
    assert not any(line.startswith("Websocket hello") for line in report.findings(data))
    # Results from before the proxy-address path: the port forwarding counts in the proxy's.
    data["proxy_overhead"]["server_only"] = {"summary": stats.summary([0.013])}
    split = report.ws_split(data)
    assert [name for name, _ in split] == [
        "configurable-http-proxy",
        "the single-user server's proxy",
        "direct",
    ]
    assert [round(seconds * 1000, 6) for _, seconds in split] == [3.0, 3.0, 10.0]
    # Every hop: outermost first, each the difference to the path inside it.
    data["proxy_overhead"]["proxy_address"] = {"summary": stats.summary([0.0145])}
    split = report.ws_split(data)
    assert [(name, round(seconds * 1000, 6)) for name, seconds in split] == [
        ("the engine's port forwarding to the published port", 1.5),
        ("configurable-http-proxy", 1.5),
        ("the single-user server's proxy", 3.0),
        ("direct", 10.0),
    ]
    line = next(x for x in report.findings(data) if x.startswith("Websocket hello"))
    assert "10.0 ms on Xpra's socket" in line
    assert line.endswith(
        "the single-user server's proxy 3.0 ms, configurable-http-proxy 1.5 ms, the engine's "
        "port forwarding to the published port 1.5 ms."
    )
    section = report.section_proxy(data)
    rows = [r for r in section.splitlines() if r.startswith("| the same, through")]
    assert len(rows) == 2
    assert "configurable-http-proxy at its container's address" in rows[0]
    assert "| 1.45x |" in rows[0]
    assert "single-user server alone" in rows[1] and "| 1.30x |" in rows[1]


def test_the_memory_finding_says_what_gl_costs_and_what_a_further_desktop_adds() -> None:
    data = results(0.8, 0)
    first = [
        {"cmd": "Xvfb-for-Xpra-S18 +extension GLX -screen 0 2560x1600x24+32", "pss_mib": 82.4},
        {"cmd": "/usr/bin/python3 /usr/bin/xpra start-desktop --daemon=no", "pss_mib": 44.2},
        {"cmd": "openbox --startup xterm", "pss_mib": 14.4},
    ]
    no_gl = [
        {"cmd": "/usr/bin/python3 /usr/bin/xpra start-desktop --daemon=no", "pss_mib": 44.1},
        {"cmd": "Xvfb-for-Xpra-S11 -extension GLX -screen 0 2560x1600x24+32", "pss_mib": 28.6},
    ]
    data["memory"] = {
        "levels": [
            {"desktops": 0, "container_working_set_mib": 71.0},
            {"desktops": 1, "breakdown_first_desktop": first},
        ],
        "breakdown_no_gl": no_gl,
        "idle_desktop_no_gl_pss_mib": 96.3,
        "further_desktop_pss_mib": 71.6,
    }
    line = next(x for x in report.findings(data) if x.startswith("Memory"))
    assert line == (
        "Memory: Xvfb 82 MiB (29 without GL), xpra 44 MiB (44 without GL) of one idle "
        "desktop's PSS; 96 MiB in all without GL; each further desktop adds 72 MiB (section 5)."
    )
    # A run without the GL-off desktop or further desktops says only what it measured.
    del data["memory"]["breakdown_no_gl"], data["memory"]["idle_desktop_no_gl_pss_mib"]
    data["memory"]["further_desktop_pss_mib"] = None
    line = next(x for x in report.findings(data) if x.startswith("Memory"))
    assert line == "Memory: Xvfb 82 MiB, xpra 44 MiB of one idle desktop's PSS."


def test_the_longest_interval_is_named_first() -> None:
    phases = results(4.0, 0)["first_frame"]["phases_after_click_s"]
    assert report.costs(phases)[0] == ("xpra_xpra_ready", "client_assets_loaded", 2.5)


def test_markdown_report_has_targets_failures_errors_and_plots() -> None:
    text = report.markdown(results(4.0, 2), ["memory.png"])
    assert f"| {FIRST_FRAME} | < 1.00 s | 4.00 s | missed |" in text
    assert f"Missed: {FIRST_FRAME}" in text
    assert "**2.50 s** from *xpra says ready* to *last client script/stylesheet loaded*" in text
    assert "1 sample(s) failed" in text and "TimeoutError: server not ready" in text
    assert "the peer image did not build" in text
    assert "## 4. Peer: jupyter-remote-desktop-proxy\n\nNot measured." in text
    # The login section: its figures, failures, and the profile of a returning login.
    assert "| login -> JupyterLab Launcher, returning user | 1 | 5.50 |" in text
    assert "`ld1` (desktop, first): TimeoutError: no window drawn" in text
    assert (
        "| container: session wrapper done, the server's Python logs | `server_first_log` |"
        in text
    )
    assert "**3.50 s** from *container: session wrapper done" in text
    assert "![memory.png](memory.png)" in text


def test_write_leaves_json_and_markdown_side_by_side(tmp_path: Path) -> None:
    data = results(1.0, 0)
    report.write(data, tmp_path)
    assert json.loads((tmp_path / "results.json").read_text())["run"]["git_commit"] == "abc1234"
    assert (tmp_path / "report.md").read_text().startswith("# mini-SWAN benchmark")


def test_process_names_are_short() -> None:
    assert (
        report.process_name("/usr/bin/python3 /usr/bin/xpra start-desktop --daemon=no") == "xpra"
    )
    assert report.process_name("Xvfb-for-Xpra-S18 +extension GLX") == "Xvfb"
    assert report.process_name("/usr/bin/Xtigervnc :1 -localhost=1") == "Xtigervnc"


def test_login_profile_reads_the_hubs_steps_dockers_start_and_the_servers_log() -> None:
    from bench import login_profile

    hub = "[I 2026-12-02 05:20:{} JupyterHub spawner:90] spawn step {}"
    hub_log = "\n".join(
        [
            hub.format("00.100", "bob +0.000 Checking your choices"),
            hub.format("01.000", "alice +0.000 Checking your choices against x"),
            hub.format("01.250", "alice +0.250 Preparing your EOS home"),
            hub.format("03.500", "alice +2.500 done"),
            "[W 2026-12-02 05:20:04.000 JupyterHub base:1] unrelated",
        ]
    )
    since = login_profile.docker_started_at("2026-12-02T05:20:00.500000000Z")
    assert since is not None
    marks = login_profile.hub_marks(hub_log, "alice", since)
    assert list(marks) == ["hub_options", "hub_eos_home", "hub_spawn_done"]
    assert round(marks["hub_spawn_done"] - marks["hub_options"], 3) == 2.5
    # Another user's lines and lines before the login are left out.
    assert login_profile.hub_marks(hub_log, "bob", since) == {}

    server_log = "\n".join(
        [
            "miniswan-session: stack LCG_105",
            "[I 2026-12-02 05:20:02.000 ServerApp] Extension package miniswan_desktop took 0.1s",
            "[I 2026-12-02 05:20:03.000 ServerApp] Jupyter Server 2.17.0 is running at:",
        ]
    )
    server = login_profile.server_log_marks(server_log)
    assert server["server_listening"] - server["server_first_log"] == 1.0
    assert login_profile.docker_started_at("not a time") is None
    assert set(login_profile.PHASES) >= set(marks) | set(server) | {"lab_ready"}


def test_what_happened_before_the_click_is_no_step_of_the_wait() -> None:
    """A prepared desktop started long before the click: that gap is not a cost."""
    phases = {
        "xpra_xpra_ready": {"median": -30.0},
        "click": {"median": 0.0},
        "client_page_requested": {"median": 0.1},
        "first_frame": {"median": 0.9},
    }
    assert report.costs(phases) == [
        ("client_page_requested", "first_frame", 0.8),
        ("click", "client_page_requested", 0.1),
    ]


def test_login_samples_are_grouped_by_session_and_kind() -> None:
    from bench import login_profile as login

    def sample(session: str, kind: str, seconds: float | None) -> dict:
        if seconds is None:
            return {"user": "u", "session": session, "kind": kind, "ok": False, "error": "x"}
        marks = {"login_submit": 0.0, login.end_mark(session): seconds}
        return {"user": "u", "session": session, "kind": kind, "ok": True,
                "seconds": seconds, "marks": marks}  # fmt: skip

    out = login.summarise(
        [
            sample("jupyterlab", "first", 7.0),
            sample("jupyterlab", "returning", 4.0),
            sample("jupyterlab", "returning", 6.0),
            sample("desktop", "first", None),
        ]
    )
    assert out["jupyterlab_returning"]["seconds"]["median"] == 5.0
    assert out["jupyterlab_returning"]["phases_s"]["lab_ready"]["max"] == 6.0
    assert out["jupyterlab_first"]["seconds"]["n"] == 1
    assert (out["desktop_first"]["failed"], out["desktop_first"]["seconds"]["n"]) == (1, 0)
    assert out["desktop_returning"]["phases_s"] == {}
