"""The Docker Swarm engine: dockerspawner's SwarmSpawner under the SWAN layer
(swan_layer.py), one Swarm service per user, placed by the cluster's scheduler.

The session plan becomes the service (`apply_plan`):

- resources: the chosen cores and memory are the task's reservation (the scheduler places it
  only where that much is free) and its limit;
- placement: `placement_constraints` (workers by default); the scheduler spreads tasks over
  the nodes that fit;
- network: the user's own attachable overlay network (networks.py's per-user networks, made
  as overlays: `SwarmNetworks`), which the proxy, hub and eos-stub containers join;
- endpoint: `dnsrr` and no published port: the proxy reaches the server by its service name,
  which resolves to the task's address. Swarm's virtual IPs would need IPVS in the kernel of
  every node, which not every machine has (the test cluster's does not, docs/swarm.md);
- storage: binds of each node's own mounts (CVMFS and EOS, as SWAN's nodes have them) into
  the task: /cvmfs read-only, the user's EOS home, the user's XRootD key read-only;
- restart policy `none`: a server that dies, or whose node goes down, is not restarted
  elsewhere behind the hub's back; the hub notices (`poll`) and the user starts again.

Known gaps of SwarmSpawner handled here: it makes every mount a bind mount (dockerspawner
#536), so the volumes are node paths on purpose, and its read-only test (`mode == "ro"`)
misses modes like "ro,nocopy" (`bind_mounts`); a task the scheduler cannot place, or a node
rejects, looks pending to it until the spawn times out, so `start_object` fails at once with
the scheduler's reason (`check_starting`). Services cannot be privileged: the user image
needs no privilege (Xpra, Xvfb and the servers run as the user).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import time
from collections.abc import Iterable, Mapping
from typing import Any

import docker.errors
from docker.types import Mount, RestartPolicy
from dockerspawner import SwarmSpawner
from tornado import web
from traitlets import Float, List, Unicode, default

from . import eos
from .networks import DockerCall, NetworkError, UserNetworks
from .progress import SpawnProgress
from .session_plan import SessionPlan
from .swan_layer import SwanLayer

# Task states of a task that may still come to run (Docker's swarm API, TaskState).
STARTING = {
    "new",
    "allocated",
    "pending",
    "assigned",
    "accepted",
    "preparing",
    "ready",
    "starting",
}
# What the scheduler writes in a pending task's error when no node has the reservation free.
INSUFFICIENT = "insufficient resources"


class SchedulingError(RuntimeError):
    """The cluster cannot run the user's server; the message is meant for the user.
    `no_room`: no node has the resources free (yet), which a server ending may change."""

    def __init__(self, message: str, no_room: bool = False) -> None:
        super().__init__(message)
        self.no_room = no_room


def current_task(tasks: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The service's newest task (with restart policy none there is one; be safe anyway)."""
    return max(tasks, key=lambda task: task.get("CreatedAt", ""), default=None)


def check_starting(task: Mapping[str, Any], asked: str) -> bool:
    """True once `task` runs, False while it may still start; SchedulingError when it cannot.

    `asked` says what the user chose ("2 cores and 4 GB memory"), for the message. A task no
    node can take stays `pending` for ever with the scheduler's reason in Status.Err; one a
    node refuses (a missing image, a bind source missing on that node) becomes `rejected`.
    """
    status = task.get("Status") or {}
    state = status.get("State", "")
    reason = status.get("Err") or status.get("Message") or ""
    if state == "running":
        return True
    if state == "pending" and INSUFFICIENT in reason:
        raise SchedulingError(
            f"Not enough resources in the cluster for {asked}: no node has that much free "
            f"right now (the scheduler: {reason}). Choose fewer cores or less memory, or try "
            "again once other servers have stopped.",
            no_room=True,
        )
    if state == "pending" and reason.startswith("no suitable node"):
        raise SchedulingError(f"No node of the cluster may run your server ({reason}).")
    if state in STARTING:
        return False
    raise SchedulingError(
        f"The cluster could not start your server: its task is {state}"
        + (f" ({reason})." if reason else ".")
    )


