"""The spawn page's form: server-side rendered HTML in the hub's own (Bootstrap 5) style."""

from __future__ import annotations

from html import escape

from .options import DEFAULT_SESSION, SESSION_TYPES

SESSION_HELP = {
    "jupyterlab": "Notebooks, terminals and desktops in JupyterLab.",
    "desktop": "A single remote desktop in the browser, without Jupyter.",
}


def render(selected_session: str = DEFAULT_SESSION) -> str:
    """The HTML JupyterHub puts inside its spawn page's <form>."""
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
</fieldset>
"""
