"""miniswan-session (the user image's entry point), run with the real bash on a temporary
home and a temporary view: the stack's setup.sh, then the user's environment script, then
the command, which inherits both."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

WRAPPER = (
    Path(__file__).resolve().parent.parent / "services" / "user" / "session" / "miniswan-session"
)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def view(tmp_path: Path) -> Path:
    path = tmp_path / "views" / "LCG_105" / "x86_64-el9-gcc13-opt"
    (path / "bin").mkdir(parents=True)
    (path / "setup.sh").write_text(
        f'export SWAN_STACK=LCG_105\nexport PATH="{path}/bin:$PATH"\nexport ORDER=setup\n'
    )
    return path


def session(home: Path, view: Path | None, script: str = "") -> subprocess.CompletedProcess[str]:
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "SWAN_ENV_SCRIPT": script}
    if view is not None:
        env["SWAN_STACK_PATH"] = str(view)
    return subprocess.run(
        [str(WRAPPER), "sh", "-c", 'echo "$SWAN_STACK|$ORDER|$PATH|$MINISWAN_SESSION_PATH"'],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )


def test_the_command_runs_in_the_stack_then_the_env_script(home: Path, view: Path) -> None:
    (home / "scripts").mkdir()
    (home / "scripts" / "env.sh").write_text('export ORDER="$ORDER,script"\n')
    result = session(home, view, "scripts/env.sh")
    stack, order, path, saved = result.stdout.strip().split("|")
    assert (stack, order) == ("LCG_105", "setup,script")
    assert path.split(":")[0] == f"{view}/bin" and saved == path


def test_without_a_stack_the_command_runs_as_is(home: Path) -> None:
    assert session(home, None).stdout.strip() == "||/usr/bin:/bin|/usr/bin:/bin"


def test_a_missing_view_or_script_is_said_and_skipped(home: Path, view: Path) -> None:
    result = session(home, view.parent / "gone", "nope.sh")
    assert result.stdout.startswith("||")
    assert "setup.sh is missing" in result.stderr and "nope.sh not found" in result.stderr


def test_a_script_linking_outside_the_home_is_not_sourced(
    home: Path, view: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.sh"
    outside.write_text("export ORDER=outside\n")
    os.symlink(outside, home / "env.sh")
    result = session(home, view, "env.sh")
    assert result.stdout.split("|")[1] == "setup"
    assert "leads outside your home" in result.stderr
