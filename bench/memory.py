"""4. Memory of idle desktops: PSS of each desktop (Xpra + Xvfb + openbox + xterm) and the
container's working set, with 0, 1, 2, 4 and 8 desktops in one server. Run in a user image
started directly (bench/direct.py), because the hub's servers allow 4 desktops and the
benchmark must not change that; no client is connected (a connected client adds Xpra's
encoder state: see the peer section for that figure)."""

from __future__ import annotations

import time
from typing import Any

from .common import Bench
from .direct import direct_server
from .processes import group_pss
from .stats import summary

COUNTS = (1, 2, 4, 8)
GEOMETRY = "1280x800"  # the extension's default screen


def run(bench: Bench) -> dict[str, Any]:
    counts = bench.desktop_counts or ((1, 2, 4) if bench.quick else COUNTS)
    settle = 3 if bench.quick else 10
    levels = []
    with direct_server(bench, bench.user_image, "memory") as server:
        time.sleep(settle)
        baseline = group_pss(server.container, [])
        levels.append(
            {"desktops": 0, "container_working_set_mib": baseline["container_working_set_mib"]}
        )
        desktops: list[dict[str, Any]] = []
        for count in counts:
            while len(desktops) < count:
                desktops.append(server.start_desktop(GEOMETRY))
            for desktop in desktops:
                server.wait_running(desktop["id"])
            time.sleep(settle)  # let each session settle after its start
            each = [group_pss(server.container, [d["pid"]]) for d in desktops]
            pss = [e["pss_mib"] for e in each]
            level = {
                "desktops": count,
                "pss_per_desktop_mib": pss,
                "pss_per_desktop": summary(pss),
                "pss_total_mib": sum(pss),
                "container_working_set_mib": each[-1]["container_working_set_mib"],
                "breakdown_first_desktop": each[0]["processes"],
            }
            levels.append(level)
            bench.log(
                f"memory: {count} desktop(s): {level['pss_per_desktop']['median']:.0f} MiB PSS "
                f"each, container {level['container_working_set_mib']:.0f} MiB"
            )
    # The same desktop without OpenGL (DesktopApp.gl off: no GLX in Xvfb), what the
    # setting trades (docs/desktops.md).
    with direct_server(
        bench, bench.user_image, "memory-nogl", ("--DesktopApp.gl=False",)
    ) as server:
        time.sleep(settle)
        desktop = server.start_desktop(GEOMETRY)
        server.wait_running(desktop["id"])
        time.sleep(settle)
        no_gl = group_pss(server.container, [desktop["pid"]])
        bench.log(f"memory: 1 desktop without GL: {no_gl['pss_mib']:.0f} MiB PSS")
    one = next(level for level in levels if level["desktops"] == 1)
    most = levels[-1]
    # What each desktop after the first adds: shared pages (the Python interpreter, Mesa,
    # GTK) are counted once more in the first desktop's PSS than in the others'.
    further = (
        (most["pss_total_mib"] - one["pss_total_mib"]) / (most["desktops"] - 1)
        if most["desktops"] > 1
        else None
    )
    return {
        "geometry": GEOMETRY,
        "levels": levels,
        "idle_desktop_pss_mib": one["pss_per_desktop"]["median"],
        "idle_desktop_no_gl_pss_mib": no_gl["pss_mib"],
        "breakdown_no_gl": no_gl["processes"],
        "further_desktop_pss_mib": further,
        "container_per_added_desktop_mib": (
            (levels[-1]["container_working_set_mib"] - levels[0]["container_working_set_mib"])
            / levels[-1]["desktops"]
        ),
    }
