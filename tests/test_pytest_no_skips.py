"""tools/pytest_no_skips.py: under CI=true a skipped test fails; xfail stays xfail."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SUITE = """
import pytest

def test_skips():
    pytest.skip("no such tool")

@pytest.mark.xfail(reason="known")
def test_known_failure():
    assert False

def test_passes():
    pass
"""


def run_suite(tmp_path: Path, ci: str) -> str:
    (tmp_path / "test_suite.py").write_text(SUITE)
    env = {**os.environ, "CI": ci, "PYTHONPATH": str(Path(__file__).parent.parent)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "tools.pytest_no_skips", "-p",
         "no:cacheprovider", "--rootdir", str(tmp_path), str(tmp_path)],
        capture_output=True, text=True, env=env, cwd=tmp_path,
    )  # fmt: skip
    return result.stdout.strip().splitlines()[-1]


def test_a_skip_fails_under_ci(tmp_path: Path) -> None:
    assert run_suite(tmp_path, "true").startswith("1 failed, 1 passed, 1 xfailed")


def test_a_skip_stays_a_skip_elsewhere(tmp_path: Path) -> None:
    assert run_suite(tmp_path, "").startswith("1 passed, 1 skipped, 1 xfailed")
