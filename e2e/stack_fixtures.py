"""The fixtures every browser suite against a hub shares: e2e/conftest.py (the stack's own
suite) and e2e_swarm/conftest.py (the Swarm cluster's) import them, so each is written once.

- `browser_type_launch_args`: Debian's Chromium (never a downloaded browser).
- `stack`: where the hub under test is (MINISWAN_URL, MINISWAN_STACK), once it is healthy.
- `hub`: a small client for the hub's REST API, logging in with the stack's passwords.
"""

from __future__ import annotations

from typing import Any

import pytest
from hub_api import HubAPI
from stack_info import CHROMIUM, CHROMIUM_ARGS, StackInfo
from waiting import wait_until


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def stack() -> StackInfo:
    info = StackInfo.from_env()
    wait_until(info.healthy, 120, "hub health")
    return info


@pytest.fixture(scope="session")
def hub(stack: StackInfo) -> HubAPI:
    return HubAPI(stack)
