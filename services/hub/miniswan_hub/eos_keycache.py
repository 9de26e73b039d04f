"""The hub's public key where the eos-stub's scitokens-cpp looks for it: its key cache.

scitokens-cpp would fetch an issuer's keys over HTTPS (/.well-known/openid-configuration,
then the JWKS), trusting only the system's CAs; the hub serves neither. scitokens-cpp first
looks in an SQLite cache, $XDG_CACHE_HOME/scitokens/scitokens_cpp.sqllite (the eos-stub sets
XDG_CACHE_HOME to a folder of the shared auth volume), and reads it again for every token it
has not seen: seeding it with keys valid for years works offline and needs no restart.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

# scitokens-cpp's own names (sic: "sqllite").
CACHE_FILE = Path("scitokens") / "scitokens_cpp.sqllite"
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS keycache "
    "(issuer text UNIQUE PRIMARY KEY NOT NULL, keys text NOT NULL)"
)
# Far ahead: scitokens-cpp would try to refresh the keys over the network after next_update
# and drop them after expires.
VALID_FOR = 100 * 365 * 24 * 3600


def cache_entry(jwks: list[dict[str, str]], now: float) -> str:
    """The `keys` column of an issuer's row, as scitokens-cpp stores it."""
    until = int(now) + VALID_FOR
    return json.dumps({"jwks": {"keys": jwks}, "next_update": until, "expires": until})


def cached_keys(cache_dir: Path, issuer: str) -> list[dict[str, Any]]:
    """The keys the cache holds for `issuer` ([] if none, or no cache yet)."""
    path = cache_dir / CACHE_FILE
    if not path.is_file():
        return []
    with sqlite3.connect(path) as db:
        row = db.execute("SELECT keys FROM keycache WHERE issuer = ?", (issuer,)).fetchone()
    if row is None:
        return []
    keys: list[dict[str, Any]] = json.loads(row[0]).get("jwks", {}).get("keys", [])
    return keys


def seed(cache_dir: Path, issuer: str, jwk: dict[str, str], now: float, uid: int = 1000) -> bool:
    """Make the cache hold `jwk` for `issuer`; True if it had to be written.

    The new cache is built beside the old one and renamed over it, so xrootd never reads a
    half-written file; it stays owned by xrootd's uid (scitokens-cpp may write to it)."""
    if any(key.get("kid") == jwk["kid"] for key in cached_keys(cache_dir, issuer)):
        return False
    path = cache_dir / CACHE_FILE
    for folder in (cache_dir, path.parent):
        folder.mkdir(exist_ok=True)
        os.chown(folder, uid, uid)
    draft = path.with_name(f".{path.name}.new")
    draft.unlink(missing_ok=True)
    with sqlite3.connect(draft) as db:
        db.execute(SCHEMA)
        db.execute(
            "INSERT OR REPLACE INTO keycache (issuer, keys) VALUES (?, ?)",
            (issuer, cache_entry([jwk], now)),
        )
    db.close()
    os.chown(draft, uid, uid)
    draft.chmod(0o644)
    draft.replace(path)
    return True