def running_problem(task: Mapping[str, Any] | None, node: Mapping[str, Any] | None) -> str | None:
    """None while the server's task runs (or still starts) on a node that is up; else why not.

    A node that stops answering keeps its tasks `running` in the manager's view (they become
    orphaned only after a day): the node's own state says whether they really run.
    """
    if task is None:
        return "its task is gone"
    status = task.get("Status") or {}
    state = status.get("State", "")
    reason = status.get("Err") or status.get("Message") or ""
    desired = task.get("DesiredState", "running")
    if desired != "running":
        return f"its task is to be {desired} (now {state}{': ' + reason if reason else ''})"
    if state not in STARTING and state != "running":
        return f"its task is {state}{': ' + reason if reason else ''}"
    if node is not None:
        node_state = (node.get("Status") or {}).get("State", "unknown")
        if node_state != "ready":
            hostname = (node.get("Description") or {}).get("Hostname", node.get("ID", "?"))
            return f"its node {hostname} is {node_state}"
    return None


def bind_mounts(binds: Mapping[str, Mapping[str, str]]) -> list[Mount]:
    """DockerSpawner's volume binds (host path -> bind, mode) as the service's bind mounts; a
    mode with "ro" among its flags ("ro,nocopy") is read-only (SwarmSpawner tests `== "ro"`)."""
    return [
        Mount(
            target=bind["bind"],
            source=source,
            type="bind",
            read_only="ro" in bind.get("mode", "rw").split(","),
        )
        for source, bind in binds.items()
    ]


def _as_overlay(docker: DockerCall) -> DockerCall:
    """`docker` with every network it creates an attachable overlay: networks.py makes bridge
    networks, which exist on one engine only; a swarm's span its nodes, and `attachable`
    lets the proxy, hub and eos-stub containers (not services) join them."""

    async def call(method: str, *args: Any, **kwargs: Any) -> Any:
        if method == "create_network":
            kwargs = {**kwargs, "driver": "overlay", "attachable": True}
        return await docker(method, *args, **kwargs)

    return call


# Subnets of overlay networks removed lately, and when (one hub process makes them all).
_RELEASED: dict[ipaddress.IPv4Network, float] = {}


class SwarmNetworks(UserNetworks):
    """networks.py's per-user networks (settings: c.UserNetworks), as overlays.

    A removed overlay's subnet is not given to a new network for `subnet_quarantine`
    seconds: each node drops its own copy of a network some time after the manager has, and
    a node still holding it rejects a task on a new network with the same subnet ("Pool
    overlaps with other one on this address space", seen when users started in quick turn).
    """

    subnet_quarantine = Float(
        120.0,
        help="Seconds a removed user network's subnet is left unused (see SwarmNetworks).",
    ).tag(config=True)

    def __init__(self, docker: DockerCall, **kwargs: Any) -> None:
        super().__init__(_as_overlay(docker), **kwargs)

    async def remove(self, name: str) -> None:
        network = await self._find(name)
        await super().remove(name)
        for config in ((network or {}).get("IPAM") or {}).get("Config") or []:
            with contextlib.suppress(ValueError):
                _RELEASED[ipaddress.IPv4Network(config.get("Subnet", ""))] = time.monotonic()

    async def _used_subnets(self) -> list[ipaddress.IPv4Network]:
        now = time.monotonic()
        for subnet, when in list(_RELEASED.items()):
            if now - when > self.subnet_quarantine:
                del _RELEASED[subnet]
        return [*await super()._used_subnets(), *_RELEASED]


class SwarmEosHomes(eos.EosHomes):
    """eos.py's EOS homes (settings: c.EosHomes), mounted from each node's EOS mount instead
    of Docker volumes: a Docker volume lives on one engine, and SwarmSpawner binds anyway."""

    node_eos_dir = Unicode(
        "/eos",
        help="""Where every node that runs user servers has EOS (the eos-stub's /eos)
        mounted; a user's home /eos/user/<i>/<name> is bound from this folder's user/<i>/<name>.
        On a real cluster, EOS's FUSE client's mount; in the test cluster, a volume every node
        container shares (tools/swarm).""",
    ).tag(config=True)

    node_auth_dir = Unicode(
        "/srv/eos-auth",
        help="""Where every node that runs user servers sees the eos-stub's auth folder;
        users/<name> (that user's token and the eos-stub's CA certificate) is bound
        read-only at /etc/eos-key.""",
    ).tag(config=True)

    async def _bind_volume(
        self, docker: Any, kind: str, username: str, source_volume: str, subdir: str
    ) -> str:
        # eos.py asks for a volume showing `subdir` of the data or the auth volume: the node
        # path of the same folder (created by then: the home over XRootD, the key folder here).
        nodes = {self.data_volume: self.node_eos_dir, self.auth_volume: self.node_auth_dir}
        return nodes[source_volume].rstrip("/") + subdir


