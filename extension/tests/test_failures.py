"""Desktops that cannot start report why (state failed, reason, log tail); nothing is left over.

Fakes, and why: a desktop that never answers /Status cannot be produced reliably with real
xpra, so ``fake-xpra`` is a shell script that logs a line and sleeps. The other cases use
real xpra with a start command that exits at once, and a missing executable.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from conftest import XPRA
from procfs import alive, session_pids


@pytest.fixture
def fake_xpra(tmp_path: Path) -> Path:
    script = tmp_path / "fake-xpra"
    script.write_text("#!/bin/sh\necho 'fake xpra: never ready'\nexec sleep 600\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


@pytest.fixture
def desktop_config(request, fake_xpra):
    return {"start_timeout": 1.5, **getattr(request, "param", {"xpra_executable": str(fake_xpra)})}


async def test_start_timeout_fails_and_kills(api):
    d = await api.create()
    pid = d["pid"]
    assert alive(pid)
    failed = await api.wait_state(d["id"], {"failed"}, timeout=20)
    assert "did not answer /Status within 1.5 s" in failed["reason"]
    assert failed["log_tail"] == ["fake xpra: never ready"]
    assert not alive(pid) and not session_pids(pid)


@pytest.mark.parametrize(
    "desktop_config", [{"xpra_executable": "/nonexistent/xpra"}], indirect=True
)
async def test_missing_executable(api):
    d = await api.create()
    assert d["state"] == "failed"
    assert "could not launch xpra" in d["reason"] and d["pid"] is None


@pytest.mark.skipif(XPRA is None, reason="xpra is not on PATH (apt: xpra)")
@pytest.mark.parametrize(
    "desktop_config", [{"start_command": ["/bin/false"], "start_timeout": 30}], indirect=True
)
async def test_start_command_exits(api):
    d = await api.create()
    failed = await api.wait_state(d["id"], {"failed"}, timeout=30)
    assert failed["reason"].startswith("xpra exited with status")
    assert failed["exit_status"] is not None
    assert failed["log_tail"], failed
    assert not session_pids(d["pid"])
    # The slot is free again: failed desktops do not count against the maximum.
    assert (await api.delete(d["id"]))["state"] == "failed"
