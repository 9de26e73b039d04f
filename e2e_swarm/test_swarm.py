"""User servers on a real Swarm cluster (one manager, two workers, Docker-in-Docker nodes on
this machine, built by `nox -s swarm`): placement, the browser, isolation, the scheduler's
refusal and a worker that stops. Real engines and a real browser; nothing is faked.

The tests run in file order and build on each other, as one user story of the cluster:
alice and bob start servers that each take a whole worker's cores (so the scheduler must put
them on different workers), carol finds no room, then bob's worker stops.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from hub_api import HubAPI
from hub_ui import log_in
from lab_ui import launch_desktop
from playwright.sync_api import Page, expect
from stack_info import StackInfo, home_path
from waiting import wait_until
from xpra_client import wait_for_drawn_window

from tools.swarm.engines import Cluster

ALICE, BOB, CAROL = "alice", "bob", "carol"
# Each worker node has the machine's 2 cores: a server with 2 fills one.
WHOLE_WORKER = {"cores": 2, "memory": 2}


def service(stack: StackInfo, user: str) -> str:
    return f"{stack.project}-user-{user}"


# bob's own listener: answers every connection with a secret and notes who connected.
LISTENER = (
    "import socket\n"
    "server = socket.create_server(('0.0.0.0', 9999))\n"
    "while True:\n"
    "    conn, peer = server.accept()\n"
    "    open('/tmp/peers', 'a').write(peer[0] + '\\n')\n"
    "    conn.sendall(b'bob-secret')\n"
    "    conn.close()\n"
)


def answer(container: Any, host: str, port: int, request: str = "") -> str:
    """What a TCP server at host:port says, as seen from inside `container` ("" when no
    connection). The answer, not the handshake, says who was reached: this machine's own
    network accepts TCP connections to any address it does not know."""
    probe = (
        "import socket, sys\n"
        "try:\n"
        f"    c = socket.create_connection(({host!r}, {port}), timeout=3)\n"
        f"    c.sendall({request.encode()!r})\n"
        "    c.settimeout(3)\n"
        "    sys.stdout.write(c.recv(4096).decode(errors='replace'))\n"
        "except OSError:\n"
        "    pass\n"
    )
    return container.exec_run(["python3", "-c", probe]).output.decode()


@pytest.fixture(scope="module")
def placed(stack: StackInfo, hub: HubAPI, cluster: Cluster, placements: list[str]) -> dict:
    """alice and bob, each with a server of a whole worker's cores: user -> node."""
    nodes = {}
    for user in (ALICE, BOB):
        hub.token(user)  # creates the user
        if hub.server(user) is not None:  # from an earlier run on a kept cluster
            hub.stop_server(user)
    for user in (ALICE, BOB):
        started = time.monotonic()
        hub.start_server(user, WHOLE_WORKER)
        nodes[user] = cluster.node_of(service(stack, user))
        placements.append(
            f"{user}: {WHOLE_WORKER['cores']} cores, {WHOLE_WORKER['memory']} GB -> "
            f"{nodes[user]} (ready in {time.monotonic() - started:.1f} s)"
        )
    return nodes


def test_two_users_land_on_two_different_workers(placed: dict, cluster: Cluster) -> None:
    assert set(placed.values()) == set(cluster.workers), placed


@pytest.mark.parametrize("user", [ALICE, BOB])
def test_each_user_logs_in_draws_a_desktop_and_sees_their_home_and_cvmfs(
    page: Page, stack: StackInfo, hub: HubAPI, cluster: Cluster, placed: dict, user: str
) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, stack, user)
    page.goto(f"{stack.url}/user/{user}/lab")
    expect(page.locator(".jp-Launcher")).to_be_visible(timeout=60_000)
    desktop = launch_desktop(page)
    wait_for_drawn_window(
        page.frame_locator(f'.miniswan-DesktopPanel[data-desktop-id="{desktop}"] iframe')
    )

    # The home is the user's EOS home, bound from the worker's EOS mount: a file saved in
    # JupyterLab is there in the container; nobody else's home is.
    hub.write_file(user, "mine.txt", f"{user}'s file\n")
    container = cluster.container_of(service(stack, user))
    home = home_path(user)
    other = home_path(BOB if user == ALICE else ALICE)
    script = (
        f'test "$HOME" = {home} && test "$(pwd)" = {home} && cat {home}/mine.txt'
        f" && test ! -e {other}"
        " && test -s /cvmfs/sft.cern.ch/lcg/views/catalog.json"
        " && ! touch /cvmfs/written-by-a-user 2>/dev/null"
    )
    result = container.exec_run(["sh", "-c", script], user="1000")
    assert result.exit_code == 0, result.output.decode()
    assert result.output.decode() == f"{user}'s file\n"
    # ... and the desktop's programs see the stack's view (the session's environment).
    listed = container.exec_run(["sh", "-c", "ls $SWAN_STACK_PATH/bin/python3"])
    assert listed.exit_code == 0, listed.output.decode()


