"""JupyterHub configuration for the mini-SWAN stack.

Every knob an operator may turn comes from the environment: compose/docker-compose.yml
passes it from compose/.env, the one place its value is written, so it is read here with no
fallback (`setting`). A few internal knobs the compose file does not pass have their value
here and nowhere else (`knob`), or are set only when given, leaving the add-on's own default
(miniswan_hub). Everything else is fixed here so that the stack behaves the same on every
laptop. tests/test_stack_defaults.py keeps it that way.
"""

from __future__ import annotations

import os
import sys

c = get_config()  # noqa: F821 (injected by JupyterHub when it loads this file)


def setting(name: str) -> str:
    """A stack setting the compose file passes from compose/.env (its one place): no fallback."""
    value = os.environ.get(name)
    if value is None:
        raise RuntimeError(f"{name} is not set: the stack passes it from compose/.env")
    return value


def knob(name: str, value: str) -> str:
    """An internal knob the compose file does not pass: the environment's `name` if set, else
    `value`, written only here (the stack needs other than JupyterHub's default)."""
    return os.environ.get(name, value)


# --- Proxy: configurable-http-proxy runs as its own service, so that restarting the hub
# leaves every route (and every open desktop) alone.
c.ConfigurableHTTPProxy.should_start = False
# Its API is on a network only the hub shares (compose/docker-compose.yml), not on
# JupyterHub's default 127.0.0.1.
c.ConfigurableHTTPProxy.api_url = knob("MINISWAN_PROXY_API_URL", "http://proxy-api:8001")
# The proxy keeps its routes in memory only. The hub re-checks them (and re-adds missing
# ones) on each activity update, so a restarted proxy is whole again within this interval
# (JupyterHub's 300 s would leave desktops unreachable for minutes).
c.JupyterHub.last_activity_interval = int(knob("MINISWAN_ROUTE_CHECK_INTERVAL", "10"))
# Public URL as the browser sees it (printed in logs and used for redirects); the compose
# file makes it from MINISWAN_PORT.
c.JupyterHub.bind_url = setting("MINISWAN_PUBLIC_URL")

# --- Hub: reachable by the proxy and by user containers on the shared network.
c.JupyterHub.hub_bind_url = "http://0.0.0.0:8081"
# Its service name on those networks (JupyterHub's default would be the bind address).
c.JupyterHub.hub_connect_url = knob("MINISWAN_HUB_CONNECT_URL", "http://hub:8081")

# --- State on the hub-data volume: users, servers and the cookie secret survive restarts.
# Its mount point in compose/docker-compose.yml (JupyterHub's default: its working folder).
data_dir = knob("MINISWAN_HUB_DATA", "/srv/jupyterhub")
c.JupyterHub.db_url = f"sqlite:///{data_dir}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = f"{data_dir}/jupyterhub_cookie_secret"
# A hub restart resumes running servers instead of stopping them.
c.JupyterHub.cleanup_servers = False
c.JupyterHub.cleanup_proxy = False

# --- Authentication: JupyterHub's built-in shared-password mode, fit for a local stack.
# Any user name logs in with the user password; the admin user needs the admin password.
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = setting("MINISWAN_USER_PASSWORD")
c.SharedPasswordAuthenticator.admin_password = setting("MINISWAN_ADMIN_PASSWORD")
c.Authenticator.admin_users = {setting("MINISWAN_ADMIN_USER")}
c.Authenticator.allow_all = True

# --- Spawner: one container per user, on the stack's own network, reached by its name.
# The engine (docs/operations.md, docs/swarm.md): "docker", MiniSwanSpawner (DockerSpawner plus
# the spawn form, services/hub/miniswan_hub) on this hub's engine; "swarm", MiniSwanSwarmSpawner,
# a Swarm service per user, for a hub that runs on a swarm manager (tools/swarm). Both share
# the SWAN layer; the settings below under `spawner` reach whichever is chosen.
ENGINES = {
    "docker": "miniswan_hub.spawner.MiniSwanSpawner",
    "swarm": "miniswan_hub.swarm_spawner.MiniSwanSwarmSpawner",
}
engine = setting("MINISWAN_ENGINE")
if engine not in ENGINES:
    raise RuntimeError(f"MINISWAN_ENGINE is {engine!r}: choose one of {', '.join(ENGINES)}")
c.JupyterHub.spawner_class = ENGINES[engine]
# The concrete class's section: the SWAN layer's settings are read under its name.
spawner = getattr(c, ENGINES[engine].rsplit(".", 1)[1])
c.DockerSpawner.image = setting("MINISWAN_USER_IMAGE")
# A swarm's nodes hold (or pull) the user image themselves, not the manager the hub talks to.
c.DockerSpawner.pull_policy = "ifnotpresent" if engine == "docker" else "skip"
# One name for the compose project, its network and its user containers, so that two stacks
# (the demo and the e2e one) can run side by side without touching each other's users.
stack = setting("MINISWAN_STACK")
c.DockerSpawner.network_name = stack
# The proxy reaches a container's server at its address on the user's network: a name in the
# route made configurable-http-proxy ask Docker's DNS on every request and websocket (0.7 ms
# more for each desktop websocket's connect, measured on the demo stack). A container keeps its
# address while it runs. A swarm service keeps its name: its tasks' addresses change when they
# are rescheduled.
c.DockerSpawner.use_internal_hostname = engine == "swarm"
# ...except that each user server runs on a network of its own, joined by these services of the
# stack, so user containers cannot reach each other (miniswan_hub/networks.py).
c.UserNetworks.stack = stack
c.UserNetworks.services = ["proxy", "hub", "eos-stub"]
c.UserNetworks.pool = setting("MINISWAN_USER_NETWORK_POOL")
c.DockerSpawner.name_template = stack + "-user-{username}"
# Stopped servers leave no container behind; user data lives on volumes, not in containers.
c.DockerSpawner.remove = True
# Each user's home is on EOS (the eos-stub), mounted at /eos/user/<initial>/<name> by
# miniswan_hub.eos on each spawn (docs/eos.md); it outlives the container (a stop, a crash).
c.DockerSpawner.volumes = {}
# Where the eos-stub answers: EosHomes.url's default unless MINISWAN_EOS_URL says otherwise.
if eos_url := os.environ.get("MINISWAN_EOS_URL"):
    c.EosHomes.url = eos_url
