"""5. Concurrency: N users at the same moment log in (a token from their password), spawn,
create a desktop and connect a websocket client to it (Xpra hello -> first packet), through
the hub's REST API and the proxy, as scripts rather than browsers; with the hub's CPU and
memory sampled meanwhile."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from .common import SPAWN_TIMEOUT_S, Bench, run_host_probe
from .stats import summary

LEVELS = (1, 5, 10, 20)
STEPS = ("login", "spawn", "desktop", "connect", "total")


class HubSampler(threading.Thread):
    """CPU (% of one core) and memory (MiB) of the hub container, once a second."""

    def __init__(self, bench: Bench) -> None:
        super().__init__(daemon=True)
        self.container = bench.docker.containers.get(f"{bench.stack.project}-hub-1")
        self.samples: list[dict[str, float]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        stream = self.container.stats(stream=True, decode=True)
        for stats in stream:
            if self.stop.is_set():
                break
            cpu, pre = stats["cpu_stats"], stats["precpu_stats"]
            used = cpu["cpu_usage"]["total_usage"] - pre.get("cpu_usage", {}).get("total_usage", 0)
            system = cpu.get("system_cpu_usage", 0) - pre.get("system_cpu_usage", 0)
            cores = cpu.get("online_cpus") or 1
            memory = stats["memory_stats"]
            inactive = memory.get("stats", {}).get(
                "total_inactive_file", memory.get("stats", {}).get("inactive_file", 0)
            )
            self.samples.append(
                {
                    "t": time.time(),
                    "cpu_percent": 100 * cores * used / system if system > 0 else 0.0,
                    "memory_mib": (memory.get("usage", 0) - inactive) / 2**20,
                }
            )


def one_user(
    bench: Bench, user: str, start: threading.Barrier, options: dict[str, Any] | None = None
) -> dict[str, Any]:
    hub = bench.hub
    steps: dict[str, float] = {}
    out: dict[str, Any] = {"user": user, "ok": False, "steps_s": steps}
    # The user exists beforehand (as after a first login); "login" is the password check
    # that yields the API token, like the login form's.
    r = hub.request("POST", f"/hub/api/users/{user}", hub.stack.admin_user)
    if r.status_code not in (201, 409):
        out["error"] = f"create user: {r.status_code}"
        return out
    start.wait()
    began = time.perf_counter()
    mark = began
    try:

        def step(name: str) -> None:
            nonlocal mark
            now = time.perf_counter()
            steps[name] = now - mark
            mark = now

        hub.token(user)
        step("login")
        r = hub.request("POST", f"/hub/api/users/{user}/server", as_user=user, json=options or {})
        if r.status_code not in (201, 202):
            raise RuntimeError(f"spawn request: {r.status_code} {r.text[:200]}")
        deadline = time.monotonic() + SPAWN_TIMEOUT_S
        while not ((s := hub.server(user)) and s["ready"]):
            if time.monotonic() > deadline:
                raise TimeoutError("server not ready")
            time.sleep(0.25)
        step("spawn")
        r = bench.user_api(user, "POST", "desktops/api/desktops", json={})
        r.raise_for_status()
        desktop = r.json()
        deadline = time.monotonic() + 60
        while (
            bench.user_api(user, "GET", f"desktops/api/desktops/{desktop['id']}").json()["state"]
            != "running"
        ):
            if time.monotonic() > deadline:
                raise TimeoutError("desktop not running")
            time.sleep(0.1)
        step("desktop")
        ws = run_host_probe("ws", bench.stack.url + desktop["url"], hub.token(user), 1)
        step("connect")
        out["ws"] = ws["samples"][0]
        steps["total"] = time.perf_counter() - began
        out["ok"] = True
    except (requests.RequestException, RuntimeError, TimeoutError, AssertionError) as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"[:500]
        out["failed_after_s"] = time.perf_counter() - began
    return out


def run_level(
    bench: Bench,
    n: int,
    options: dict[str, Any] | None = None,
    before_stop: Callable[[list[str]], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """N users at once, with the spawn page's `options` (default: its defaults); what
    `before_stop` says about the users while their servers still run (e.g. where each runs)
    is added to the level."""
    users = [bench.new_user(f"c{n}u") for _ in range(n)]
    barrier = threading.Barrier(n)
    sampler = HubSampler(bench)
    sampler.start()
    started = time.time()
    with ThreadPoolExecutor(max_workers=n) as pool:
        results = list(pool.map(lambda u: one_user(bench, u, barrier, options), users))
    ended = time.time()
    time.sleep(2)
    sampler.stop.set()
    ok = [r for r in results if r["ok"]]
    window = [s for s in sampler.samples if started <= s["t"] <= ended + 2]
    level = {
        "users": n,
        "succeeded": len(ok),
        "failed": n - len(ok),
        "errors": [r["error"] for r in results if not r["ok"]],
        "steps": {s: summary([r["steps_s"][s] for r in ok]) for s in STEPS},
        "hub_cpu_percent": summary([s["cpu_percent"] for s in window]),
        "hub_memory_mib": summary([s["memory_mib"] for s in window]),
        "wall_s": ended - started,
        "results": results,
    }
    total = level["steps"]["total"]
    bench.log(
        f"concurrency {n}: {len(ok)}/{n} ok, total p50 {total['median'] or 0:.1f} s "
        f"p95 {total['p95'] or 0:.1f} s, hub CPU max {level['hub_cpu_percent']['max'] or 0:.0f}%"
    )
    if before_stop is not None:
        level.update(before_stop(users))
    # Stop them all at once, as they started (the hub stops servers concurrently).
    with ThreadPoolExecutor(max_workers=n) as pool:
        list(pool.map(lambda u: bench.stop_all([u]), users))
    return level


def run(bench: Bench) -> dict[str, Any]:
    levels = bench.user_levels or ((1, 3) if bench.quick else LEVELS)
    return {"levels": [run_level(bench, n) for n in levels]}
