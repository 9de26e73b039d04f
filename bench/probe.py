"""Small measuring client, run both inside a user container (docker exec, talking to an Xpra
unix socket directly) and on the host (through configurable-http-proxy and the single-user
server's proxy), so the two paths are measured by the same code.

    probe.py ws     TARGET [--token T] [--repeat N]   websocket connect + hello -> first packet
    probe.py assets TARGET [--token T] [--repeat N]   the HTML5 client's page and its assets
    probe.py bulk   TARGET [--token T] [--repeat N]   the largest asset, N times: throughput
    probe.py pss                                      PSS of every process we can read + cgroup

TARGET is `unix:/path/to/xpra.sock` or `http://host:port/prefix/` (a desktop's URL).
Standard library plus websocket-client (in the user image, and in the bench's venv), and
xpra_wire.py from the extension tests. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import socket
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import websocket
from xpra_wire import CLIENT_HELLO, HEADER_SIZE, packet_size


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost")
        self.unix_path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.unix_path)


class Target:
    """Where the desktop is: a unix socket, or an HTTP URL prefix (with a token)."""

    def __init__(self, target: str, token: str | None) -> None:
        self.unix = target[5:] if target.startswith("unix:") else None
        self.url = None if self.unix else target.rstrip("/") + "/"
        self.headers = {"Authorization": f"token {token}"} if token else {}

    def http(self) -> http.client.HTTPConnection:
        if self.unix:
            return UnixHTTPConnection(self.unix)
        parts = urlsplit(self.url)
        return http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=60)

    def path(self, relative: str) -> str:
        return "/" + relative if self.unix else urlsplit(self.url).path + relative

    def websocket(self) -> websocket.WebSocket:
        headers = [f"{k}: {v}" for k, v in self.headers.items()]
        if self.unix:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(self.unix)
            return websocket.create_connection(
                "ws://localhost/", subprotocols=["binary"], socket=sock, header=headers
            )
        url = "ws" + self.url[4:]
        return websocket.create_connection(
            url, subprotocols=["binary"], header=headers, timeout=60
        )


def get(conn: http.client.HTTPConnection, target: Target, relative: str) -> tuple[float, int]:
    started = time.perf_counter()
    conn.request("GET", target.path(relative), headers=target.headers)
    response = conn.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - started
    if response.status != 200:
        raise RuntimeError(f"GET {relative}: {response.status} {body[:200]!r}")
    return elapsed, len(body)


def asset_list(target: Target) -> list[str]:
    """index.html and every script and stylesheet it loads (relative paths)."""
    conn = target.http()
    conn.request("GET", target.path("index.html"), headers=target.headers)
    html = conn.getresponse().read().decode(errors="replace")
    refs = re.findall(r'(?:src|href)="([^"#?:]+\.(?:js|css))"', html)
    return ["index.html", *dict.fromkeys(r.lstrip("./") for r in refs)]


SETTLE_S = 0.05  # between two websocket samples


def read_packet(ws: websocket.WebSocket) -> bytes:
    """Xpra's first packet, whole: its 8 byte header says its size. A websocket message may
    hold less (the server's relay sends what it reads from Xpra's socket as it comes) or, on
    Xpra's own websocket, exactly one packet: both paths are timed to the same last byte."""
    data = b""
    while len(data) < HEADER_SIZE or len(data) < packet_size(data):
        data += ws.recv()
    return data


def measure_ws(target: Target, repeat: int) -> dict[str, Any]:
    samples = []
    for index in range(repeat + 1):
        started = time.perf_counter()
        ws = target.websocket()
        connected = time.perf_counter()
        ws.send_binary(CLIENT_HELLO)
        first = read_packet(ws)
        answered = time.perf_counter()
        ws.close()
        # Xpra's main thread tears the closed connection down for a few ms: the next hello
        # must not queue behind that (a browser never reconnects that fast), or a path that
        # connects faster measures slower.
        time.sleep(SETTLE_S)
        if index == 0:
            continue  # a warm-up: the first connection pays this process's lazy imports
        samples.append(
            {
                "connect_s": connected - started,
                "first_packet_s": answered - connected,
                "total_s": answered - started,
                "first_bytes": len(first),
            }
        )
    return {"samples": samples}


def measure_assets(target: Target, repeat: int) -> dict[str, Any]:
    assets = asset_list(target)
    rounds = []
    for index in range(repeat + 1):
        conn = target.http()  # one keep-alive connection per page load, as a browser would
        loads = {name: get(conn, target, name)[0] for name in assets}
        conn.close()
        if index == 0:
            continue  # a warm-up round, as for the websocket
        rounds.append({"total_s": sum(loads.values()), "loads_s": loads})
    return {"assets": assets, "rounds": rounds}


def measure_bulk(target: Target, repeat: int) -> dict[str, Any]:
    assets = asset_list(target)
    conn = target.http()
    sizes = {name: get(conn, target, name)[1] for name in assets}
    largest = max(sizes, key=sizes.get)  # type: ignore[arg-type]
    samples = []
    for _ in range(repeat):
        elapsed, size = get(conn, target, largest)
        samples.append({"seconds": elapsed, "bytes": size, "mib_per_s": size / elapsed / 2**20})
    return {"asset": largest, "bytes": sizes[largest], "samples": samples}


def pss() -> dict[str, Any]:
    """Every process we can read: PSS (kB), parent, session, command; and the cgroup's use."""
    processes = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            rollup = Path(f"/proc/{entry}/smaps_rollup").read_text()
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        match = re.search(r"^Pss:\s+(\d+) kB", rollup, re.M)
        rss = re.search(r"^Rss:\s+(\d+) kB", rollup, re.M)
        processes.append(
            {
                "pid": int(entry),
                "ppid": int(fields[1]),
                "sid": int(fields[3]),
                "pss_kb": int(match.group(1)) if match else 0,
                "rss_kb": int(rss.group(1)) if rss else 0,
                "cmd": cmd.strip()[:300],
            }
        )
    return {"processes": processes, "cgroup": cgroup_memory()}


def cgroup_memory() -> dict[str, int]:
    """The container's memory as `docker stats` counts it: usage minus inactive file cache."""
    v2 = Path("/sys/fs/cgroup/memory.current")
    if v2.exists():
        usage = int(v2.read_text())
        stat = Path("/sys/fs/cgroup/memory.stat").read_text()
        key = "inactive_file"
    else:
        base = Path("/sys/fs/cgroup/memory")
        usage = int((base / "memory.usage_in_bytes").read_text())
        stat = (base / "memory.stat").read_text()
        key = "total_inactive_file"
    values = dict(line.split() for line in stat.splitlines() if line.strip())
    inactive = int(values.get(key, 0))
    return {
        "usage_bytes": usage,
        "inactive_file_bytes": inactive,
        "working_set_bytes": usage - inactive,
    }


def measure(what: str, target: Target, repeat: int) -> dict[str, Any]:
    return {"ws": measure_ws, "assets": measure_assets, "bulk": measure_bulk}[what](target, repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["ws", "assets", "bulk", "pss"])
    parser.add_argument("target", nargs="?")
    parser.add_argument("--token")
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    if args.what == "pss":
        result = pss()
    else:
        if not args.target:
            parser.error(f"{args.what} needs a TARGET (unix:/path or http://...)")
        result = measure(args.what, Target(args.target, args.token), args.repeat)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
