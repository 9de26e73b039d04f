"""Bearer tokens for the eos-stub: the hub signs one per user (docs/eos.md).

A token is a WLCG-profile JWT signed with the hub's ES256 key. XRootD's ztn protocol reads it
from the user's BEARER_TOKEN_FILE and takes the token's `sub` as the login name; the eos-stub's
static authdb then gives that name its own home. Nothing on the server changes for a new user.

This module only makes and reads tokens and the signing key; where they are written is eos.py's
job, how the eos-stub learns the public key is eos_keycache.py's.
"""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

ALGORITHM = "ES256"


@dataclass(frozen=True)
class SigningKey:
    """The hub's token signing key and the id (`kid`) the eos-stub finds it by."""

    private: ec.EllipticCurvePrivateKey
    kid: str

    def jwk(self) -> dict[str, str]:
        """The public half as a JSON Web Key, as scitokens-cpp reads it from its key cache."""
        numbers = self.private.public_key().public_numbers()
        return {
            "kty": "EC",
            "crv": "P-256",
            "alg": ALGORITHM,
            "use": "sig",
            "kid": self.kid,
            "x": _b64(numbers.x.to_bytes(32, "big")),
            "y": _b64(numbers.y.to_bytes(32, "big")),
        }


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def key_id(private: ec.EllipticCurvePrivateKey) -> str:
    """A stable id for a key: the start of its public key's SHA-256 thumbprint (RFC 7638)."""
    numbers = private.public_key().public_numbers()
    members = {
        "crv": "P-256",
        "kty": "EC",
        "x": _b64(numbers.x.to_bytes(32, "big")),
        "y": _b64(numbers.y.to_bytes(32, "big")),
    }
    digest = hashes.Hash(hashes.SHA256())
    digest.update(json.dumps(members, separators=(",", ":"), sort_keys=True).encode())
    return _b64(digest.finalize())[:16]


def load_or_create_key(path: Path) -> SigningKey:
    """The signing key kept at `path` (PEM, mode 0600, readable by the hub alone); made the
    first time. Made in a side file and renamed, so a crash never leaves half a key."""
    if path.is_file():
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(loaded, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{path} is not an EC private key")
        return SigningKey(loaded, key_id(loaded))
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.new")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    draft.replace(path)
    return SigningKey(private, key_id(private))


def claims_for(
    username: str, *, issuer: str, audience: str, lifetime: float, backdate: float, now: float
) -> dict[str, Any]:
    """A user's token claims: identity only.

    No `scope`: in XRootD 5.5.3 a token whose scope the scitokens plugin can read is handed
    to the authdb without its user name (the plugin builds a nameless identity for requests
    its scopes do not cover), so every request would be refused. A token without one makes
    the plugin pass the request on with the ztn login, whose name is `sub` (docs/eos.md).
    `iat` and `nbf` are back-dated: scitokens-cpp has no clock tolerance, and the hub's and
    the eos-stub's clocks are only nearly the same."""
    start = int(now - backdate)
    return {
        "iss": issuer,
        "sub": username,
        "aud": audience,
        "iat": start,
        "nbf": start,
        "exp": int(now + lifetime),
        "jti": str(uuid.uuid4()),
        "wlcg.ver": "1.0",
    }


def mint(key: SigningKey, claims: dict[str, Any]) -> str:
    return jwt.encode(claims, key.private, algorithm=ALGORITHM, headers={"kid": key.kid})


def unverified_claims(token: str) -> dict[str, Any]:
    """A token's claims without checking its signature: the hub reads its own tokens back to
    know when they are due for renewal, never to trust them."""
    try:
        claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as error:  # not a ValueError: say it as one
        raise ValueError(f"not a token: {error}") from None
    return claims


def refresh_due(claims: dict[str, Any], now: float | None = None) -> bool:
    """Renew at half life: a token is read when a connection opens, so a fresh one must be in
    place long before the old one expires (a client may keep a connection that long)."""
    now = time.time() if now is None else now
    try:
        issued, expires = float(claims["iat"]), float(claims["exp"])
    except (KeyError, TypeError, ValueError):
        return True
    return now >= issued + (expires - issued) / 2
