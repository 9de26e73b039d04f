"""8. Swarm: the same user-facing figures when user servers run on a Docker Swarm cluster's
workers (MINISWAN_ENGINE=swarm, docs/swarm.md) rather than on the hub's own engine.

The cluster is tools/swarm's (`nox -s swarm`'s): a manager and two workers, Docker-in-Docker
nodes on this machine, the hub on the manager at 127.0.0.1:8040. This part brings it up,
measures, and always tears it down, also when a step fails. What it measures is the other
parts' own measurement, pointed at the cluster's hub:

- spawn: N users at once (concurrency.py's run_level: login, spawn until the hub says
  ready, desktop, websocket), each with 1 core and 1 GB so that N = 4 fit on the two
  workers' 2 cores each; where each landed, from the manager's tasks API;
- first frame: first_frame.py's prepared-desktop sample (login -> Launcher, Desktop click
  -> first window drawn, reopen, a second desktop, an application) for fresh users one after
  another, each server on a worker (stopped after its sample: the spawn page's default of 2
  cores takes a whole worker).

Not a default part: bringing the cluster up hands 3.9 GB of images to the nodes, 2-3
minutes on this machine before anything is measured (`nox -s bench -- --only swarm`).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

import docker
from playwright.sync_api import Browser, Page

from tools.swarm import manager, names
from tools.swarm import up as cluster_up
from tools.swarm.engines import Cluster

from . import concurrency, first_frame, login_profile
from .common import Bench, StackInfo, settings_from_env
from .stats import summary

USERS = 4
# Half a worker each (a worker has the machine's 2 cores): 4 users fill both workers.
SPAWN_OPTIONS = {"cores": 1, "memory": 1}

# Where a spawn's time goes on the cluster, from the hub's spawn steps (login_profile's marks):
# interval -> (from, to). The network step includes waiting for other users' networks: the
# hub makes them one at a time (networks.py, each picks a free subnet).
SPAWN_STEPS = {
    "choices, stack, EOS home": ("hub_options", "hub_network"),
    "the user's overlay network (one at a time)": ("hub_network", "hub_swarm_place"),
    "service created until its task runs": ("hub_swarm_place", "hub_wait_answer"),
}
# `docker compose logs`' prefix on each line of the saved log ("hub-1  | ").
COMPOSE_PREFIX = re.compile(r"^\S+\s+\| ", re.MULTILINE)


def spawn_steps(hub_log: str, users: list[str]) -> dict[str, Any]:
    """Each SPAWN_STEPS interval summarised over these users' spawns."""
    log = COMPOSE_PREFIX.sub("", hub_log)
    seconds: dict[str, list[float]] = {name: [] for name in SPAWN_STEPS}
    for user in users:
        marks = login_profile.hub_marks(log, user, 0)
        for name, (start, end) in SPAWN_STEPS.items():
            if start in marks and end in marks:
                seconds[name].append(marks[end] - marks[start])
    return {name: summary(values) for name, values in seconds.items()}


@dataclass
class SwarmBench(Bench):
    """A Bench whose users' containers are the tasks of their Swarm services, looked up on
    the worker each runs on; `docker` is the manager's engine (the hub's container)."""

    cluster: Cluster = field(default_factory=Cluster)

    def service(self, username: str) -> str:
        # The spawner names a user's service as DockerSpawner names a container.
        return self.stack.container_name(username)

    def container(self, username: str) -> Any:
        return self.cluster.container_of(self.service(username))

    def node(self, username: str) -> str | None:
        """The worker the user's server runs on, None if it runs nowhere."""
        try:
            return self.cluster.node_of(self.service(username))
        except (AssertionError, docker.errors.APIError):  # no running task, or no service
            return None


def on_cluster(bench: Bench) -> SwarmBench:
    """The run's knobs, pointed at the cluster's hub."""
    cluster = Cluster()
    return SwarmBench(
        stack=StackInfo(url=manager.URL, project=names.STACK, **settings_from_env()),
        out=bench.out,
        quick=bench.quick,
        user_image=bench.user_image,
        hub_image=bench.hub_image,
        peer_image=bench.peer_image,
        docker=cluster.engine(cluster.manager),
        prefix=f"{bench.prefix}s",
        cluster=cluster,
    )


def spawn_rounds(bench: SwarmBench, rounds: int) -> dict[str, Any]:
    """`rounds` times USERS users at once; spawn and total summarised over all rounds."""
    levels = [
        concurrency.run_level(
            bench,
            USERS,
            options=SPAWN_OPTIONS,
            before_stop=lambda users: {"nodes": {u: bench.node(u) for u in users}},
        )
        for _ in range(rounds)
    ]
    ok = [r for level in levels for r in level["results"] if r["ok"]]
    return {
        "users": USERS,
        "options": SPAWN_OPTIONS,
        "rounds": levels,
        "attempts": USERS * rounds,
        "succeeded": len(ok),
        "spawn_s": summary([r["steps_s"]["spawn"] for r in ok]),
        "total_s": summary([r["steps_s"]["total"] for r in ok]),
        "nodes": {u: n for level in levels for u, n in level["nodes"].items()},
    }


def first_frames(bench: SwarmBench, browser: Browser, repeats: int) -> dict[str, Any]:
    """first_frame.py's prepared samples, each user's worker noted, one server at a time."""

    def measure(page: Page, b: Bench, user: str, index: int) -> dict[str, Any]:
        sample = first_frame.sample_prepared(page, b, user, index)
        return {**sample, "node": bench.node(user)}

    samples = []
    for index in range(repeats):
        sample = first_frame.one_sample(bench, browser, "prepared", index, repeats, measure)
        bench.stop_all([sample["user"]])
        samples.append(sample)
    return first_frame.summarise(samples)


def run(bench: Bench, browser: Browser) -> dict[str, Any]:
    out: dict[str, Any] = {"nodes": list(names.NODES)}
    folder = bench.out / "swarm"
    cluster_up.down(bench.log)  # what a killed run left
    try:
        started = time.monotonic()
        out["cluster_up_steps_s"] = cluster_up.up(bench.log, folder)
        out["cluster_up_s"] = time.monotonic() - started
        swarm = on_cluster(bench)
        swarm.hub.token(swarm.stack.admin_user)
        out["spawn"] = spawn_rounds(swarm, 1 if bench.quick else 2)
        out["first_frame"] = first_frames(swarm, browser, 2 if bench.quick else 3)
    finally:
        cluster_up.down(bench.log, folder / "logs")
    # The hub's log, kept by the teardown: where each spawn's time went.
    saved = folder / "logs" / "hub.log"
    hub_log = saved.read_text(errors="replace") if saved.exists() else ""
    if "spawn" in out:
        out["spawn"]["hub_steps_s"] = spawn_steps(hub_log, list(out["spawn"]["nodes"]))
    if "first_frame" in out:
        users = [s["user"] for s in out["first_frame"]["samples"]]
        out["first_frame"]["hub_steps_s"] = spawn_steps(hub_log, users)
    return out
