"""Bad requests get a 4xx with a JSON message; none starts a process or hurts the server."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def desktop_config():
    """max_desktops=0: whatever slips through validation still cannot start xpra here."""
    return {"max_desktops": 0}


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('"x"', "JSON object"),
        ({"geometry": "big"}, "1280x800"),
        ({"geometry": "99999x99999"}, "outside"),
        ({"geometry": "8000x8000"}, "outside"),
        ({"geometry": "10x10"}, "outside"),
        ({"geometry": 1024}, "string"),
        ({"name": ""}, "name"),
        ({"name": "x" * 65}, "name"),
        ({"name": "a/b"}, "name"),
        ({"name": "; rm -rf /"}, "name"),
        ({"name": 3}, "name"),
        ({"colour": "red"}, "unknown fields: colour"),
    ],
)
async def test_create_rejects(api, body, fragment):
    r = await api.call("POST", body=body)
    assert r.code == 400, r.body
    assert fragment in json.loads(r.body)["message"]
    assert await api.list() == []


async def test_unknown_id_is_404_json(api, jp_fetch):
    for method in ("GET", "DELETE"):
        r = await api.call(method, "nope")
        assert r.code == 404
        assert "nope" in json.loads(r.body)["message"]
    for parts in (("desktops", "nope/"), ("desktops", "nope", "index.html"), ("desktops", "nope")):
        r = await jp_fetch(*parts, raise_error=False, follow_redirects=False)
        assert r.code == 404, parts
        assert "nope" in json.loads(r.body)["message"]


async def test_maximum_zero_is_409(api):
    r = await api.call("POST", body={})
    assert r.code == 409
    assert "maximum is 0" in json.loads(r.body)["message"]
