"""EOS homes: each user's home is /eos/user/<initial>/<name> on the eos-stub (XRootD).

Before a user's container starts, the hub
1. creates the home over XRootD with its administrator key (`xrdfs mkdir -p`, idempotent); a
   dead eos-stub fails the spawn here, within seconds, with a message saying so;
2. on the user's first spawn, makes an sss key for the user (`xrdsssadmin`), adds it to the
   server keytab and grants the user their home, and only it, in the authorization database
   (the eos-stub restarts xrootd to load both);
3. checks, with the user's own key, that XRootD lets the user into the home;
4. mounts the home at its EOS path (a bind-type volume onto the eos-data volume, which works
   on Docker 20.10: no volume subpath needed) and the user's key read-only, and makes the home
   $HOME and the Jupyter root.

See docs/eos.md for the design and what it protects against.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tornado import web
from traitlets import Float, Unicode, default
from traitlets.config import LoggingConfigurable

# Names that can be a path component, a keytab field and an authdb identifier as they are.
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}\Z")
# Where a user container finds its key (the directory is mounted read-only).
KEY_DIR_IN_CONTAINER = "/etc/eos-key"
# One hub process edits the keytab and authdb: spawns of new users take turns.
_AUTH_LOCK = asyncio.Lock()


class EosError(RuntimeError):
    """EOS could not give the user a home; the message is meant for the user."""


def home_path(username: str) -> str:
    """/eos/user/<initial>/<name>, as in SWAN."""
    if not USERNAME.match(username):
        raise EosError(
            f"The user name {username!r} cannot name an EOS home: use lowercase letters, "
            "digits, '.', '_' or '-', starting with a letter or digit (at most 64)."
        )
    return f"/eos/user/{username[0]}/{username}"


def authdb_rule(username: str) -> str:
    """The user's line in the authorization database: all rights below their home only.

    XRootD matches authdb paths as plain prefixes, so the trailing slash is what keeps
    'alice' out of 'alice2's home (the home itself is then addressed as '.../alice/').
    """
    return f"u {username} {home_path(username)}/ a"


def with_rule(authdb: str, username: str) -> str:
    """The authdb text with the user's rule added (unchanged if present)."""
    rule = authdb_rule(username)
    lines = authdb.splitlines()
    if rule in lines:
        return authdb
    return "\n".join([*lines, rule]) + "\n"


def keytab_lines_for(keytab: str, username: str) -> list[str]:
    """The keytab entries that name `username` (field `u:<name>`)."""
    return [line for line in keytab.splitlines() if f" u:{username} " in f" {line} "]


@dataclass
class EosHome:
    """What a user container needs to see its EOS home."""

    username: str
    path: str
    volumes: dict[str, dict[str, str]] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)