c.EosHomes.stack = stack
# Lets `nox -s down` find the containers the hub spawned (compose does not know them).
c.DockerSpawner.extra_create_kwargs = {"labels": {"org.miniswan.stack": stack}}
debug = setting("MINISWAN_DEBUG") == "1"
c.DockerSpawner.debug = debug
c.Spawner.default_url = "/lab"
# The spawn page's progress (the spawner's steps, miniswan_hub/progress.py) after 2 s instead
# of JupyterHub's 10 s, during which the submitted form shows nothing. Refusals (bad options,
# a missing software stack, EOS down) take well under a second, so they still come back as
# the request's own answer (a handler setting, not a JupyterHub trait).
c.JupyterHub.tornado_settings = {"slow_spawn_timeout": 2}
c.Spawner.start_timeout = int(setting("MINISWAN_SPAWN_TIMEOUT"))
# Seconds a started server has to answer: more room than JupyterHub's 30 s.
c.Spawner.http_timeout = int(knob("MINISWAN_HTTP_TIMEOUT", "90"))
# How often the hub checks that each user container still runs (a killed one is noticed
# within seconds, not JupyterHub's 30).
c.Spawner.poll_interval = int(knob("MINISWAN_POLL_INTERVAL", "10"))

# --- Idle culling: servers without activity for this many seconds are stopped. Activity is
# what the proxy sees (every request and websocket message) plus kernels' activity reported by
# the server; an open desktop tab counts (the Xpra client pings every 5 s), see docs.
cull_timeout = int(setting("MINISWAN_CULL_IDLE_TIMEOUT"))
if cull_timeout > 0:
    c.JupyterHub.services = [
        {
            "name": "idle-culler",
            "command": [
                sys.executable,
                "-m",
                "jupyterhub_idle_culler",
                f"--timeout={cull_timeout}",
                f"--cull-every={int(setting('MINISWAN_CULL_EVERY'))}",
            ],
        }
    ]
    c.JupyterHub.load_roles = [
        {
            "name": "idle-culler",
            "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
            "services": ["idle-culler"],
        }
    ]

c.JupyterHub.log_level = "DEBUG" if debug else "INFO"

# --- Software stacks (docs/software-stacks.md): the CVMFS stand-in's views, read-only at
# /cvmfs in every user container (the cvmfs-stub service fills the volume); the spawn page
# lists the releases from the stub's catalog and limits cores and memory.
# (A swarm's servers bind each node's own /cvmfs instead: MiniSwanSwarmSpawner.node_cvmfs_dir.)
if engine == "docker":
    c.DockerSpawner.volumes[stack + "-cvmfs"] = {"bind": "/cvmfs", "mode": "ro"}
# The catalog: the cvmfs-stub's (cvmfs_catalog_url's default) unless this says otherwise.
if catalog_url := os.environ.get("MINISWAN_CVMFS_CATALOG_URL"):
    spawner.cvmfs_catalog_url = catalog_url
spawner.cpu_choices = [int(n) for n in setting("MINISWAN_CPU_CHOICES").split(",")]
spawner.default_cpu = int(setting("MINISWAN_DEFAULT_CPU"))
spawner.memory_choices_gb = [int(n) for n in setting("MINISWAN_MEMORY_CHOICES_GB").split(",")]
spawner.default_memory_gb = int(setting("MINISWAN_DEFAULT_MEMORY_GB"))
spawner.max_memory_gb = int(setting("MINISWAN_MAX_MEMORY_GB"))

# --- Developer loop (`nox -s dev`): the extension's source on the host replaces the copy
# installed in the user image, read-only: Python from the source tree, the JupyterLab frontend
# from its build folder (a browser reload shows a change). JupyterLab servers run with
# Jupyter Server's autoreload: a saved Python file re-executes the server in place (same
# container, same URL) within seconds, so nobody restarts a server by hand.
# The compose file always passes it: empty unless `nox -s dev` sets it.
dev_extension = setting("MINISWAN_DEV_EXTENSION_DIR")
if dev_extension:
    dev_root = "/opt/miniswan-dev"
    c.DockerSpawner.volumes.update(
        {
            dev_extension: {"bind": f"{dev_root}/extension", "mode": "ro"},
            f"{dev_extension}/miniswan_desktop/labextension": {
                "bind": f"{dev_root}/share/jupyter/labextensions/miniswan-desktop",
                "mode": "ro",
            },
        }
    )
    c.DockerSpawner.environment = {
        "PYTHONPATH": f"{dev_root}/extension",
        "JUPYTER_PATH": f"{dev_root}/share/jupyter",
    }
    spawner.jupyterlab_cmd = ["jupyterhub-singleuser", "--ServerApp.autoreload=True"]
