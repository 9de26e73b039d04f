"""The whole cluster in order, each step timed, and its teardown (also after a failure)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from tools.stack import ENV_FILE, read_env_defaults

from . import cluster, images, manager, names, nodes


def up(log: Callable[[str], None], folder: Path) -> dict[str, float]:
    """Build the node image, start the nodes, form the swarm, hand over the images, start
    the hub and its neighbours on the manager. Returns each step's seconds."""
    wanted = images.needs({**read_env_defaults(ENV_FILE), **manager.settings()})
    images.check_built(wanted)
    manager.check_pool()
    steps: dict[str, float] = {}

    def step(name: str, action: Callable[[], object]) -> None:
        started = time.monotonic()
        action()
        steps[name] = time.monotonic() - started
        log(f"swarm: {name} ({steps[name]:.0f} s)")

    step("node image built", lambda: nodes.build_image(folder / "node-build.log"))
    step("nodes started", lambda: (nodes.start(), nodes.wait_engines()))
    step("swarm formed (1 manager, 2 workers)", cluster.form)
    step("images handed to the nodes", lambda: images.hand_over(wanted))
    step(f"hub, proxy and stand-ins up on the manager ({manager.URL})", manager.start)
    return steps


def down(log: Callable[[str], None], folder: Path | None = None) -> None:
    """Keep the manager's logs (if `folder`), then remove every miniswan-swarm* object from
    the host's engine; the swarm's state is inside the node volumes, removed with them."""
    if folder is not None:
        try:
            manager.save_logs(folder)
        except Exception as error:  # noqa: BLE001 (teardown goes on whatever the logs do)
            log(f"swarm: no manager logs ({error})")
    removed = nodes.remove()
    log(f"swarm: removed {len(removed)} objects from the host's engine")


def environment() -> dict[str, str]:
    """What the e2e_swarm tests need to find the cluster."""
    return {
        "MINISWAN_URL": manager.URL,
        "MINISWAN_STACK": names.STACK,
        "MINISWAN_SWARM_MANAGER": names.MANAGER,
        "MINISWAN_SWARM_WORKERS": ",".join(names.WORKERS),
        "MINISWAN_SWARM_RUN_DIR": str(names.RUN_DIR),
    }
