"""Fast unit tests of the repository's own Python outside the extension (no Docker).

The hub's add-on package lives in services/hub (it is copied into the hub image): the root
pyproject.toml's pytest `pythonpath` puts that folder on the import path.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

VIEWS = "/cvmfs/sft.cern.ch/lcg/views"


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def stub(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A served tree like the stub's /export: (catalog URL, views folder on disk)."""
    views = tmp_path / "sft.cern.ch" / "lcg" / "views"
    releases = {}
    for release in ("LCG_104", "LCG_105"):
        view = views / release / "x86_64-el9-gcc13-opt"
        view.mkdir(parents=True)
        (view / "setup.sh").write_text(f"export SWAN_STACK={release}\n")
        releases[release] = {
            "platforms": {
                "x86_64-el9-gcc13-opt": {
                    "path": f"{VIEWS}/{release}/x86_64-el9-gcc13-opt",
                    "packages": {"numpy": release},
                    # what the desktop-only page offers as "start into an application"
                    "applications": [{"id": "plot-browser", "name": "Plot browser", "gl": False}]
                    if release == "LCG_105"
                    else [],
                }
            }
        }
    catalog = {"views": VIEWS, "default_release": "LCG_104", "releases": releases}
    (views / "catalog.json").write_text(json.dumps(catalog))
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        yield f"http://127.0.0.1:{port}/sft.cern.ch/lcg/views/catalog.json", views
    finally:
        server.shutdown()
        server.server_close()
