"""Unit tests of the jupyter-free pieces: command line, geometry, process helpers."""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from miniswan_desktop import process, xpra
from miniswan_desktop.manager import DesktopError, DesktopManager


def test_command_listens_only_on_the_private_socket(tmp_path: Path):
    spec = xpra.XpraSpec(session_dir=tmp_path, geometry="1024x768", extra_args=["--encoding=jpeg"])
    cmd = spec.command()
    assert cmd[:3] == ["xpra", "start-desktop", "--daemon=no"]
    assert f"--bind={tmp_path}/xpra.sock" in cmd
    assert not [a for a in cmd if a.startswith(("--bind-", "--port"))]
    assert "--exit-with-children=yes" in cmd and "--html=on" in cmd
    assert cmd[-1] == "--encoding=jpeg"
    xvfb = next(a for a in cmd if a.startswith("--xvfb="))
    assert "-screen 0 1024x768x24+32" in xvfb and "-nolisten tcp" in xvfb
    child = next(a for a in cmd if a.startswith("--start-child="))
    argv = shlex.split(child.split("=", 1)[1])
    assert argv[:2] == ["/bin/sh", "-c"] and argv[-3:] == xpra.DEFAULT_START_COMMAND


def test_the_start_script_notes_the_display_then_runs_the_command(tmp_path: Path):
    """No resize needed (framebuffer = geometry): the script execs the start command with its
    arguments intact and, beside it, writes the display file the session waits for once a
    window manager manages a window, or after `wm_wait` seconds without one."""
    spec = xpra.XpraSpec(
        session_dir=tmp_path,
        geometry="1024x768",
        start_command=["echo", "a b", "$HOME"],
        wm_wait=0.3,
    )
    argv = spec.start_child()
    assert "xrandr" not in argv[2]
    # No X server here: no window manager ever answers, so the note comes after wm_wait.
    env = {"PATH": os.environ["PATH"], "DISPLAY": ":42", "XAUTHORITY": "/x/auth"}
    started = time.monotonic()
    out = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
    assert out.stdout == "a b $HOME\n"
    while not spec.display_file.exists():
        assert time.monotonic() - started < 10, "the display was never noted"
        time.sleep(0.05)
    assert time.monotonic() - started >= 0.3
    assert spec.display_file.read_text() == ":42\n/x/auth\n"
    assert not list(tmp_path.glob("*.new"))


def test_framebuffer_is_the_largest_screen_a_client_may_resize_to(tmp_path: Path):
    # Xvfb cannot grow beyond its start size: it starts at max_screen, never below geometry.
    spec = xpra.XpraSpec(session_dir=tmp_path, geometry="1024x768", max_screen="3840x2160")
    assert spec.framebuffer() == (3840, 2160)
    assert "-screen 0 3840x2160x24+32" in spec.xvfb()
    wide = xpra.XpraSpec(session_dir=tmp_path, geometry="5000x1000", max_screen="3840x2160")
    assert wide.framebuffer() == (5000, 2160)
    fixed = xpra.XpraSpec(session_dir=tmp_path, geometry="1024x768")
    assert fixed.framebuffer() == (1024, 768)
    assert "xrandr" not in fixed.start_child()[2]


