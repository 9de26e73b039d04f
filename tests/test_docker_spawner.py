"""The Docker engine's wait for a starting server (spawner.py): what counts as "answers".

Against real sockets on loopback (no fake): a server that accepts and never answers, one
that refuses, and one that answers."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from miniswan_hub.spawner import MiniSwanSpawner
from tornado.httpclient import AsyncHTTPClient


def answers(url: str) -> bool:
    async def check() -> bool:
        return await MiniSwanSpawner._answers(AsyncHTTPClient(), url)

    return asyncio.run(check())


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers (a server busy or half gone)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield server.getsockname()[1]


def test_a_server_that_never_answers_is_not_answering_yet(silent_port: int) -> None:
    # Tornado raises its 599 timeout even with raise_error=False: it must not end the wait.
    assert answers(f"http://127.0.0.1:{silent_port}/user/a/api") is False


def test_a_refused_connection_is_not_answering_yet() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    assert answers(f"http://127.0.0.1:{port}/user/a/api") is False


def test_an_http_answer_below_500_is_answering() -> None:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path.endswith("/api") else 503)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        assert answers(f"http://127.0.0.1:{port}/user/a/api") is True
        assert answers(f"http://127.0.0.1:{port}/user/a/other") is False
    finally:
        server.shutdown()
        server.server_close()
