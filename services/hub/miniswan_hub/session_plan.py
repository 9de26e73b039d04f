"""What a user's server will be, decided once as a plain value; each engine only translates it.

The spawn page's choices (validated by options.py) and the software stack's view (stacks.py)
become a `SessionPlan`: the command, the URL it opens at, the resources, the user's home and
the environment miniswan-session reads in the user image. No Docker or Kubernetes type is in
it, so the Docker spawner (spawner.py) and the Kubernetes one (kube_spawner.py) cannot differ
on what a choice means, and the rules are tested without an engine (tests/test_session_plan.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .eos import home_path
from .options import SpawnOptions
from .stacks import Catalog


@dataclass(frozen=True)
class Commands:
    """How the user image starts each kind of server (the spawner's settings)."""

    jupyterlab: tuple[str, ...] = ("jupyterhub-singleuser",)
    desktop: tuple[str, ...] = ("miniswan-desktop-server",)
    jupyterlab_url: str = "/lab"


@dataclass(frozen=True)
class SessionPlan:
    """One user's server, engine-neutral."""

    user: str
    session: str  # options.SESSION_TYPES: "jupyterlab" | "desktop"
    command: tuple[str, ...]
    default_url: str  # below the server's prefix; "" = its root (the desktop-only page)
    cores: int
    memory_gb: int
    home: str  # /eos/user/<initial>/<name>, the working folder and $HOME
    stack: str
    platform: str
    environment: Mapping[str, str] = field(default_factory=dict)

    @property
    def server_name(self) -> str:
        """What the spawn page says it waits for."""
        return "your desktop" if self.session == "desktop" else "JupyterLab"

    @property
    def memory_limit(self) -> str:
        """The memory limit as JupyterHub's `mem_limit` takes it."""
        return f"{self.memory_gb}G"


def plan_session(
    user: str, chosen: SpawnOptions, catalog: Catalog, commands: Commands
) -> SessionPlan:
    """The server `chosen` describes (choices already validated against `catalog`)."""
    view = catalog.releases[chosen.stack].platforms[chosen.platform]
    desktop = chosen.session == "desktop"
    environment = {
        "SWAN_STACK": chosen.stack,
        "SWAN_PLATFORM": chosen.platform,
        "SWAN_STACK_PATH": view.path,
        "SWAN_ENV_SCRIPT": chosen.env_script,
        # the desktop-only server starts into it (DesktopServer.app)
        "MINISWAN_DESKTOP_APP": chosen.app,
    }
    return SessionPlan(
        user=user,
        session=chosen.session,
        command=commands.desktop if desktop else commands.jupyterlab,
        default_url="" if desktop else commands.jupyterlab_url,
        cores=chosen.cores,
        memory_gb=chosen.memory,
        home=home_path(user),
        stack=chosen.stack,
        platform=chosen.platform,
        environment=environment,
    )
