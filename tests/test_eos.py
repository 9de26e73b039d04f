"""EOS homes (miniswan_hub/eos.py): paths, volumes and refusals, without a server.

The XRootD and Docker steps run in e2e/test_eos.py against the real eos-stub; here only the
pure functions and the refusal of unusable names are tested. Tokens and the static authdb:
tests/test_eos_tokens.py.
"""

from __future__ import annotations

import asyncio

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
