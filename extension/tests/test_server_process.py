"""A real `jupyter server` subprocess: the extension enables itself when installed, and
stopping the server (SIGTERM, as Docker and JupyterHub do) leaves no xpra or Xvfb behind."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import requires_xpra
from procfs import alive, children, comm, poll, session_pids

pytestmark = requires_xpra
TOKEN = "test-token-miniswan"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.proc = proc
        self.log = log

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Authorization": f"token {TOKEN}"}
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def up(self) -> bool:
        try:
            return self.request("GET", "/api/status")[0] == 200
        except OSError:
            return False


@pytest.fixture
def server(tmp_path: Path, runtime_dir: Path) -> Iterator[Server]:
    port = free_port()
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        JUPYTER_DATA_DIR=str(tmp_path / "data"),
        MINISWAN_DESKTOP_RUNTIME_DIR=str(runtime_dir),
    )
    argv = [
        sys.executable, "-m", "jupyter_server", "--no-browser", f"--port={port}",
        "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={TOKEN}",
        f"--ServerApp.root_dir={tmp_path}", "--ServerApp.port_retries=0",
    ]  # fmt: skip
    if os.getuid() == 0:
        argv.append("--allow-root")
    log = tmp_path / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
    srv = Server(port, proc, log)
    try:
        poll(lambda: srv.up() or proc.poll() is not None, timeout=60)
        assert proc.poll() is None, log.read_text()
        yield srv
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        print(log.read_text()[-4000:])  # shown by pytest on failure


def test_sigterm_stops_every_desktop(server: Server):
    code, _ = server.request("GET", "/desktops/api/desktops")
    assert code == 200, "extension not enabled: is jupyter-config/ installed as shared-data?"
    ids = [server.request("POST", "/desktops/api/desktops", {})[1]["id"] for _ in range(2)]

    def running() -> list[dict[str, Any]] | None:
        desktops = server.request("GET", "/desktops/api/desktops")[1]
        return desktops if all(d["state"] == "running" for d in desktops) else None

    desktops = poll(running, timeout=60)
    assert sorted(d["id"] for d in desktops) == sorted(ids)
    procs = [p for d in desktops for p in [d["pid"], *session_pids(d["pid"])]]
    xvfbs = [p for d in desktops for p in children(d["pid"]) if comm(p).startswith("Xvfb")]
    assert len(xvfbs) == 2 and all(p in procs for p in xvfbs)

    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(30) == 0
    poll(lambda: not any(alive(p) for p in procs), timeout=10)
    assert "stopping 2 desktop(s)" in server.log.read_text()
