"""Memory of process groups in a container, from bench/probe.py's /proc snapshot (the
grouping is pure and unit-tested in tests/test_bench.py)."""

from __future__ import annotations

from typing import Any

MIB = 1024


def closure(processes: list[dict[str, Any]], roots: set[int]) -> set[int]:
    """`roots`, their descendants, and every process in a session one of them leads (Xvfb
    runs in xpra's session; VNC's X server in its own): the whole desktop."""
    members = set(roots)
    changed = True
    while changed:
        changed = False
        for p in processes:
            if p["pid"] not in members and (p["ppid"] in members or p["sid"] in members):
                members.add(p["pid"])
                changed = True
    return members


def group_memory(
    snapshot: dict[str, Any], roots: list[int], match: tuple[str, ...] = ()
) -> dict[str, Any]:
    """PSS (MiB) of the group rooted at `roots` plus processes whose command contains any of
    `match`, with each member's share; and the container's working set."""
    processes = snapshot["processes"]
    seeds = set(roots) | {p["pid"] for p in processes if any(m in p["cmd"] for m in match)}
    members = closure(processes, seeds)
    chosen = [p for p in processes if p["pid"] in members and "probe.py" not in p["cmd"]]
    return {
        "pss_mib": sum(p["pss_kb"] for p in chosen) / MIB,
        "rss_mib": sum(p["rss_kb"] for p in chosen) / MIB,
        "processes": [
            {"pid": p["pid"], "cmd": p["cmd"][:80], "pss_mib": p["pss_kb"] / MIB}
            for p in sorted(chosen, key=lambda p: -p["pss_kb"])
        ],
        "container_working_set_mib": snapshot["cgroup"]["working_set_bytes"] / 2**20,
    }


def group_pss(container: Any, roots: list[int], match: tuple[str, ...] = ()) -> dict[str, Any]:
    from .common import run_probe  # Docker: imported here so the pure parts need none

    return group_memory(run_probe(container, "pss"), roots, match)
