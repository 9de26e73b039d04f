"""Running docker for the cluster tool: a failed command raises with its output."""

from __future__ import annotations

import os
import subprocess


class ClusterError(RuntimeError):
    """The cluster could not be built; the message says which command failed and why."""


def run(*args: str, host: str | None = None, check: bool = True, timeout: float = 600) -> str:
    """`docker ARGS` on the host's engine, or on a node's (`host` = its DOCKER_HOST)."""
    env = {**os.environ, "DOCKER_HOST": host} if host else None
    result = subprocess.run(
        ["docker", *args], capture_output=True, text=True, env=env, timeout=timeout
    )
    if check and result.returncode != 0:
        raise ClusterError(
            f"`docker {' '.join(args)}` failed ({result.returncode}): "
            f"{(result.stderr or result.stdout).strip()}"
        )
    return result.stdout.strip()


def in_node(node: str, *args: str, check: bool = True) -> str:
    """`docker ARGS` inside `node`, with its own CLI and engine."""
    return run("exec", node, "docker", *args, check=check)
