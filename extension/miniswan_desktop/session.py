"""One Xpra desktop: launch, readiness, supervision and stop. No jupyter_server imports.

States: ``starting`` -> ``running`` -> ``stopped`` (we asked, or an application session's
program exited) or ``failed`` (anything else: xpra exited by itself, was killed from outside,
never answered /Status in time, could not be launched). Every change calls
``on_change(desktop)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
import signal
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .applications import Application
from .keyboard import write_extra_keys, write_xkb_dir
from .process import kill_session, signal_group
from .xpra import GeometryError, XpraSpec, add_mode_script, parse_geometry

STARTING, RUNNING, STOPPED, FAILED = "starting", "running", "stopped", "failed"
ACTIVE_STATES = frozenset({STARTING, RUNNING})
LOG_TAIL_LINES = 20


async def xpra_status(socket_path: Path, timeout: float = 2.0) -> bool:
    """True if Xpra answers ``GET /Status`` with 200 on its unix socket."""
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_unix_connection(str(socket_path)), timeout
        )
    except (OSError, TimeoutError):
        return False
    try:
        writer.write(b"GET /Status HTTP/1.0\r\nHost: localhost\r\n\r\n")
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout)
        return status_line.split()[1:2] == [b"200"]
    except (OSError, TimeoutError, IndexError):
        return False
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> list[str]:
    """The last non-empty ``lines`` lines of a log file (empty if unreadable)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return []
    return [line for line in text.splitlines() if line.strip()][-lines:]


