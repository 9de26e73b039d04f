"""The websocket relay to a desktop (desktop_proxy.py): the browser's messages reach the
desktop's socket as one byte stream, on a connection opened with the first message, what the
socket sends comes back as binary messages, and either side's close ends the other.

Faked, and why: the desktop is a real one (a running Xpra session, so the proxy attaches to
it as it does in use), but the socket the relay connects to is a recording unix server in
its place, because what is checked is when the relay connects and which bytes cross, which
Xpra does not report. test_desktops.py says hello to the real Xpra through the same relay.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from tornado.websocket import WebSocketClientConnection

from miniswan_desktop import session

pytestmark = pytest.mark.usefixtures("xpra_required")


class Recorder:
    """A unix server standing in for Xpra's socket: keeps each connection's bytes."""

    def __init__(self) -> None:
        self.connections: list[bytearray] = []
        self.writers: list[asyncio.StreamWriter] = []
        self.received = asyncio.Event()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        data = bytearray()
        self.connections.append(data)
        self.writers.append(writer)
        while chunk := await reader.read(65536):
            data.extend(chunk)
            self.received.set()
        writer.close()


async def bytes_until(recorder: Recorder, size: int) -> bytes:
    while not recorder.connections or len(recorder.connections[0]) < size:
        recorder.received.clear()
        await asyncio.wait_for(recorder.received.wait(), 10)
    return bytes(recorder.connections[0])


async def test_relay_connects_with_the_first_message_and_keeps_the_byte_stream(
    api: Any, jp_ws_fetch: Any, runtime_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    desktop = await api.wait_state((await api.create())["id"], {"running"})
    recorder = Recorder()
    fake = runtime_dir / "recorder.sock"
    server = await asyncio.start_unix_server(recorder.serve, str(fake))
    monkeypatch.setattr(session.Desktop, "socket_path", property(lambda self: fake))
    try:
        ws: WebSocketClientConnection = await jp_ws_fetch(
            "desktops", desktop["id"] + "/", subprotocols=["binary"]
        )
        assert ws.selected_subprotocol == "binary"
        # Open, and nothing said yet: Xpra's socket is untouched, so Xpra never waits on a
        # connection that has not spoken (a relay that connected at open would have by now).
        await asyncio.sleep(0.3)
        assert recorder.connections == []

        # Messages become one stream, in order, on one connection.
        await ws.write_message(b"P\x00\x00\x00", binary=True)
        await ws.write_message(b"\x00\x00\x00\x02hi", binary=True)
        await ws.write_message("text too")
        assert await bytes_until(recorder, 18) == b"P\x00\x00\x00\x00\x00\x00\x02hitext too"
        assert len(recorder.connections) == 1

        # What the socket sends comes back as binary messages, all of it, in order.
        recorder.writers[0].write(b"P\x00\x00\x00\x00\x00\x00\x05")
        await recorder.writers[0].drain()
        recorder.writers[0].write(b"hello")
        received = b""
        while len(received) < 13:
            message = await asyncio.wait_for(ws.read_message(), 10)
            assert isinstance(message, bytes), message
            received += message
        assert received == b"P\x00\x00\x00\x00\x00\x00\x05hello"

        # The desktop's side closes: so does the browser's websocket.
        recorder.writers[0].close()
        assert await asyncio.wait_for(ws.read_message(), 10) is None

        # The browser leaves: the relay's connection to the socket is closed.
        again = await jp_ws_fetch("desktops", desktop["id"] + "/", subprotocols=["binary"])
        await again.write_message(b"P", binary=True)
        while len(recorder.connections) < 2 or not recorder.connections[1]:
            await asyncio.sleep(0.02)
        again.close()
        await asyncio.wait_for(recorder.writers[1].wait_closed(), 10)
    finally:
        server.close()
        await server.wait_closed()
