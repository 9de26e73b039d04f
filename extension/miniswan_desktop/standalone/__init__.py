"""The desktop-only server: one Xpra desktop behind JupyterHub OAuth, no Jupyter server.

JupyterHub spawns the console script ``miniswan-desktop-server`` in place of
``jupyterhub-singleuser``; see ``app.py``. Only the entry point lives here.
"""

from __future__ import annotations


def main() -> None:
    from .app import main as _main

    _main()
