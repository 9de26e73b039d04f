"""The desktop-only server's keyboard layout: PUT api/keyboard (owner only, validated),
the choice kept in the user's home and used by the next server (real server and xpra)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("jupyterhub", reason="the desktop-only server needs jupyterhub")
pytest.register_assert_rewrite("standalone_support")

from standalone_support import OWNER, FakeHub, requires_script, requires_xpra  # noqa: E402

pytest_plugins = ["standalone_support"]
pytestmark = [
    requires_xpra,
    requires_script,
    pytest.mark.skipif(
        not Path("/usr/share/X11/xkb/rules/evdev.lst").exists(), reason="no XKB data"
    ),
]

ALICE = "alice-token"
BOB = "bob-token"


def test_layout_is_set_validated_and_kept_for_the_next_server(
    hub: FakeHub, start_server, tmp_path: Path
) -> None:
    hub.add_user(OWNER, ALICE)
    hub.add_user("bob", BOB)
    home = tmp_path / "home"
    home.mkdir()
    server = start_server(HOME=str(home))
    first = server.wait_state(ALICE, {"running"})
    assert first["layout"] == "us"

    layouts = server.get("api/keyboard", ALICE)
    assert layouts.status_code == 200
    assert "de" in {layout["name"] for layout in layouts.json()}

    put = {"layout": "de", "variant": "nodeadkeys"}
    assert server.request("PUT", "api/keyboard", BOB, json=put).status_code == 403
    assert server.request("PUT", "api/keyboard", None, json=put).status_code == 403
    for bad in ({"layout": "xx"}, {"layout": "de", "variant": "xx"}, {"variant": "x"}, []):
        r = server.request("PUT", "api/keyboard", ALICE, json=bad)
        assert r.status_code == 400, (bad, r.text)
    assert (
        "keyboard-layouts"
        in server.request("PUT", "api/keyboard", ALICE, json={"layout": "xx"}).json()["message"]
    )

    # a detected layout (save: false) is not kept
    r = server.request("PUT", "api/keyboard", ALICE, json={"layout": "fr", "save": False})
    assert r.status_code == 200 and r.json()["layout"] == "fr"
    saved = home / ".config" / "miniswan-desktop" / "keyboard.json"
    assert not saved.exists()

    r = server.request("PUT", "api/keyboard", ALICE, json=put)
    assert r.status_code == 200, r.text
    assert (r.json()["layout"], r.json()["variant"]) == ("de", "nodeadkeys")
    assert json.loads(saved.read_text()) == put

    # the page opens the client with the desktop's layout
    page = server.get("", ALICE)
    assert page.status_code == 200 and 'id="keyboard-layout"' in page.text

    again = start_server(HOME=str(home))
    second = again.wait_state(ALICE, {"running"})
    assert (second["layout"], second["variant"]) == ("de", "nodeadkeys")
