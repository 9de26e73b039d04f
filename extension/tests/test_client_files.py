"""Xpra's HTML5 client served by the Jupyter server itself, versioned and cached."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from miniswan_desktop.client_files import JQUERY_TAG, SCREEN_SCRIPT, ClientFiles, client_version


@pytest.fixture
def www(tmp_path: Path) -> Path:
    """A stand-in for /usr/share/xpra/www (Debian's is served in test_desktops), with a
    library linked in from elsewhere as Debian links jQuery, and a secret beside it."""
    www = tmp_path / "www"
    (www / "js" / "lib").mkdir(parents=True)
    (www / "index.html").write_text(
        f"<html><head>{JQUERY_TAG}\n<script>client()</script></head></html>"
    )
    (www / "js" / "Client.js").write_text("var client = 1;")
    javascript = tmp_path / "javascript" / "jquery"
    javascript.mkdir(parents=True)
    (javascript / "jquery.js").write_text("var jQuery = 3;")
    (www / "js" / "lib" / "jquery.js").symlink_to(javascript / "jquery.js")
    (tmp_path / "secret.txt").write_text("not for the web")
    return www


@pytest.fixture
def desktop_config(www: Path) -> dict[str, Any]:
    return {"xpra_html_dir": str(www)}


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """As jupyterhub-singleuser runs: no page of the server may be framed."""
    server = {
        **jp_server_config["ServerApp"],
        "tornado_settings": {"headers": {"Content-Security-Policy": "frame-ancestors 'none'"}},
    }
    return {**jp_server_config, "ServerApp": server}


def test_the_version_follows_the_files(www: Path) -> None:
    before = client_version(www)
    assert before == client_version(www)
    (www / "js" / "Client.js").write_text("var client = 22;")
    assert client_version(www) != before
    assert not ClientFiles(str(www / "missing")).available


async def test_files_are_served_cached_under_their_version(jp_fetch: Any, www: Path) -> None:
    version = client_version(www)
    r = await jp_fetch("desktops", "client", version, "js", "Client.js")
    assert r.body == b"var client = 1;"
    assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    # The client runs in JupyterLab's panel: an iframe of the same origin.
    assert r.headers["Content-Security-Policy"] == "frame-ancestors 'self'"
    assert "Etag" not in r.headers
    linked = await jp_fetch("desktops", "client", version, "js", "lib", "jquery.js")
    assert linked.body == b"var jQuery = 3;"
    # Public, like Jupyter Server's /static/: no credentials needed.
    anonymous = await jp_fetch(
        "desktops", "client", version, "index.html", headers={"Authorization": ""}
    )
    assert anonymous.code == 200 and b"client()" in anonymous.body


@pytest.mark.parametrize(
    "parts",
    [("0000", "index.html"), ("{v}", "../secret.txt"), ("{v}", "..%2Fsecret.txt"), ("{v}", "js")],
)
async def test_other_versions_and_paths_outside_are_404(
    jp_fetch: Any, www: Path, parts: tuple[str, str]
) -> None:
    version = client_version(www)
    path = [p.format(v=version) for p in parts]
    r = await jp_fetch("desktops", "client", *path, raise_error=False)
    assert r.code in (403, 404), r.code


async def test_the_page_puts_the_clients_size_on_its_websocket_path(
    jp_fetch: Any, www: Path
) -> None:
    """index.html gains the script that adds `?screen=WxH` to the client's `path` (the
    proxy's cue to give the screen that mode, see desktop_proxy.py), right after jQuery,
    which it needs, and before the client's own code; cached like the other files. A page
    without that jQuery tag is served as it is."""
    version = client_version(www)
    r = await jp_fetch("desktops", "client", version, "index.html")
    page = r.body.decode()
    assert page.index(JQUERY_TAG) < page.index(SCREEN_SCRIPT) < page.index("client()")
    assert r.headers["Content-Type"].startswith("text/html")
    assert int(r.headers["Content-Length"]) == len(r.body)
    assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    head = await jp_fetch("desktops", "client", version, "index.html", method="HEAD")
    assert head.code == 200 and head.body == b""
    assert ClientFiles(str(www)).index_html().decode() == page

    (www / "index.html").write_text("<html>no jquery</html>")
    assert ClientFiles(str(www)).index_html() == b"<html>no jquery</html>"
