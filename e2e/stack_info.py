"""Where the stack under test is, what it is called, and its settings: shared by the e2e
fixtures, the benchmark and the dev-loop timing tool."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import docker
import requests
from waiting import wait_until

from tools.stack import read_env_defaults

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("MINISWAN_CHROMIUM", "/usr/bin/chromium")
SPAWN_TIMEOUT_MS = 150_000
# Debian's Chromium in a container or CI machine: no sandbox, GPU or background traffic.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def env_default(name: str) -> str:
    """A setting as the stack sees it: the environment, else the default in compose/.env."""
    if name in os.environ:
        return os.environ[name]
    return read_env_defaults()[name]


@dataclass(frozen=True)
class StackInfo:
    url: str
    project: str
    user_password: str
    admin_user: str
    admin_password: str

    def healthy(self) -> bool:
        """The hub answers its health check through the proxy."""
        return requests.get(f"{self.url}/hub/health", timeout=5).ok

    def restart_service(
        self, docker_client: docker.DockerClient, service: str, timeout: float = 120
    ) -> None:
        """Restart one of the stack's services (hub, proxy) and wait up to `timeout` s until
        the hub answers through the proxy again."""
        docker_client.containers.get(f"{self.project}-{service}-1").restart(timeout=20)
        wait_until(self.healthy, timeout, f"the hub to answer after the {service} restart")

    def hub_log_about(self, username: str, lines: int = 15) -> str:
        """The hub's last log lines that name `username`: why a spawn did not finish."""
        result = subprocess.run(
            ["docker", "logs", "--tail", "2000", f"{self.project}-hub-1"],
            capture_output=True,
            text=True,
        )
        about = [line for line in (result.stdout + result.stderr).splitlines() if username in line]
        return "\n".join(about[-lines:])

    def container_name(self, username: str) -> str:
        """The container DockerSpawner names for `username` (letters and digits only)."""
        return f"{self.project}-user-{username}"

    @classmethod
    def from_env(cls) -> StackInfo:
        """The stack named by MINISWAN_URL and MINISWAN_STACK (default: the e2e stack)."""
        return cls(
            url=os.environ.get("MINISWAN_URL", "http://127.0.0.1:8010").rstrip("/"),
            project=os.environ.get("MINISWAN_STACK", "miniswan-e2e"),
            user_password=env_default("MINISWAN_USER_PASSWORD"),
            admin_user=env_default("MINISWAN_ADMIN_USER"),
            admin_password=env_default("MINISWAN_ADMIN_PASSWORD"),
        )


def home_path(username: str) -> str:
    """A user's home: their EOS home, /eos/user/<initial>/<name> (docs/eos.md)."""
    return f"/eos/user/{username[0]}/{username}"
