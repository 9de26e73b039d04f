"""Fixtures for miniswan_desktop tests: a real Jupyter server (pytest-jupyter) and real xpra.

Fixtures:
- ``desktop_config``: DesktopApp traitlets for the server under test; override per module.
- ``runtime_dir``: a short private directory for the desktops (unix socket paths are short).
- ``jp_server_config``: pytest-jupyter's server config with the extension enabled.
- ``api``: an ``Api`` helper around ``jp_fetch`` (create, get, list, delete, wait_state).
- ``xpra_required``: skips the test when xpra is not on PATH.

On failure, the logs of every desktop still known to the server are printed.
Helpers shared with the desktop-only server's tests live beside this file: ``procfs.py``
(processes and sockets read from /proc, and ``poll``) and ``xpra_wire.py`` (a client hello).
"""

from __future__ import annotations

import json
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


@pytest.fixture
def desktop_config() -> dict[str, Any]:
    return {"max_desktops": 4, "start_timeout": 30.0}


@pytest.fixture
def runtime_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="msd-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def keyboard_file(tmp_path: Path) -> Path:
    """Where the server under test keeps the user's layout: never the real home's."""
    return tmp_path / "keyboard.json"


@pytest.fixture
def jp_server_config(
    desktop_config: dict[str, Any], runtime_dir: Path, keyboard_file: Path
) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"miniswan_desktop": True}},
        # No desktop prepared ahead unless a test asks (test_prepared.py): the others count
        # processes and desktops.
        "DesktopApp": {
            "runtime_dir": str(runtime_dir),
            "prepared_desktops": 0,
            "keyboard_file": str(keyboard_file),
            **desktop_config,
        },
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
