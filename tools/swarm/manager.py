"""The hub, the proxy and the stand-ins on the manager node (manager.yml), with the stack's
settings from compose/.env (the shell's MINISWAN_* override them) and the few the cluster
sets itself."""

from __future__ import annotations

import ipaddress
import os
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from tools.stack import ENV_FILE, read_env_defaults

from . import names
from .run import ClusterError, run

COMPOSE_FILE = Path(__file__).resolve().parent / "manager.yml"
URL = f"http://127.0.0.1:{names.PORT}"
USER_NETWORK_POOL = "10.214.0.0/16"


def settings() -> dict[str, str]:
    """compose/.env's values, the shell's overrides, and the cluster's own."""
    shell = {k: v for k, v in os.environ.items() if k.startswith("MINISWAN_")}
    return {
        **read_env_defaults(ENV_FILE),
        **shell,
        "MINISWAN_ENGINE": "swarm",
        "MINISWAN_STACK": names.STACK,
        "MINISWAN_PUBLIC_URL": URL,
        # No culling during the test: it would stop the servers the tests look at.
        "MINISWAN_CULL_IDLE_TIMEOUT": "0",
        # Not the stacks' 10.213.0.0/16: the nodes' traffic leaves through the host, whose
        # own stacks' user networks are in that range (check_pool).
        "MINISWAN_USER_NETWORK_POOL": USER_NETWORK_POOL,
    }


def check_pool() -> None:
    """The cluster's user networks must overlap none of the host's networks: a user's
    server would otherwise reach the host's containers at those addresses."""
    pool = ipaddress.IPv4Network(USER_NETWORK_POOL)
    listing = run("network", "inspect", *run("network", "ls", "-q").split(),
                  "-f", "{{.Name}} {{range .IPAM.Config}}{{.Subnet}} {{end}}")  # fmt: skip
    for line in listing.splitlines():
        name, *subnets = line.split()
        for subnet in subnets:
            if ":" not in subnet and ipaddress.IPv4Network(subnet).overlaps(pool):
                raise ClusterError(f"the host's network {name} ({subnet}) is in {pool}")


def compose(*args: str) -> str:
    """`docker compose ARGS` for manager.yml, run here against the manager's engine."""
    env = {**os.environ, **settings(), "DOCKER_HOST": names.docker_host(names.MANAGER)}
    result = subprocess.run(
        ["docker", "compose", "-p", names.STACK, "-f", str(COMPOSE_FILE), *args],
        capture_output=True,
        text=True,
        env=env,
    )
    if result.returncode != 0:
        raise ClusterError(f"`docker compose {' '.join(args)}` on the manager: {result.stderr}")
    return result.stdout + result.stderr


def start(timeout: float = 180) -> None:
    """Start the services, wait until each is healthy (the cvmfs-stub only once it has
    copied its views into the nodes' /cvmfs, a minute the first time) and the hub answers
    through the proxy."""
    compose("up", "-d", "--wait")
    deadline = time.monotonic() + timeout
    while not _answers(f"{URL}/hub/health"):
        if time.monotonic() > deadline:
            raise ClusterError(
                f"the hub on the manager did not answer at {URL}:\n"
                + compose("logs", "--tail", "30")
            )
        time.sleep(1)


def save_logs(folder: Path) -> list[Path]:
    """Every service's log on the manager, one file each."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for service in ("hub", "proxy", "eos-stub", "cvmfs-stub"):
        path = folder / f"{service}.log"
        try:
            path.write_text(compose("logs", "--no-color", service))
        except ClusterError as error:
            path.write_text(str(error))
        written.append(path)
    return written


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False
