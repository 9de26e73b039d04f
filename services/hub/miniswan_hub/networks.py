"""One Docker network per user server, so user containers cannot reach each other.

On the stack's shared network every user container could open TCP connections to every
other one (their Jupyter servers, anything a user starts). Instead each user's container runs
alone on its own small bridge network, which the stack's shared services (the proxy, the hub,
and the storage stubs) join under their service names. The user still reaches the hub (`hub`),
the proxy still reaches the user, and nothing else is on the wire.

Each network gets an explicit small subnet from `UserNetworks.pool`: Docker's default address
pools hold only about 30 networks, which a few dozen users would exhaust.
"""

from __future__ import annotations

import asyncio
import ipaddress
import weakref
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import docker.errors
from docker.types import IPAMConfig, IPAMPool
from traitlets import Bool, Float, Int, List, Unicode, validate
from traitlets.config import LoggingConfigurable

# The spawner's docker(): runs a docker.APIClient method in a thread.
DockerCall = Callable[..., Awaitable[Any]]

COMPOSE_PROJECT_LABEL = "com.docker.compose.project"
COMPOSE_SERVICE_LABEL = "com.docker.compose.service"


# Spawns run concurrently in the hub's one event loop: without this lock, ten users spawning
# at once all list the same free subnets and all try the same few (found by the benchmark's
# 10-user run: one spawn gave up). One lock per event loop (tests run several loops).
_CREATE_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def _create_lock() -> asyncio.Lock:
    return _CREATE_LOCKS.setdefault(asyncio.get_running_loop(), asyncio.Lock())


class NetworkError(RuntimeError):
    """A user network could not be set up; the message is meant for the person spawning."""


def network_gone(error: docker.errors.APIError, name: str) -> bool:
    """Whether `error`, from connecting a container to network `name`, says the network does
    not exist (a bridge: 404 "network ... not found"; Swarm: "Could not attach to network
    ...: rpc error: code = NotFound")."""
    text = str(error)
    return name in text and ("not found" in text.lower() or "NotFound" in text)


def free_subnet(
    pool: ipaddress.IPv4Network, prefix: int, used: Iterable[ipaddress.IPv4Network]
) -> Iterable[ipaddress.IPv4Network]:
    """The subnets of `pool` of size /`prefix` that overlap none of `used`, in order."""
    taken = [net for net in used if net.overlaps(pool)]
    for candidate in pool.subnets(new_prefix=prefix):
        if not any(candidate.overlaps(net) for net in taken):
            yield candidate


