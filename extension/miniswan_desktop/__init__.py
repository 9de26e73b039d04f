"""Xpra desktops for Jupyter Server."""

from __future__ import annotations

__version__ = "0.1.0"
