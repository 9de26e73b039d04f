"""Reload on a change to this package's source made at any time since it was imported.

Dev stacks (`nox -s dev`) run JupyterLab servers with Jupyter Server's autoreload: tornado
re-executes the server when a loaded module's file changes. But tornado notes each file's
modification time at its first check, which runs only once the server is up, seconds after
the package was imported: a file saved in between (a second save right after a reload)
would never be reloaded. This module notes the times at import and checks them too.
"""

from __future__ import annotations

from pathlib import Path

from tornado import autoreload, ioloop

PACKAGE = Path(__file__).resolve().parent


def _modified() -> dict[Path, int]:
    times: dict[Path, int] = {}
    for path in PACKAGE.rglob("*.py"):
        try:
            times[path] = path.stat().st_mtime_ns
        except OSError:
            times[path] = -1  # removed since: a change too
    return times


AT_IMPORT = _modified()


def changed_since_import() -> list[Path]:
    now = _modified()
    return sorted(p for p in AT_IMPORT.keys() | now.keys() if AT_IMPORT.get(p) != now.get(p))


def watch(interval_ms: int = 500) -> ioloop.PeriodicCallback:
    """Re-execute the server as tornado's autoreload does once a source file changed."""

    def check() -> None:
        if changed_since_import():
            autoreload._reload()  # tornado's own re-exec (private, stable since tornado 4)

    callback = ioloop.PeriodicCallback(check, interval_ms)
    callback.start()
    return callback
