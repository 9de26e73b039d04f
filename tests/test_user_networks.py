"""The per-user network module: subnet choice (pure) and the Docker calls it makes.

The Docker calls are checked against a fake engine (a dict of networks and containers); the
real engine is exercised by e2e/test_isolation.py.
"""

from __future__ import annotations

import asyncio
import ipaddress
from typing import Any

import docker.errors
import pytest
from miniswan_hub.networks import NetworkError, UserNetworks, free_subnet

net = ipaddress.IPv4Network


def test_free_subnets_skip_every_overlap() -> None:
    used = [net("10.213.0.0/28"), net("10.213.0.32/27"), net("192.168.0.0/20")]
    first = list(free_subnet(net("10.213.0.0/16"), 28, used))[:3]
    assert first == [net("10.213.0.16/28"), net("10.213.0.64/28"), net("10.213.0.80/28")]


def test_a_pool_inside_a_used_range_has_nothing_free() -> None:
    assert list(free_subnet(net("10.213.0.0/24"), 28, [net("10.0.0.0/8")])) == []


class FakeEngine:
    """Just enough of docker.APIClient for UserNetworks, in memory."""

    def __init__(self, used: list[str]) -> None:
        self.networks: dict[str, dict[str, Any]] = {
            f"other{i}": {"Id": f"other{i}", "IPAM": {"Config": [{"Subnet": s}]}, "Containers": {}}
            for i, s in enumerate(used)
        }
        self.containers = [
            {"Id": "p1", "Names": ["/stk-proxy-1"], "Labels": self._labels("proxy")},
            {"Id": "h1", "Names": ["/stk-hub-1"], "Labels": self._labels("hub")},
        ]
        self.connected: list[tuple[str, str, list[str]]] = []

    @staticmethod
    def _labels(service: str) -> dict[str, str]:
        return {"com.docker.compose.project": "stk", "com.docker.compose.service": service}

    def inspect_network(self, name: str) -> dict[str, Any]:
        if name not in self.networks:
            raise docker.errors.NotFound(name)
        return self.networks[name]

    def networks_list(self) -> list[dict[str, Any]]:
        return list(self.networks.values())

    def create_network(self, name: str, ipam: Any, **kwargs: Any) -> None:
        subnet = ipam["Config"][0]["Subnet"]
        # As Docker does: a subnet overlapping an existing network's is refused.
        for other in self.networks.values():
            if net(subnet).overlaps(net(other["IPAM"]["Config"][0]["Subnet"])):
                raise docker.errors.APIError("Pool overlaps with other one on this address space")
        self.networks[name] = {
            "Id": name,
            "IPAM": {"Config": [{"Subnet": subnet}]},
            "Containers": {},
        }

    def containers_list(self, filters: dict[str, str]) -> list[dict[str, Any]]:
        return self.containers

    def connect_container_to_network(self, cid: str, name: str, aliases: list[str]) -> None:
        self.connected.append((cid, name, aliases))
        cname = next(c["Names"][0][1:] for c in self.containers if c["Id"] == cid)
        self.networks[name]["Containers"][cid] = {"Name": cname}

    def disconnect_container_from_network(self, cid: str, name: str, force: bool) -> None:
        del self.networks[name]["Containers"][cid]

    def remove_network(self, nid: str) -> None:
        del self.networks[nid]


def make(engine: FakeEngine, **traits: Any) -> UserNetworks:
    async def call(method: str, *args: Any, **kwargs: Any) -> Any:
        # The fake keeps its data in `networks`/`containers`: their API calls are renamed.
        method = {"networks": "networks_list", "containers": "containers_list"}.get(method, method)
        # Each call yields to the event loop, as the real ones (run in threads) do: concurrent
        # spawns interleave between listing the subnets and creating a network.
        await asyncio.sleep(0)
        return getattr(engine, method)(*args, **kwargs)

    return UserNetworks(call, stack="stk", **traits)


def test_ensure_creates_a_network_in_the_pool_and_joins_the_services() -> None:
    engine = FakeEngine(used=["10.213.0.0/28"])
    networks = make(engine)
    name = networks.name_for("alice")
    asyncio.run(networks.ensure(name))
    assert name == "stk-net-alice"
    assert engine.networks[name]["IPAM"]["Config"][0]["Subnet"] == "10.213.0.16/28"
    assert [(c, a) for c, _, a in engine.connected] == [("p1", ["proxy"]), ("h1", ["hub"])]
    # A second call (every poll) changes nothing.
    asyncio.run(networks.ensure(name))
    assert len(engine.connected) == 2