class Desktop:
    """One desktop backed by one ``xpra`` process in its own session and process group."""

    def __init__(
        self,
        *,
        name: str,
        runtime_dir: Path,
        on_change: Callable[[Desktop], Any] | None = None,
        start_timeout: float = 30.0,
        stop_timeout: float = 5.0,
        log_dir: Path | None = None,
        layout: str = "us",
        variant: str = "",
        app: Application | None = None,
        extra_keys: bool = True,
        **spec: Any,
    ) -> None:
        self.id = secrets.token_hex(4)
        self.name = name
        # The program this session runs alone (applications.py); None: a desktop.
        self.app = app
        # The XKB layout the desktop's clients are given (see keyboard.py): Xpra sets it in
        # the X server from the client's hello and from its `layout-changed` packets.
        self.layout = layout
        self.variant = variant
        self.created = datetime.now(UTC)
        self.state = STARTING
        self.reason = ""
        self.exit_status: int | None = None
        self.log_lines: list[str] = []
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.on_change = on_change
        runtime_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        # mkdtemp creates the directory 0700: only this user can reach the socket.
        session_dir = Path(tempfile.mkdtemp(prefix=f"desktop-{self.id}-", dir=runtime_dir))
        log_path = log_dir / f"desktop-{self.id}.log" if log_dir else None
        # Its own XKB data (keyboard.py): the extra keys depend on the desktop's layout.
        xkb_dir = None
        if extra_keys:
            with contextlib.suppress(OSError):  # no system XKB data here: Xvfb's defaults
                xkb_dir = write_xkb_dir(session_dir / "xkb", layout, variant)
        self.spec = XpraSpec(session_dir=session_dir, log_path=log_path, xkb_dir=xkb_dir, **spec)
        self._proc: asyncio.subprocess.Process | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._stop_requested = False
        self._changed = asyncio.Event()

    # ---- public API -------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def geometry(self) -> str:
        return self.spec.geometry

    @property
    def socket_path(self) -> Path:
        return self.spec.socket_path

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def ended_by_itself(self) -> bool:
        """Whether the session is over without being asked to stop (its program or xpra
        exited, or it never started)."""
        return not self.active and not self._stop_requested

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "state": self.state,
            "created": self.created.isoformat(),
            "pid": self.pid,
            "geometry": self.geometry,
            "exit_status": self.exit_status,
            "log_tail": self.log_lines if self.state == FAILED else [],
            "reason": self.reason,
            "layout": self.layout,
            "variant": self.variant,
            "app": self.app.id if self.app else None,
        }

    def apply_layout(self, layout: str, variant: str = "") -> None:
        """Take a new keyboard layout (already validated): its extra keys are in place
        before the client asks Xpra to set it."""
        self.layout, self.variant = layout, variant
        if self.spec.xkb_dir is not None:
            with contextlib.suppress(OSError):
                write_extra_keys(self.spec.xkb_dir, layout, variant)

    def set_layout(self, layout: str, variant: str = "") -> None:
        """Take a new keyboard layout (already validated) and tell the listeners."""
        self.apply_layout(layout, variant)
        if self.on_change is not None:
            self.on_change(self)

    async def add_screen_mode(self, geometry: str) -> bool:
        """Give the running desktop's screen a mode of `geometry` (a client's exact size,
        e.g. "950x679"), so that Xpra answers that client's hello without adding one itself
        (xpra.add_mode_script says why). False, and nothing done, when the size is not a
        geometry, does not fit the framebuffer, or the session has not noted its display."""
        try:
            width, height = parse_geometry(geometry)
            lines = self.spec.display_file.read_text().splitlines()
        except (GeometryError, OSError):
            return False
        fb_width, fb_height = self.spec.framebuffer()
        if len(lines) < 2 or not (0 < width <= fb_width and 0 < height <= fb_height):
            return False
        env = {**self.spec.env(), "DISPLAY": lines[0], "XAUTHORITY": lines[1]}
        try:
            proc = await asyncio.create_subprocess_exec(
                "/bin/sh", "-c", add_mode_script(width, height), env=env,
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            return await asyncio.wait_for(proc.wait(), 5) == 0
        except (OSError, TimeoutError):
            return False

    async def start(self) -> None:
        """Launch xpra and start supervising it; returns once the process exists."""
        try:
            self.spec.write_config()
            cmd = self.spec.command()
            self.spec.log_file.parent.mkdir(parents=True, exist_ok=True)
            with open(self.spec.log_file, "ab") as log:
                self._proc = await asyncio.create_subprocess_exec(
                    *cmd,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=log,
                    stderr=asyncio.subprocess.STDOUT,
                    env=self.spec.env(),
                    cwd=str(self.spec.working_dir),
                    start_new_session=True,
                )
        except (OSError, ValueError) as e:
            self._finish(FAILED, f"could not launch xpra: {e}")
            return
        self._supervisor = asyncio.create_task(self._supervise())

    async def wait_for(self, states: set[str] | frozenset[str], timeout: float) -> bool:
        """Wait until the state is in ``states``; False on timeout."""
        deadline = time.monotonic() + timeout
        while self.state not in states:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
        return True

    async def stop(self) -> None:
        """Stop the desktop: SIGTERM the group, SIGKILL it after ``stop_timeout``, sweep."""
        if self._proc is None or self._supervisor is None:
            return
        self._stop_requested = True
        await self._terminate()
        await asyncio.shield(self._supervisor)

    def cleanup(self) -> None:
        """Remove the private directory (socket, config and log unless log_dir is set)."""
        shutil.rmtree(self.spec.session_dir, ignore_errors=True)

    # ---- supervision ------------------------------------------------------------------

    async def _terminate(self) -> None:
        proc = self._proc
        if proc is None or proc.returncode is not None:
            return
        signal_group(proc.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.shield(proc.wait()), self.stop_timeout)
        except TimeoutError:
            signal_group(proc.pid, signal.SIGKILL)
            await proc.wait()

    async def _wait_ready(self) -> None:
        # Started: xpra answers, and the start script has noted the display, which it does
        # once the screen has its first size and the window manager manages a first window
        # (XpraSpec.start_child). A client connecting earlier could be left with a black
        # screen (openbox still starting while the client's size changed the screen).
        while not (self.spec.display_file.exists() and await xpra_status(self.spec.socket_path)):
            await asyncio.sleep(0.05)

    async def _supervise(self) -> None:
        assert self._proc is not None
        proc = self._proc
        exited = asyncio.ensure_future(proc.wait())
        ready = asyncio.ensure_future(self._wait_ready())
        timeout_reason = ""
        try:
            done, _ = await asyncio.wait(
                {exited, ready}, timeout=self.start_timeout, return_when=asyncio.FIRST_COMPLETED
            )
            if ready in done and exited not in done and not self._stop_requested:
                self._set_state(RUNNING)
            elif not done:
                timeout_reason = (
                    f"xpra did not answer /Status within {self.start_timeout:g} s"
                    if not await xpra_status(self.spec.socket_path)
                    else f"the session's start script did not run within {self.start_timeout:g} s"
                )
                await self._terminate()
            await exited
        finally:
            ready.cancel()
            if proc.returncode is None:  # cancelled (event loop closing): do not orphan it
                signal_group(proc.pid, signal.SIGKILL)
            # Xvfb lives in its own process group but in xpra's session: sweep the session.
            await kill_session(proc.pid)
        self.exit_status = proc.returncode
        if self._stop_requested and not timeout_reason:
            self._finish(STOPPED, "stopped on request")
        elif self.app is not None and proc.returncode == 0 and self.state == RUNNING:
            # xpra leaves with status 0 when the program it ran exits (--exit-with-children)
            self._finish(STOPPED, "the program exited")
        else:
            self.log_lines = log_tail(self.spec.log_file)
            reason = timeout_reason or self._exit_reason(proc.returncode)
            if self.app is not None and proc.returncode == 0 and not timeout_reason:
                reason = f"{self.app.name} exited as it started (its output is in the log)"
            self._finish(FAILED, reason)

    @staticmethod
    def _exit_reason(code: int | None) -> str:
        if code is not None and code < 0:
            return f"xpra was killed by {signal.Signals(-code).name}"
        return f"xpra exited with status {code}"

    def _finish(self, state: str, reason: str) -> None:
        self.reason = reason
        if state == FAILED and not self.log_lines:
            self.log_lines = log_tail(self.spec.log_file)
        with contextlib.suppress(OSError):
            self.spec.socket_path.unlink(missing_ok=True)
        self._set_state(state)

    def _set_state(self, state: str) -> None:
        self.state = state
        self._changed.set()
        if self.on_change is not None:
            self.on_change(self)
