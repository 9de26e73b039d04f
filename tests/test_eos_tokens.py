"""Users' EOS bearer tokens (eos_tokens.py, eos.py) and the eos-stub's static authdb.

What XRootD does with them (a token's login, the authdb's refusals, no restart for a new user)
is tested against the real eos-stub in e2e/test_eos.py; here: the claims, the signature, the
expiry and the renewal at half life, the key cache scitokens-cpp reads, and the authdb text.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import stat
import time
from pathlib import Path
from types import SimpleNamespace

import jwt
import pytest
from miniswan_hub import eos, eos_keycache, eos_tokens
from traitlets.config import LoggingConfigurable

ROOT = Path(__file__).resolve().parents[1]
ISSUER = "https://hub.miniswan.invalid/eos"


@pytest.fixture
def homes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> eos.EosHomes:
    """EosHomes on a temporary auth folder; files are owned by whoever runs the tests."""
    monkeypatch.setattr(eos.os, "chown", lambda *args, **kwargs: None)
    monkeypatch.setattr(eos_keycache.os, "chown", lambda *args, **kwargs: None)
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "eos-stub-ca.pem").write_text("CA\n")
    (tmp_path / "certs" / "0123abcd.0").symlink_to("eos-stub-ca.pem")
    return eos.EosHomes(auth_dir=str(tmp_path))


def verify(token: str, key: eos_tokens.SigningKey) -> dict[str, object]:
    claims: dict[str, object] = jwt.decode(
        token,
        key.private.public_key(),
        algorithms=["ES256"],
        audience="eos-stub",
        issuer=ISSUER,
    )
    return claims


# --- tokens ----------------------------------------------------------------------------------


def test_claims_name_the_user_and_nothing_they_may_do() -> None:
    now = 1_800_000_000.0
    claims = eos_tokens.claims_for(
        "alice", issuer=ISSUER, audience="eos-stub", lifetime=7200, backdate=30, now=now
    )
    assert claims["iss"] == ISSUER and claims["sub"] == "alice" and claims["aud"] == "eos-stub"
    # Back-dated: scitokens-cpp has no clock tolerance and nbf is mandatory.
    assert claims["iat"] == claims["nbf"] == now - 30
    assert claims["exp"] == now + 7200
    assert claims["wlcg.ver"] == "1.0"
    # No scope: XRootD 5.5.3 would hand the authdb a nameless identity (docs/eos.md).
    assert "scope" not in claims
    other = eos_tokens.claims_for(
        "alice", issuer=ISSUER, audience="eos-stub", lifetime=7200, backdate=30, now=now
    )
    assert claims["jti"] != other["jti"]


def test_a_minted_token_verifies_with_the_public_key_and_names_its_key(
    homes: eos.EosHomes,
) -> None:
    key = homes.signing_key()
    claims = eos_tokens.claims_for(
        "bob", issuer=ISSUER, audience="eos-stub", lifetime=600, backdate=30, now=time.time()
    )
    token = eos_tokens.mint(key, claims)
    assert jwt.get_unverified_header(token) == {"alg": "ES256", "kid": key.kid, "typ": "JWT"}
    assert verify(token, key)["sub"] == "bob"
    # A token is small: XRootD's ztn accepts up to 4 KiB by default.
    assert len(token) < 1024
    # Another key does not verify it.
    other = eos_tokens.SigningKey(
        eos_tokens.ec.generate_private_key(eos_tokens.ec.SECP256R1()), "x"
    )
    with pytest.raises(jwt.InvalidSignatureError):
        verify(token, other)


def test_an_expired_token_is_refused() -> None:
    key = eos_tokens.SigningKey(eos_tokens.ec.generate_private_key(eos_tokens.ec.SECP256R1()), "k")
    claims = eos_tokens.claims_for(
        "bob", issuer=ISSUER, audience="eos-stub", lifetime=10, backdate=30, now=time.time() - 60
    )
    with pytest.raises(jwt.ExpiredSignatureError):
        verify(eos_tokens.mint(key, claims), key)


def test_the_signing_key_is_made_once_private_and_kept(homes: eos.EosHomes) -> None:
    first = homes.signing_key()
    path = Path(homes.signing_key_file)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = homes.signing_key()
    assert again.kid == first.kid and len(first.kid) == 16
    assert again.jwk() == first.jwk()
    assert first.jwk()["kty"] == "EC" and first.jwk()["crv"] == "P-256"


def test_the_key_cache_holds_the_public_key_as_scitokens_cpp_reads_it(
    homes: eos.EosHomes,
) -> None:
    key = homes.signing_key()
    path = Path(homes.key_cache_dir) / "scitokens" / "scitokens_cpp.sqllite"
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT issuer, keys FROM keycache").fetchall()
        schema = db.execute("SELECT sql FROM sqlite_master WHERE name = 'keycache'").fetchone()
    assert "issuer text UNIQUE PRIMARY KEY NOT NULL, keys text NOT NULL" in schema[0]
    assert [issuer for issuer, _ in rows] == [ISSUER]
    entry = json.loads(rows[0][1])
    assert entry["jwks"]["keys"] == [key.jwk()]
    # Valid for years: scitokens-cpp would otherwise try to fetch the keys over the network.
    assert entry["next_update"] > time.time() + 10 * 365 * 24 * 3600
    assert entry["expires"] >= entry["next_update"]
    # Seeded once: the same key does not rewrite it.
    assert not eos_keycache.seed(Path(homes.key_cache_dir), ISSUER, key.jwk(), time.time())


def test_a_new_signing_key_replaces_the_cached_one(homes: eos.EosHomes) -> None:
    old = homes.signing_key()
    Path(homes.signing_key_file).unlink()
    new = homes.signing_key()
    assert new.kid != old.kid
    assert eos_keycache.cached_keys(Path(homes.key_cache_dir), ISSUER) == [new.jwk()]


# --- the user's folder and renewal -----------------------------------------------------------


def test_the_users_folder_has_a_private_token_and_the_ca(homes: eos.EosHomes) -> None:
    folder = homes.user_dir("alice")
    folder.mkdir(parents=True)
    (folder / "keytab").write_text("an sss key of an earlier version\n")
    homes._write_user_folder("alice")
    token = (folder / "token").read_text().strip()
    assert verify(token, homes.signing_key())["sub"] == "alice"
    # XRootD's client ignores a token file others may read.
    assert stat.S_IMODE((folder / "token").stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert (folder / "certs" / "0123abcd.0").read_text() == "CA\n"
    assert sorted(p.name for p in folder.iterdir()) == ["certs", "token"]


def test_no_ca_yet_means_the_eos_stub_has_not_started(tmp_path: Path) -> None:
    with pytest.raises(eos.EosError, match="eos-stub has not made its certificate"):
        eos.EosHomes(auth_dir=str(tmp_path))._write_user_folder("alice")


def test_the_environment_points_xrootd_at_the_token_and_the_ca() -> None:
    async def docker(method: str, *args: object, **kwargs: object) -> object:
        return {"Mountpoint": "/v", "Options": kwargs.get("driver_opts")}

    homes = eos.EosHomes()
    homes._admin_mkdir = lambda path: None  # type: ignore[method-assign]
    homes._write_user_folder = lambda name: None  # type: ignore[method-assign]
    home = asyncio.run(homes.prepare("alice", docker))
    assert home.environment["XrdSecPROTOCOL"] == "ztn"
    assert home.environment["BEARER_TOKEN_FILE"] == "/etc/eos-key/token"
    assert home.environment["X509_CERT_DIR"] == "/etc/eos-key/certs"
    assert "XrdSecSSSKT" not in home.environment


def test_refresh_is_due_at_half_life() -> None:
    claims = {"iat": 1000, "exp": 1000 + 48 * 3600}
    assert not eos_tokens.refresh_due(claims, now=1000 + 24 * 3600 - 1)
    assert eos_tokens.refresh_due(claims, now=1000 + 24 * 3600)
    assert eos_tokens.refresh_due({}, now=0)  # unreadable: renew


def test_default_tokens_outlive_a_working_day() -> None:
    homes = eos.EosHomes()
    # Renewed at half life, a token then still has more than a working day (10 h) to run.
    assert homes.token_lifetime / 2 > 10 * 3600
    assert 0 < homes.token_backdate <= 60


def test_poll_renews_a_token_only_when_due(
    homes: eos.EosHomes, monkeypatch: pytest.MonkeyPatch
) -> None:
    homes._write_user_folder("carol")
    path = homes.user_dir("carol") / "token"
    first = path.read_text()
    assert not homes.refresh_token("carol")
    assert path.read_text() == first
    # Half the lifetime later: a new token, renewed in place (one rename).
    later = time.time() + homes.token_lifetime / 2 + 1
    monkeypatch.setattr(eos.time, "time", lambda: later)
    monkeypatch.setattr(eos_tokens.time, "time", lambda: later)
    assert homes.refresh_token("carol")
    renewed = eos_tokens.unverified_claims(path.read_text().strip())
    assert path.read_text() != first and renewed["sub"] == "carol"
    assert renewed["exp"] == int(later + homes.token_lifetime)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not list(path.parent.glob(".token*"))  # no side file left


def test_an_unreadable_token_is_renewed(homes: eos.EosHomes) -> None:
    homes._write_user_folder("dave")
    path = homes.user_dir("dave") / "token"
    path.write_text("garbage\n")
    with pytest.raises(ValueError, match="not a token"):
        eos_tokens.unverified_claims("garbage")
    assert homes.refresh_token("dave")
    assert eos_tokens.unverified_claims(path.read_text().strip())["sub"] == "dave"


def test_a_failing_renewal_never_fails_the_poll(monkeypatch: pytest.MonkeyPatch) -> None:
    class Spawner(LoggingConfigurable):
        user = SimpleNamespace(name="erin")

    def broken(self: eos.EosHomes, username: str) -> bool:
        raise sqlite3.DatabaseError("database disk image is malformed")

    monkeypatch.setattr(eos.EosHomes, "refresh_token", broken)
    asyncio.run(eos.refresh_token(Spawner()))  # logged, not raised


def test_no_folder_no_renewal(homes: eos.EosHomes) -> None:
    assert not homes.refresh_token("nobody")
    assert not homes.user_dir("nobody").exists()


# --- the static authdb -----------------------------------------------------------------------


def authdb_rules(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines() if line and not line.startswith("#")]


def test_the_eos_stubs_authdb_is_the_generated_one() -> None:
    assert (ROOT / "services" / "eos-stub" / "authdb").read_text() == eos.authdb_text()


def test_authdb_has_the_admin_and_one_templated_rule_per_initial() -> None:
    rules = authdb_rules(eos.authdb_text())
    assert rules[0] == ["u", "eosadmin", "/eos", "a"]
    # XRootD allows a single `u =` record: every initial is a path of that one record.
    assert len(rules) == 2 and rules[1][:2] == ["u", "="]
    pairs = rules[1][2:]
    paths = pairs[0::2]
    assert set(pairs[1::2]) == {"a"}
    assert paths == [f"/eos/user/{c}/@=/" for c in "abcdefghijklmnopqrstuvwxyz0123456789"]


def grants(text: str, user: str, path: str) -> bool:
    """What XRootD's authdb grants `user` on `path`: `@=` is the user's name, paths match as
    plain prefixes (XrdAccCapability)."""
    for rule in authdb_rules(text):
        if rule[1] not in (user, "="):
            continue
        for prefix in rule[2::2]:
            if path.startswith(prefix.replace("@=", user)):
                return True
    return False


@pytest.mark.parametrize(
    ("user", "path", "granted"),
    [
        ("alice", "/eos/user/a/alice/notes.txt", True),
        ("alice", "/eos/user/a/alice/", True),
        ("alice", "/eos/user/a/alicebad/secret.txt", False),  # the trailing slash
        ("alice", "/eos/user/a/alicebad/", False),
        ("alicebad", "/eos/user/a/alice/secret.txt", False),
        ("alice", "/eos/user/b/bob/secret.txt", False),
        ("alice", "/eos/user/", False),
        ("alice", "/eos/user/a/", False),
        ("9lives", "/eos/user/9/9lives/x", True),
        ("eosadmin", "/eos/user/b/bob/secret.txt", True),
    ],
)
def test_authdb_gives_each_user_their_home_only(user: str, path: str, granted: bool) -> None:
    assert grants(eos.authdb_text(), user, path) is granted
