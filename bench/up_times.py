"""6. `nox -s up` times. Warm: build with every layer cached, then up, for a fresh stack and
for one already running. Cold: a build with `--no-cache` into this run's own image tags (the
engine is shared, so it is never pruned; BuildKit's apt/pip/yarn cache mounts still apply),
then up of a second stack on those images."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

from tools.stack import Stack

from .common import Bench


def warm_start(stack: Stack, log_file: Path, build: bool = True) -> dict[str, float | None]:
    """What `nox -s up` does (build, then up and wait for the hub), timed per step; without
    `build`, only the up (build_s is None)."""
    build_s = stack.build(log_file) if build else None
    started = time.monotonic()
    stack.up()
    up_s = time.monotonic() - started
    return {"build_s": build_s, "up_s": up_s, "total_s": (build_s or 0) + up_s}


def cold(bench: Bench, port: int, log_file: Path) -> dict[str, Any]:
    hub_image, user_image = f"{bench.hub_image}-cold", f"{bench.user_image}-cold"
    stack = Stack(
        project=f"{bench.stack.project}-cold",
        port=port,
        settings={"MINISWAN_HUB_IMAGE": hub_image, "MINISWAN_USER_IMAGE": user_image},
    )
    started = time.monotonic()
    with log_file.open("w") as log:
        result = stack.compose(
            "--profile", "images", "build", "--no-cache", "--progress", "plain",
            stdout=log, stderr=log,
        )  # fmt: skip
    build_s = time.monotonic() - started
    out: dict[str, Any] = {"build_s": build_s, "images": [hub_image, user_image]}
    try:
        if result.returncode != 0:
            out["error"] = f"cold build failed, see {log_file.name}"
            return out
        started = time.monotonic()
        stack.up()
        out["up_s"] = time.monotonic() - started
        out["total_s"] = build_s + out["up_s"]
    finally:
        stack.down(volumes=True)
        subprocess.run(["docker", "rmi", hub_image, user_image], capture_output=True)
    bench.log(f"cold up: build {build_s:.0f} s, up {out.get('up_s', 0):.0f} s")
    return out
