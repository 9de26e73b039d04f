"""PNG plots of a run (matplotlib, no display): latency distributions and memory vs desktops."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _box(ax: Any, data: dict[str, list[float]], ylabel: str, title: str) -> None:
    labels = [k for k, v in data.items() if v]
    if not labels:
        ax.set_visible(False)
        return
    ax.boxplot([data[k] for k in labels], tick_labels=labels, showfliers=False)
    for i, k in enumerate(labels, start=1):  # every sample as a dot over its box
        ax.plot([i] * len(data[k]), data[k], "o", alpha=0.5, markersize=4)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)


def _save(fig: Any, out: Path, name: str) -> str:
    """Write the figure as out/name (PNG), free it, and return the name for the report."""
    fig.tight_layout()
    fig.savefig(out / name, dpi=90)
    plt.close(fig)
    return name


def latency(results: dict[str, Any], out: Path) -> str | None:
    ff = results.get("first_frame", {}).get("samples", [])
    pe = results.get("peer", {}).get("samples", [])
    data = {
        "login->lab": [s["login_to_lab_s"] for s in ff if "login_to_lab_s" in s],
        "click->frame": [s["click_to_first_frame_s"] for s in ff if "click_to_first_frame_s" in s],
        "ours (direct)": [
            s["ours"]["first_frame_s"] for s in pe if "first_frame_s" in s.get("ours", {})
        ],
        "peer VNC": [
            s["peer"]["first_frame_s"] for s in pe if "first_frame_s" in s.get("peer", {})
        ],
    }
    po = results.get("proxy_overhead", {})
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    _box(axes[0], data, "seconds", "Time to JupyterLab and to the first frame")
    proxy: dict[str, list[float]] = {}
    for kind, key in (("ws", "total_s"), ("assets", "total_s")):
        if kind not in po:
            continue
        for path in ("direct", "proxied"):
            block = po[kind][path]
            items = block.get("samples") or block.get("rounds") or []
            proxy[f"{kind}\n{path}"] = [1000 * item[key] for item in items]
    _box(axes[1], proxy, "milliseconds", "Direct socket vs through the proxies")
    if not any(data.values()) and not proxy:
        plt.close(fig)
        return None
    return _save(fig, out, "latency.png")


def phases(results: dict[str, Any], out: Path) -> str | None:
    ph = results.get("first_frame", {}).get("phases_after_click_s", {})
    items = sorted(
        ((k, v["median"]) for k, v in ph.items() if v.get("median") is not None),
        key=lambda kv: kv[1],
    )
    if not items:
        return None
    fig, ax = plt.subplots(figsize=(9, 4.5))
    names = [k for k, _ in items]
    ax.barh(names, [v for _, v in items], color="tab:blue")
    ax.invert_yaxis()
    ax.set_xlabel("seconds after the click (median)")
    ax.set_title("Desktop click to first frame: when each phase is reached")
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, out, "first-frame-phases.png")


def memory(results: dict[str, Any], out: Path) -> str | None:
    levels = results.get("memory", {}).get("levels", [])
    if not levels:
        return None
    fig, ax = plt.subplots(figsize=(7, 4.5))
    xs = [level["desktops"] for level in levels]
    ax.plot(
        xs,
        [level["container_working_set_mib"] for level in levels],
        "o-",
        label="container working set",
    )
    with_desktops = [level for level in levels if level["desktops"]]
    ax.plot(
        [level["desktops"] for level in with_desktops],
        [level["pss_total_mib"] for level in with_desktops],
        "s-",
        label="PSS of all desktops",
    )
    ax.plot(
        [level["desktops"] for level in with_desktops],
        [level["pss_per_desktop"]["median"] for level in with_desktops],
        "^-",
        label="PSS per desktop (median)",
    )
    ax.axhline(
        120, color="grey", linestyle="--", linewidth=1, label="target per desktop (120 MiB)"
    )
    ax.set_xlabel("idle desktops in one server")
    ax.set_ylabel("MiB")
    ax.set_xticks(xs)
    ax.set_title("Memory vs desktops")
    ax.legend()
    ax.grid(alpha=0.3)
    return _save(fig, out, "memory.png")


def concurrency(results: dict[str, Any], out: Path) -> str | None:
    levels = results.get("concurrency", {}).get("levels", [])
    if not levels:
        return None
    fig, ax = plt.subplots(figsize=(7, 4.5))
    data = {
        f"{level['users']} user(s)": [r["steps_s"]["total"] for r in level["results"] if r["ok"]]
        for level in levels
    }
    _box(ax, data, "seconds", "Login + spawn + desktop + connect, per user")
    return _save(fig, out, "concurrency.png")


def draw(results: dict[str, Any], out: Path) -> list[str]:
    names = [fn(results, out) for fn in (latency, phases, memory, concurrency)]
    return [n for n in names if n]
