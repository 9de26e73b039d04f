"""The GUI applications a software stack ships, each runnable alone in a session of its own.

A stack (an LCG view on CVMFS) declares them in ``<view>/share/swan/applications.json``
(docs/software-stacks.md: how a stack declares them). An application session is an Xpra
session like a desktop, whose start command is the program, beside a window manager that
shows its windows maximised and without decorations (``app-openbox.xml``): the program's main
window fills the panel and follows its size. The session ends when the program exits.
No jupyter_server imports: the desktop-only server reuses this module.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

APPLICATIONS_FILE = Path("share") / "swan" / "applications.json"
"""Where a stack's view declares its applications (relative to the view)."""

OPENBOX_CONFIG = Path(__file__).with_name("app-openbox.xml")
"""openbox's configuration in application sessions: normal windows maximised, undecorated."""

_ID = re.compile(r"^[a-z][a-z0-9-]{0,31}\Z")
# An icon is inlined in listings and drawn by the browser: small, and no scripts in it.
MAX_ICON_BYTES = 16 * 1024
_SCRIPT = re.compile(rb"<script|\son\w+\s*=", re.IGNORECASE)

log = logging.getLogger(__name__)


class ApplicationsFileError(ValueError):
    """A stack's applications file that cannot be used, with the reason."""


@dataclass(frozen=True)
class Application:
    """One program a stack ships, as its view declares it."""

    id: str
    name: str
    description: str
    command: tuple[str, ...]
    # The icon's SVG text (empty: the frontends use a generic one).
    icon_svg: str = ""
    # Whether it needs OpenGL (GLX in the session's X server).
    gl: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "icon_svg": self.icon_svg,
            "gl": self.gl,
        }

    def start_command(self) -> list[str]:
        """The session's start command: openbox in the background, the program in the
        foreground (``exec``), so that the session ends when the program exits (xpra's
        --exit-with-children follows the start command's process)."""
        # The program starts once openbox owns the screen (its _NET_SUPPORTING_WM_CHECK,
        # at most 5 s): a window mapped while openbox was starting could stay unmanaged.
        script = (
            'openbox --config-file "$0" >/dev/null 2>&1 & i=0; while [ $i -lt 100 ] &&'
            " ! xprop -root _NET_SUPPORTING_WM_CHECK 2>/dev/null | grep -q 'window id # 0x';"
            ' do sleep 0.05; i=$((i + 1)); done; exec "$@"'
        )
        return ["/bin/sh", "-c", script, str(OPENBOX_CONFIG), *self.command]


def _read_icon(value: Any, app_id: str) -> str:
    """The SVG text of an icon file, or "" (with a warning) when it cannot be used."""
    if not value:
        return ""
    path = Path(str(value))
    try:
        data = path.read_bytes()
    except OSError as e:
        log.warning("application %s: icon %s unreadable (%s): a generic icon", app_id, path, e)
        return ""
    if len(data) > MAX_ICON_BYTES or b"<svg" not in data or _SCRIPT.search(data):
        log.warning("application %s: icon %s is not a small static SVG: ignored", app_id, path)
        return ""
    return data.decode("utf-8", errors="replace")


def parse_applications(data: Any) -> dict[str, Application]:
    """Applications from the decoded JSON of an applications file, by id, in file order.
    Raises ApplicationsFileError naming the first problem."""
    if not isinstance(data, dict) or not isinstance(data.get("applications"), list):
        raise ApplicationsFileError('expected {"applications": [...]}')
    apps: dict[str, Application] = {}
    for i, entry in enumerate(data["applications"]):
        where = f"applications[{i}]"
        if not isinstance(entry, dict):
            raise ApplicationsFileError(f"{where} is not an object")
        app_id = entry.get("id")
        if not isinstance(app_id, str) or not _ID.match(app_id):
            raise ApplicationsFileError(f"{where}: id must match {_ID.pattern}, not {app_id!r}")
        if app_id in apps:
            raise ApplicationsFileError(f"{where}: id {app_id!r} is declared twice")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 64:
            raise ApplicationsFileError(f"{where} ({app_id}): name must be 1-64 characters")
        command = entry.get("command")
        if (
            not isinstance(command, list)
            or not command
            or not all(isinstance(a, str) and a for a in command)
        ):
            raise ApplicationsFileError(
                f"{where} ({app_id}): command must be a non-empty list of strings"
            )
        description = entry.get("description", "")
        apps[app_id] = Application(
            id=app_id,
            name=name.strip(),
            description=description if isinstance(description, str) else "",
            command=tuple(command),
            icon_svg=_read_icon(entry.get("icon"), app_id),
            gl=bool(entry.get("gl", False)),
        )
    return apps


def load_applications(path: Path | None) -> dict[str, Application]:
    """The applications declared in `path`; none when there is no such file. A file that
    cannot be used is logged and offers none: the server starts anyway (desktops work)."""
    if path is None or not path.is_file():
        return {}
    try:
        return parse_applications(json.loads(path.read_text()))
    except (OSError, ValueError) as e:  # ApplicationsFileError is a ValueError
        log.error("miniswan_desktop: %s offers no applications: %s", path, e)
        return {}
