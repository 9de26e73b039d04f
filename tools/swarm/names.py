"""Everything the test cluster creates on the host's engine, by name: all start with
`miniswan-swarm`, so teardown removes exactly these and nothing of other stacks."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
PREFIX = "miniswan-swarm"
# Label on every host-engine object the cluster makes (teardown finds them by it too).
LABEL = "org.miniswan.swarm"
NODE_IMAGE = f"{PREFIX}/node:dev"
NETWORK = PREFIX  # the host bridge the nodes talk on (Swarm's control plane, VXLAN)
MANAGER = f"{PREFIX}-manager"
WORKERS = (f"{PREFIX}-worker1", f"{PREFIX}-worker2")
NODES = (MANAGER, *WORKERS)
# Port on the host's 127.0.0.1 where the manager publishes the proxy (demo 8000, e2e 8010,
# bench 8020).
PORT = 8040
# The compose project of the hub, proxy and stand-ins on the manager; also MINISWAN_STACK.
STACK = PREFIX
# Where each node's engine also answers, on the host: <RUN_DIR>/<node>/docker.sock.
RUN_DIR = ROOT / "artifacts" / "swarm" / "run"
# Folders of every node that stand in for what a real cluster's nodes mount (CVMFS's and EOS's
# clients): each is one host volume shared by all node containers. The swarm spawner's
# node_* settings default to these paths.
SHARED = {
    f"{PREFIX}-cvmfs": "/cvmfs",
    f"{PREFIX}-eos": "/eos",
    f"{PREFIX}-eos-auth": "/srv/eos-auth",
}
# services/hub as the manager sees it (the hub runs this checkout's add-on and config).
HUB_SOURCE_ON_MANAGER = "/srv/miniswan/hub"


def socket(node: str) -> Path:
    return RUN_DIR / node / "docker.sock"


def docker_host(node: str) -> str:
    """DOCKER_HOST for a node's engine."""
    return f"unix://{socket(node)}"


def data_volume(node: str) -> str:
    """The node's /var/lib/docker (overlay2 cannot live on the container's own overlay)."""
    return f"{node}-docker"
