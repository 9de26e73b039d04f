"""Desktop state events on jupyter_server's event bus (jupyter_events)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jupyter_events import EventLogger

SCHEMA_ID = "https://events.miniswan.org/desktop/state/v1"
SCHEMA_PATH = Path(__file__).parent / "event_schemas" / "desktop-state-v1.yaml"


def register(event_logger: EventLogger) -> None:
    """Register the desktop state schema (idempotent)."""
    if SCHEMA_ID not in event_logger.schemas.schema_ids:
        event_logger.register_event_schema(SCHEMA_PATH)


def emit(event_logger: EventLogger, desktop: dict[str, Any]) -> None:
    """Emit one state change; ``desktop`` is the REST representation of the desktop."""
    event_logger.emit(
        schema_id=SCHEMA_ID,
        data={key: desktop[key] for key in ("id", "name", "state", "reason", "url")},
    )
