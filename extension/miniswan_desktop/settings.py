"""Desktop settings shared by the Jupyter server extension (``DesktopApp``) and the
desktop-only server (``DesktopServer``): one set of traitlets, one rule for the runtime
directory. No jupyter_server import, so the standalone server starts fast.

Both applications inherit these traits, so ``c.DesktopSettings.<name>`` configures both and
``c.DesktopApp.<name>`` / ``c.DesktopServer.<name>`` one of them.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from traitlets import Bool, Float, List, TraitError, Unicode, default, validate
from traitlets.config import Configurable

from .applications import APPLICATIONS_FILE, load_applications
from .client_files import XPRA_WWW
from .keyboard import preference_path
from .xpra import DEFAULT_START_COMMAND, GeometryError, parse_geometry


class DesktopSettings(Configurable):
    """How each Xpra desktop is launched and supervised."""

    start_command = List(
        Unicode(),
        default_value=list(DEFAULT_START_COMMAND),
        minlen=1,
        help="""Command xpra starts in each desktop (--start-child), as an argv list.
        The desktop ends when this command exits, so it should be long-lived: the default
        runs an xterm beside an openbox window manager and lives as long as openbox.""",
    ).tag(config=True)

    geometry = Unicode(
        "1280x800",
        help="""Desktop size WxH when the client asks for none. Once a browser connects,
        the screen takes the size of its panel or window (up to max_screen).""",
    ).tag(config=True)

    max_screen = Unicode(
        "2560x1600",
        help="""Largest WxH a desktop's screen grows to when the browser's panel or window
        grows: the screen follows the client's size (xpra sets it with RandR), within Xvfb's
        framebuffer, which is allocated at this size (4 bytes a pixel: 16 MB at 2560x1600,
        33 MB at 3840x2160). Sizes are CSS pixels, so 2560x1600 covers full-screen windows
        on most displays (a 4K display at 100% scaling is the exception). Larger windows show
        the desktop at this size. Empty: a desktop's screen never grows beyond the geometry
        it was created with.""",
    ).tag(config=True)

    gl = Bool(
        True,
        help="""OpenGL in desktops: GLX in each desktop's X server (Mesa's software
        renderer), so OpenGL programs (geometry viewers, glxgears) run. Costs about 53 MiB
        per desktop; turn it off where no one runs OpenGL programs.""",
    ).tag(config=True)

    xpra_html_dir = Unicode(
        XPRA_WWW,
        help="""Xpra's HTML5 client (Debian: /usr/share/xpra/www), served by this server
        with long-lived cache headers (client_files.py). A folder without index.html: the
        client is loaded from each desktop's Xpra instead (slower, never cached).""",
    ).tag(config=True)

    xpra_executable = Unicode(
        "xpra", help="The xpra program (name on PATH or absolute path); xpra 3.1 is expected."
    ).tag(config=True)

    xpra_extra_args = List(
        Unicode(),
        default_value=[],
        help="Extra arguments appended to the `xpra start-desktop` command line, e.g. "
        "['--encoding=jpeg']. Must not add TCP listeners: xpra has no auth here.",
    ).tag(config=True)

    start_timeout = Float(
        30.0, help="Seconds a desktop may take to answer GET /Status before it is failed."
    ).tag(config=True)

    stop_timeout = Float(
        5.0, help="Seconds to wait after SIGTERM before the desktop's processes get SIGKILL."
    ).tag(config=True)

    runtime_dir = Unicode(
        help="""Directory for the private 0700 per-desktop directories (unix socket, xpra
        config, log). Default: $MINISWAN_DESKTOP_RUNTIME_DIR, else
        $XDG_RUNTIME_DIR/miniswan-desktop, else <tmp>/miniswan-desktop-<uid>. Keep it short:
        unix socket paths are limited to 107 bytes.""",
    ).tag(config=True)

    log_dir = Unicode(
        "",
        help="Directory for xpra logs (desktop-<id>.log), kept after a desktop is deleted. "
        "Empty: the log lives in the desktop's private directory and goes with it.",
    ).tag(config=True)

    keyboard_layout = Unicode(
        "us",
        help="""XKB keyboard layout of a desktop whose creator names none (the browser
        frontends always send one: the user's setting, else the browser's layout). One of
        the layouts of /usr/share/X11/xkb/rules/evdev.lst.""",
    ).tag(config=True)

    keyboard_file = Unicode(
        help="""Where the user's chosen keyboard layout is kept (JSON `{"layout",
        "variant"}`), read and written by `desktops/api/keyboard` on both servers, so the
        choice follows the user between JupyterLab and desktop-only sessions. Default:
        ~/.config/miniswan-desktop/keyboard.json in the user's home.""",
    ).tag(config=True)

    @default("keyboard_file")
    def _default_keyboard_file(self) -> str:
        return str(preference_path())

    keyboard_extra_keys = Bool(
        True,
        help="""Give every desktop keymap extra keys (Latin, ASCII, Cyrillic and common
        European characters on keycodes no PC layout uses), so that characters the layout
        lacks still arrive (docs/keyboard.md). Off: Xvfb uses the system's XKB data as is.""",
    ).tag(config=True)

    applications_file = Unicode(
        help="""The software stack's applications file (docs/software-stacks.md): the GUI
        programs that a session can run alone, each in its own panel, offered in the
        Launcher and accepted by the REST API as `{"app": "<id>"}`. Default: the one of the
        stack the session runs in, $SWAN_STACK_PATH/share/swan/applications.json. Empty, or
        no such file: no applications, only desktops.""",
    ).tag(config=True)

    @default("applications_file")
    def _default_applications_file(self) -> str:
        view = os.environ.get("SWAN_STACK_PATH")
        return str(Path(view) / APPLICATIONS_FILE) if view else ""

    @default("runtime_dir")
    def _default_runtime_dir(self) -> str:
        if os.environ.get("MINISWAN_DESKTOP_RUNTIME_DIR"):
            return os.environ["MINISWAN_DESKTOP_RUNTIME_DIR"]
        xdg = os.environ.get("XDG_RUNTIME_DIR")
        if xdg and os.path.isdir(xdg) and os.access(xdg, os.W_OK):
            return os.path.join(xdg, "miniswan-desktop")
        return os.path.join(tempfile.gettempdir(), f"miniswan-desktop-{os.getuid()}")

    @validate("geometry")
    def _validate_geometry(self, proposal: dict[str, Any]) -> str:
        return normalised_geometry(proposal["value"])

    @validate("max_screen")
    def _validate_max_screen(self, proposal: dict[str, Any]) -> str:
        return normalised_geometry(proposal["value"]) if proposal["value"] else ""

    def manager_kwargs(self) -> dict[str, Any]:
        """The ``DesktopManager`` arguments these settings give (after creating the
        runtime directory)."""
        runtime_dir = Path(self.runtime_dir)
        ensure_private_dir(runtime_dir)
        return {
            "runtime_dir": runtime_dir,
            "log_dir": Path(self.log_dir) if self.log_dir else None,
            "geometry": self.geometry,
            "max_screen": self.max_screen or None,
            "gl": self.gl,
            "start_command": list(self.start_command),
            "executable": self.xpra_executable,
            "extra_args": list(self.xpra_extra_args),
            "start_timeout": self.start_timeout,
            "stop_timeout": self.stop_timeout,
            "keyboard_layout": self.keyboard_layout,
            "extra_keys": self.keyboard_extra_keys,
            "applications": load_applications(
                Path(self.applications_file) if self.applications_file else None
            ),
        }


def normalised_geometry(value: str) -> str:
    """``WxH`` as traitlets validation wants it: normalised, or a TraitError."""
    try:
        w, h = parse_geometry(value)
    except GeometryError as e:
        raise TraitError(str(e)) from None
    return f"{w}x{h}"


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` 0700, or check that an existing one is ours and not group/world writable."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    st = path.stat()
    if st.st_uid != os.getuid() or st.st_mode & 0o022:
        raise RuntimeError(f"{path} must be owned by uid {os.getuid()} and not writable by others")
