"""Xpra's HTML5 client served as static files by the server the browser talks to, not by
each desktop's Xpra. No jupyter_server imports: both servers mount it.

Why: xpra's own HTTP server answers every one of the client's ~34 files with `no-store`,
over HTTP/1.0, gzipping in Python on each request, and each file crossed two proxies (a
new upstream connection per file). The client is purely static and builds its websocket
URL from its `path` parameter, so the files can come from one URL per client version,
cached by the browser for good: a desktop opened after the first loads no file at all,
and only the websocket goes to the desktop's Xpra. The page itself, and its scripts as one
file, come as client_page.py rewrites them.

The files are served without authentication, like Jupyter Server's own /static/: they are
the distribution's client, the same for everyone, with no user data; the websocket that
reaches a desktop stays behind the servers' authentication. (Authenticating them with Hub
cookies would also break the client: browsers fetch fonts in CORS mode, which JupyterHub's
cookie check refuses without an XSRF token, and the refused font then starts an OAuth
login in the background that replaces the page's XSRF cookie.)
"""

from __future__ import annotations

import gzip
import hashlib
import inspect
import os
import re
import threading
from pathlib import Path
from typing import Any

from tornado import web

from .client_page import BACKGROUND, BUNDLE_PATH, REWRITE_RULES, bundle, rewrite

XPRA_WWW = "/usr/share/xpra/www"
"""Where Debian's xpra installs its HTML5 client (package xpra, with libjs-jquery(-ui))."""

# A stylesheet of the client's page, e.g. <link rel="stylesheet" href="css/client.css">.
_STYLESHEET = re.compile(r'<link rel="stylesheet"[^>]*? href="(css/[^"]+)"')

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
    digest.update(REWRITE_RULES.encode())  # how the page is rewritten is part of the version
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
        self._rewritten: tuple[bytes, bytes | None] | None = None
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        return bool(self.version)

    def index_html(self) -> bytes:
        """The client's page as client_page.rewrite() makes it."""
        return self._page()[0]

    def bundle_gzip(self) -> bytes | None:
        """The page's scripts as one file (client_page.bundle), gzipped (a quarter of the
        size, kept in memory); None when the page has no scripts to bundle."""
        return self._page()[1]

    def prepare(self) -> None:
        """Make the page and the bundle now, in the background (about a quarter of a second
        of CPU): the first browser to open a desktop does not wait for them."""
        if self.available:
            threading.Thread(target=self._page, name="client-page", daemon=True).start()

    def _page(self) -> tuple[bytes, bytes | None]:
        with self._lock:
            if self._rewritten is None:
                page, scripts = rewrite(
                    (self.www / "index.html").read_text(),
                    background=(self.www / BACKGROUND).is_file(),
                )
                packed = gzip.compress(bundle(self.www, scripts), 6, mtime=0) if scripts else None
                self._rewritten = (page.encode(), packed)
            return self._rewritten

    def index_path(self, files_url: str) -> str:
        """The client page's path, `files_url` being where `route()` is mounted."""
        return f"{files_url.rstrip('/')}/{self.version}/index.html"

    def preload_paths(self, files_url: str) -> list[str]:
        """What a browser may fetch ahead, so that its first desktop opens from its cache:
        the page, the bundle of its scripts (most of the bytes) and its stylesheets."""
        if not self.available:
            return []
        page = self.index_html().decode(errors="replace")
        bundled = [BUNDLE_PATH] if self.bundle_gzip() is not None else []
        base = f"{files_url.rstrip('/')}/{self.version}"
        return [f"{base}/{name}" for name in ["index.html", *bundled, *_STYLESHEET.findall(page)]]


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
        if path in ("index.html", BUNDLE_PATH):
            return self._generated(path, include_body)
        return super().get(path, include_body)

    def head(self, version: str, path: str) -> Any:  # type: ignore[override]
        self.check_version(version)
        if path in ("index.html", BUNDLE_PATH):
            return self._generated(path, include_body=False)
        return super().head(path)

    def _generated(self, path: str, include_body: bool) -> None:
        """The rewritten page, or the bundle (gzipped for a browser that takes it), cached
        like every other file of the client."""
        if path == "index.html":
            body, content_type = self.client.index_html(), "text/html; charset=UTF-8"
        else:
            packed = self.client.bundle_gzip()
            if packed is None:
                raise web.HTTPError(404)
            content_type = "text/javascript; charset=UTF-8"
            self.set_header("Vary", "Accept-Encoding")
            if "gzip" in self.request.headers.get("Accept-Encoding", ""):
                self.set_header("Content-Encoding", "gzip")
                body = packed
            else:
                body = gzip.decompress(packed)
        self.set_header("Content-Type", content_type)
        self.set_header("Content-Length", str(len(body)))
        self.set_extra_headers(path)
        self.finish(body if include_body else b"")

    def compute_etag(self) -> str | None:
        return None  # versioned URLs: the browser never revalidates


_STATIC_INIT_PARAMETERS = inspect.signature(web.StaticFileHandler.initialize).parameters
