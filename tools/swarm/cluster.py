"""Swarm itself, inside the nodes only (never on the host's engine): the manager initialises
it, the workers join with its token, and all three must be Ready."""

from __future__ import annotations

import time

from . import names, nodes
from .run import ClusterError, in_node


def form() -> None:
    manager_ip = nodes.address(names.MANAGER)
    # A 2 s heartbeat: a stopped worker is seen as down within seconds, not a quarter minute.
    in_node(
        names.MANAGER, "swarm", "init", "--advertise-addr", manager_ip,
        "--dispatcher-heartbeat", "2s",
    )  # fmt: skip
    token = in_node(names.MANAGER, "swarm", "join-token", "-q", "worker")
    for worker in names.WORKERS:
        in_node(worker, "swarm", "join", "--token", token, f"{manager_ip}:2377")
    wait_ready()


def node_states() -> dict[str, str]:
    """Each node's hostname and state, as the manager sees them."""
    listing = in_node(names.MANAGER, "node", "ls", "--format", "{{.Hostname}} {{.Status}}")
    return dict(line.split(" ", 1) for line in listing.splitlines() if line)


def wait_ready(timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while (states := node_states()) != {node: "Ready" for node in names.NODES}:
        if time.monotonic() > deadline:
            raise ClusterError(f"the swarm's nodes are not all Ready: {states}")
        time.sleep(0.5)
