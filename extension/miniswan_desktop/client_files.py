"""Xpra's HTML5 client served as static files by the server the browser talks to, not by
each desktop's Xpra. No jupyter_server imports: both servers mount it.

Why: xpra's own HTTP server answers every one of the client's ~34 files with `no-store`,
over HTTP/1.0, gzipping in Python on each request, and each file crossed two proxies (a
new upstream connection per file). The client is purely static and builds its websocket
URL from its `path` parameter, so the files can come from one URL per client version,
cached by the browser for good: a desktop opened after the first loads no file at all,
and only the websocket goes to the desktop's Xpra.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from tornado import web

XPRA_WWW = "/usr/share/xpra/www"
"""Where Debian's xpra installs its HTML5 client (package xpra, with libjs-jquery(-ui))."""

ONE_YEAR = 365 * 24 * 3600


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
    return digest.hexdigest()[:12]


class ClientFiles:
    """The client's folder and its version; `route` is where a server mounts it."""

    def __init__(self, www: str = XPRA_WWW) -> None:
        self.www = Path(www)
        self.version = client_version(self.www) if (self.www / "index.html").is_file() else ""

    @property
    def available(self) -> bool:
        return bool(self.version)

    def index_path(self, files_url: str) -> str:
        """The client page's path, `files_url` being where `route()` is mounted."""
        return f"{files_url.rstrip('/')}/{self.version}/index.html"


class CachedClientFileHandler(web.StaticFileHandler):
    """A file of the client under `<mount>/<version>/<path>`, cached for a year by the
    browser (the version changes with the files); another version is a 404."""

    client: ClientFiles

    def initialize(self, client: ClientFiles, **kwargs: Any) -> None:  # type: ignore[override]
        self.client = client
        super().initialize(path=str(client.www), **kwargs)

    def check_version(self, version: str) -> None:
        if not self.client.available or version != self.client.version:
            raise web.HTTPError(404, "no such version of the desktop client")

    def get_cache_time(self, path: str, modified: Any, mime_type: str) -> int:
        return ONE_YEAR

    def set_extra_headers(self, path: str) -> None:
        # private: the files are only served to a logged-in user.
        self.set_header("Cache-Control", f"private, max-age={ONE_YEAR}, immutable")
