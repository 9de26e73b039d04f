"""Xpra's HTML5 client served as static files by the server the browser talks to, not by
each desktop's Xpra. No jupyter_server imports: both servers mount it.

Why: xpra's own HTTP server answers every one of the client's ~34 files with `no-store`,
over HTTP/1.0, gzipping in Python on each request, and each file crossed two proxies (a
new upstream connection per file). The client is purely static and builds its websocket
URL from its `path` parameter, so the files can come from one URL per client version,
cached by the browser for good: a desktop opened after the first loads no file at all,
and only the websocket goes to the desktop's Xpra.

The files are served without authentication, like Jupyter Server's own /static/: they are
the distribution's client, the same for everyone, with no user data; the websocket that
reaches a desktop stays behind the servers' authentication. (Authenticating them with Hub
cookies would also break the client: browsers fetch fonts in CORS mode, which JupyterHub's
cookie check refuses without an XSRF token, and the refused font then starts an OAuth
login in the background that replaces the page's XSRF cookie.)
"""

from __future__ import annotations

import hashlib
import inspect
import os
from pathlib import Path
from typing import Any

from tornado import web

XPRA_WWW = "/usr/share/xpra/www"
"""Where Debian's xpra installs its HTML5 client (package xpra, with libjs-jquery(-ui))."""

ONE_YEAR = 365 * 24 * 3600

# Added to the client's index.html, after jQuery: when the page is ready, and before the
# client's own ready handler reads its `path` parameter and connects, the client's exact size
# (its #screen element, which the client measures too) goes on the websocket's path as
# `?screen=WxH`. The desktop proxy (desktop_proxy.py) gives the desktop's screen a mode of
# that size before the websocket reaches Xpra, which then answers the hello at once instead
# of adding the mode itself and pausing half a second (xpra.add_mode_script). Every page that
# loads this client (panel, browser tab, desktop-only page, reconnects) gets it.
SCREEN_SCRIPT = """<script>
$(document).ready(function () {
  var screen = document.getElementById("screen");
  var query = new URLSearchParams(window.location.search);
  var path = (query.get("path") || "").split("?")[0];
  if (!path || !screen || !(screen.clientWidth > 0 && screen.clientHeight > 0)) { return; }
  path += "?screen=" + screen.clientWidth + "x" + screen.clientHeight;
  query.set("path", path);
  history.replaceState(history.state, "", window.location.pathname + "?" + query);
  if (window.location.queryStringParams) { window.location.queryStringParams.path = path; }
});
</script>
"""
# The tag it follows in Xpra 3.1's index.html.
JQUERY_TAG = '<script type="text/javascript" src="js/lib/jquery.js"></script>'


def client_version(www: Path) -> str:
    """A short digest of the client's files (names, sizes, modification times): it changes
    whenever the installed client changes, so a versioned URL may be cached forever."""
    digest = hashlib.sha256()
    for folder, _dirs, files in sorted(os.walk(www, followlinks=True)):
        for name in sorted(files):
            path = Path(folder, name)
            try:
                st = path.stat()
            except OSError:
                continue  # a dangling symlink (e.g. jquery without libjs-jquery)
            digest.update(f"{path.relative_to(www)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    digest.update(SCREEN_SCRIPT.encode())  # what we add to index.html is part of the version
    return digest.hexdigest()[:12]


def link_targets(www: Path) -> list[str]:
    """The folders the client's symbolic links point into (Debian links jQuery and jQuery
    UI from libjs-jquery*), besides the client's own folder."""
    folders = {str(www.resolve())}
    for folder, _dirs, files in os.walk(www, followlinks=True):
        for name in files:
            path = Path(folder, name)
            if path.is_symlink() and path.exists():
                folders.add(str(path.resolve().parent))
    return sorted(folders)


class ClientFiles:
    """The client's folder, its version and the folders its links may lead to."""

    def __init__(self, www: str = XPRA_WWW) -> None:
        self.www = Path(www)
        self.version = client_version(self.www) if (self.www / "index.html").is_file() else ""
        self.link_targets = link_targets(self.www) if self.version else []
        self._index_html: bytes | None = None

    @property
    def available(self) -> bool:
        return bool(self.version)

    def index_html(self) -> bytes:
        """The client's index.html with SCREEN_SCRIPT after jQuery (unchanged, and the
        client connects as before, if a future index.html no longer loads jQuery so)."""
        if self._index_html is None:
            page = (self.www / "index.html").read_text()
            self._index_html = page.replace(
                JQUERY_TAG, f"{JQUERY_TAG}\n{SCREEN_SCRIPT}", 1
            ).encode()
        return self._index_html

    def index_path(self, files_url: str) -> str:
        """The client page's path, `files_url` being where `route()` is mounted."""
        return f"{files_url.rstrip('/')}/{self.version}/index.html"


class CachedClientFileHandler(web.StaticFileHandler):
    """A file of the client under `<mount>/<version>/<path>`, cached for a year by the
    browser (the version changes with the files); another version is a 404."""

    client: ClientFiles

    def initialize(self, client: ClientFiles, **kwargs: Any) -> None:  # type: ignore[override]
        self.client = client
        if "allowed_symlink_directory" in _STATIC_INIT_PARAMETERS:
            # tornado >= 6.6 follows a link only into these (older ones do not check)
            kwargs["allowed_symlink_directory"] = client.link_targets
        super().initialize(path=str(client.www), **kwargs)

    def check_version(self, version: str) -> None:
        if not self.client.available or version != self.client.version:
            raise web.HTTPError(404, "no such version of the desktop client")

    def get_cache_time(self, path: str, modified: Any, mime_type: str) -> int:
        return ONE_YEAR

    def set_extra_headers(self, path: str) -> None:
        self.set_header("Cache-Control", f"public, max-age={ONE_YEAR}, immutable")

    def get(self, version: str, path: str, include_body: bool = True) -> Any:  # type: ignore[override]
        self.check_version(version)
        if path == "index.html":
            return self._index(include_body)
        return super().get(path, include_body)

    def head(self, version: str, path: str) -> Any:  # type: ignore[override]
        self.check_version(version)
        if path == "index.html":
            return self._index(include_body=False)
        return super().head(path)

    def _index(self, include_body: bool) -> None:
        """index.html as ClientFiles.index_html has it, cached like every other file."""
        page = self.client.index_html()
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.set_header("Content-Length", str(len(page)))
        self.set_extra_headers("index.html")
        self.finish(page if include_body else b"")

    def compute_etag(self) -> str | None:
        return None  # versioned URLs: the browser never revalidates


_STATIC_INIT_PARAMETERS = inspect.signature(web.StaticFileHandler.initialize).parameters
