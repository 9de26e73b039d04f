"""Fixtures of the Swarm cluster's tests (`nox -s swarm` builds the cluster, tools/swarm,
and passes where it is in the environment). Only that session collects this folder.

The e2e suite's helpers are reused as they are (e2e/ is on pytest's import path):
stack_info.StackInfo, hub_api.HubAPI, hub_ui.log_in, lab_ui, xpra_client, waiting.

- `cluster`: the nodes' engines (the manager's for the tasks API, each worker's to look
  into the containers it runs) and the host's (to stop a worker node).
- `placements`: what the tests saw, printed at the end of the run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import pytest
from hub_api import HubAPI
from stack_info import CHROMIUM, CHROMIUM_ARGS, StackInfo
from waiting import wait_until

PLACEMENTS: list[str] = []


@dataclass
class Cluster:
    """The test cluster's engines, by node name."""

    manager: str
    workers: tuple[str, ...]
    run_dir: Path
    host: docker.DockerClient = field(default_factory=docker.from_env)

    def engine(self, node: str) -> docker.DockerClient:
        return docker.DockerClient(base_url=f"unix://{self.run_dir / node / 'docker.sock'}")

    def task_of(self, service: str) -> dict[str, Any]:
        """The running task of a user's service, from the manager's tasks API."""
        api = self.engine(self.manager).api
        tasks = api.tasks(filters={"service": service, "desired-state": "running"})
        running = [t for t in tasks if t["Status"]["State"] == "running"]
        assert len(running) == 1, tasks
        return running[0]

    def node_of(self, service: str) -> str:
        """The hostname of the node the service's task runs on (= the node container)."""
        task = self.task_of(service)
        node = self.engine(self.manager).api.inspect_node(task["NodeID"])
        hostname: str = node["Description"]["Hostname"]
        return hostname

    def container_of(self, service: str) -> Any:
        """The task's container, from the engine of the worker it runs on."""
        task = self.task_of(service)
        container_id = task["Status"]["ContainerStatus"]["ContainerID"]
        return self.engine(self.node_of(service)).containers.get(container_id)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def stack() -> StackInfo:
    info = StackInfo.from_env()
    wait_until(info.healthy, 120, "hub health")
    return info


@pytest.fixture(scope="session")
def hub(stack: StackInfo) -> HubAPI:
    return HubAPI(stack)


@pytest.fixture(scope="session")
def cluster() -> Cluster:
    return Cluster(
        manager=os.environ["MINISWAN_SWARM_MANAGER"],
        workers=tuple(os.environ["MINISWAN_SWARM_WORKERS"].split(",")),
        run_dir=Path(os.environ["MINISWAN_SWARM_RUN_DIR"]),
    )


@pytest.fixture(scope="session")
def placements() -> Iterator[list[str]]:
    yield PLACEMENTS


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if PLACEMENTS:
        terminalreporter.section("placement seen")
        for line in PLACEMENTS:
            terminalreporter.write_line(line)
