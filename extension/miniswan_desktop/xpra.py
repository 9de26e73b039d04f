"""Build the Xpra 3.1.3 command line for one desktop on a private unix socket.

No jupyter_server imports: the standalone desktop server reuses this module.

Why each flag is there (xpra 3.1.3, Debian bookworm; docs/desktops.md has the costs):
- `--bind=<socket>` and no TCP listener: the socket lives in a 0700 directory and the
  Jupyter server proxies it after authenticating the user; xpra itself checks nothing.
- `--html=on`: xpra's HTTP server answers /Status on the socket (readiness) and can serve
  its HTML5 client (the frontends load the client from the Jupyter server instead).
- Modules a browser desktop never uses stay unloaded, which saves memory and start time
  (measured with this module's command: xpra 122 -> 78 MiB PSS, ready 1.7 -> 0.9 s):
  audio (`--pulseaudio --speaker --microphone --av-sync`), printing, file transfer, webcam,
  notifications, mDNS, D-Bus, tray, bell, XSETTINGS, the SSH and RFB upgrades, XDG menus
  (`--start-new-commands=no`), the video encoders and colourspace converters (the HTML5
  client draws jpeg/png/rgb frames; `--encodings` lists those), and the OpenGL probe
  (`--opengl=noprobe`: the probe is a subprocess that costs about a second at start; GLX in
  the X server is what OpenGL programs need, see `gl`).
- `XPRA_CODEC_SELFTEST=0` (in `env()`): no codec self-test at start; `GDK_GL=disable` (in
  `env()`, for xpra only): xpra's GTK does not load Mesa and LLVM (about 30 MiB).
- `XPRA_BATCH_START_DELAY` (in `env()`): see FIRST_BATCH_DELAY_MS.
- A private config directory with an empty `start =` (Debian adds `/etc/X11/Xsession`).
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

SOCKET_NAME = "xpra.sock"
LOG_NAME = "xpra.log"
CONF_NAME = "xpra.conf"
# Linux sun_path is 108 bytes including the trailing NUL.
MAX_SOCKET_PATH = 107

DEFAULT_START_COMMAND = ["openbox", "--startup", "xterm"]
"""openbox is the long-lived child (the session ends when the user exits openbox); it starts
the xterm once it manages windows, so the xterm is always managed (decorated, placed). (An
xterm started beside openbox could map while openbox was starting, and a client connecting
then was left with a black screen: the xterm mapped but never managed or drawn.)"""

# Debian's conf.d/60_server.conf says `start = /etc/X11/Xsession true`, and a `--start=` on
# the command line *appends* to that list (checked on 3.1.3: Xsession still ran). A user
# config directory is read after /etc/xpra and replaces whole keys, so an empty `start =`
# there disables it whatever the image's /etc/xpra says.
USER_CONF = "# written by miniswan-desktop: no extra start commands\nstart =\n"

# What the HTML5 client draws with when no video encoder is loaded (see the module's doc).
ENCODINGS = "jpeg,png,rgb"

# Xpra gathers a window's damage for a while before it encodes and sends it, and starts each
# client's window at 50 ms (batch_config.py, START_DELAY), then adapts the delay to how the
# client keeps up. That first wait came before the first frame of every connect: a reopened
# desktop's frame left 50 ms after Xpra answered the hello (measured in Chromium's websocket
# frames). 10 ms still gathers the first burst of updates, and Xpra's adaptation goes on from
# there (it also weighs this start value into the quality it aims at for the first updates).
FIRST_BATCH_DELAY_MS = 10

DISPLAY_FILE = "display"
# Set beside GDK_GL=disable when env() sets it for xpra, so that the start script unsets both.
GDK_GL_MARK = "MINISWAN_XPRA_GDK_GL"

_GEOMETRY = re.compile(r"^(\d{2,5})x(\d{2,5})\Z")


class GeometryError(ValueError):
    """A geometry string that is malformed or out of bounds."""


def parse_geometry(value: str) -> tuple[int, int]:
    """Parse ``"WxH"`` into ``(W, H)``; raise GeometryError when malformed."""
    m = _GEOMETRY.match(value.strip()) if isinstance(value, str) else None
    if not m:
        raise GeometryError(f"geometry must look like 1280x800, not {value!r}")
    return int(m.group(1)), int(m.group(2))


def check_geometry(value: str, maximum: str, minimum: str = "320x200") -> str:
    """Return the normalised geometry, or raise GeometryError if outside [minimum, maximum]."""
    w, h = parse_geometry(value)
    max_w, max_h = parse_geometry(maximum)
    min_w, min_h = parse_geometry(minimum)
    if not (min_w <= w <= max_w and min_h <= h <= max_h):
        raise GeometryError(f"geometry {w}x{h} is outside {minimum} .. {maximum}")
    return f"{w}x{h}"


def add_mode_script(width: int, height: int) -> str:
    """Shell commands that give Xvfb's output a RandR mode of exactly `width` x `height`,
    named "WxH"; they fail only if the output cannot have it.

    Xpra 3.1 looks for a mode of the client's exact size before answering its hello; when it
    has to add one itself it then sleeps 0.5 s (x11_server_core.py, "we have to wait a
    little bit"). A mode added beforehand is found, and the hello is answered at once.
    """
    mode = f"{width}x{height}"
    timings = " ".join([str(width)] * 4 + [str(height)] * 4)
    # --newmode fails harmlessly when the mode exists already (from an earlier client).
    return f"xrandr --newmode {mode} 0 {timings} 2>/dev/null; xrandr --addmode screen {mode}"


@dataclass
class XpraSpec:
    """Everything needed to launch one Xpra desktop (a value object, no side effects)."""

    session_dir: Path
    geometry: str = "1280x800"
    start_command: list[str] = field(default_factory=lambda: list(DEFAULT_START_COMMAND))
    executable: str = "xpra"
    mode: str = "start-desktop"
    extra_args: list[str] = field(default_factory=list)
    log_path: Path | None = None
    # Where the session's programs start (a terminal opens there): the user's home, not
    # the private directory that holds the socket.
    working_dir: Path = field(default_factory=Path.home)
    # Private XKB data for Xvfb (keyboard.write_xkb_dir): keymaps with extra keys so that
    # every character the HTML5 client sends has a key. None: the system's XKB data.
    xkb_dir: Path | None = None
    # Largest size the screen can take when a client resizes it (see framebuffer()).
    max_screen: str | None = None
    # GLX in the X server, for OpenGL programs (Mesa's software renderer). Costs about
    # 53 MiB per desktop (Mesa's swrast driver and LLVM, loaded when Xvfb starts).
    gl: bool = True
    # Seconds the start script waits for the window manager's first window before it notes
    # the display anyway (a start command without a window manager; see start_child()).
    wm_wait: float = 5.0

    @property
    def socket_path(self) -> Path:
        return self.session_dir / SOCKET_NAME

    @property
    def log_file(self) -> Path:
        return self.log_path or self.session_dir / LOG_NAME

    def framebuffer(self) -> tuple[int, int]:
        """Xvfb's screen size: the most the X screen can grow to, never less than `geometry`.

        Xvfb cannot grow its screen beyond the size it started with, but RandR (which xpra
        uses to follow the browser's panel or window) sets any size up to it. So Xvfb starts
        at `max_screen` and the first client resizes the screen to its own size. Memory: the
        framebuffer costs 4 bytes a pixel (about 33 MB at 3840x2160).
        """
        w, h = parse_geometry(self.geometry)
        if not self.max_screen:
            return w, h
        max_w, max_h = parse_geometry(self.max_screen)
        return max(w, max_w), max(h, max_h)

    @property
    def display_file(self) -> Path:
        """Written by the start script once the screen has its first size: the X display
        and authority file of the session (two lines), for `xrandr` run from outside."""
        return self.session_dir / DISPLAY_FILE

    def start_child(self) -> list[str]:
        """The start command, run in a screen of `geometry`, noting the display when ready.

        Xvfb starts at the framebuffer's size; without the resize the start command's
        windows would be placed (centred, by openbox) on that large screen, and the first
        client's smaller size would push them to its bottom-right corner. So xrandr adds a
        mode of `geometry` to Xvfb's output and switches to it (no xrandr: the screen stays
        large). The start command then replaces the shell (so --exit-with-children follows
        it), while a background part of the script writes `display_file` once the window
        manager manages a first window (`_NET_CLIENT_LIST`: with the default command, the
        xterm openbox starts), or after 5 s for a start command without one. The session
        counts as started only once that file exists (Desktop._wait_ready).
        """
        w, h = parse_geometry(self.geometry)
        resize = ""
        if self.framebuffer() != (w, h):
            resize = (
                f"{{ {add_mode_script(w, h)} && xrandr --output screen --mode {w}x{h}; }}"
                ' || echo "miniswan-desktop: could not set the screen size" >&2; '
            )
        note = shlex.quote(str(self.display_file))
        # GDK_GL=disable was for xpra alone (env()): the desktop's programs may use GL.
        own_env = f'[ -n "${GDK_GL_MARK}" ] && unset GDK_GL {GDK_GL_MARK}; '
        script = (
            f"{own_env}{resize}( i=0; while [ $i -lt {round(self.wm_wait / 0.05)} ] &&"
            " ! xprop -root"
            " _NET_CLIENT_LIST 2>/dev/null | grep -q 'window id # 0x';"
            " do sleep 0.05; i=$((i + 1)); done;"
            f' printf \'%s\\n%s\\n\' "$DISPLAY" "$XAUTHORITY" > {note}.new'
            f' && mv {note}.new {note} ) & exec "$@"'
        )
        return ["/bin/sh", "-c", script, "miniswan-desktop-start", *self.start_command]

    def xvfb(self) -> str:
        w, h = self.framebuffer()
        xkb = f" -xkbdir {shlex.quote(str(self.xkb_dir))}" if self.xkb_dir else ""
        # `$XAUTHORITY` is expanded by xpra, not by us.
        return (
            f"Xvfb {'+' if self.gl else '-'}extension GLX +extension Composite"
            f" -screen 0 {w}x{h}x24+32 -dpi 96"
            f"{xkb} -nolisten tcp -noreset -auth $XAUTHORITY"
        )

    def command(self) -> list[str]:
        """The argv for ``xpra start-desktop`` listening only on the private unix socket."""
        sd = str(self.session_dir)
        if len(str(self.socket_path)) > MAX_SOCKET_PATH:
            raise ValueError(f"socket path too long for a unix socket: {self.socket_path}")
        if not self.start_command:
            raise ValueError("the start command must not be empty")
        return [
            self.executable,
            self.mode,
            "--daemon=no",
            f"--bind={self.socket_path}",
            f"--socket-dir={sd}",
            f"--socket-dirs={sd}",
            "--html=on",
            "--mdns=no",
            "--pulseaudio=no",
            "--speaker=no",
            "--microphone=no",
            "--av-sync=no",
            "--webcam=no",
            "--printing=no",
            "--file-transfer=no",
            "--notifications=no",
            "--system-tray=no",
            "--bell=no",
            "--xsettings=no",
            "--dbus-launch=",
            "--dbus-proxy=no",
            "--dbus-control=no",
            "--ssh-upgrade=no",
            "--rfb-upgrade=0",
            "--start-new-commands=no",
            "--opengl=noprobe",
            "--video-encoders=none",
            "--csc-modules=none",
            f"--encodings={ENCODINGS}",
            "--systemd-run=no",
            "--start-via-proxy=no",
            "--sharing=yes",
            "--clipboard=yes",
            "--clipboard-direction=both",
            f"--xvfb={self.xvfb()}",
            f"--start-child={shlex.join(self.start_child())}",
            "--exit-with-children=yes",
            "--terminate-children=yes",
            *self.extra_args,
        ]

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """Environment for xpra: private runtime dir, config dir and X authority file."""
        env = dict(os.environ if base is None else base)
        for name in ("DISPLAY", "WAYLAND_DISPLAY", "XPRA_SYSTEM_CONF_DIRS"):
            env.pop(name, None)
        sd = str(self.session_dir)
        env.update(
            XDG_RUNTIME_DIR=sd,
            XPRA_USER_CONF_DIRS=sd,
            XAUTHORITY=str(self.session_dir / ".Xauthority"),
            XPRA_CODEC_SELFTEST="0",
        )
        # An operator's own value (the environment of the server) wins.
        env.setdefault("XPRA_BATCH_START_DELAY", str(FIRST_BATCH_DELAY_MS))
        if "GDK_GL" not in env:
            # xpra's own GTK draws nothing with OpenGL, but GDK loads Mesa and LLVM as soon
            # as the X server offers GLX (about 30 MiB in the xpra process). The start
            # script takes it back for the desktop's programs (start_child()).
            env.update(GDK_GL="disable", **{GDK_GL_MARK: "1"})
        return env

    def write_config(self) -> None:
        """Write the private xpra.conf that cancels the distribution's `start` commands."""
        path = self.session_dir / CONF_NAME
        path.write_text(USER_CONF)
        path.chmod(0o600)
