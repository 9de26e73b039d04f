"""The node containers: Debian's Docker engine in privileged containers made from the local
base image (node.Dockerfile), on one host bridge, each with its own /var/lib/docker volume,
all sharing the volumes that stand in for the nodes' CVMFS and EOS mounts (names.SHARED)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from . import names
from .run import ClusterError, run

HERE = Path(__file__).resolve().parent
# What a Docker-in-Docker node needs, without --privileged: --privileged asks for every
# capability, and where the host's root lacks one (this machine's has no CAP_SYS_RESOURCE)
# the engine refuses the container. All others, no seccomp or AppArmor filter, writable
# /proc/sys; the entry point makes /sys and the cgroups writable (node-entrypoint.sh). The
# engine in the node only loses raising its own limits (it logs that it keeps its oom score).
NODE_RIGHTS = (
    "--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE",
    "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
    "--security-opt", "systempaths=unconfined",
)  # fmt: skip


def build_image(log: Path) -> None:
    """The node image, from debian:bookworm-slim and Debian's docker.io (layers reused)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    output = run(
        "build", "--label", f"{names.LABEL}=1", "-t", names.NODE_IMAGE,
        "-f", str(HERE / "node.Dockerfile"), str(HERE),
    )  # fmt: skip
    log.write_text(output)


def start() -> None:
    """Create the network, the volumes and the three node containers."""
    label = f"{names.LABEL}=1"
    run("network", "create", "--label", label, names.NETWORK)
    for volume in (*names.SHARED, *(names.data_volume(n) for n in names.NODES)):
        run("volume", "create", "--label", label, volume)
    for node in names.NODES:
        folder = names.socket(node).parent
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        mounts = [
            f"{names.data_volume(node)}:/var/lib/docker",
            f"{folder}:/run/miniswan-swarm",
            *(f"{volume}:{path}" for volume, path in names.SHARED.items()),
        ]
        extra: list[str] = []
        if node == names.MANAGER:
            # The proxy, published by the manager's engine on the node, and by the node here.
            extra = ["-p", f"127.0.0.1:{names.PORT}:8000"]
            hub = names.ROOT / "services" / "hub"
            mounts.append(f"{hub}:{names.HUB_SOURCE_ON_MANAGER}:ro")
        run(
            "run", "-d", *NODE_RIGHTS, "--name", node, "--hostname", node,
            "--label", label, "--network", names.NETWORK,
            *(arg for mount in mounts for arg in ("-v", mount)),
            *extra, names.NODE_IMAGE,
        )  # fmt: skip
    # The stand-ins run as uid 1000 (xrootd, like every user) on these shared folders.
    run("exec", names.MANAGER, "chown", "1000:1000", "/eos", "/srv/eos-auth")


def wait_engines(timeout: float = 90) -> None:
    """Until every node's engine answers on its socket."""
    deadline = time.monotonic() + timeout
    for node in names.NODES:
        while not run(
            "info", "-f", "{{.ServerVersion}}", host=names.docker_host(node), check=False
        ):
            if time.monotonic() > deadline:
                logs = run("logs", "--tail", "20", node, check=False)
                raise ClusterError(f"the engine of {node} did not start: {logs}")
            time.sleep(0.5)


def address(node: str) -> str:
    """The node's address on the host bridge."""
    return run(
        "inspect",
        "-f",
        f'{{{{(index .NetworkSettings.Networks "{names.NETWORK}").IPAddress}}}}',
        node,
    )


def remove() -> list[str]:
    """Remove the node containers, their volumes and the network: everything labelled as the
    cluster's or named with its prefix on the host's engine (nothing else). Returns what was
    removed. Swarm state lives only in the nodes' volumes, so none is left."""
    removed: list[str] = []
    for kind, listing in (
        ("container", ["ps", "-a", "--format", "{{.Names}}"]),
        ("volume", ["volume", "ls", "--format", "{{.Name}}"]),
        ("network", ["network", "ls", "--format", "{{.Name}}"]),
    ):
        found = [
            name
            for name in run(*listing, "--filter", f"name={names.PREFIX}").splitlines()
            if name.startswith(names.PREFIX)
        ]
        if not found:
            continue
        if kind == "container":
            run("rm", "-f", "-v", *found)
        else:
            run(kind, "rm", *found)
        removed += found
    shutil.rmtree(names.RUN_DIR, ignore_errors=True)
    return removed
