"""The Swarm engine, checked without a cluster: the service a spawn-page choice becomes, and
what the spawner makes of the scheduler's answers (tools/swarm and e2e_swarm/ run it for real).

The spawner is configured by the real services/hub/jupyterhub_config.py with
MINISWAN_ENGINE=swarm and runs the SWAN layer's real steps (validation, the stack check
against a served catalog, the plan) and dockerspawner's real SwarmSpawner.start(). What is
faked, and why: no swarm manager runs here, so the Docker API is `FakeSwarm` (the calls the
spawner makes, in memory, answering what a manager answers: tasks with their states and the
scheduler's errors, nodes, networks, the stack's containers); the user is a stand-in object
and the hub JupyterHub's `Hub` object with no hub running; EOS's XRootD steps (creating the
home, writing the user's token; tested in tests/test_eos*.py and e2e) are replaced by no-ops,
so only how the home is mounted is checked here.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import docker.errors
import pytest
from jupyterhub.objects import Hub
from miniswan_hub import swarm_spawner
from miniswan_hub.swarm_spawner import (
    MiniSwanSwarmSpawner,
    SchedulingError,
    bind_mounts,
    check_starting,
    running_problem,
)
from tornado import web

from tests.hub_objects import StandInUser
from tests.test_stack_defaults import ENV_FILE, hub_environment, load_hub_config
from tools.stack import read_env_defaults

STACK = "miniswan-swarm"
GB = 1024**3


def not_found(what: str) -> docker.errors.NotFound:
    return docker.errors.NotFound(what, response=SimpleNamespace(status_code=404))


def task(state: str, err: str = "", node: str = "w1", desired: str = "running") -> dict[str, Any]:
    status: dict[str, Any] = {"State": state}
    if err:
        status["Err"] = err
    found = {"ID": "task1", "CreatedAt": "2026-01-01T00:00:00Z", "Status": status}
    found |= {"DesiredState": desired, "NodeID": node if state != "pending" else ""}
    return found


class FakeSwarm:
    """Just enough of a swarm manager's Docker API for the spawner, in memory. `states` are
    the states the user's task goes through, one per look."""

    def __init__(self, states: list[dict[str, Any]]) -> None:
        self.states = states
        self.services: dict[str, dict[str, Any]] = {}
        self.nets: dict[str, dict[str, Any]] = {}
        self.created_networks: list[dict[str, Any]] = []
        self.calls: list[str] = []
        self.nodes = {
            "w1": {"ID": "w1", "Status": {"State": "ready"}, "Description": {"Hostname": "w1"}},
            "w2": {"ID": "w2", "Status": {"State": "down"}, "Description": {"Hostname": "w2"}},
        }

    async def __call__(self, method: str, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(method)
        return getattr(self, method)(*args, **kwargs)

    def inspect_service(self, name: str) -> dict[str, Any]:
        if name not in self.services:
            raise not_found(name)
        return self.services[name]

    def create_service(self, **kwargs: Any) -> dict[str, Any]:
        self.services[kwargs["name"]] = {"ID": "svc1", **kwargs}
        return {"ID": "svc1"}

    def remove_service(self, service_id: str) -> None:
        self.services = {k: v for k, v in self.services.items() if v["ID"] != service_id}

    def tasks(self, filters: dict[str, str]) -> list[dict[str, Any]]:
        if filters["service"] not in self.services:
            return []
        return [self.states.pop(0) if len(self.states) > 1 else self.states[0]]

    def inspect_node(self, node_id: str) -> dict[str, Any]:
        return self.nodes[node_id]

    # networks.py's calls
    def inspect_network(self, name: str) -> dict[str, Any]:
        if name not in self.nets:
            raise not_found(name)
        return self.nets[name]

    def create_network(self, name: str, **kwargs: Any) -> None:
        self.created_networks.append({"name": name, **kwargs})
        ipam = {"Config": [{"Subnet": kwargs["ipam"]["Config"][0]["Subnet"]}]}
        self.nets[name] = {"Id": name, "Containers": {}, "IPAM": ipam}

    def remove_network(self, network_id: str) -> None:
        del self.nets[network_id]

    def disconnect_container_from_network(self, *args: Any, **kwargs: Any) -> None:
        pass

    def connect_container_to_network(self, container: str, name: str, aliases: list[str]) -> None:
        self.nets[name]["Containers"][container] = {"Name": container}

    def containers(self, filters: dict[str, str]) -> list[dict[str, Any]]:
        labels = {"com.docker.compose.project": STACK}
        return [
            {"Id": f"{STACK}-{s}-1", "Names": [f"/{STACK}-{s}-1"]}
            | {"Labels": labels | {"com.docker.compose.service": s}}
            for s in ("proxy", "hub", "eos-stub")
        ]

    def networks(self) -> list[dict[str, Any]]:
        return list(self.nets.values())


@pytest.fixture
def spawner_for(monkeypatch: pytest.MonkeyPatch, stub: tuple[str, Any]) -> Any:
    catalog_url, _views = stub
    monkeypatch.setattr(swarm_spawner, "_RELEASED", {})
    config = load_hub_config(
        monkeypatch,
        hub_environment(read_env_defaults(ENV_FILE))
        | {"MINISWAN_ENGINE": "swarm", "MINISWAN_STACK": STACK},
    )
    config.MiniSwanSwarmSpawner.cvmfs_catalog_url = catalog_url

    # EOS's XRootD and auth-volume steps (see the module's docstring).
    homes = swarm_spawner.SwarmEosHomes
    monkeypatch.setattr(homes, "_admin_mkdir", lambda self, path: None)
    monkeypatch.setattr(homes, "_write_user_folder", lambda self, name: None)

    def make(name: str, options: dict[str, Any], fake: FakeSwarm) -> MiniSwanSwarmSpawner:
        spawner = MiniSwanSwarmSpawner(config=config, user=StandInUser(name), hub=Hub())
        spawner.user_options = options
        spawner.task_check_interval = 0.01
        spawner.no_room_grace = 0.1
        spawner.network_removal_timeout = 0.1
        spawner.docker = fake  # type: ignore[method-assign]
        return spawner

    return make


def test_the_config_chooses_the_swarm_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    env = hub_environment(read_env_defaults(ENV_FILE))
    c = load_hub_config(monkeypatch, env | {"MINISWAN_ENGINE": "swarm"})
    assert c.JupyterHub.spawner_class == "miniswan_hub.swarm_spawner.MiniSwanSwarmSpawner"
    # the spawn page's limits reach the swarm spawner's section; no Docker volume for /cvmfs
    assert c.MiniSwanSwarmSpawner.cpu_choices == [1, 2]
    assert c.DockerSpawner.volumes == {} and c.DockerSpawner.pull_policy == "skip"
    c = load_hub_config(monkeypatch, env)  # compose/.env's default
    assert c.JupyterHub.spawner_class == "miniswan_hub.spawner.MiniSwanSpawner"
    with pytest.raises(RuntimeError, match="MINISWAN_ENGINE is 'k8s': choose one of docker"):
        load_hub_config(monkeypatch, env | {"MINISWAN_ENGINE": "k8s"})


def test_a_choice_becomes_one_service(spawner_for: Any) -> None:
    fake = FakeSwarm([task("pending"), task("starting"), task("running")])
    options = {"stack": "LCG_105", "cores": "2", "memory": "4", "session": "desktop"}
    spawner = spawner_for("alice", options, fake)

    assert asyncio.run(spawner.start()) == (f"{STACK}-user-alice", 8888)

    service = fake.services[f"{STACK}-user-alice"]
    spec = service["task_template"]
    resources = spec["Resources"]
    # the choice is both what the scheduler reserves and the limit
    assert resources["Reservations"] == {"NanoCPUs": 2 * 10**9, "MemoryBytes": 4 * GB}
    assert resources["Limits"] == {"NanoCPUs": 2 * 10**9, "MemoryBytes": 4 * GB}
    assert spec["Placement"]["Constraints"] == ["node.role == worker"]
    assert spec["RestartPolicy"]["Condition"] == "none"
    assert spec["Networks"] == [{"Target": f"{STACK}-net-alice"}]
    # no published port (that needs the ingress mesh): the proxy reaches it by name
    assert service["endpoint_spec"] == {"Mode": "dnsrr"}
    mounts = {
        m["Target"]: (m["Type"], m["Source"], m["ReadOnly"])
        for m in spec["ContainerSpec"]["Mounts"]
    }
    assert mounts == {
        "/cvmfs": ("bind", "/cvmfs", True),
        "/eos/user/a/alice": ("bind", "/eos/user/a/alice", False),
        "/etc/eos-key": ("bind", "/srv/eos-auth/users/alice", True),
    }
    container = spec["ContainerSpec"]
    assert container["Dir"] == "/eos/user/a/alice"
    assert container["Args"][0] == "miniswan-desktop-server"
    env = dict(line.split("=", 1) for line in container["Env"])
    assert env["HOME"] == "/eos/user/a/alice" and env["SWAN_STACK"] == "LCG_105"
    # the hub as the server reaches it: by its name on the user's network
    assert env["JUPYTERHUB_API_URL"].startswith(f"http://hub:{spawner.hub.port}/")
    assert service["labels"] == {"org.miniswan.stack": STACK}
    # the user's network: an attachable overlay, joined by the proxy, the hub and the eos-stub
    (network,) = fake.created_networks
    assert (network["driver"], network["attachable"]) == ("overlay", True)
    assert set(fake.nets[f"{STACK}-net-alice"]["Containers"]) == {
        f"{STACK}-{s}-1" for s in ("proxy", "hub", "eos-stub")
    }


def test_no_room_fails_at_once_with_the_schedulers_reason(spawner_for: Any) -> None:
    err = "no suitable node (insufficient resources on 2 nodes)"
    fake = FakeSwarm([task("pending"), task("pending", err)])
    spawner = spawner_for("carol", {"cores": "2", "memory": "4"}, fake)

    with pytest.raises(web.HTTPError) as raised:
        asyncio.run(asyncio.wait_for(spawner.start(), 5))

    assert raised.value.status_code == 503
    message = raised.value.log_message
    assert message.startswith(
        "Placing your server in the cluster (2 cores and 4 GB memory): failed."
    )
    assert "Not enough resources in the cluster for 2 cores and 4 GB memory" in message
    assert err in message
    # nothing is left to start later, when room appears
    assert fake.services == {} and fake.nets == {}


def test_the_schedulers_answers() -> None:
    assert check_starting(task("running"), "1 core") is True
    assert check_starting(task("preparing"), "1 core") is False
    assert check_starting(task("pending"), "1 core") is False
    with pytest.raises(SchedulingError, match=r"Not enough resources .* for 2 cores"):
        check_starting(
            task("pending", "no suitable node (insufficient resources on 3 nodes)"), "2 cores"
        )
    with pytest.raises(SchedulingError, match=r"No node .*scheduling constraints"):
        check_starting(
            task("pending", "no suitable node (scheduling constraints not satisfied on 3 nodes)"),
            "x",
        )
    bind = 'invalid mount config for type "bind": bind source path does not exist: /eos/x'
    with pytest.raises(SchedulingError, match=r"its task is rejected \(invalid mount config"):
        check_starting(task("rejected", bind), "x")


def test_a_server_counts_as_gone_once_its_node_is_down() -> None:
    ready = {"Status": {"State": "ready"}}
    down = {"Status": {"State": "down"}, "Description": {"Hostname": "worker2"}}
    assert running_problem(task("running"), ready) is None
    assert running_problem(task("pending"), None) is None
    assert running_problem(task("running"), down) == "its node worker2 is down"
    assert running_problem(task("running", desired="shutdown"), ready).startswith(
        "its task is to be shutdown"
    )
    assert running_problem(task("failed", "exit 1"), ready) == "its task is failed: exit 1"
    assert running_problem(None, None) == "its task is gone"


def test_poll_removes_a_server_whose_node_went_down(spawner_for: Any) -> None:
    fake = FakeSwarm([task("running", node="w1")])
    spawner = spawner_for("bob", {}, fake)
    asyncio.run(spawner.start())
    assert asyncio.run(spawner.poll()) is None

    fake.states = [task("running", node="w2")]  # w2 is down
    assert asyncio.run(spawner.poll()) == "its node w2 is down"
    assert fake.services == {}
    assert asyncio.run(spawner.poll()) == 0  # as JupyterHub polls again: gone


def test_read_only_modes_with_more_flags_stay_read_only() -> None:
    mounts = bind_mounts(
        {
            "/a": {"bind": "/x", "mode": "ro,nocopy"},
            "/b": {"bind": "/y", "mode": "rw,nocopy"},
            "/c": {"bind": "/z", "mode": "ro"},
        }
    )
    assert [(m["Source"], m["ReadOnly"], m["Type"]) for m in mounts] == [
        ("/a", True, "bind"),
        ("/b", False, "bind"),
        ("/c", True, "bind"),
    ]


def test_room_freed_within_the_grace_is_taken(spawner_for: Any) -> None:
    # a server just stopped: its node ends its container a moment later
    err = "no suitable node (insufficient resources on 2 nodes)"
    fake = FakeSwarm([task("pending", err), task("pending", err), task("running")])
    spawner = spawner_for("dave", {}, fake)
    spawner.no_room_grace = 5

    assert asyncio.run(spawner.start()) == (f"{STACK}-user-dave", 8888)


def test_a_removed_networks_subnet_is_not_reused_at_once(spawner_for: Any) -> None:
    # nodes drop their copy of a removed overlay network later than the manager does
    fake = FakeSwarm([task("running")])
    first = spawner_for("erin", {}, fake)
    asyncio.run(first.start())
    asyncio.run(first.stop())
    second = spawner_for("fred", {}, fake)
    asyncio.run(second.start())

    subnets = [n["ipam"]["Config"][0]["Subnet"] for n in fake.created_networks]
    assert subnets == ["10.213.0.0/28", "10.213.0.16/28"]