class UserNetworks(LoggingConfigurable):
    """Creates, joins and removes the per-user networks of one stack."""

    stack = Unicode(
        "miniswan",
        help="The compose project: names the networks and finds the shared services.",
    ).tag(config=True)

    enabled = Bool(
        True,
        help="""Give each user server its own Docker network (joined by the stack's shared
        services). False puts every user container on the stack's shared network, where
        user containers can reach each other.""",
    ).tag(config=True)

    name_template = Unicode(
        "{stack}-net-{username}",
        help="Name of a user's network; {stack} is the compose project, {username} the "
        "escaped user name (as in the container name).",
    ).tag(config=True)

    services = List(
        Unicode(),
        default_value=["proxy", "hub"],
        help="""Compose services of the stack that join every user network, under their
        service name as DNS alias: the proxy (to route to the user), the hub (the user server
        calls it), and any storage service users must reach.""",
    ).tag(config=True)

    pool = Unicode(
        "10.213.0.0/16",
        help="""Address range the user networks' subnets are taken from. Pick one that
        clashes with nothing on your machine's networks (VPNs) or Docker's default pools.""",
    ).tag(config=True)

    prefix = Int(
        28,
        help="Size of each user network (/28: 14 addresses, for the user and the services).",
    ).tag(config=True)

    gone_timeout = Float(
        10.0,
        help="""Seconds a spawn waits for a user network that vanished as it was joined (a
        removal still under way) to be gone before making it again.""",
    ).tag(config=True)

    @validate("pool")
    def _valid_pool(self, proposal: dict[str, Any]) -> str:
        ipaddress.IPv4Network(proposal["value"])  # raises a clear ValueError if malformed
        return str(proposal["value"])

    def __init__(self, docker: DockerCall, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._docker = docker

    def name_for(self, username: str) -> str:
        return self.name_template.format(stack=self.stack, username=username)

    async def ensure(self, name: str) -> None:
        """Make sure network `name` exists and every shared service is on it."""
        network = await self._find(name) or await self._create(name)
        try:
            await self._join(name, network)
        except docker.errors.APIError as error:
            if not network_gone(error, name):
                raise
            # What we found was being removed: on Swarm, the engine keeps its own copy of an
            # attachable overlay for a moment (0.2 s idle, longer under load) after the
            # cluster removed it, and a user who starts again right after their server was
            # found dead (poll removes the network) met that copy (CI, 2026-12-04).
            self.log.warning("Network %s went away as it was joined (%s)", name, error)
            await self._wait_gone(name, network["Id"])
            await self._join(name, await self._create(name))

    async def _wait_gone(self, name: str, network_id: str) -> None:
        """Wait until `name` no longer finds the network `network_id`."""
        deadline = asyncio.get_running_loop().time() + self.gone_timeout
        while (found := await self._find(name)) is not None and found["Id"] == network_id:
            if asyncio.get_running_loop().time() > deadline:
                raise NetworkError(
                    f"The network {name} of your last server is still being removed after "
                    f"{self.gone_timeout:.0f} s. Try again in a minute."
                )
            await asyncio.sleep(0.1)

    async def _join(self, name: str, network: dict[str, Any]) -> None:
        """Connect every shared service not yet on `network`."""
        attached = {c["Name"] for c in (network.get("Containers") or {}).values()}
        missing = [
            (service, container)
            for service, container in (await self._service_containers()).items()
            if container["Names"][0].lstrip("/") not in attached
        ]
        # All at once: each connect is a Docker call of 0.1-0.2 s that the user waits for.
        await asyncio.gather(*(self._connect(s, c["Id"], name) for s, c in missing))

    async def _connect(self, service: str, container_id: str, name: str) -> None:
        self.log.info("Connecting %s to network %s", service, name)
        try:
            await self._docker(
                "connect_container_to_network", container_id, name, aliases=[service]
            )
        except docker.errors.APIError as error:
            # Two spawns racing to connect the same service: already there is fine.
            if "already exists" not in str(error):
                raise

    async def remove(self, name: str) -> None:
        """Disconnect the shared services and delete the network; a missing one is fine."""
        network = await self._find(name)
        if network is None:
            return
        for container_id in list(network.get("Containers") or {}):
            try:
                await self._docker(
                    "disconnect_container_from_network", container_id, name, force=True
                )
            except docker.errors.NotFound:
                pass
        try:
            await self._docker("remove_network", network["Id"])
        except docker.errors.NotFound:
            pass
        self.log.info("Removed network %s", name)

    async def _find(self, name: str) -> dict[str, Any] | None:
        try:
            return await self._docker("inspect_network", name)
        except docker.errors.NotFound:
            return None

    async def _service_containers(self) -> dict[str, dict[str, Any]]:
        found = await self._docker(
            "containers", filters={"label": f"{COMPOSE_PROJECT_LABEL}={self.stack}"}
        )
        by_service = {c["Labels"].get(COMPOSE_SERVICE_LABEL): c for c in found}
        return {s: by_service[s] for s in self.services if s in by_service}

    async def _used_subnets(self) -> list[ipaddress.IPv4Network]:
        used = []
        for net in await self._docker("networks"):
            for config in (net.get("IPAM") or {}).get("Config") or []:
                try:
                    used.append(ipaddress.IPv4Network(config.get("Subnet", ""), strict=False))
                except ValueError:
                    continue  # IPv6 or no subnet
        return used

    async def _create(self, name: str) -> dict[str, Any]:
        async with _create_lock():
            return await self._create_unlocked(name)

    async def _create_unlocked(self, name: str) -> dict[str, Any]:
        pool = ipaddress.IPv4Network(self.pool)
        overlap: docker.errors.APIError | None = None
        # Another stack on this engine (another hub) may take a subnet between our listing
        # and our create: list again and retry a few times before giving up.
        for _attempt in range(5):
            subnet = next(iter(free_subnet(pool, self.prefix, await self._used_subnets())), None)
            if subnet is None:
                raise NetworkError(
                    f"No free /{self.prefix} subnet left in {self.pool} for the network of "
                    "this server. An operator must widen UserNetworks.pool."
                )
            try:
                await self._docker(
                    "create_network",
                    name,
                    driver="bridge",
                    ipam=IPAMConfig(pool_configs=[IPAMPool(subnet=str(subnet))]),
                    labels={"org.miniswan.stack": self.stack},
                    check_duplicate=True,
                )
                self.log.info("Created network %s (%s)", name, subnet)
            except docker.errors.APIError as error:
                if "overlap" in str(error):
                    overlap = error
                    continue
                if "already exists" not in str(error):
                    raise
                # else: created by a concurrent spawn of the same user
            network = await self._find(name)
            if network is not None:
                return network
        raise NetworkError(
            f"Could not create the network of this server: every free subnet of {self.pool} "
            f"was taken by someone else as we tried it ({overlap}). Try again."
        )
