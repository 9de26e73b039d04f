"""The maximum number of desktops holds under concurrent create requests (real xpra)."""

from __future__ import annotations

import asyncio
import json

import pytest
from conftest import requires_xpra
from procfs import session_pids
from test_desktops import wait_gone

pytestmark = requires_xpra


@pytest.fixture
def desktop_config():
    return {"max_desktops": 2, "start_timeout": 30.0}


async def test_concurrent_creates_stop_at_maximum(api):
    results = await asyncio.gather(*(api.call("POST", body={}) for _ in range(5)))
    codes = sorted(r.code for r in results)
    assert codes == [201, 201, 409, 409, 409]
    message = json.loads(next(r for r in results if r.code == 409).body)["message"]
    assert "maximum is 2" in message
    desktops = await api.list()
    assert len(desktops) == 2
    desktops = [await api.wait_state(d["id"], {"running"}) for d in desktops]
    procs = [p for d in desktops for p in [d["pid"], *session_pids(d["pid"])]]
    # Deleting everything frees the slots again.
    assert {d["id"] for d in json.loads((await api.call("DELETE")).body)} == {
        d["id"] for d in desktops
    }
    await wait_gone(procs)
    assert await api.list() == []
