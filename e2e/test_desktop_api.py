"""Desktops in the running stack, through the whole path: proxy -> single-user server -> Xpra."""

from __future__ import annotations

from typing import Any

import docker
import websocket
from conftest import HubAPI, StackInfo, wait_until

SINGLE_USER_PORT = 8888


def listening_tcp_ports(container: Any) -> set[int]:
    """Ports of every listening TCP socket in the container (IPv4 and IPv6), from /proc."""
    out = container.exec_run(["cat", "/proc/net/tcp", "/proc/net/tcp6"]).output.decode()
    ports = set()
    for line in out.splitlines():
        fields = line.split()
        if len(fields) > 3 and fields[3] == "0A":  # 0A = LISTEN
            ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


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
    assert listening_tcp_ports(container) == {SINGLE_USER_PORT}

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
