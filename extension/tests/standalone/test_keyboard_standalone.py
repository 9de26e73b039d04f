"""The desktop-only server's keyboard layout through the API both servers share: PATCH the
desktop, PUT/GET/DELETE the kept choice (owner only, validated), the choice kept in the
user's home and used by the next server (real server and xpra)."""

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


def test_layout_is_switched_kept_and_used_by_the_next_server(
    hub: FakeHub, start_server, tmp_path: Path
) -> None:
    """The keyboard API of both servers (keyboard_api.py), on the desktop-only server."""
    hub.add_user(OWNER, ALICE)
    hub.add_user("bob", BOB)
    home = tmp_path / "home"
    home.mkdir()
    server = start_server(HOME=str(home))
    first = server.wait_state(ALICE, {"running"})
    assert first["layout"] == "us"
    desktop = f"desktops/api/desktops/{first['id']}"

    layouts = server.get("desktops/api/keyboard-layouts", ALICE)
    assert layouts.status_code == 200
    assert "de" in {layout["name"] for layout in layouts.json()}
    nothing = server.get("desktops/api/keyboard", ALICE).json()
    assert nothing == {"layout": "", "variant": "", "saved": False}

    put = {"layout": "de", "variant": "nodeadkeys"}
    for verb, path in (("PATCH", desktop), ("PUT", "desktops/api/keyboard")):
        assert server.request(verb, path, BOB, json=put).status_code == 403
        assert server.request(verb, path, None, json=put).status_code == 403
        for bad in ({"layout": "xx"}, {"layout": "de", "variant": "xx"}, {"variant": "x"}, []):
            r = server.request(verb, path, ALICE, json=bad)
            assert r.status_code == 400, (verb, bad, r.text)
        message = server.request(verb, path, ALICE, json={"layout": "xx"}).json()["message"]
        assert "keyboard-layouts" in message
    # reading and forgetting the choice, and the layouts, are the owner's too
    for verb, path in (
        ("GET", "desktops/api/keyboard"),
        ("DELETE", "desktops/api/keyboard"),
        ("GET", "desktops/api/keyboard-layouts"),
    ):
        assert server.request(verb, path, BOB).status_code == 403, (verb, path)
        assert server.request(verb, path, None).status_code == 403, (verb, path)
    other = server.request("PATCH", "desktops/api/desktops/nope", ALICE, json=put)
    assert other.status_code == 404

    # switching the desktop (a layout the browser guessed) keeps nothing
    r = server.request("PATCH", desktop, ALICE, json={"layout": "fr"})
    assert r.status_code == 200 and r.json()["layout"] == "fr"
    assert r.json()["client_url"] == first["client_url"]  # the page's status
    saved = home / ".config" / "miniswan-desktop" / "keyboard.json"
    assert not saved.exists()

    # the user's choice: switched and kept, in their home
    assert server.request("PATCH", desktop, ALICE, json=put).json()["variant"] == "nodeadkeys"
    r = server.request("PUT", "desktops/api/keyboard", ALICE, json=put)
    assert r.status_code == 200, r.text
    assert r.json() == {**put, "saved": True}
    assert json.loads(saved.read_text()) == put

    # the page opens the client with the desktop's layout
    page = server.get("", ALICE)
    assert page.status_code == 200 and 'id="keyboard-layout"' in page.text

    again = start_server(HOME=str(home))
    second = again.wait_state(ALICE, {"running"})
    assert (second["layout"], second["variant"]) == ("de", "nodeadkeys")

    # forgotten: the next desktop takes the browser's keyboard again
    r = again.request("DELETE", "desktops/api/keyboard", ALICE)
    assert r.status_code == 200 and r.json()["saved"] is False
    assert not saved.exists()