def test_remove_disconnects_the_services_and_deletes_the_network() -> None:
    engine = FakeEngine(used=[])
    networks = make(engine)
    asyncio.run(networks.ensure("stk-net-bob"))
    asyncio.run(networks.remove("stk-net-bob"))
    asyncio.run(networks.remove("stk-net-bob"))  # already gone: fine
    assert "stk-net-bob" not in engine.networks


def test_a_full_pool_is_a_clear_error() -> None:
    engine = FakeEngine(used=["10.213.0.0/24"])
    with pytest.raises(NetworkError, match="UserNetworks.pool"):
        asyncio.run(make(engine, pool="10.213.0.0/24").ensure("stk-net-carol"))


def test_ten_users_spawning_at_once_each_get_a_network() -> None:
    """All ten list the same free subnets at the same moment; none may give up."""
    engine = FakeEngine(used=["10.213.0.0/28"])

    async def spawn_ten() -> None:
        await asyncio.gather(*(make(engine).ensure(f"stk-net-u{i}") for i in range(10)))

    asyncio.run(spawn_ten())
    subnets = {engine.networks[f"stk-net-u{i}"]["IPAM"]["Config"][0]["Subnet"] for i in range(10)}
    assert len(subnets) == 10


def test_a_subnet_taken_by_another_stack_meanwhile_is_skipped() -> None:
    engine = FakeEngine(used=[])
    create = engine.create_network
    taken: list[str] = []

    def another_hub_first(name: str, ipam: Any, **kwargs: Any) -> None:
        if not taken:  # another stack's hub takes the subnet we just chose
            taken.append(ipam["Config"][0]["Subnet"])
            engine.networks["theirs"] = {
                "Id": "theirs",
                "IPAM": {"Config": [{"Subnet": taken[0]}]},
                "Containers": {},
            }
        create(name, ipam, **kwargs)

    engine.create_network = another_hub_first  # type: ignore[method-assign]
    asyncio.run(make(engine).ensure("stk-net-dave"))
    assert engine.networks["stk-net-dave"]["IPAM"]["Config"][0]["Subnet"] != taken[0]


class StaleCopyEngine(FakeEngine):
    """A Swarm manager's engine just after the cluster removed an attachable overlay: its own
    copy still answers an inspect (`lingers` times, for ever when None) and cannot be joined."""

    def __init__(self, name: str, lingers: int | None) -> None:
        super().__init__(used=[])
        self.stale_name = name
        self.lingers = lingers
        self.networks[name] = {
            "Id": "removed-id",
            "IPAM": {"Config": [{"Subnet": "10.213.0.0/28"}]},
            "Containers": {},
        }

    def inspect_network(self, name: str) -> dict[str, Any]:
        found = super().inspect_network(name)
        if found["Id"] == "removed-id" and self.lingers is not None:
            self.lingers -= 1
            if self.lingers < 0:
                del self.networks[name]
        return found

    def connect_container_to_network(self, cid: str, name: str, aliases: list[str]) -> None:
        if self.networks[name]["Id"] == "removed-id":
            raise docker.errors.APIError(
                f"Could not attach to network {name}: rpc error: code = NotFound desc = "
                f"network {name} not found"
            )
        super().connect_container_to_network(cid, name, aliases)


def test_a_network_removed_as_it_is_joined_is_made_again() -> None:
    engine = StaleCopyEngine("stk-net-bob", lingers=3)
    asyncio.run(make(engine).ensure("stk-net-bob"))
    assert engine.networks["stk-net-bob"]["Id"] == "stk-net-bob"  # a new one
    assert [(c, n) for c, n, _ in engine.connected] == [
        ("p1", "stk-net-bob"),
        ("h1", "stk-net-bob"),
    ]


def test_a_network_that_stays_half_removed_is_a_clear_error() -> None:
    engine = StaleCopyEngine("stk-net-bob", lingers=None)
    with pytest.raises(NetworkError, match="still being removed"):
        asyncio.run(make(engine, gone_timeout=0.3).ensure("stk-net-bob"))


def test_other_join_errors_are_not_mistaken_for_a_removed_network() -> None:
    engine = FakeEngine(used=[])
    engine.containers[0]["Id"] = "gone-container"

    def refuse(cid: str, name: str, aliases: list[str]) -> None:
        raise docker.errors.APIError(f"No such container: {cid}")

    engine.connect_container_to_network = refuse  # type: ignore[method-assign]
    with pytest.raises(docker.errors.APIError, match="No such container"):
        asyncio.run(make(engine).ensure("stk-net-dan"))