class EosHomes(LoggingConfigurable):
    """Creates users' EOS homes and keys and says how to mount them (docs/eos.md)."""

    url = Unicode(
        "root://eos-stub:1094",
        help="The eos-stub's XRootD endpoint, as the hub and user containers reach it.",
    ).tag(config=True)

    auth_dir = Unicode(
        "/srv/eos-auth",
        help="""Where the hub mounts the eos-stub's auth volume (server keytab, authdb,
        the administrator's key, one folder per user with that user's key).""",
    ).tag(config=True)

    admin_user = Unicode(
        "eosadmin",
        help="The XRootD user of the hub's administrator key; no JupyterHub user may have it.",
    ).tag(config=True)

    stack = Unicode(help="The compose project: names the volumes below.").tag(config=True)

    @default("stack")
    def _stack_default(self) -> str:
        return os.environ.get("MINISWAN_STACK", "miniswan")

    data_volume = Unicode(
        help="Docker volume holding /eos (the eos-stub's data); homes are mounted from it."
    ).tag(config=True)

    @default("data_volume")
    def _data_volume_default(self) -> str:
        return f"{self.stack}_eos-data"

    auth_volume = Unicode(help="Docker volume holding the eos-stub's keys and authdb.").tag(
        config=True
    )

    @default("auth_volume")
    def _auth_volume_default(self) -> str:
        return f"{self.stack}_eos-auth"

    timeout = Float(
        20,
        help="""Seconds one XRootD call may take (and how long a new user's key may take to
        be loaded by the eos-stub) before the spawn fails with a message.""",
    ).tag(config=True)

    key_check_timeout = Float(
        4,
        help="""Seconds one check of a new user's key may take before it is tried again
        (within `timeout`). A check that reaches xrootd while the eos-stub restarts it to
        load that key can wait for a handshake that never comes; a new connection to the
        restarted server answers at once.""",
    ).tag(config=True)

    # --- the steps ---------------------------------------------------------------------------

    async def prepare(self, username: str, docker: Any) -> EosHome:
        """Everything the user's container needs, created if missing (idempotent).

        `docker(method, *args, **kwargs)` runs a docker-py APIClient call (DockerSpawner's
        `docker` method)."""
        try:
            path = home_path(username)
            if username == self.admin_user:
                raise EosError(f"The user name {username!r} is reserved for EOS administration.")
            await asyncio.to_thread(self._admin_mkdir, path)
            async with _AUTH_LOCK:
                await asyncio.to_thread(self._ensure_user_key, username)
            await self._wait_user_access(username, path)
            # nocopy: Docker would otherwise give an empty volume the owner and mode of the
            # mount point it makes in the container (root, 0755): a new home would be root's.
            volumes = {
                await self._bind_volume(docker, "eoshome", username, self.data_volume, path[4:]): {
                    "bind": path,
                    "mode": "rw,nocopy",
                },
                await self._bind_volume(
                    docker, "eoskey", username, self.auth_volume, f"/users/{username}"
                ): {"bind": KEY_DIR_IN_CONTAINER, "mode": "ro,nocopy"},
            }
        except EosError as error:
            raise web.HTTPError(503, f"Your EOS home is not available: {error}") from None
        except OSError as error:
            # Unexpected (a damaged auth volume, Docker refusing a volume: docker-py's errors
            # are OSErrors too): still say what.
            self.log.exception("EOS home for %s", username)
            raise web.HTTPError(
                503, f"Your EOS home is not available: {type(error).__name__}: {error}"
            ) from None
        environment = {
            "HOME": path,
            "EOS_HOME": path,
            "EOS_MGM_URL": self.url,
            "XrdSecPROTOCOL": "sss",
            "XrdSecSSSKT": f"{KEY_DIR_IN_CONTAINER}/keytab",
        }
        return EosHome(username, path, volumes, environment)

    def _xrd(
        self, keytab: Path, *args: str, timeout: float | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run an XRootD client command against the eos-stub with the given key, for at
        most `timeout` seconds (default: the `timeout` setting); short connection retries
        so that a dead eos-stub is reported in seconds."""
        timeout = self.timeout if timeout is None else timeout
        env = {
            **os.environ,
            "XrdSecPROTOCOL": "sss",
            "XrdSecSSSKT": str(keytab),
            "XRD_CONNECTIONWINDOW": "3",
            "XRD_CONNECTIONRETRY": "2",
            "XRD_REQUESTTIMEOUT": str(max(1, int(timeout))),
            "XRD_STREAMTIMEOUT": str(max(1, int(timeout))),
        }
        try:
            return subprocess.run(
                ["xrdfs", self.url, *args],
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise EosError(
                f"the eos-stub at {self.url} did not answer within {timeout:.0f} s"
            ) from None

    def _admin_mkdir(self, path: str) -> None:
        admin_key = Path(self.auth_dir) / "admin.keytab"
        if not admin_key.is_file():
            raise EosError(
                f"the eos-stub has not started yet (no administrator key in {self.auth_dir}); "
                "an operator should check `docker compose ps eos-stub`"
            )
        result = self._xrd(admin_key, "mkdir", "-p", path)
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            raise EosError(
                f"the eos-stub at {self.url} could not create {path} "
                f"({detail[-1] if detail else f'exit {result.returncode}'}); it may be down: "
                "try again in a minute, or ask an operator to check `docker compose ps eos-stub`"
            )
        self.log.info("EOS home %s is there", path)

    def _ensure_user_key(self, username: str) -> None:
        """Give the user an sss key and their authdb rule if they have none yet."""
        auth = Path(self.auth_dir)
        server_keytab = auth / "server.keytab"
        user_dir = auth / "users" / username
        user_keytab = user_dir / "keytab"
        current = union = server_keytab.read_text()
        lines = keytab_lines_for(current, username)
        if not lines:
            # A copy: xrdsssadmin numbers a new key after the highest in the file, so keys
            # made from the union never share a key number (two files made in the same
            # second would), and the server keytab changes in one rename below.
            with tempfile.TemporaryDirectory() as work:
                draft = Path(work) / "keytab"
                shutil.copyfile(server_keytab, draft)
                draft.chmod(0o600)
                command = ["xrdsssadmin", "-u", username, "-g", "users", "-k", username]
                made = subprocess.run(
                    [*command, "add", str(draft)],
                    capture_output=True,
                    text=True,
                    check=False,
                    stdin=subprocess.DEVNULL,
                )
                union = draft.read_text()
            lines = keytab_lines_for(union, username)
            if made.returncode != 0 or len(lines) != 1:
                detail = made.stderr.strip()
                raise EosError(f"no XRootD key could be made for {username}: {detail}")
            self.log.info("New EOS key for %s", username)
        # The user's own keytab: only their key, readable by uid 1000 alone.
        user_dir.mkdir(parents=True, exist_ok=True)
        os.chown(user_dir, 1000, 1000)
        user_dir.chmod(0o700)
        _write_atomically(user_keytab, "\n".join(lines) + "\n", 0o600)
        # The rule first, the key last: xrootd restarts once the keytab changes.
        authdb = auth / "authdb"
        text = authdb.read_text() if authdb.exists() else ""
        if (updated := with_rule(text, username)) != text:
            _write_atomically(authdb, updated, 0o644)
        if union != current:
            _write_atomically(server_keytab, union.rstrip("\n") + "\n", 0o600)

    async def _wait_user_access(self, username: str, path: str) -> None:
        """Wait until XRootD lets the user into their home with their own key (a new key is
        live once the eos-stub has restarted xrootd, a second or two)."""
        keytab = Path(self.auth_dir) / "users" / username / "keytab"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        while True:
            left = max(deadline - loop.time(), 1.0)
            try:
                result = await asyncio.to_thread(
                    self._xrd,
                    keytab,
                    "stat",
                    f"{path}/",
                    timeout=min(self.key_check_timeout, left),
                )
            except EosError:
                # met xrootd mid-restart (see key_check_timeout): a new connection answers
                if loop.time() > deadline:
                    raise EosError(
                        f"the eos-stub at {self.url} did not answer within {self.timeout:.0f} s"
                    ) from None
                continue
            if result.returncode == 0:
                return
            if loop.time() > deadline:
                raise EosError(
                    f"XRootD refuses {username}'s own key for {path}/ "
                    f"({(result.stderr or result.stdout).strip()})"
                )
            await asyncio.sleep(0.5)

    async def _bind_volume(
        self, docker: Any, kind: str, username: str, source_volume: str, subdir: str
    ) -> str:
        """A local volume that bind-mounts one folder of another volume: how to mount a part of
        a volume without volume subpaths (Docker < 26). Named `<stack>-<kind>-<user>`."""
        name = f"{self.stack}-{kind}-{username}"
        try:
            source = await docker("inspect_volume", source_volume)
        except OSError as error:
            if not _not_found(error):
                raise
            raise EosError(
                f"the Docker volume {source_volume!r} is missing; an operator should start the "
                "stack with `nox -s up`"
            ) from None
        device = source["Mountpoint"].rstrip("/") + subdir
        opts = {"type": "none", "o": "bind", "device": device}
        try:
            existing = await docker("inspect_volume", name)
        except OSError as error:
            if not _not_found(error):
                raise
            existing = None
        if existing is not None and (existing.get("Options") or {}) != opts:
            # Made for another data volume (a recreated stack): not in use while the user's
            # server is down, so it can be replaced.
            await docker("remove_volume", name)
            existing = None
        if existing is None:
            await docker(
                "create_volume",
                name=name,
                driver="local",
                driver_opts=opts,
                labels={"org.miniswan.stack": self.stack},
            )
        return name


def _not_found(error: OSError) -> bool:
    """docker-py's NotFound: an APIError (an OSError) for HTTP 404; docker is not imported
    here so that the unit tests need no Docker SDK."""
    return getattr(error, "status_code", None) == 404


def _write_atomically(path: Path, text: str, mode: int) -> None:
    """Replace `path` in one rename, owned by uid 1000 (xrootd's and the users' uid)."""
    draft = path.with_name(f".{path.name}.new")
    draft.write_text(text)
    draft.chmod(mode)
    os.chown(draft, 1000, 1000)
    draft.replace(path)


async def prepare_spawner(spawner: Any) -> None:
    """Give `spawner` (a DockerSpawner) the user's EOS home: mounts, $HOME, Jupyter root."""
    homes = EosHomes(parent=spawner)
    home = await homes.prepare(spawner.user.name, spawner.docker)
    spawner.volumes = {**spawner.volumes, **home.volumes}
    spawner.environment = {**spawner.environment, **home.environment}
    spawner.notebook_dir = home.path
    spawner.extra_create_kwargs = {**spawner.extra_create_kwargs, "working_dir": home.path}
