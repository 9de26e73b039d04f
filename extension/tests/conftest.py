"""Fixtures for miniswan_desktop tests: a real Jupyter server (pytest-jupyter) and real xpra.

Fixtures:
- ``desktop_config``: DesktopApp traitlets for the server under test; override per module.
- ``runtime_dir``: a short private directory for the desktops (unix socket paths are short).
- ``jp_server_config``: pytest-jupyter's server config with the extension enabled.
- ``api``: an ``Api`` helper around ``jp_fetch`` (create, get, list, delete, wait_state).
- ``xpra_required``: skips the test when xpra is not on PATH.

On failure, the logs of every desktop still known to the server are printed.
Helpers ``children``, ``session_pids`` and ``alive`` read /proc directly, independently of
the package's own process module, so that tests check the outcome and not the code.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPResponse

pytest_plugins = ["pytest_jupyter.jupyter_server"]

XPRA = shutil.which("xpra")
requires_xpra = pytest.mark.skipif(XPRA is None, reason="xpra is not on PATH (apt: xpra)")


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rfind(")") + 2 :].split()


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def tcp_listen_inodes() -> set[str]:
    """Socket inodes of every listening TCP socket (IPv4 and IPv6) on the host."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in list(f)[1:]:
                fields = line.split()
                if fields[3] == "0A":  # LISTEN
                    inodes.add(fields[9])
    return inodes


def socket_inodes(pid: int) -> set[str]:
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        pass
    return inodes


def _all_pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def children(pid: int) -> list[int]:
    return [p for p in _all_pids() if (f := _stat(p)) and f[0] != "Z" and int(f[1]) == pid]


def session_pids(sid: int) -> list[int]:
    return [p for p in _all_pids() if (f := _stat(p)) and f[0] != "Z" and int(f[3]) == sid]


def poll(condition: Any, timeout: float = 15.0, interval: float = 0.05) -> Any:
    """Return condition()'s first truthy value, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s: {condition}")


@pytest.fixture
def desktop_config() -> dict[str, Any]:
    return {"max_desktops": 4, "start_timeout": 30.0}


@pytest.fixture
def runtime_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="msd-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def jp_server_config(desktop_config: dict[str, Any], runtime_dir: Path) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"miniswan_desktop": True}},
        "DesktopApp": {"runtime_dir": str(runtime_dir), **desktop_config},
    }


class Api:
    """Small client for the desktops REST API on top of pytest-jupyter's jp_fetch."""

    def __init__(self, fetch: Any) -> None:
        self.fetch = fetch

    async def call(self, method: str, *parts: str, body: Any = None, **kw: Any) -> HTTPResponse:
        if body is not None and not isinstance(body, str | bytes):
            body = json.dumps(body)
        if method in ("POST", "PUT") and body is None:
            body = ""
        return await self.fetch(
            "desktops", "api", "desktops", *parts, method=method, body=body,
            raise_error=False, **kw,
        )  # fmt: skip

    async def create(self, **body: Any) -> dict[str, Any]:
        r = await self.call("POST", body=body)
        assert r.code == 201, r.body
        return json.loads(r.body)

    async def list(self) -> list[dict[str, Any]]:
        r = await self.call("GET")
        assert r.code == 200, r.body
        return json.loads(r.body)

    async def get(self, desktop_id: str) -> dict[str, Any]:
        r = await self.call("GET", desktop_id)
        assert r.code == 200, r.body
        return json.loads(r.body)

    async def delete(self, desktop_id: str) -> dict[str, Any]:
        r = await self.call("DELETE", desktop_id)
        assert r.code == 200, r.body
        return json.loads(r.body)

    async def wait_state(
        self, desktop_id: str, states: set[str], timeout: float = 30.0
    ) -> dict[str, Any]:
        import asyncio

        deadline = time.monotonic() + timeout
        while True:
            d = await self.get(desktop_id)
            if d["state"] in states:
                return d
            if time.monotonic() > deadline:
                raise AssertionError(f"desktop never reached {states}: {d}")
            await asyncio.sleep(0.05)


@pytest.fixture
def api(jp_fetch: Any) -> Api:
    return Api(jp_fetch)


@pytest.fixture
def xpra_required() -> None:
    if XPRA is None:
        pytest.skip("xpra is not on PATH (apt: xpra)")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Any:
    report = yield
    if report.when == "call" and report.failed:
        for path in sorted(Path(tempfile.gettempdir()).glob("msd-*/desktop-*/xpra.log")):
            tail = path.read_text(errors="replace").splitlines()[-15:]
            report.sections.append((f"xpra log {path}", "\n".join(tail)))
    return report
