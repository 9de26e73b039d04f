"""Desktops prepared ahead of time: started unlisted when the server starts (or, if one is
missing, when JupyterLab lists the desktops), taken by the next create (already running),
replaced, never beyond max_desktops, stopped with the others."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import requires_xpra
from procfs import alive, children, comm, poll

from miniswan_desktop.session import xpra_status

pytestmark = requires_xpra


def xpras() -> set[int]:
    """The xpra servers this test's Jupyter server (this process) runs."""
    return {p for p in children(os.getpid()) if comm(p).startswith("xpra")}


@pytest.fixture
def desktop_config() -> dict[str, Any]:
    return {"prepared_desktops": 1, "max_desktops": 2, "start_timeout": 30.0}


async def ready_sessions(runtime_dir: Path) -> set[str]:
    """The desktops (prepared or listed) whose xpra answers on its socket, by folder."""
    ready = set()
    for socket in runtime_dir.glob("desktop-*/xpra.sock"):
        if await xpra_status(socket):
            ready.add(socket.parent.name)
    return ready


async def wait_ready(runtime_dir: Path, count: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while len(await ready_sessions(runtime_dir)) < count:
        assert time.monotonic() < deadline, f"fewer than {count} desktops ready"
        await asyncio.sleep(0.1)


async def test_the_server_start_prepares_a_desktop(
    jp_serverapp: Any, api: Any, runtime_dir: Path
) -> None:
    # jupyter_server runs its extensions' start hooks once its event loop runs (pytest-
    # jupyter's server app does not start them itself).
    assert xpras() == set()
    await jp_serverapp.extension_manager.start_all_extensions()
    (prepared,) = poll(xpras, timeout=10)
    await wait_ready(runtime_dir, 1)
    assert await api.list() == []  # unlisted, and a listing starts no second one
    await asyncio.sleep(0.5)
    assert xpras() == {prepared}
    first = await api.create(name="first")
    assert first["pid"] == prepared


async def test_a_prepared_desktop_is_taken_running_and_replaced(
    api: Any, jp_fetch: Any, runtime_dir: Path
) -> None:
    assert xpras() == set()
    assert await api.list() == []  # the listing prepares one, unlisted
    (prepared,) = poll(xpras, timeout=10)
    await wait_ready(runtime_dir, 1)
    assert await api.list() == []

    first = await api.create(name="first", geometry="1024x768", layout="fr")
    # The prepared xpra, answering already (its supervisor may not have seen it yet).
    assert first["pid"] == prepared
    first = await api.wait_state(first["id"], {"running"}, timeout=5)
    assert (first["name"], first["geometry"], first["layout"]) == ("first", "1024x768", "fr")
    assert [d["id"] for d in await api.list()] == [first["id"]]
    # The next one is prepared; with max_desktops=2 and one taken, only one.
    (second_pid,) = poll(lambda: (xpras() - {prepared}) or None, timeout=10)
    await wait_ready(runtime_dir, 2)

    # A second create takes it; at the maximum, nothing more is prepared.
    second = await api.create(name="second")
    assert second["pid"] == second_pid
    await api.list()
    await asyncio.sleep(1)
    assert xpras() == {prepared, second_pid}

    # A freed place is prepared again; deleting every desktop stops that one too.
    await api.delete(first["id"])
    poll(lambda: len(xpras() - {prepared, second_pid}) == 1, timeout=10)
    leftover = xpras()
    r = await jp_fetch("desktops", "api", "desktops", method="DELETE")
    assert {d["id"] for d in json.loads(r.body)} == {second["id"]}
    poll(lambda: not any(alive(p) for p in leftover), timeout=15)
