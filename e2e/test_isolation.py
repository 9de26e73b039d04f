"""Users are isolated: nobody reaches another user's server, desktops or home; anonymous
requests are refused everywhere; bad input is refused with a message and breaks nothing."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import docker
import pytest
import requests
import websocket
from hub_api import HubAPI
from ledger import Ledger
from playwright.sync_api import Page, expect
from stack_info import StackInfo
from waiting import wait_until


@pytest.fixture
def victim(hub: HubAPI, user: str) -> dict[str, Any]:
    """User A with a running server and a running desktop."""
    hub.start_server(user)
    base = f"/user/{user}/desktops/api/desktops"
    r = hub.request("POST", base, as_user=user, json={"name": "private"})
    assert r.status_code == 201, r.text
    desktop_id = r.json()["id"]
    desktop = wait_until(
        lambda: (
            (d := hub.request("GET", f"{base}/{desktop_id}", as_user=user).json())["state"]
            == "running"
            and d
        ),
        60,
        "the victim's desktop",
    )
    return {"name": user, "desktop": desktop, "api": base}


@pytest.fixture
def intruder(hub: HubAPI) -> Iterator[str]:
    """User B, logged in with their own server."""
    name = f"intruder{uuid.uuid4().hex[:6]}"
    hub.start_server(name)
    yield name
    hub.stop_server(name)


def ws_status(url: str, header: list[str]) -> int:
    """The HTTP status of a websocket handshake: 101 if it was accepted."""
    # websocket-client sends an Origin of its own unless told not to: one Origin header only.
    own_origin = any(h.lower().startswith("origin:") for h in header)
    try:
        ws = websocket.create_connection(
            url, header=header, subprotocols=["binary"], timeout=15, suppress_origin=own_origin
        )
    except websocket.WebSocketBadStatusException as error:
        return int(error.status_code)
    ws.close()
    return 101


def ws_refused(url: str, header: list[str]) -> bool:
    """True if the websocket handshake is refused (any non-101 answer)."""
    return ws_status(url, header) != 101


def refused(response: requests.Response, stack: StackInfo) -> bool:
    """Refused means 401/403, or a redirect to a login page, never the resource."""
    if response.status_code in (401, 403):
        return True
    location = response.headers.get("Location", "")
    return response.status_code in (302, 303) and ("login" in location or "/hub/" in location)


def test_other_users_token_reaches_nothing_of_the_victim(
    stack: StackInfo, hub: HubAPI, victim: dict[str, Any], intruder: str, ledger: Ledger
) -> None:
    name, desktop = victim["name"], victim["desktop"]
    header = {"Authorization": f"token {hub.token(intruder)}"}
    targets = {
        "server API": ("GET", f"/user/{name}/api/status"),
        "file contents": ("GET", f"/user/{name}/api/contents"),
        "desktop list": ("GET", victim["api"]),
        "desktop stop": ("DELETE", f"{victim['api']}/{desktop['id']}"),
        "desktop create": ("POST", victim["api"]),
        "desktop client": ("GET", f"{desktop['url']}index.html"),
        "hub user model": ("GET", f"/hub/api/users/{name}"),
        "hub stop server": ("DELETE", f"/hub/api/users/{name}/server"),
    }
    for what, (method, path) in targets.items():
        with ledger.attack(f"B's token -> A's {what}"):
            r = requests.request(
                method, f"{stack.url}{path}", headers=header, allow_redirects=False, timeout=30
            )
            assert r.status_code in (403, 404), f"{what}: {r.status_code} {r.text[:200]}"
    with ledger.attack("B's token -> A's desktop websocket"):
        url = f"{stack.url.replace('http', 'ws', 1)}{desktop['url']}"
        assert ws_refused(url, [f"Authorization: token {hub.token(intruder)}"])
    # A's desktop is untouched by all of it.
    after = hub.request("GET", f"{victim['api']}/{desktop['id']}", as_user=name).json()
    assert after["state"] == "running"


def test_other_users_browser_session_is_refused(
    page: Page,
    stack: StackInfo,
    victim: dict[str, Any],
    intruder: str,
    ledger: Ledger,
    login: Callable[..., None],
) -> None:
    login(page, intruder)
    for what, path in {
        "JupyterLab": f"/user/{victim['name']}/lab",
        "desktop client": victim["desktop"]["url"],
        "desktop API": victim["api"],
    }.items():
        with ledger.attack(f"B's browser cookies -> A's {what}"):
            response = page.goto(f"{stack.url}{path}")
            assert response is not None
            assert response.status == 403, f"{what}: {response.status} at {page.url}"
            expect(page.locator(".jp-Launcher")).to_have_count(0)


def test_anonymous_requests_are_refused(
    stack: StackInfo, victim: dict[str, Any], ledger: Ledger
) -> None:
    name, desktop = victim["name"], victim["desktop"]
    for method, path in [
        ("GET", f"/user/{name}/api/status"),
        ("GET", f"/user/{name}/api/contents"),
        ("GET", victim["api"]),
        ("POST", victim["api"]),
        ("DELETE", victim["api"]),
        ("GET", f"{victim['api']}/{desktop['id']}"),
        ("GET", f"{desktop['url']}index.html"),
        ("GET", "/hub/api/users"),
        ("POST", f"/hub/api/users/{name}/server"),
        ("GET", "/hub/admin"),
    ]:
        with ledger.attack(f"anonymous {method} {re.sub(name, '<user>', path)}"):
            r = requests.request(method, f"{stack.url}{path}", allow_redirects=False, timeout=30)
            assert refused(r, stack), f"{method} {path}: {r.status_code} {r.text[:200]}"
    for path in (desktop["url"], f"/user/{name}/api/events/subscribe"):
        with ledger.attack(f"anonymous websocket {re.sub(name, '<user>', path)}"):
            assert ws_refused(f"{stack.url.replace('http', 'ws', 1)}{path}", [])


def test_homes_are_separate_volumes(
    stack: StackInfo,
    hub: HubAPI,
    victim: dict[str, Any],
    intruder: str,
    ledger: Ledger,
    docker_client: docker.DockerClient,
) -> None:
    secret = f"secret-{uuid.uuid4().hex}"
    r = hub.request(
        "PUT",
        f"/user/{victim['name']}/api/contents/secret.txt",
        as_user=victim["name"],
        json={"type": "file", "format": "text", "content": secret},
    )
    assert r.status_code in (200, 201), r.text
    with ledger.attack("B's container looks for A's files"):
        container = docker_client.containers.get(stack.container_name(intruder))
        mounts = {m.get("Name") for m in container.attrs["Mounts"]}
        assert not any(victim["name"] in (m or "") for m in mounts), mounts
        found = container.exec_run(["grep", "-rl", secret, "/home", "/eos", "/tmp"])
        found = found.output.decode()
        assert secret not in found and "secret.txt" not in found


BAD_DESKTOP_BODIES: list[tuple[str, Any]] = [
    ("not JSON", "{name: "),
    ("a list", ["desktop"]),
    ("unknown field", {"name": "x", "command": "rm -rf ~"}),
    ("geometry text", {"geometry": "huge"}),
    ("geometry too large", {"geometry": "100000x100000"}),
    ("name with markup", {"name": "<script>alert(1)</script>"}),
    ("name too long", {"name": "n" * 500}),
]


@pytest.mark.parametrize(
    ("what", "body"), BAD_DESKTOP_BODIES, ids=[b[0] for b in BAD_DESKTOP_BODIES]
)
def test_bad_desktop_requests_get_400_and_change_nothing(
    hub: HubAPI, victim: dict[str, Any], ledger: Ledger, what: str, body: Any
) -> None:
    name = victim["name"]
    before = hub.request("GET", victim["api"], as_user=name).json()
    with ledger.bad_input(f"desktop create: {what}"):
        kwargs = {"data": body} if isinstance(body, str) else {"json": body}
        r = hub.request("POST", victim["api"], as_user=name, **kwargs)
        assert r.status_code == 400, r.text
        assert r.json()["message"]
        assert hub.request("GET", victim["api"], as_user=name).json() == before


def test_unknown_desktop_ids_are_404(hub: HubAPI, victim: dict[str, Any], ledger: Ledger) -> None:
    for method in ("GET", "DELETE"):
        with ledger.bad_input(f"{method} unknown desktop id"):
            r = hub.request(
                "GET" if method == "GET" else "DELETE",
                f"{victim['api']}/does-not-exist",
                as_user=victim["name"],
            )
            assert r.status_code == 404 and "does-not-exist" in r.json()["message"]


def test_bad_spawn_options_are_refused_with_a_message(
    page: Page,
    stack: StackInfo,
    hub: HubAPI,
    user: str,
    ledger: Ledger,
    login: Callable[..., None],
) -> None:
    with ledger.bad_input("spawn form: unknown session type"):
        login(page, user)
        page.goto(f"{stack.url}/hub/spawn/{user}")
        # A tampered form, as a hand-written POST would send it.
        page.locator("#session-desktop").evaluate(
            "el => { el.value = 'bogus'; el.checked = true; }"
        )
        page.get_by_role("button", name="Start").click()
        expect(page.get_by_text(re.compile("Unknown session type 'bogus'"))).to_be_visible()
        assert hub.server(user) is None
    with ledger.bad_input("spawn API: unknown option"):
        r = hub.request(
            "POST",
            f"/hub/api/users/{user}/server",
            as_user=user,
            json={"session": "jupyterlab", "image": "evil/image"},
        )
        assert r.status_code == 400, r.text
        assert "image" in r.json()["message"]
        wait_until(lambda: hub.server(user) is None, 30, "no server left behind")


def tcp_connects(container: Any, host: str, port: int) -> bool:
    """True if a TCP connection from inside `container` to host:port succeeds."""
    probe = (
        "import socket, sys\n"
        "try:\n"
        f"    socket.create_connection(({host!r}, {port}), timeout=3).close()\n"
        "except OSError:\n"
        "    sys.exit(1)\n"
    )
    return container.exec_run(["python3", "-c", probe]).exit_code == 0


def test_user_containers_cannot_reach_each_other(
    stack: StackInfo,
    victim: dict[str, Any],
    intruder: str,
    ledger: Ledger,
    docker_client: docker.DockerClient,
) -> None:
    target = docker_client.containers.get(stack.container_name(victim["name"]))
    source = docker_client.containers.get(stack.container_name(intruder))
    # Something the victim runs on their own, besides their Jupyter server on 8888.
    target.exec_run(["python3", "-m", "http.server", "9999"], detach=True)
    wait_until(lambda: tcp_connects(target, "127.0.0.1", 9999), 20, "the victim's own listener")
    # The intruder's network works (it reaches the hub): a refusal below is isolation.
    assert tcp_connects(source, "hub", 8081)
    addresses = [n["IPAddress"] for n in target.attrs["NetworkSettings"]["Networks"].values()]
    assert addresses
    for host in [target.name, *addresses]:
        for port in (8888, 9999):
            by = "name" if host == target.name else "IP"
            with ledger.attack(f"B's container -> A's container by {by} on TCP {port}"):
                assert not tcp_connects(source, host, port), f"{host}:{port} reachable"


def test_user_containers_cannot_reach_the_proxy_api(
    stack: StackInfo, intruder: str, ledger: Ledger, docker_client: docker.DockerClient
) -> None:
    source = docker_client.containers.get(stack.container_name(intruder))
    proxy = docker_client.containers.get(f"{stack.project}-proxy-1")
    # The proxy is on the user's network (it routes to the user's server): its public port
    # answers, so a refusal of its API port below is the API's confinement.
    network = next(iter(source.attrs["NetworkSettings"]["Networks"]))
    on_user_network = proxy.attrs["NetworkSettings"]["Networks"][network]["IPAddress"]
    assert tcp_connects(source, on_user_network, 8000)
    addresses = [n["IPAddress"] for n in proxy.attrs["NetworkSettings"]["Networks"].values()]
    for host in ["proxy", "proxy-api", *addresses]:
        with ledger.attack(f"user container -> the proxy's API at {host}:8001"):
            assert not tcp_connects(source, host, 8001), f"{host}:8001 reachable"


def test_foreign_origin_websocket_to_a_desktop_is_refused(
    page: Page,
    stack: StackInfo,
    victim: dict[str, Any],
    ledger: Ledger,
    login: Callable[..., None],
) -> None:
    # The victim's own browser session, as a cross-site page would ride on it.
    login(page, victim["name"])
    desktop_url = f"{stack.url}{victim['desktop']['url']}"
    # Opening the desktop's page gets the user's server cookie (the hub's OAuth dance).
    response = page.goto(desktop_url)
    assert response is not None and response.ok, page.url
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies(desktop_url))
    url = desktop_url.replace("http", "ws", 1)
    # Same origin: the handshake succeeds, so the refusal below is about the Origin alone.
    assert ws_status(url, [f"Cookie: {cookies}", f"Origin: {stack.url}"]) == 101, cookies
    with ledger.attack("foreign Origin websocket -> A's desktop (A's cookies)"):
        assert ws_status(url, [f"Cookie: {cookies}", "Origin: http://evil.example"]) in (400, 403)
