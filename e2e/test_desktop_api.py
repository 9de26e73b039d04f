"""Desktops in the running stack, through the whole path: proxy -> single-user server -> Xpra."""

from __future__ import annotations

from typing import Any

import docker
import websocket
from hub_api import HubAPI
from stack_info import StackInfo
from waiting import wait_until

SINGLE_USER_PORT = 8888


# Docker's embedded DNS server listens inside every container's network namespace on
# 127.0.0.11, but it is dockerd's socket, not a process of the container.
DOCKER_DNS = "0B00007F"  # 127.0.0.11 as /proc/net/tcp writes it

LIST_LISTENERS = r"""
for table in /proc/net/tcp /proc/net/tcp6; do
  awk '$4 == "0A" {print $2, $10}' "$table"
done
echo --
for fd in /proc/[0-9]*/fd/*; do
  target=$(readlink "$fd" 2>/dev/null) || continue
  case "$target" in socket:*) pid=${fd#/proc/}; echo "${pid%%/*} $target";; esac
done
"""


def tcp_listeners(container: Any) -> set[tuple[int, str]]:
    """(port, command) of every TCP socket a process of the container listens on.

    Runs as the container's user, who owns every process there: root would need
    CAP_SYS_PTRACE, which Docker drops, to read other users' /proc/PID/fd.
    """
    out = container.exec_run(["sh", "-c", LIST_LISTENERS]).output.decode()
    listen_part, _, fd_part = out.partition("--")
    owners = {}
    for line in fd_part.split("\n"):
        if line.strip():
            pid, target = line.split()
            owners[target.removeprefix("socket:[").rstrip("]")] = pid
    listeners = set()
    for line in listen_part.split("\n"):
        if not line.strip():
            continue
        address, inode = line.split()
        host, port = address.rsplit(":", 1)
        if host == DOCKER_DNS:
            continue
        pid = owners.get(inode, "?")
        cmd = container.exec_run(["cat", f"/proc/{pid}/cmdline"]).output
        listeners.add((int(port, 16), cmd.replace(b"\0", b" ").decode().strip()))
    return listeners


def test_two_desktops_through_the_stack_and_no_extra_tcp_port(
    stack: StackInfo, hub: HubAPI, user: str, docker_client: docker.DockerClient
) -> None:
    hub.start_server(user)
    base = f"/user/{user}/desktops"

    ids = []
    for name in ("first", "second"):
        r = hub.request("POST", f"{base}/api/desktops", as_user=user, json={"name": name})
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])

    def running(desktop_id: str) -> dict[str, Any] | None:
        desktop = hub.request("GET", f"{base}/api/desktops/{desktop_id}", as_user=user).json()
        assert desktop["state"] in ("starting", "running"), desktop
        return desktop if desktop["state"] == "running" else None

    desktops = [wait_until(lambda i=i: running(i), 60, f"desktop {i} running") for i in ids]
    assert len({d["url"] for d in desktops}) == 2

    for desktop in desktops:
        page = hub.request("GET", f"{desktop['url']}index.html", as_user=user)
        assert page.status_code == 200 and "xpra" in page.text.lower()
        ws = websocket.create_connection(
            f"{stack.url.replace('http', 'ws', 1)}{desktop['url']}",
            header=[f"Authorization: token {hub.token(user)}"],
            subprotocols=["binary"],
            timeout=20,
        )
        assert ws.getstatus() == 101
        ws.close()

    # Xpra listens on unix sockets only: the single-user server is the one TCP listener.
    container = docker_client.containers.get(stack.container_name(user))
    listeners = tcp_listeners(container)
    assert len(listeners) == 1, listeners
    ((port, command),) = listeners
    assert port == SINGLE_USER_PORT and "jupyterhub-singleuser" in command

    r = hub.request("DELETE", f"{base}/api/desktops/{ids[0]}", as_user=user)
    assert r.status_code == 200, r.text
    listed = hub.request("GET", f"{base}/api/desktops", as_user=user).json()
    assert [d["id"] for d in listed] == [ids[1]]
    assert hub.request("GET", f"{base}/api/desktops/{ids[0]}", as_user=user).status_code == 404


def test_unknown_desktop_is_a_json_404(stack: StackInfo, hub: HubAPI, user: str) -> None:
    hub.start_server(user)
    r = hub.request("GET", f"/user/{user}/desktops/api/desktops/nope", as_user=user)
    assert r.status_code == 404
    assert "nope" in r.json()["message"]
