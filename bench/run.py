"""Orchestrate one benchmark run: start the stack (timed: the warm `nox -s up`), run each
measurement with the machine's load noted before and after, write the report, tear down.

    python -m bench [--quick] [--only first_frame,peer] [--keep-stack | --reuse-stack]

The `swarm` part (bench/swarm.py) runs only when named (`--only swarm`, or beside others):
it brings a Swarm cluster up first, minutes before it measures anything. Alone, it needs no
single-machine stack, and none is started.

A measurement that breaks is recorded as an error in the report; the run goes on, and the
exit status is 0 unless the stack itself could not be started.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

from tools.stack import Stack

from . import (
    concurrency,
    first_frame,
    login,
    memory,
    peer,
    proxy_overhead,
    report,
    swarm,
    up_times,
)
from .common import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    Bench,
    StackInfo,
    loadavg,
    machine_facts,
    settings_from_env,
)

PARTS = (
    "login", "first_frame", "proxy_overhead", "peer", "memory", "concurrency", "up_times",
    "swarm",
)  # fmt: skip
DEFAULT_PARTS = tuple(p for p in PARTS if p != "swarm")
# Parts that measure a cluster of their own, not the run's single-machine stack.
OWN_STACK_PARTS = {"swarm"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, no cold build")
    parser.add_argument(
        "--only",
        default=",".join(DEFAULT_PARTS),
        help=f"parts, of {','.join(PARTS)} (default: all but swarm)",
    )
    parser.add_argument("--out", type=Path, help="folder (default artifacts/bench/<time>)")
    parser.add_argument(
        "--project", default=os.environ.get("MINISWAN_BENCH_PROJECT", "miniswan-bench")
    )
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("MINISWAN_BENCH_PORT", "8020"))
    )
    parser.add_argument(
        "--cold-port",
        type=int,
        default=int(os.environ.get("MINISWAN_BENCH_COLD_PORT", "8021")),
        help="port of the second stack the cold `up` starts",
    )
    parser.add_argument(
        "--no-cold",
        action="store_true",
        help="skip the cold (--no-cache) build, the longest part (10-20 min on 2 busy cores)",
    )
    parser.add_argument(
        "--no-build",
        action="store_true",
        help="start the stack from the images as they are (no build; e.g. while another "
        "build holds the engine)",
    )
    parser.add_argument("--users", help="concurrency levels, e.g. 1,5,10 (default by mode)")
    parser.add_argument("--desktops", help="desktop counts for memory, e.g. 1,2,4,8")
    parser.add_argument("--keep-stack", action="store_true", help="leave the stack running")
    parser.add_argument("--reuse-stack", action="store_true", help="use the running stack")
    args = parser.parse_args(argv)
    unknown = set(args.only.split(",")) - set(PARTS)
    if unknown:
        parser.error(
            f"unknown part(s) {', '.join(sorted(unknown))}; choose from {', '.join(PARTS)}"
        )
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = args.out or ROOT / "artifacts" / "bench" / stamp
    out.mkdir(parents=True, exist_ok=True)
    stack = Stack(project=args.project, port=args.port)
    bench = Bench(
        stack=StackInfo(url=stack.url, project=stack.project, **settings_from_env()),
        out=out,
        quick=args.quick,
        hub_image=os.environ.get("MINISWAN_HUB_IMAGE", "miniswan/hub:dev"),
        user_image=os.environ.get("MINISWAN_USER_IMAGE", "miniswan/user:dev"),
        peer_image=os.environ.get("MINISWAN_PEER_IMAGE", "miniswan/peer:bench"),
    )
    if args.users:
        bench.user_levels = tuple(int(n) for n in args.users.split(","))
    if args.desktops:
        bench.desktop_counts = tuple(int(n) for n in args.desktops.split(","))
    parts = [p for p in PARTS if p in args.only.split(",")]
    results: dict[str, Any] = {
        "machine": machine_facts(),
        "run": {
            "quick": args.quick,
            "cold_build": not (args.quick or args.no_cold),
            "built": not args.no_build,
            "parts": parts,
            "project": stack.project,
            "url": stack.url,
            "images": {"hub": bench.hub_image, "user": bench.user_image, "peer": bench.peer_image},
            "git_commit": os.popen(f"git -C {ROOT} rev-parse --short HEAD").read().strip(),
        },
        "load": {},
        "errors": {},
    }
    run_started = time.monotonic()
    bench.log(f"results in {out}")
    # The single-machine stack, unless only parts with a cluster of their own run.
    own_stack = not (args.reuse_stack or set(parts) <= OWN_STACK_PARTS)
    if own_stack:
        bench.log("starting the stack (the warm `nox -s up`)")
        results["up_times"] = {
            "warm_fresh": up_times.warm_start(stack, out / "build.log", build=not args.no_build)
        }
    try:
        if not set(parts) <= OWN_STACK_PARTS:
            bench.hub.token(bench.stack.admin_user)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            steps: dict[str, Callable[[], Any]] = {
                "login": lambda: login.run(bench, browser),
                "first_frame": lambda: first_frame.run(bench, browser),
                "proxy_overhead": lambda: proxy_overhead.run(bench),
                "peer": lambda: run_peer(bench, browser),
                "memory": lambda: memory.run(bench),
                "concurrency": lambda: concurrency.run(bench),
                "up_times": lambda: run_up_times(bench, stack, args, results),
                "swarm": lambda: swarm.run(bench, browser),
            }
            for part in parts:
                measure(bench, results, part, steps[part])
            browser.close()
    finally:
        results["run"]["seconds"] = time.monotonic() - run_started
        results["machine"]["loadavg_at_end"] = loadavg()
        (out / "results.json").write_text(json.dumps(results, indent=1, default=str))
        if own_stack and not args.keep_stack:
            stack.collect_logs(out / "logs")
            bench.log("tearing the stack down")
            stack.down(volumes=True)
    report.write(results, out)
    bench.log(f"report: {out / 'report.md'}")
    return 0


def measure(bench: Bench, results: dict[str, Any], part: str, fn: Callable[[], Any]) -> None:
    """Run one part with the load average before and after; an exception is recorded."""
    bench.log(f"--- {part} (load {loadavg()})")
    load = {"before": loadavg()}
    started = time.monotonic()
    try:
        value = fn()
        if part == "up_times":
            results.setdefault("up_times", {}).update(value)
        else:
            results[part] = value
    except Exception as exc:
        results["errors"][part] = "".join(traceback.format_exception(exc))[-3000:]
        bench.log(f"{part} failed: {exc}")
    load["after"] = loadavg()
    load["seconds"] = time.monotonic() - started
    results["load"][part] = load


def run_peer(bench: Bench, browser: Any) -> dict[str, Any]:
    build_s = peer.build_image(bench, bench.out / "peer-build.log")
    bench.log(f"peer image built in {build_s:.0f} s")
    return {"image_build_s": build_s, **peer.run(bench, browser)}


def run_up_times(
    bench: Bench, stack: Stack, args: argparse.Namespace, results: dict[str, Any]
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "warm_running": up_times.warm_start(
            stack, bench.out / "build-warm.log", build=not args.no_build
        )
    }
    bench.log(f"warm up (stack running): {out['warm_running']['total_s']:.0f} s")
    if not (args.quick or args.no_cold):
        out["cold"] = up_times.cold(bench, args.cold_port, bench.out / "build-cold.log")
    return out
