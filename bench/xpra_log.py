"""Timestamps from a desktop's xpra.log (the container's clock is the host's)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) (.*)$")
# Phases of a desktop's start and first connection, by the line xpra logs for each.
MARKS = {
    "socket_created": "created unix domain socket",
    "command_started": "started command",
    "xpra_ready": "xpra is ready",
    "client_connected": "New unix-domain connection",
    "handshake": "Handshake complete",
    "client_hello": "client display size",
    "first_window": "new window",
}


def marks(log_text: str) -> dict[str, float]:
    """First wall-clock time (epoch seconds; the containers log in UTC) of each mark."""
    found: dict[str, float] = {}
    for line in log_text.splitlines():
        match = LINE.match(line)
        if not match:
            continue
        stamp, message = match.groups()
        for name, needle in MARKS.items():
            if name not in found and needle in message:
                found[name] = (
                    datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f")
                    .replace(tzinfo=UTC)
                    .timestamp()
                )
    return found
