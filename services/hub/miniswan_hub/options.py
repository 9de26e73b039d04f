"""What a user may choose on the spawn page, and the validation of those choices.

Pure Python (no JupyterHub import), so the rules are unit-tested without a hub. The same
validation serves the HTML form and the REST API (`POST /hub/api/users/<name>/server` with a
JSON body), so no path around the form skips it. The software stacks on offer come from the
CVMFS stand-in's catalog (stacks.py), the resource limits from the spawner's settings.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import PurePosixPath
from typing import Any

from .stacks import Catalog

SESSION_TYPES: dict[str, str] = {
    "jupyterlab": "JupyterLab",
    "desktop": "Desktop only",
}
DEFAULT_SESSION = "jupyterlab"
FIELDS = ("session", "stack", "platform", "cores", "memory", "env_script", "app")
# An environment script's path: printable, no shell or control characters, not too long.
SCRIPT_PATH = re.compile(r"^[A-Za-z0-9._/+@=, -]{1,255}\Z")


class OptionsError(ValueError):
    """A choice the spawn page refuses; the message is shown to the user as is."""


@dataclass(frozen=True)
class Limits:
    """The resources a user may ask for (from the spawner's settings)."""

    cores: tuple[int, ...] = (1, 2)
    default_cores: int = 2
    memory_gb: tuple[int, ...] = (1, 2, 4)
    default_memory_gb: int = 2
    max_memory_gb: int = 4

    def memory_choices(self) -> list[int]:
        return [m for m in self.memory_gb if m <= self.max_memory_gb]


@dataclass(frozen=True)
class SpawnOptions:
    """A validated set of choices."""

    session: str = DEFAULT_SESSION
    stack: str = ""
    platform: str = ""
    cores: int = 2
    memory: int = 2  # GB
    env_script: str = ""  # relative to the user's home; "" = none
    app: str = ""  # desktop-only: the stack's application to start into; "" = a desktop

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Choices:
    """Everything validation needs besides the user's input."""

    catalog: Catalog
    limits: Limits = field(default_factory=Limits)


def first(form: dict[str, list[str]], key: str) -> str | None:
    """JupyterHub hands form fields over as lists of strings."""
    values = form.get(key) or []
    return values[0].strip() if values else None


def from_form(form: dict[str, list[str]]) -> dict[str, Any]:
    """Turn the posted form into user_options (validated later by `validate`); fields left
    out (or empty) take their defaults."""
    options: dict[str, Any] = {}
    for key in FIELDS:
        value = first(form, key)
        if value:
            options[key] = value
    return options


def shown(value: Any) -> str:
    """A value as a message quotes it: its repr, cut short (a hostile 20 kB value must not
    come back whole in the error page)."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def whole_number(value: Any, what: str, allowed: str) -> int:
    if isinstance(value, bool):
        raise OptionsError(f"{what} {shown(value)} is not a number: choose {allowed}.")
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        raise OptionsError(f"{what} {shown(value)} is not a number: choose {allowed}.") from None


def script_in_home(value: Any) -> str:
    """The environment script's path relative to the home, or OptionsError if it is not a
    plain path inside the home. `~/x`, `$HOME/x` and `x` all mean the same file."""
    if not isinstance(value, str):
        raise OptionsError(f"Environment script {shown(value)} is not a path.")
    text = value.strip()
    for prefix in ("~/", "$HOME/", "${HOME}/"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    if not SCRIPT_PATH.match(text):
        raise OptionsError(
            f"Environment script {shown(value)} is not a plain path: use letters, digits and "
            "._-/ only, relative to your home (e.g. scripts/env.sh)."
        )
    path = PurePosixPath(text)
    if path.is_absolute() or ".." in path.parts or str(path) in ("", "."):
        raise OptionsError(
            f"Environment script {shown(value)} is outside your home: give a path inside it, "
            "relative to it (e.g. scripts/env.sh or ~/scripts/env.sh)."
        )
    return str(path)


def validate(user_options: dict[str, Any], choices: Choices) -> SpawnOptions:
    """Check every choice; raise OptionsError naming the field, the bad value and the
    allowed values."""
    unknown = sorted(set(user_options) - set(FIELDS))
    if unknown:
        raise OptionsError(f"Unknown option(s): {', '.join(unknown)}.")
    session = user_options.get("session", DEFAULT_SESSION)
    if not isinstance(session, str) or session not in SESSION_TYPES:
        allowed = ", ".join(f"'{key}' ({label})" for key, label in SESSION_TYPES.items())
        raise OptionsError(f"Unknown session type {shown(session)}: choose one of {allowed}.")

    catalog = choices.catalog
    stack = user_options.get("stack") or catalog.default_release
    if not isinstance(stack, str) or stack not in catalog.releases:
        allowed = ", ".join(catalog.releases)
        raise OptionsError(f"Unknown software stack {shown(stack)}: choose one of {allowed}.")
    built_for = catalog.releases[stack].platforms
    platform = user_options.get("platform") or catalog.default_platform(stack)
    if not isinstance(platform, str) or platform not in built_for:
        allowed = ", ".join(built_for)
        raise OptionsError(
            f"Platform {shown(platform)} is not available for {stack}: choose one of {allowed}."
        )

    limits = choices.limits
    allowed_cores = ", ".join(map(str, limits.cores))
    cores = whole_number(
        user_options.get("cores", limits.default_cores), "CPU cores", f"one of {allowed_cores}"
    )
    if cores not in limits.cores:
        raise OptionsError(f"CPU cores {cores} is not offered: choose one of {allowed_cores}.")
    memory_allowed = ", ".join(f"{m} GB" for m in limits.memory_choices())
    memory = whole_number(
        user_options.get("memory", limits.default_memory_gb), "Memory", f"one of {memory_allowed}"
    )
    if memory > limits.max_memory_gb:
        raise OptionsError(
            f"Memory {memory} GB is above the maximum of {limits.max_memory_gb} GB: "
            f"choose one of {memory_allowed}."
        )
    if memory not in limits.memory_choices():
        raise OptionsError(f"Memory {memory} GB is not offered: choose one of {memory_allowed}.")

    env_script = user_options.get("env_script") or ""
    if env_script:
        env_script = script_in_home(env_script)
    app = application(
        user_options.get("app") or "", session, stack, built_for[platform].applications
    )
    return SpawnOptions(
        session=session,
        stack=stack,
        platform=platform,
        cores=cores,
        memory=memory,
        env_script=env_script,
        app=app,
    )


def application(value: Any, session: str, stack: str, offered: dict[str, str]) -> str:
    """The application a desktop-only session starts into ("" for a desktop), or
    OptionsError: one the chosen stack ships, and only for a desktop-only session (JupyterLab
    opens applications from its Launcher)."""
    if not value:
        return ""
    if not isinstance(value, str) or value not in offered:
        allowed = ", ".join(f"'{k}' ({v})" for k, v in offered.items()) or "none"
        raise OptionsError(f"Application {shown(value)} is not in {stack}: it ships {allowed}.")
    if session != "desktop":
        raise OptionsError(
            f"An application ({offered[value]}) is started on its own only in a "
            f"'{SESSION_TYPES['desktop']}' session; in JupyterLab, open it from the Launcher."
        )
    return value