class MiniSwanSwarmSpawner(SwanLayer, SwarmSpawner):
    """One Swarm service per user; JupyterLab or a desktop-only server, as the user chose."""

    placement_constraints = List(
        Unicode(),
        default_value=["node.role == worker"],
        help="""Swarm placement constraints of user servers: workers only by default, so the
        manager keeps its cores for the hub, the proxy and the stand-ins.""",
    ).tag(config=True)

    node_cvmfs_dir = Unicode(
        "/cvmfs",
        help="""Where every node that runs user servers has CVMFS mounted; bound read-only at
        /cvmfs. On a real cluster, the CVMFS client's automount; in the test cluster, a volume
        every node container shares, filled by the cvmfs-stub (tools/swarm).""",
    ).tag(config=True)

    task_check_interval = Float(
        0.25,
        help="""Seconds between two looks at a starting server's task (SwarmSpawner's own wait
        starts at 1 s and backs off to 11 s, time a user waits for nothing).""",
    ).tag(config=True)

    no_room_grace = Float(
        10.0,
        help="""Seconds a server the scheduler has no room for may wait before the spawn
        fails with its reason. A stopped server's reservation is freed only once its node has
        ended its container (seconds): a user who stops and starts again at once, or whose
        server replaces one just stopped, would otherwise be told there is no room.""",
    ).tag(config=True)

    network_removal_timeout = Float(
        20.0,
        help="""Seconds a stop waits for the user's overlay network to be free (the node ends
        the task's container after the service is removed) before leaving it for the user's
        next start to reuse.""",
    ).tag(config=True)

    @default("hub_connect_url")
    def _hub_on_the_users_network(self) -> str:
        # The hub's name on the user's overlay network (networks.py joins it as its service
        # name): the hub's own connect URL may name it on the stack's network only, which
        # the server is not on (tools/swarm/manager.yml says why).
        return f"http://hub:{self.hub.port if self.hub else 8081}"

    _networks: UserNetworks | None = None
    # What the user asked for, for the scheduler's refusal (set by _launch).
    _asked = "the resources you chose"

    @property
    def networks(self) -> UserNetworks:
        """This server's private overlay network, configured as c.UserNetworks."""
        if self._networks is None:
            self._networks = SwarmNetworks(self.docker, parent=self)
        return self._networks

    @property
    def mounts(self) -> list[Mount]:
        return bind_mounts(self.volume_binds)

    def apply_plan(self, plan: SessionPlan) -> None:
        """Set SwarmSpawner's settings from the plan (SwanLayer.plan has set the command,
        URL, limits and environment): what create_object() builds the service of."""
        self.cpu_guarantee = float(plan.cores)
        self.mem_guarantee = plan.memory_limit
        self.volumes = {
            **self.volumes,
            self.node_cvmfs_dir: {"bind": "/cvmfs", "mode": "ro"},
        }
        self.extra_placement_spec = {
            **self.extra_placement_spec,
            "constraints": list(self.placement_constraints),
        }
        # No published port (it would need the ingress mesh, IPVS): the proxy reaches the
        # server over the user's network, by name.
        self.extra_endpoint_spec = {**self.extra_endpoint_spec, "mode": "dnsrr", "ports": {}}
        self.extra_task_spec = {
            **self.extra_task_spec,
            "restart_policy": RestartPolicy(condition="none"),
        }

    async def _prepare_eos(self) -> None:
        """eos.py's steps (home, token) with node paths as the mounts."""
        home = await SwarmEosHomes(parent=self).prepare(self.user.name, self.docker)
        self.volumes = {**self.volumes, **home.volumes}
        self.environment = {**self.environment, **home.environment}
        self.notebook_dir = home.path
        # A service's working folder is its container spec's (not a create_service argument).
        self.extra_container_spec = {**self.extra_container_spec, "workdir": home.path}

    async def _launch(self, plan: SessionPlan, steps: SpawnProgress) -> Any:
        steps.step(30, "Preparing your EOS home")
        await self._prepare_eos()
        self.apply_plan(plan)
        cores = f"{plan.cores} core{'s' if plan.cores != 1 else ''}"
        self._asked = f"{cores} and {plan.memory_gb} GB memory"
        try:
            if self.networks.enabled:
                steps.step(45, "Creating your private network")
                self.network_name = self.networks.name_for(self.escaped_name)
                await self.networks.ensure(self.network_name)
            steps.step(60, f"Placing your server in the cluster ({self._asked})")
            ip_port = await self._engine_start()
            steps.step(80, f"Waiting for {plan.server_name} to answer")
            return ip_port
        except SchedulingError as error:
            raise web.HTTPError(503, str(error)) from error
        except NetworkError as error:
            raise web.HTTPError(500, str(error)) from error
        except docker.errors.APIError as error:
            detail = error.explanation or str(error)
            raise web.HTTPError(
                500, f"The cluster could not start your server: {detail}"
            ) from error

    async def start_object(self) -> None:
        """Wait until the service's task runs; fail at once when the scheduler cannot place it
        or a node rejects it, with its reason, and leave nothing behind."""
        started = time.monotonic()
        while True:
            task = current_task(await self.docker("tasks", filters={"service": self.service_name}))
            try:
                if task is not None and check_starting(task, self._asked):
                    break
            except SchedulingError as error:
                if not (error.no_room and time.monotonic() - started < self.no_room_grace):
                    # A pending service would still start whenever room appears: remove it.
                    await self.stop()
                    raise
            await asyncio.sleep(self.task_check_interval)
        node = await self._node(task)
        self.log.info(
            "%s's server runs on node %s (task %s)",
            self.user.name,
            (node or {}).get("Description", {}).get("Hostname", "?"),
            task.get("ID", "?")[:12],
        )

    async def _node(self, task: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
        if not task or not task.get("NodeID"):
            return None
        try:
            node: Mapping[str, Any] = await self.docker("inspect_node", task["NodeID"])
            return node
        except docker.errors.NotFound:
            return None

    async def poll(self) -> Any:
        if await self.get_object() is None:
            return 0
        task = current_task(await self.docker("tasks", filters={"service": self.service_name}))
        problem = running_problem(task, await self._node(task))
        if problem is None:
            if self.networks.enabled:
                # A recreated proxy or hub container has lost its place on this user's network.
                try:
                    await self.networks.ensure(self.networks.name_for(self.escaped_name))
                except (NetworkError, docker.errors.APIError) as error:
                    self.log.warning(
                        "Could not check the network of %s: %s", self.user.name, error
                    )
            # The user's EOS token is renewed at half its life while the server runs.
            await eos.refresh_token(self)
            return None
        self.log.warning("%s's server is gone: %s", self.user.name, problem)
        if not self._spawn_pending:
            # JupyterHub does not call stop() for a server that is already dead.
            await self.remove_object()
            await self._remove_network(wait=0)
        return problem

    async def stop(self, now: bool = False) -> None:
        if self.object_id or await self.get_object() is not None:
            await super().stop(now=now)
        await self._remove_network(wait=self.network_removal_timeout)

    async def _remove_network(self, wait: float) -> None:
        """Remove the user's network once the node has ended the task (its endpoint on the
        network goes with it), waiting at most `wait` seconds; else it is reused next time."""
        if not self.networks.enabled:
            return
        name = self.networks.name_for(self.escaped_name)
        deadline = time.monotonic() + wait
        while True:
            try:
                await self.networks.remove(name)
                return
            except docker.errors.APIError as error:
                if time.monotonic() >= deadline:
                    self.log.warning("Left the network %s for now: %s", name, error)
                    return
            await asyncio.sleep(0.5)
