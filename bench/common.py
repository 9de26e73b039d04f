"""What every measurement shares: the stack under test, the hub's API, Docker, the clock,
machine facts, and running the small probe scripts inside a container.

The hub client, the stack's settings and the canvas checks are the e2e suite's helpers
(e2e/hub_api.py, e2e/stack_info.py, e2e/xpra_client.py; e2e/ is on the import path); the
probes that run inside containers use the extension tests' Xpra hello
(extension/tests/xpra_wire.py).
"""

from __future__ import annotations

import io
import json
import os
import platform
import re
import subprocess
import tarfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import docker
import requests

# e2e/ (and, for bench/probe.py's xpra_wire, extension/tests/) are on the import path:
# PYTHONPATH from `nox -s bench`, pytest's `pythonpath` for the unit tests.
from hub_api import HubAPI
from stack_info import CHROMIUM, CHROMIUM_ARGS, SPAWN_TIMEOUT_MS, StackInfo, env_default
from waiting import wait_until

ROOT = Path(__file__).resolve().parent.parent

__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "HubAPI",
    "StackInfo",
    "wait_until",
    "Bench",
    "machine_facts",
]

# Files the in-container probes need, copied to PROBE_DIR in the container.
PROBE_FILES = {
    "probe.py": ROOT / "bench" / "probe.py",
    "xpra_wire.py": ROOT / "extension" / "tests" / "xpra_wire.py",
}
PROBE_DIR = "/tmp/miniswan-bench"
SPAWN_TIMEOUT_S = SPAWN_TIMEOUT_MS // 1000


def now() -> float:
    """Wall-clock seconds: comparable with the timestamps in the containers' logs."""
    return time.time()


def loadavg() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def machine_facts() -> dict[str, Any]:
    """Cores, memory, CPU model, kernel, engine: enough to recognise the machine."""
    meminfo = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    cpu_model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu_model = line.split(":", 1)[1].strip()
            break
    try:
        engine = docker.from_env().version()
        engine_version = f"{engine.get('Version')} (API {engine.get('ApiVersion')})"
    except docker.errors.DockerException as exc:
        engine_version = f"unknown ({exc})"
    compose = subprocess.run(
        ["docker", "compose", "version", "--short"], capture_output=True, text=True
    ).stdout.strip()
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(int(meminfo["MemTotal"].split()[0]) / 2**20, 1),
        "cpu_model": cpu_model,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "docker_engine": engine_version,
        "docker_compose": compose,
        "chromium": subprocess.run(
            [CHROMIUM, "--version"], capture_output=True, text=True
        ).stdout.strip(),
        "loadavg_at_start": loadavg(),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
    }


@dataclass
class Bench:
    """One benchmark run: the stack, the knobs, where results go, and a log."""

    stack: StackInfo
    out: Path
    quick: bool
    user_image: str
    hub_image: str
    peer_image: str
    docker: docker.DockerClient = field(default_factory=docker.from_env)
    prefix: str = field(default_factory=lambda: f"b{uuid.uuid4().hex[:4]}")
    _users: int = 0
    # Overrides of the parts' defaults (--users, --desktops); empty: by --quick or not.
    user_levels: tuple[int, ...] = ()
    desktop_counts: tuple[int, ...] = ()

    @property
    def hub(self) -> HubAPI:
        if not hasattr(self, "_hub"):
            self._hub = HubAPI(self.stack)
        return self._hub

    def log(self, message: str) -> None:
        print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)

    def new_user(self, what: str) -> str:
        """A fresh user name (letters and digits only, as DockerSpawner wants)."""
        self._users += 1
        return re.sub(r"[^a-z0-9]", "", f"{self.prefix}{what}{self._users}")[:20]

    def container(self, username: str) -> Any:
        return self.docker.containers.get(self.stack.container_name(username))

    def user_api(self, username: str, method: str, path: str, **kwargs: Any) -> Any:
        """A request to the user's own server (under /user/<name>/) with the user's token."""
        return self.hub.request(method, f"/user/{username}/{path}", as_user=username, **kwargs)

    def stop_all(self, usernames: list[str]) -> None:
        """Stop these users' servers (ignoring those already gone)."""
        for name in usernames:
            try:
                if self.hub.server(name) is not None:
                    self.hub.stop_server(name)
            except (requests.RequestException, AssertionError) as exc:
                self.log(f"could not stop {name}'s server: {exc}")


def settings_from_env() -> dict[str, str]:
    return {
        "user_password": env_default("MINISWAN_USER_PASSWORD"),
        "admin_user": env_default("MINISWAN_ADMIN_USER"),
        "admin_password": env_default("MINISWAN_ADMIN_PASSWORD"),
    }


# --- probes inside containers ----------------------------------------------------------------


def install_probes(container: Any) -> None:
    """Copy the probe scripts into the container (as files owned by the container's user)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, path in PROBE_FILES.items():
            data = path.read_bytes()
            info = tarfile.TarInfo(f"miniswan-bench/{name}")
            info.size, info.mode, info.uid, info.gid = len(data), 0o644, 1000, 1000
            tar.addfile(info, io.BytesIO(data))
    container.put_archive("/tmp", buffer.getvalue())


def run_probe(container: Any, *args: str, timeout: float = 120) -> Any:
    """Run bench/probe.py inside the container; it prints one JSON document."""
    install_probes(container)
    cmd = ["timeout", str(int(timeout)), "python3", f"{PROBE_DIR}/probe.py", *args]
    result = container.exec_run(cmd, demux=True)
    stdout = (result.output[0] or b"").decode()
    stderr = (result.output[1] or b"").decode()
    if result.exit_code != 0:
        raise RuntimeError(f"probe {args[0]} failed ({result.exit_code}): {stderr[-2000:]}")
    return json.loads(stdout)


def run_host_probe(what: str, target: str, token: str, repeat: int) -> Any:
    """The same probe on the host (through the proxies), in this process."""
    from . import probe

    return probe.measure(what, probe.Target(target, token), repeat)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value
