"""The cluster's engines as its users look at them (e2e_swarm/'s tests, bench/swarm.py): the
manager's tasks API says where a user's server runs, the engine of that worker holds its
container. Each node's engine answers on a socket under `run_dir` (nodes.py), so the host
reaches them without going through `docker exec`.

Uses the Docker SDK (the tests' and the benchmark's virtualenvs have it); the rest of
tools/swarm runs the docker CLI, in nox's own process, and does not import this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker

from . import names


@dataclass
class Cluster:
    """The cluster's engines, by node name."""

    manager: str = names.MANAGER
    workers: tuple[str, ...] = names.WORKERS
    run_dir: Path = names.RUN_DIR
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
