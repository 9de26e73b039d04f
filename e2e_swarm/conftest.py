"""Fixtures of the Swarm cluster's tests (`nox -s swarm` builds the cluster, tools/swarm,
and passes where it is in the environment). Only that session collects this folder.

The e2e suite's helpers are reused as they are (e2e/ is on pytest's import path):
stack_info.StackInfo, hub_api.HubAPI, hub_ui.log_in, lab_ui, xpra_client, waiting; and its
shared fixtures `browser_type_launch_args`, `stack` and `hub` (e2e/stack_fixtures.py).

- `cluster`: the nodes' engines (tools/swarm/engines.py: the manager's for the tasks API,
  each worker's to look into the containers it runs) and the host's (to stop a worker node).
- `placements`: what the tests saw, printed at the end of the run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tools.swarm.engines import Cluster

pytest_plugins = ["stack_fixtures"]

PLACEMENTS: list[str] = []


@pytest.fixture(scope="session")
def cluster() -> Cluster:
    return Cluster(
        manager=os.environ["MINISWAN_SWARM_MANAGER"],
        workers=tuple(os.environ["MINISWAN_SWARM_WORKERS"].split(",")),
        run_dir=Path(os.environ["MINISWAN_SWARM_RUN_DIR"]),
    )


@pytest.fixture(scope="session")
def placements() -> Iterator[list[str]]:
    yield PLACEMENTS


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if PLACEMENTS:
        terminalreporter.section("placement seen")
        for line in PLACEMENTS:
            terminalreporter.write_line(line)
