"""Data files the frontend and the server both read (src/*.json, imported by the TypeScript;
the wheel carries a copy of each beside this module, see pyproject.toml's force-include)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_shared(name: str) -> Any:
    """The parsed JSON file `name` (e.g. "client-params.json"): the wheel's copy, else the source
    checkout's src/ (a development install)."""
    here = Path(__file__).resolve().parent
    for path in (here / name, here.parent / "src" / name):
        if path.is_file():
            return json.loads(path.read_text())
    raise RuntimeError(f"{name} is missing beside {here} and in its source checkout")
