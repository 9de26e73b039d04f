"""The keyboard's REST API, the same on both servers (the Jupyter server extension,
handlers.py, and the desktop-only server, standalone/handlers.py), below the server's URL:

| verb and path | what |
| --- | --- |
| `GET desktops/api/keyboard-layouts` | the layouts XKB knows, with their variants |
| `GET desktops/api/keyboard` | the user's chosen layout: `{"layout", "variant", "saved"}` |
| `PUT desktops/api/keyboard` | keep `{"layout", "variant"}` as the user's choice (validated) |
| `DELETE desktops/api/keyboard` | forget it: new desktops take the browser's keyboard again |
| `PATCH desktops/api/desktops/<id>` | switch a running desktop to `{"layout", "variant"}` |

Switching a desktop and keeping the choice are two calls, made the same way by the
JupyterLab panel (keyboardcontrol.ts) and the desktop-only page (desktoppage.ts): a layout
the browser guessed switches the desktop without being kept. The choice is a file in the
user's home (`DesktopSettings.keyboard_file`), so it follows the user from JupyterLab to a
desktop-only session and back. Each server's handlers add only how a request is let in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tornado import web

from .desktop_proxy import json_object
from .keyboard import LayoutError, check_layout, load_layouts, load_preference, save_preference
from .manager import DesktopError, DesktopManager
from .session import Desktop

KEYBOARD_FILE_SETTING = "miniswan_desktop_keyboard_file"
"""The tornado setting both servers put `DesktopSettings.keyboard_file` in (a Path)."""

LAYOUTS_ROUTE = r"desktops/api/keyboard-layouts/?"
KEYBOARD_ROUTE = r"desktops/api/keyboard/?"
DESKTOP_ROUTE = r"desktops/api/desktops/([^/]+)/?"

_BODY = 'the body must be {"layout": str, "variant": str (optional)}'


def layout_from_body(raw: bytes) -> tuple[Any, Any]:
    """`(layout, variant)` of a request body, not yet checked against XKB (400 if its
    shape is wrong)."""
    body = json_object(raw)
    if set(body) - {"layout", "variant"} or "layout" not in body:
        raise web.HTTPError(400, _BODY)
    return body["layout"], body.get("variant")


class KeyboardAPI:
    """What both servers' keyboard handlers do: list, read and keep the choice, switch."""

    # Given by each server's handler: its settings, request and desktop manager.
    settings: dict[str, Any]
    request: Any
    manager: DesktopManager

    @property
    def keyboard_file(self) -> Path:
        path: Path = self.settings[KEYBOARD_FILE_SETTING]
        return path

    def layouts_json(self) -> list[dict[str, Any]]:
        return [layout.to_dict() for layout in load_layouts().values()]

    def choice_json(self) -> dict[str, Any]:
        saved = load_preference(self.keyboard_file)
        layout, variant = saved or ("", "")
        return {"layout": layout, "variant": variant, "saved": saved is not None}

    def keep_choice(self) -> dict[str, Any]:
        """PUT: validate the body's layout and keep it; the kept choice."""
        layout, variant = layout_from_body(self.request.body)
        try:
            layout, variant = check_layout(layout, variant)
        except LayoutError as e:
            raise web.HTTPError(400, str(e)) from None
        save_preference(self.keyboard_file, layout, variant)
        return self.choice_json()

    def forget_choice(self) -> dict[str, Any]:
        """DELETE: forget the kept choice; the (now empty) choice."""
        self.keyboard_file.unlink(missing_ok=True)
        return self.choice_json()

    async def switch_desktop(self, desktop_id: str) -> Desktop:
        """PATCH: switch a desktop to the body's layout (its clients apply it)."""
        layout, variant = layout_from_body(self.request.body)
        try:
            return await self.manager.set_layout(desktop_id, layout, variant)
        except DesktopError as e:
            raise web.HTTPError(e.status, e.message) from None
