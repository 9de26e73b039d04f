"""Each stack setting's value is written once, in compose/.env.

compose/docker-compose.yml passes the variables on without a fallback of its own, and the
hub's jupyterhub_config.py reads the ones it is passed without a fallback either (it fails
with a message naming the variable instead). The few internal knobs the compose file does not
pass have their value in jupyterhub_config.py only. These tests fail when a default creeps
back into a second place. No Docker, no JupyterHub: the config runs against a plain traitlets
Config, in the environment the compose file would give the hub.
"""

from __future__ import annotations

import ast
import os
import re
import runpy
from pathlib import Path

import pytest
from traitlets.config import Config

from tools.stack import COMPOSE_FILE, ENV_FILE, read_env_defaults

HUB_CONFIG = Path(__file__).resolve().parent.parent / "services" / "hub" / "jupyterhub_config.py"

# Variables the compose file uses that compose/.env leaves out on purpose: `${X:-}` (empty
# when unset, no value repeated).
OPTIONAL_IN_COMPOSE = {
    "MINISWAN_DEV_EXTENSION_DIR": "set only by `nox -s dev` (the host's extension/); "
    "empty means no developer mount",
}

# jupyterhub_config.py's internal knobs, not passed by the compose file: their value is
# written in the config alone (`knob(NAME, value)`), because the stack needs other than
# JupyterHub's default, and the environment may override it (tests, debugging).
INTERNAL_KNOBS = {
    "MINISWAN_PROXY_API_URL": "the proxy's API on the proxy-api network, not 127.0.0.1",
    "MINISWAN_ROUTE_CHECK_INTERVAL": "10 s, not 300 s: a restarted proxy gets routes back soon",
    "MINISWAN_HUB_CONNECT_URL": "the hub's service name, not its bind address",
    "MINISWAN_HUB_DATA": "the hub-data volume's mount point, not the working folder",
    "MINISWAN_HTTP_TIMEOUT": "90 s for a started server to answer, not 30 s",
    "MINISWAN_POLL_INTERVAL": "a killed user container noticed in 10 s, not 30 s",
}

# Set in jupyterhub_config.py only when the environment gives them: otherwise the add-on's
# trait default (services/hub/miniswan_hub) applies, so no value is written in the config.
SET_ONLY_WHEN_GIVEN = {
    "MINISWAN_EOS_URL": "EosHomes.url's default is the eos-stub service",
    "MINISWAN_CVMFS_CATALOG_URL": "MiniSwanSpawner.cvmfs_catalog_url's default is the stub's",
}

REQUIRED_ERROR = "{name} is not set: the stack passes it from compose/.env"

# ${NAME}, ${NAME:-fallback}, ${NAME-fallback}, ${NAME:?error}, ...: the name, the operator
# (if any) and what follows it.
_REFERENCE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?[-+?=])(?P<rest>[^}]*))?\}")
# The hub's environment entries (the only `environment:` of the compose file).
_HUB_ENTRY = re.compile(r"^ {6}(?P<name>MINISWAN_\w+): (?P<value>.*)$", re.MULTILINE)


def compose_text() -> str:
    return COMPOSE_FILE.read_text()


def compose_references() -> list[re.Match[str]]:
    return list(_REFERENCE.finditer(compose_text()))


def hub_environment(values: dict[str, str]) -> dict[str, str]:
    """The hub container's MINISWAN_* environment as Compose renders it from `values`
    (compose/.env, then the shell's overrides): `${X}` and `${X:-}` only, as the file uses."""
    entries = {m["name"]: m["value"] for m in _HUB_ENTRY.finditer(compose_text())}
    assert entries, "no hub environment found in compose/docker-compose.yml"
    return {
        name: _REFERENCE.sub(lambda ref: values.get(ref["name"], ""), value)
        for name, value in entries.items()
    }


def config_reads() -> list[tuple[str, str, ast.Call]]:
    """Every call in jupyterhub_config.py whose first argument names a MINISWAN_ variable:
    (variable, the called function's name, the call)."""
    reads = []
    for node in ast.walk(ast.parse(HUB_CONFIG.read_text(), str(HUB_CONFIG))):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        first = node.args[0]
        if isinstance(first, ast.Constant) and str(first.value).startswith("MINISWAN_"):
            func = node.func
            called = func.id if isinstance(func, ast.Name) else ast.unparse(func)
            reads.append((first.value, called, node))
    return reads


# --- compose/docker-compose.yml ----------------------------------------------------------


def test_compose_file_repeats_no_default() -> None:
    fallbacks = [ref[0] for ref in compose_references() if ref["op"] and ref["rest"]]
    assert not fallbacks, f"values belong in compose/.env, not the compose file: {fallbacks}"


def test_compose_file_names_variables_in_braces_only() -> None:
    # A bare $NAME would escape the checks above.
    assert not re.findall(r"\$(?!\{|\$)\w+", compose_text())


