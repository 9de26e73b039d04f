"""Services restart under a running user: nothing is respawned, routes come back."""

from __future__ import annotations

import docker
from hub_api import HubAPI
from stack_info import StackInfo
from waiting import wait_until


def test_proxy_restart_restores_the_users_route(
    stack: StackInfo, hub: HubAPI, user: str, docker_client: docker.DockerClient
) -> None:
    server = hub.start_server(user)
    before = docker_client.containers.get(stack.container_name(user)).id
    assert hub.request("GET", f"/user/{user}/api/status", as_user=user).status_code == 200

    stack.restart_service(docker_client, "proxy", timeout=60)

    # Until the hub re-adds the route, the request lands on the hub instead of the server.
    def server_reachable() -> bool:
        r = hub.request("GET", f"/user/{user}/api/status", as_user=user, allow_redirects=False)
        return r.status_code == 200 and "last_activity" in r.json()

    wait_until(server_reachable, 60, "the user's route to be restored")
    assert docker_client.containers.get(stack.container_name(user)).id == before
    assert hub.server(user)["started"] == server["started"]
