"""The hub's view of the CVMFS stand-in: catalog, view checks, and what the user reads when
the stand-in is down. Runs against a real HTTP server (the one the stub runs: http.server)
serving a temporary tree (the `stub` fixture, conftest.py), not a fake."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from miniswan_hub import stacks


def test_catalog_lists_releases_platforms_and_the_default(stub: tuple[str, Path]) -> None:
    url, _ = stub
    catalog = stacks.fetch_catalog(url, timeout=5)
    assert list(catalog.releases) == ["LCG_104", "LCG_105"]
    assert catalog.default_release == "LCG_104"
    assert catalog.platforms == ["x86_64-el9-gcc13-opt"]
    assert catalog.releases["LCG_105"].platforms["x86_64-el9-gcc13-opt"].packages == {
        "numpy": "LCG_105"
    }


def test_a_published_view_passes_and_a_missing_one_is_named(stub: tuple[str, Path]) -> None:
    url, views = stub
    catalog = stacks.fetch_catalog(url, timeout=5)
    stacks.check_view(url, catalog, "LCG_105", "x86_64-el9-gcc13-opt", timeout=5)
    (views / "LCG_105" / "x86_64-el9-gcc13-opt" / "setup.sh").unlink()
    with pytest.raises(stacks.ViewMissing, match="LCG_105 .x86_64-el9-gcc13-opt. is listed but"):
        stacks.check_view(url, catalog, "LCG_105", "x86_64-el9-gcc13-opt", timeout=5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_stub_that_is_down_is_reported_clearly() -> None:
    url = f"http://127.0.0.1:{free_port()}/sft.cern.ch/lcg/views/catalog.json"
    with pytest.raises(stacks.StacksUnavailable) as error:
        stacks.fetch_catalog(url, timeout=2)
    assert "software stacks (CVMFS) are unavailable" in str(error.value)
    assert url in str(error.value)


def test_a_stub_that_answers_nonsense_is_unavailable(stub: tuple[str, Path]) -> None:
    url, views = stub
    (views / "catalog.json").write_text("<html>not json</html>")
    with pytest.raises(stacks.StacksUnavailable, match="did not answer"):
        stacks.fetch_catalog(url, timeout=5)
    (views / "catalog.json").write_text(json.dumps({"releases": {"LCG_1": {}}}))
    with pytest.raises(stacks.StacksUnavailable, match="malformed"):
        stacks.fetch_catalog(url, timeout=5)
    (views / "catalog.json").write_text(json.dumps({"releases": {}}))
    with pytest.raises(stacks.StacksUnavailable, match="no release"):
        stacks.fetch_catalog(url, timeout=5)


def test_an_unknown_default_falls_back_to_the_last_release() -> None:
    catalog = stacks.parse_catalog(
        {
            "default_release": "LCG_1",
            "releases": {
                "LCG_104": {"platforms": {"p": {"path": "/a"}}},
                "LCG_105": {"platforms": {"p": {"path": "/b"}}},
            },
        }
    )
    assert catalog.default_release == "LCG_105"
