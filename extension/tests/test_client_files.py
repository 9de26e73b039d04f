"""Xpra's HTML5 client served by the Jupyter server itself, versioned and cached."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from miniswan_desktop.client_files import ClientFiles, client_version
from miniswan_desktop.client_page import (
    BUNDLE_PATH,
    KEYBOARD_SYNC_OFF,
    LATER,
    NO_BACKGROUND,
    NO_WORKER,
    SCREEN_SCRIPT,
    STUBS,
    UNUSED_PROBES_OFF,
    bundle,
    client_params,
    later_loader,
    rewrite,
)

# A page like Debian's: scripts of the client, then its own inline code.
PAGE = """<html><head>
<script type="text/javascript" src="js/lib/jquery.js"></script>
<link rel="stylesheet" href="css/menu.css"/>
<script type="application/javascript" src="js/Client.js"></script>
<script>client()</script></head></html>"""


@pytest.fixture
def www(tmp_path: Path) -> Path:
    """A stand-in for /usr/share/xpra/www (Debian's is served in test_desktops), with a
    library linked in from elsewhere as Debian links jQuery, and a secret beside it."""
    www = tmp_path / "www"
    (www / "js" / "lib").mkdir(parents=True)
    (www / "index.html").write_text(PAGE)
    (www / "js" / "Client.js").write_text("var client = 1;")
    javascript = tmp_path / "javascript" / "jquery"
    javascript.mkdir(parents=True)
    (javascript / "jquery.js").write_text("var jQuery = 3;")
    (www / "js" / "lib" / "jquery.js").symlink_to(javascript / "jquery.js")
    (tmp_path / "secret.txt").write_text("not for the web")
    (www / "css").mkdir()
    (www / "css" / "menu.css").write_text("body { margin: 0 }")
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


async def test_the_files_a_browser_may_fetch_ahead_are_listed_and_served(
    jp_fetch: Any, jp_base_url: str, www: Path
) -> None:
    r = await jp_fetch("desktops", "api", "client")
    paths = json.loads(r.body)["preload"]
    base = f"{jp_base_url}desktops/client/{client_version(www)}/"
    assert paths == [f"{base}index.html", f"{base}{BUNDLE_PATH}", f"{base}css/menu.css"]
    for path in paths:  # each one, as the page will ask for it, and cached for a year
        served = await jp_fetch(path.removeprefix(jp_base_url), headers={"Authorization": ""})
        assert served.code == 200 and served.headers["Cache-Control"].endswith("immutable")


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


async def test_the_page_loads_its_scripts_as_one_file_then_puts_its_size_on_the_path(
    jp_fetch: Any, www: Path
) -> None:
    """index.html loads the client's scripts as one file, in their order, followed by the
    script that adds `?screen=WxH` to the client's `path` (the proxy's cue to give the
    screen that mode, see desktop_proxy.py), before the client's own code; both cached like
    the other files, the bundle gzipped for a browser that takes it. The files stay
    available on their own."""
    version = client_version(www)
    r = await jp_fetch("desktops", "client", version, "index.html")
    page = r.body.decode()
    bundle_tag = f'<script type="text/javascript" src="{BUNDLE_PATH}"></script>'
    assert page.index(bundle_tag) < page.index(SCREEN_SCRIPT) < page.index("client()")
    assert 'src="js/lib/jquery.js"' not in page and 'src="js/Client.js"' not in page
    assert page.index("menu.css") > page.index(SCREEN_SCRIPT)  # the rest stays in place
    # This client has no background.png: its stylesheet's reference to it is cancelled.
    assert page.index(SCREEN_SCRIPT) < page.index(NO_BACKGROUND) < page.index("client()")
    assert r.headers["Content-Type"].startswith("text/html")
    assert int(r.headers["Content-Length"]) == len(r.body)
    assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    head = await jp_fetch("desktops", "client", version, "index.html", method="HEAD")
    assert head.code == 200 and head.body == b""

    packed = await jp_fetch(
        "desktops", "client", version, *BUNDLE_PATH.split("/"),
        headers={"Accept-Encoding": "gzip"}, decompress_response=False,
    )  # fmt: skip
    plain = await jp_fetch(
        "desktops", "client", version, *BUNDLE_PATH.split("/"),
        headers={"Accept-Encoding": "identity"}, decompress_response=False,
    )  # fmt: skip
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.body) == plain.body
    assert "Content-Encoding" not in plain.headers
    text = plain.body.decode()
    assert text.index("var jQuery = 3;") < text.index("var client = 1;")
    assert plain.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    alone = await jp_fetch("desktops", "client", version, "js", "Client.js")
    assert alone.body == b"var client = 1;"


def test_the_background_is_cancelled_only_when_the_client_has_none(www: Path) -> None:
    assert NO_BACKGROUND in ClientFiles(str(www)).index_html().decode()
    (www / "background.png").write_bytes(b"\x89PNG")
    assert NO_BACKGROUND not in ClientFiles(str(www)).index_html().decode()
    assert NO_BACKGROUND not in rewrite(PAGE)[0] and NO_BACKGROUND in rewrite(PAGE, False)[0]


def test_debians_page_is_rewritten_whole() -> None:
    """On the real client (xpra's package): every script found, in order, none left."""
    index = Path("/usr/share/xpra/www/index.html")
    if not index.is_file():
        pytest.skip("needs Debian's xpra (its HTML5 client)")
    original = index.read_text()
    page, scripts = rewrite(original)
    assert scripts[0] == "js/lib/es6-shim.js" and scripts[-1] == "js/Menu-custom.js"
    assert "js/Client.js" in scripts and len(scripts) == original.count(' src="js/')
    assert page.count(" src=") == 1 and page.count(BUNDLE_PATH) == 1
    assert rewrite("<html>no scripts</html>") == ("<html>no scripts</html>", [])
    assert "wsworker_check" not in page
    # The video and audio decoders stay out (every page passes video=false, sound=false).
    assert client_params()["video"] == client_params()["sound"] == "false"
    text = bundle(index.parent, scripts)
    assert text.startswith(STUBS) and b"// js/Client.js\n" in text
    # The protocol runs in the page: the flag comes after Client.js declares it.
    assert b"var XPRA_CLIENT_FORCE_NO_WORKER = false" in text
    # The rarely used libraries come after the page, in its order, and not in the bundle.
    later = [script for script in scripts if script in LATER]
    assert later == list(LATER)
    assert all(f"// {script}\n".encode() not in text for script in LATER)
    tail = NO_WORKER + KEYBOARD_SYNC_OFF + UNUSED_PROBES_OFF + later_loader(later)
    assert text.endswith(tail)
    # ... and connect() is replaced by one without the worker check: the one it replaces
    # is the version it was copied from (its check, its call into the protocol).
    assert b"XpraClient.prototype.connect = function() {" in text
    assert b"var worker = new Worker('js/lib/wsworker_check.js');" in text
    assert b"XpraClient.prototype._do_connect = function(with_worker) {" in text
    # What the keyboard_sync override wraps is there, defined before it runs.
    assert b"XpraClient.prototype._make_hello = function" in text
    assert b"XpraClient.prototype._update_capabilities = function" in text
    # The probes replaced are the client's own, and the bell is their only user.
    assert b"canUseWebP : function() {" in text and b"getAudioContext : function() {" in text
    assert text.count(b"Utilities.getAudioContext()") == 1
    assert b"ctx.audio_context!=null" in text
    assert b"// js/lib/jsmpeg.js" not in text and b"// js/lib/aurora/aurora.js" not in text