def test_every_compose_variable_comes_from_env_file_or_is_optional() -> None:
    defaults = read_env_defaults(ENV_FILE)
    for ref in compose_references():
        name = ref["name"]
        if name in defaults:
            # .env gives it a value: passed as it is, no operator at all
            assert not ref["op"], f"{ref[0]}: write ${{{name}}}, compose/.env defines it"
        else:
            assert name in OPTIONAL_IN_COMPOSE, (
                f"{name} is used by the compose file but not defined in compose/.env: "
                "add it there (with a comment)"
            )
            assert ref["op"] == ":-" and not ref["rest"], f"{ref[0]}: write ${{{name}:-}}"
    for name in OPTIONAL_IN_COMPOSE:
        assert name not in defaults, f"{name} is in compose/.env: drop it from the allow-list"


def test_env_file_values_reach_the_hub_unchanged() -> None:
    defaults = read_env_defaults(ENV_FILE)
    hub = hub_environment(defaults)
    for name, value in hub.items():
        if name in defaults:
            assert value == defaults[name], name
    assert hub["MINISWAN_PUBLIC_URL"] == f"http://127.0.0.1:{defaults['MINISWAN_PORT']}"
    assert hub["MINISWAN_DEV_EXTENSION_DIR"] == ""


# --- services/hub/jupyterhub_config.py ---------------------------------------------------


def test_hub_config_reads_no_fallback_value() -> None:
    passed = set(hub_environment({}))
    for name, called, call in config_reads():
        where = f"jupyterhub_config.py:{call.lineno} {ast.unparse(call)}"
        has_fallback = len(call.args) > 1 or bool(call.keywords)
        if name in passed:
            # the compose file passes it from compose/.env: read it without a fallback
            assert called == "setting" and not has_fallback, f"{where}: use setting({name!r})"
        elif name in INTERNAL_KNOBS:
            assert called == "knob", f"{where}: an internal knob, read with knob()"
        else:
            assert name in SET_ONLY_WHEN_GIVEN, (
                f"{where}: {name} is neither passed by the compose file nor an allowed knob"
            )
            assert not has_fallback, f"{where}: set it only when given, with no fallback"
        if called == "setting":
            assert name in passed, f"{where}: the compose file does not pass {name}"


def test_hub_config_knobs_are_written_in_the_config_only() -> None:
    defaults = read_env_defaults(ENV_FILE)
    compose = compose_text()
    read = {name for name, _, _ in config_reads()}
    for name in {**INTERNAL_KNOBS, **SET_ONLY_WHEN_GIVEN}:
        assert name in read, f"{name} is no longer read: drop it from the allow-list"
        assert name not in defaults and name not in compose, (
            f"{name} has its value in jupyterhub_config.py (or a trait default): "
            "not also in compose/.env or the compose file"
        )


def load_hub_config(monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]) -> Config:
    """Run jupyterhub_config.py as JupyterHub would, in exactly `environment`'s MINISWAN_*."""
    for name in list(os.environ):
        if name.startswith("MINISWAN_"):
            monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    config = Config()
    runpy.run_path(str(HUB_CONFIG), init_globals={"get_config": lambda: config})
    return config


def test_hub_config_takes_the_env_file_values(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = read_env_defaults(ENV_FILE)
    c = load_hub_config(monkeypatch, hub_environment(defaults))
    assert c.UserNetworks.pool == defaults["MINISWAN_USER_NETWORK_POOL"]
    assert c.UserNetworks.stack == c.DockerSpawner.network_name == defaults["MINISWAN_STACK"]
    assert c.DockerSpawner.image == defaults["MINISWAN_USER_IMAGE"]
    assert c.Spawner.start_timeout == int(defaults["MINISWAN_SPAWN_TIMEOUT"])
    assert c.SharedPasswordAuthenticator.user_password == defaults["MINISWAN_USER_PASSWORD"]
    assert c.Authenticator.admin_users == {defaults["MINISWAN_ADMIN_USER"]}
    assert c.MiniSwanSpawner.cpu_choices == [
        int(n) for n in defaults["MINISWAN_CPU_CHOICES"].split(",")
    ]
    assert c.MiniSwanSpawner.max_memory_gb == int(defaults["MINISWAN_MAX_MEMORY_GB"])
    assert c.JupyterHub.bind_url == f"http://127.0.0.1:{defaults['MINISWAN_PORT']}"
    # the trait defaults apply where the config sets nothing
    assert "url" not in c.EosHomes and "cvmfs_catalog_url" not in c.MiniSwanSpawner
    assert "PYTHONPATH" not in c.DockerSpawner.get("environment", {})


def test_hub_config_knobs_may_be_overridden(monkeypatch: pytest.MonkeyPatch) -> None:
    environment = hub_environment(read_env_defaults(ENV_FILE))
    environment |= {"MINISWAN_ROUTE_CHECK_INTERVAL": "3", "MINISWAN_EOS_URL": "root://x:1"}
    c = load_hub_config(monkeypatch, environment)
    assert c.JupyterHub.last_activity_interval == 3
    assert c.EosHomes.url == "root://x:1"


@pytest.mark.parametrize("name", sorted(hub_environment({})))
def test_hub_config_without_a_setting_names_it(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    environment = hub_environment(read_env_defaults(ENV_FILE))
    del environment[name]
    with pytest.raises(RuntimeError, match=re.escape(REQUIRED_ERROR.format(name=name))):
        load_hub_config(monkeypatch, environment)