def test_a_user_cannot_open_a_connection_to_another_users_server(
    stack: StackInfo, cluster: Cluster, placed: dict
) -> None:
    source = cluster.container_of(service(stack, ALICE))
    target = cluster.container_of(service(stack, BOB))
    # Something bob runs on his own, besides his Jupyter server on 8888.
    target.exec_run(["python3", "-c", LISTENER], detach=True)
    jupyter = f"GET /user/{BOB}/api HTTP/1.0\r\n\r\n"
    task = cluster.task_of(service(stack, BOB))
    addresses = [
        address.split("/")[0]
        for attachment in task["NetworksAttachments"]
        for address in attachment["Addresses"]
    ]
    assert addresses
    # The probes work: bob reaches both on his own address, alice reaches the hub.
    wait_until(lambda: "bob-secret" in answer(target, addresses[0], 9999), 20, "bob's listener")
    assert '"version"' in answer(target, addresses[0], 8888, jupyter)
    assert "HTTP/1.1" in answer(source, "hub", 8081, "GET /hub/health HTTP/1.0\r\n\r\n")
    for host in [service(stack, BOB), *addresses]:
        assert "bob-secret" not in answer(source, host, 9999), f"alice reached {host}:9999"
        said = answer(source, host, 8888, jupyter)
        assert '"version"' not in said, f"alice reached bob's server at {host}:8888: {said}"
    # ... and nothing of alice's arrived at bob's listener (only bob's own looks above).
    peers = target.exec_run(["cat", "/tmp/peers"]).output.decode().split()
    assert set(peers) <= set(addresses), peers


def test_asking_for_more_than_is_free_says_so_at_once(
    page: Page, stack: StackInfo, hub: HubAPI, cluster: Cluster, placed: dict
) -> None:
    log_in(page, stack, CAROL)
    page.goto(f"{stack.url}/hub/spawn/{CAROL}")
    page.locator("#cores").select_option("1")  # the least there is: no worker has a core free
    started = time.monotonic()
    page.get_by_role("button", name="Start").click()
    expect(
        page.get_by_text(re.compile("Not enough resources in the cluster")).first
    ).to_be_visible(timeout=30_000)
    took = time.monotonic() - started
    assert took < 30, took  # the scheduler's answer, not the spawn timeout (120 s)
    expect(page.get_by_text(re.compile("insufficient resources")).first).to_be_visible()
    assert hub.server(CAROL) is None
    # nothing is left behind that would start later, when room appears
    services = cluster.engine(cluster.manager).services.list()
    assert service(stack, CAROL) not in [s.name for s in services]


def test_a_stopped_worker_is_noticed_and_the_user_starts_again_on_the_other(
    stack: StackInfo, hub: HubAPI, cluster: Cluster, placed: dict, placements: list[str]
) -> None:
    hub.stop_server(ALICE)  # her worker has room again
    lost = placed[BOB]
    other = next(w for w in cluster.workers if w != lost)
    hub.write_file(BOB, "kept.txt", "written before the node stopped\n")

    started = time.monotonic()
    cluster.host.containers.get(lost).stop(timeout=5)
    wait_until(lambda: hub.server(BOB) is None, 120, "the hub to notice bob's server is gone")
    noticed = time.monotonic() - started

    hub.start_server(BOB, WHOLE_WORKER)
    node = cluster.node_of(service(stack, BOB))
    placements.append(
        f"{lost} stopped: the hub noticed after {noticed:.1f} s; bob started again -> {node}"
    )
    assert node == other
    assert hub.read_file(BOB, "kept.txt") == "written before the node stopped\n"
    assert hub.read_file(BOB, "mine.txt") == "bob's file\n"
