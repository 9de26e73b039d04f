"""EOS homes (miniswan_hub/eos.py): paths, authdb rules and keytab handling, without a server.

The XRootD and Docker steps run in e2e/test_eos.py against the real eos-stub; here only the
pure functions and the refusal of unusable names are tested.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from miniswan_hub import eos
from tornado import web


def test_home_is_under_the_initial() -> None:
    assert eos.home_path("alice") == "/eos/user/a/alice"
    assert eos.home_path("9lives") == "/eos/user/9/9lives"


@pytest.mark.parametrize("name", ["", "Alice", "../root", "a/b", "a b", "-x", "x" * 65, "é"])
def test_names_that_cannot_be_a_home_are_refused_with_a_reason(name: str) -> None:
    with pytest.raises(eos.EosError, match="cannot name an EOS home"):
        eos.home_path(name)


def test_rule_grants_below_the_home_only() -> None:
    # A trailing slash: XRootD matches prefixes, so 'alice' must not cover 'alice2'.
    assert eos.authdb_rule("alice") == "u alice /eos/user/a/alice/ a"
    rule_path = eos.authdb_rule("alice").split()[2]
    assert not "/eos/user/a/alice2/secret".startswith(rule_path)
    assert "/eos/user/a/alice/notes.txt".startswith(rule_path)


def test_adding_a_rule_is_idempotent_and_keeps_others() -> None:
    base = "u eosadmin /eos a\n"
    once = eos.with_rule(base, "bob")
    assert once == "u eosadmin /eos a\nu bob /eos/user/b/bob/ a\n"
    assert eos.with_rule(once, "bob") == once
    assert eos.with_rule("", "bob") == "u bob /eos/user/b/bob/ a\n"


def test_keytab_lines_match_the_whole_user_name() -> None:
    keytab = (
        "0 u:alice2 g:users n:alice2 N:2 c:1 e:0 f:0 k:bb\n"
        "0 u:alice g:users n:alice N:1 c:1 e:0 f:0 k:aa\n"
    )
    assert eos.keytab_lines_for(keytab, "alice") == [keytab.splitlines()[1]]
    assert eos.keytab_lines_for(keytab, "alic") == []


def test_reserved_and_bad_names_fail_the_spawn_with_503_before_any_call() -> None:
    homes = eos.EosHomes(admin_user="eosadmin")

    async def no_docker(*args: object, **kwargs: object) -> None:
        raise AssertionError("no Docker call expected")

    for name, reason in [("eosadmin", "reserved"), ("Bad/Name", "cannot name")]:
        with pytest.raises(web.HTTPError) as error:
            asyncio.run(homes.prepare(name, no_docker))
        assert error.value.status_code == 503
        assert reason in str(error.value.log_message)


def test_missing_admin_key_says_the_eos_stub_has_not_started(tmp_path: object) -> None:
    homes = eos.EosHomes(auth_dir=str(tmp_path))
    with pytest.raises(web.HTTPError) as error:
        asyncio.run(homes.prepare("carol", None))
    assert "eos-stub has not started" in str(error.value.log_message)


def test_volume_names_follow_the_stack() -> None:
    homes = eos.EosHomes(stack="demo")
    assert homes.data_volume == "demo_eos-data"
    assert homes.auth_volume == "demo_eos-auth"


class NotFound(OSError):
    """Stands in for docker-py's NotFound (an OSError with status_code 404)."""

    status_code = 404


class FakeDocker:
    """A fake of DockerSpawner.docker for volume calls only (the real engine is in e2e)."""

    def __init__(self, volumes: dict[str, dict[str, object]]) -> None:
        self.volumes = volumes
        self.calls: list[str] = []

    async def __call__(self, method: str, *args: object, **kwargs: object) -> object:
        self.calls.append(method)
        if method == "inspect_volume":
            name = str(args[0])
            if name not in self.volumes:
                raise NotFound(name)
            return self.volumes[name]
        if method == "remove_volume":
            del self.volumes[str(args[0])]
            return None
        if method == "create_volume":
            self.volumes[str(kwargs["name"])] = {"Options": kwargs["driver_opts"]}
            return None
        raise AssertionError(method)


def test_home_volume_binds_the_folder_inside_the_data_volume() -> None:
    homes = eos.EosHomes(stack="demo")
    fake = FakeDocker({"demo_eos-data": {"Mountpoint": "/var/lib/docker/volumes/d/_data"}})
    name = asyncio.run(homes._bind_volume(fake, "eoshome", "bob", "demo_eos-data", "/user/b/bob"))
    assert name == "demo-eoshome-bob"
    device = "/var/lib/docker/volumes/d/_data/user/b/bob"
    expected = {"type": "none", "o": "bind", "device": device}
    assert fake.volumes[name]["Options"] == expected
    # Again: reused as is.
    asyncio.run(homes._bind_volume(fake, "eoshome", "bob", "demo_eos-data", "/user/b/bob"))
    assert fake.calls.count("create_volume") == 1
    # Made for another data volume: replaced.
    fake.volumes[name] = {"Options": {**expected, "device": "/elsewhere"}}
    asyncio.run(homes._bind_volume(fake, "eoshome", "bob", "demo_eos-data", "/user/b/bob"))
    assert fake.volumes[name]["Options"] == expected and "remove_volume" in fake.calls


def test_missing_data_volume_is_an_eos_error() -> None:
    homes = eos.EosHomes(stack="demo")
    with pytest.raises(eos.EosError, match="demo_eos-data.*missing"):
        asyncio.run(homes._bind_volume(FakeDocker({}), "eoshome", "bob", "demo_eos-data", "/x"))


def test_a_key_check_that_hangs_in_a_restart_is_tried_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fake `xrdfs` (no server here): the first call hangs as a handshake with an xrootd
    being restarted does, the next answers. The spawn must not fail on the first."""
    calls = tmp_path / "calls"
    xrdfs = tmp_path / "xrdfs"
    xrdfs.write_text(f"#!/bin/sh\necho x >> {calls}\n[ $(wc -l < {calls}) -gt 1 ] || sleep 30\n")
    xrdfs.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    homes = eos.EosHomes(auth_dir=str(tmp_path), timeout=10, key_check_timeout=1)
    asyncio.run(homes._wait_user_access("alice", "/eos/user/a/alice"))
    assert len(calls.read_text().splitlines()) == 2


def test_a_server_that_never_answers_fails_after_the_whole_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    xrdfs = tmp_path / "xrdfs"
    xrdfs.write_text("#!/bin/sh\nsleep 30\n")
    xrdfs.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    homes = eos.EosHomes(auth_dir=str(tmp_path), timeout=2.5, key_check_timeout=1)
    with pytest.raises(eos.EosError, match="did not answer within 2 s"):
        asyncio.run(homes._wait_user_access("alice", "/eos/user/a/alice"))
