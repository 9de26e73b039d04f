"""Xpra browser desktops for Jupyter Server (mini-SWAN). Only the entry points live here."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """Where the built JupyterLab frontend is (the builder's `watch` and `develop` look)."""
    return [{"src": "labextension", "dest": "miniswan-desktop"}]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .app import DesktopApp

    return [{"module": "miniswan_desktop", "app": DesktopApp}]
