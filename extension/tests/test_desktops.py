"""End to end with a real Jupyter server and real xpra: create, proxy, websocket, stop, kill."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from conftest import requires_xpra
from procfs import (
    alive,
    children,
    cmdline,
    comm,
    session_pids,
    socket_inodes,
    tcp_listen_inodes,
)
from xpra_wire import CLIENT_HELLO

pytestmark = requires_xpra


def xvfb_of(xpra_pid: int) -> int:
    """The Xvfb child of an xpra server (xpra renames its argv, comm stays 'Xvfb')."""
    xvfb = [p for p in children(xpra_pid) if comm(p).startswith("Xvfb")]
    assert xvfb, f"no Xvfb child of {xpra_pid}: {[comm(p) for p in children(xpra_pid)]}"
    return xvfb[0]


async def wait_gone(pids: list[int], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while any(alive(p) for p in pids):
        assert time.monotonic() < deadline, [(p, comm(p)) for p in pids if alive(p)]
        await asyncio.sleep(0.05)


class EventReader:
    """Desktop state events from /api/events/subscribe, grouped by desktop id."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.states: dict[str, list[str]] = {}

    async def until(self, desktop_id: str, state: str, timeout: float = 20.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while state not in self.states.get(desktop_id, []):
            msg = await asyncio.wait_for(self.ws.read_message(), deadline - time.monotonic())
            assert msg is not None, "event websocket closed"
            event = json.loads(msg)
            if event.get("schema_id") == "https://events.miniswan.org/desktop/state/v1":
                assert event["url"].endswith(f"/desktops/{event['id']}/")
                self.states.setdefault(event["id"], []).append(event["state"])
        return self.states[desktop_id]


async def test_two_desktops_proxy_websocket_and_stop(api, jp_fetch, jp_ws_fetch, jp_base_url):
    events = EventReader(await jp_ws_fetch("api", "events", "subscribe"))
    a = await api.create(name="first")
    b = await api.create(name="second", geometry="1024x768")
    assert a["state"] == b["state"] == "starting"
    assert a["url"] == f"{jp_base_url}desktops/{a['id']}/"
    assert b["geometry"] == "1024x768"
    a = await api.wait_state(a["id"], {"running"})
    b = await api.wait_state(b["id"], {"running"})
    assert a["pid"] != b["pid"]
    assert {d["id"] for d in await api.list()} == {a["id"], b["id"]}

    # The client page is the server's cached copy of Debian's, the same for every desktop.
    assert a["client_url"] == b["client_url"]
    assert re.fullmatch(rf"{jp_base_url}desktops/client/\w+/index.html", a["client_url"])
    client = await jp_fetch(*a["client_url"][len(jp_base_url) :].split("/"))
    assert client.code == 200 and b"xpra" in client.body.lower()
    assert "immutable" in client.headers["Cache-Control"]
    for d in (a, b):
        page = await jp_fetch("desktops", d["id"], "index.html")
        assert page.code == 200 and b"xpra" in page.body.lower()
        root = await jp_fetch("desktops", d["id"] + "/")
        assert b"xpra" in root.body.lower()
        ws = await jp_ws_fetch("desktops", d["id"] + "/", subprotocols=["binary"])
        assert ws.selected_subprotocol == "binary"
        await ws.write_message(CLIENT_HELLO, binary=True)
        first = await asyncio.wait_for(ws.read_message(), 10)
        assert isinstance(first, bytes) and first[:1] == b"P", first[:32]
        assert b"hello" in first[8:40]
        ws.close()

    # Every process is in xpra's session; Xvfb sits in its own process group.
    xvfb_a = xvfb_of(a["pid"])
    procs_a = session_pids(a["pid"])
    assert xvfb_a in procs_a and os.getpgid(xvfb_a) != a["pid"]
    # Our xpra.conf cancelled Debian's `start = /etc/X11/Xsession true`: openbox + xterm only.
    assert not [p for p in procs_a if "Xsession" in cmdline(p)]
    assert {"openbox", "xterm"} <= {comm(p) for p in procs_a}
    # Nothing in the desktop listens on TCP: the unix socket is the only way in.
    listening = tcp_listen_inodes()
    assert not [p for p in procs_a if socket_inodes(p) & listening]
    deleted = await api.delete(a["id"])
    assert deleted["state"] == "stopped" and deleted["reason"]
    await wait_gone(procs_a)
    assert (await api.call("GET", a["id"])).code == 404
    assert [d["id"] for d in await api.list()] == [b["id"]]
    assert await events.until(a["id"], "stopped") == ["starting", "running", "stopped"]

    # Kill only the xpra process from outside: reported failed, no Xvfb left behind.
    xvfb_b = xvfb_of(b["pid"])
    procs_b = session_pids(b["pid"])
    os.kill(b["pid"], signal.SIGKILL)
    failed = await api.wait_state(b["id"], {"failed"}, timeout=15)
    assert failed["exit_status"] == -signal.SIGKILL
    assert "SIGKILL" in failed["reason"]
    assert failed["log_tail"] and len(failed["log_tail"]) <= 20
    await wait_gone([xvfb_b, *procs_b])
    assert await events.until(b["id"], "failed") == ["starting", "running", "failed"]
    # The proxy explains why a failed desktop cannot be opened.
    r = await jp_fetch("desktops", b["id"] + "/", raise_error=False)
    assert r.code == 503 and "failed" in json.loads(r.body)["message"]
    # A failed desktop stays listed until deleted.
    assert (await api.delete(b["id"]))["state"] == "failed"
    assert await api.list() == []
    events.ws.close()


def screen_modes(desktop_id: str, runtime_dir: Path) -> list[str]:
    """The RandR modes of a desktop's screen, asked with xrandr on the display its start
    script noted (XpraSpec.display_file)."""
    [session] = runtime_dir.glob(f"desktop-{desktop_id}-*")
    display, xauthority = (session / "display").read_text().splitlines()[:2]
    out = subprocess.run(
        ["xrandr"], env={**os.environ, "DISPLAY": display, "XAUTHORITY": xauthority},
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return re.findall(r"^\s+(\d+x\d+)\s", out, re.M)


async def test_the_clients_size_is_a_screen_mode_before_xpra_hears_it(
    api, jp_ws_fetch, runtime_dir
):
    """A client page passes its size on the websocket's URL (`?screen=WxH`, xpra.ts): the
    proxy gives the screen a mode of that size before the websocket reaches Xpra (which
    would otherwise add it and pause half a second, xpra.add_mode_script). A size the
    screen cannot take, or no size, changes nothing and the connection works as ever."""
    d = await api.wait_state((await api.create(geometry="1024x768"))["id"], {"running"})
    before = screen_modes(d["id"], runtime_dir)
    assert "1024x768" in before and "950x679" not in before
    for screen in ("950x679", "99999x99999", "nonsense", ""):
        params = {"screen": screen} if screen else None
        ws = await jp_ws_fetch("desktops", d["id"] + "/", subprotocols=["binary"], params=params)
        if screen == "950x679":
            # the mode is there while Xpra has not heard a word from this client
            assert "950x679" in screen_modes(d["id"], runtime_dir)
        await ws.write_message(CLIENT_HELLO, binary=True)
        first = await asyncio.wait_for(ws.read_message(), 10)
        assert isinstance(first, bytes) and b"hello" in first[8:40], (screen, first[:40])
        ws.close()
    after = screen_modes(d["id"], runtime_dir)
    assert sorted(after) == sorted({*before, "950x679"})
    await api.delete(d["id"])


async def test_trailing_slash_redirect(api, jp_fetch, jp_base_url):
    d = await api.create()
    r = await jp_fetch("desktops", d["id"], follow_redirects=False, raise_error=False)
    assert r.code == 302
    assert r.headers["Location"].endswith(f"{jp_base_url}desktops/{d['id']}/")
    await api.delete(d["id"])