def test_start_command_runs_in_a_screen_of_the_requested_size(tmp_path: Path):
    """With a larger framebuffer, xrandr sets the screen to `geometry` first (checked with a
    real Xvfb when xrandr and Xvfb are installed)."""
    spec = xpra.XpraSpec(
        session_dir=tmp_path, geometry="1024x768", max_screen="1920x1080", start_command=["true"]
    )
    argv = spec.start_child()
    assert argv[:2] == ["/bin/sh", "-c"] and argv[-1] == "true"
    child = next(a for a in spec.command() if a.startswith("--start-child="))
    assert shlex.split(child.split("=", 1)[1]) == argv
    if not (shutil.which("Xvfb") and shutil.which("xrandr") and shutil.which("xdpyinfo")):
        pytest.skip("needs Xvfb, xrandr and xdpyinfo")
    xvfb = subprocess.Popen(
        ["Xvfb", ":187", "-screen", "0", "1920x1080x24", "-nolisten", "tcp", "-noreset"],
        stderr=subprocess.DEVNULL,
    )
    try:
        env = {**os.environ, "DISPLAY": ":187"}
        env.pop("XAUTHORITY", None)
        for _ in range(50):  # until Xvfb answers
            if subprocess.run(["xdpyinfo"], env=env, capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        out = subprocess.run([*argv[:-1], "xdpyinfo"], env=env, capture_output=True, text=True)
        assert "dimensions:    1024x768 pixels" in out.stdout, out
    finally:
        xvfb.terminate()
        xvfb.wait()


def test_max_screen_setting_reaches_the_desktops(tmp_path: Path):
    from traitlets import TraitError

    from miniswan_desktop.settings import DesktopSettings

    settings = DesktopSettings(runtime_dir=str(tmp_path / "rt"), max_screen=" 1920x1080 ")
    kwargs = settings.manager_kwargs()
    assert kwargs["max_screen"] == "1920x1080"
    assert (
        DesktopSettings(runtime_dir=str(tmp_path / "rt"), max_screen="").manager_kwargs()[
            "max_screen"
        ]
        is None
    )
    with pytest.raises(TraitError):
        DesktopSettings(max_screen="huge")
    manager = DesktopManager(runtime_dir=tmp_path, **{"max_screen": "1920x1080"})
    assert manager.max_screen == "1920x1080"


def test_env_and_config(tmp_path: Path):
    spec = xpra.XpraSpec(session_dir=tmp_path)
    env = spec.env({"DISPLAY": ":9", "HOME": "/home/u"})
    assert "DISPLAY" not in env and env["HOME"] == "/home/u"
    assert env["XDG_RUNTIME_DIR"] == env["XPRA_USER_CONF_DIRS"] == str(tmp_path)
    assert env["XPRA_BATCH_START_DELAY"] == str(xpra.FIRST_BATCH_DELAY_MS)
    # An operator's own first batch delay is kept.
    assert spec.env({"XPRA_BATCH_START_DELAY": "30"})["XPRA_BATCH_START_DELAY"] == "30"
    spec.write_config()
    conf = (tmp_path / "xpra.conf").read_text()
    assert "start =\n" in conf
    assert (tmp_path / "xpra.conf").stat().st_mode & 0o077 == 0


def test_socket_path_too_long(tmp_path: Path):
    spec = xpra.XpraSpec(session_dir=tmp_path / ("x" * 120))
    with pytest.raises(ValueError, match="too long"):
        spec.command()


@pytest.mark.parametrize("value", ["", "1280", "1280x", "x800", "-1x5", "1e3x800", "12800x800x"])
def test_bad_geometry(value: str):
    with pytest.raises(xpra.GeometryError):
        xpra.parse_geometry(value)


def test_geometry_bounds():
    assert xpra.check_geometry(" 1280x800 ", "3840x2160") == "1280x800"
    for value in ("3841x100", "100x100", "4000x4000"):
        with pytest.raises(xpra.GeometryError):
            xpra.check_geometry(value, "3840x2160")


def test_manager_validation(tmp_path: Path):
    m = DesktopManager(runtime_dir=tmp_path)
    assert m.validate() == ("Desktop 1", "1280x800")
    assert m.validate("Mon bureau é", "800x600") == ("Mon bureau é", "800x600")
    bad = [("", None), ("a/b", None), ("desk\n", None), (None, "1x1"), (None, 5)]
    for name, geometry in bad:
        with pytest.raises(DesktopError) as err:
            m.validate(name, geometry)
        assert err.value.status == 400


async def test_kill_session_reaches_other_process_groups():
    """A session leader with a child in another process group, like xpra and Xvfb."""
    code = (
        "import os, subprocess, sys, time;"
        "c = subprocess.Popen(['sleep', '600'], process_group=0);"
        "print(c.pid, flush=True); time.sleep(600)"
    )
    leader = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, start_new_session=True
    )
    assert leader.stdout is not None
    child = int(leader.stdout.readline())
    assert sorted(process.session_members(leader.pid)) == sorted([leader.pid, child])
    # Killing the leader alone orphans the child, as a SIGKILL of xpra orphans Xvfb.
    leader.kill()
    leader.wait()
    assert process.is_alive(child)
    found = await process.kill_session(leader.pid, grace=5)
    assert found == [child]
    for _ in range(100):
        if not process.is_alive(child):
            break
        await asyncio.sleep(0.05)
    assert not process.is_alive(child)


async def test_kill_session_never_kills_own_session():
    assert await process.kill_session(os.getsid(0)) == []


def test_gdk_gl_is_off_for_xpra_alone(tmp_path: Path):
    """xpra's GTK gets GDK_GL=disable (no Mesa in the xpra process); the start script takes
    it back for the desktop's programs, and an operator's own GDK_GL is left alone."""
    spec = xpra.XpraSpec(session_dir=tmp_path, geometry="1024x768", wm_wait=0)
    env = spec.env({"PATH": os.environ["PATH"]})
    assert env["GDK_GL"] == "disable"
    seen = subprocess.run(
        [*spec.start_child()[:-3], "sh", "-c", 'echo "${GDK_GL-unset}"'],
        env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert seen == "unset\n"
    own = spec.env({"PATH": os.environ["PATH"], "GDK_GL": "always"})
    seen = subprocess.run(
        [*spec.start_child()[:-3], "sh", "-c", 'echo "${GDK_GL-unset}"'],
        env=own, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert seen == "always\n"
