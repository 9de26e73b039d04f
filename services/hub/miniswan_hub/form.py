"""The spawn page's form: server-side rendered HTML in the hub's own (Bootstrap 5) style."""

from __future__ import annotations

from html import escape

from .options import DEFAULT_SESSION, SESSION_TYPES, Limits
from .stacks import Catalog

SESSION_HELP = {
    "jupyterlab": "Notebooks, terminals and desktops in JupyterLab.",
    "desktop": "A single remote desktop in the browser, without Jupyter.",
}
# Package versions named next to each software stack.
SHOWN_PACKAGES = ("numpy", "matplotlib")


def option(value: str, label: str, selected: bool, **data: str) -> str:
    attributes = "".join(f' data-{key}="{escape(val)}"' for key, val in data.items())
    chosen = " selected" if selected else ""
    return f'<option value="{escape(value)}"{attributes}{chosen}>{escape(label)}</option>'


def select(name: str, element_id: str, label: str, options: list[str], help_text: str) -> str:
    return f"""
<div class="mb-3">
  <label class="form-label" for="{element_id}">{escape(label)}</label>
  <select class="form-select" name="{name}" id="{element_id}"
          aria-describedby="{element_id}-help">{"".join(options)}
  </select>
  <div class="form-text" id="{element_id}-help">{escape(help_text)}</div>
</div>"""


def stack_fields(catalog: Catalog) -> str:
    releases = []
    for name, release in catalog.releases.items():
        packages = next(iter(release.platforms.values())).packages
        versions = ", ".join(f"{p} {packages[p]}" for p in SHOWN_PACKAGES if p in packages)
        label = f"{name} ({versions})" if versions else name
        releases.append(
            option(
                name, label, name == catalog.default_release, platforms=" ".join(release.platforms)
            )
        )
    default_platform = catalog.default_platform(catalog.default_release)
    platforms = [option(p, p, p == default_platform) for p in catalog.platforms]
    return select(
        "stack",
        "stack",
        "Software stack",
        releases,
        "An LCG release from CVMFS: its Python, packages and kernels make up your session.",
    ) + select(
        "platform",
        "platform",
        "Platform",
        platforms,
        "Architecture, OS and compiler of the build.",
    )


def app_field(catalog: Catalog) -> str:
    """Desktop-only sessions may start straight into one of the stacks' applications; each
    is labelled with the releases that ship it (validation refuses another release's)."""
    shipped_by: dict[str, tuple[str, list[str]]] = {}
    for release in catalog.releases.values():
        for platform in release.platforms.values():
            for app_id, name in platform.applications.items():
                releases = shipped_by.setdefault(app_id, (name, []))[1]
                if release.name not in releases:
                    releases.append(release.name)
    if not shipped_by:
        return ""
    choices = [option("", "A desktop (openbox and a terminal)", True)] + [
        option(app_id, f"{name} ({', '.join(releases)})", False, releases=" ".join(releases))
        for app_id, (name, releases) in shipped_by.items()
    ]
    return select(
        "app",
        "app",
        "Desktop only: start into",
        choices,
        "For a Desktop only session: a desktop, or one application of your software stack "
        "alone in the browser tab.",
    )


def unavailable_alert(message: str) -> str:
    return f"""
<div class="alert alert-danger" role="alert" id="miniswan-stacks-unavailable">
  {escape(message)}
</div>"""


def resource_fields(limits: Limits) -> str:
    cores = [option(str(c), str(c), c == limits.default_cores) for c in limits.cores]
    memory = [
        option(str(m), f"{m} GB", m == limits.default_memory_gb) for m in limits.memory_choices()
    ]
    return f"""
<div class="row">
  <div class="col-sm-6">{select("cores", "cores", "CPU cores", cores, "At most this many.")}</div>
  <div class="col-sm-6">{
        select(
            "memory",
            "memory",
            "Memory",
            memory,
            f"Your session is stopped above this (maximum {limits.max_memory_gb} GB).",
        )
    }</div>
</div>"""


def env_script_field() -> str:
    return """
<div class="mb-3">
  <label class="form-label" for="env-script">Environment script (optional)</label>
  <input class="form-control" type="text" name="env_script" id="env-script"
         placeholder="e.g. scripts/env.sh" aria-describedby="env-script-help"
         autocomplete="off">
  <div class="form-text" id="env-script-help">A bash script in your home, relative to it,
    sourced after the software stack's setup.sh and before your session starts.</div>
</div>"""


def session_fields(selected_session: str) -> str:
    choices = []
    for key, label in SESSION_TYPES.items():
        checked = " checked" if key == selected_session else ""
        choices.append(
            f"""
      <div class="form-check">
        <input class="form-check-input" type="radio" name="session" id="session-{key}"
               value="{escape(key)}"{checked}>
        <label class="form-check-label" for="session-{key}">
          <strong>{escape(label)}</strong>
          <span class="text-muted">{escape(SESSION_HELP.get(key, ""))}</span>
        </label>
      </div>"""
        )
    return f"""
<fieldset class="mb-3" id="miniswan-session-type">
  <legend class="form-label fs-6">Session type</legend>{"".join(choices)}
</fieldset>"""


def render(
    catalog: Catalog | None = None,
    limits: Limits | None = None,
    unavailable: str = "",
    selected_session: str = DEFAULT_SESSION,
) -> str:
    """The HTML JupyterHub puts inside its spawn page's <form>. Without a catalog (the
    CVMFS stand-in is down), `unavailable` says why and no stack can be chosen."""
    stacks = stack_fields(catalog) if catalog else unavailable_alert(unavailable)
    return f"""
<div id="miniswan-spawn-options">
{stacks}
{resource_fields(limits or Limits())}
{env_script_field()}
{session_fields(selected_session)}
{app_field(catalog) if catalog else ""}
</div>
"""
