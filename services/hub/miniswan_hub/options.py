"""What a user may choose on the spawn page, and the validation of those choices.

Pure Python (no JupyterHub import), so the rules are unit-tested without a hub. The same
validation serves the HTML form and the REST API (`POST /hub/api/users/<name>/server` with a
JSON body), so no path around the form skips it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

SESSION_TYPES: dict[str, str] = {
    "jupyterlab": "JupyterLab",
    "desktop": "Desktop only",
}
DEFAULT_SESSION = "jupyterlab"


class OptionsError(ValueError):
    """A choice the spawn page refuses; the message is shown to the user as is."""


@dataclass(frozen=True)
class SpawnOptions:
    """A validated set of choices."""

    session: str = DEFAULT_SESSION

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def first(form: dict[str, list[str]], key: str) -> str | None:
    """JupyterHub hands form fields over as lists of strings."""
    values = form.get(key) or []
    return values[0].strip() if values else None


def from_form(form: dict[str, list[str]]) -> dict[str, Any]:
    """Turn the posted form into user_options (validated later by `validate`)."""
    options: dict[str, Any] = {}
    session = first(form, "session")
    if session is not None:
        options["session"] = session
    return options


def validate(user_options: dict[str, Any]) -> SpawnOptions:
    """Check every choice; raise OptionsError naming the field and the allowed values."""
    unknown = sorted(set(user_options) - {"session"})
    if unknown:
        raise OptionsError(f"Unknown option(s): {', '.join(unknown)}.")
    session = user_options.get("session", DEFAULT_SESSION)
    if session not in SESSION_TYPES:
        allowed = ", ".join(f"'{key}' ({label})" for key, label in SESSION_TYPES.items())
        raise OptionsError(f"Unknown session type {session!r}: choose one of {allowed}.")
    return SpawnOptions(session=session)
