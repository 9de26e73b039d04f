"""The session plan: what a validated choice means for a user's server, on any engine."""

from __future__ import annotations

import pytest
from miniswan_hub import eos, options
from miniswan_hub.session_plan import Commands, plan_session

from tests.test_spawn_options import CATALOG, check

COMMANDS = Commands(("start-lab", "--flag"), ("start-desktop",), "/lab/tree")


def test_jupyterlab_runs_the_lab_command_at_its_url_with_the_stack_environment() -> None:
    chosen = check({"stack": "LCG_104", "cores": 1, "memory": 4, "env_script": "env.sh"})
    plan = plan_session("alice", chosen, CATALOG, COMMANDS)
    assert (plan.session, plan.command, plan.default_url) == (
        "jupyterlab",
        ("start-lab", "--flag"),
        "/lab/tree",
    )
    assert (plan.cores, plan.memory_gb, plan.memory_limit) == (1, 4, "4G")
    assert plan.home == "/eos/user/a/alice"
    assert plan.server_name == "JupyterLab"
    assert plan.environment == {
        "SWAN_STACK": "LCG_104",
        "SWAN_PLATFORM": "x86_64-el9-gcc13-opt",
        "SWAN_STACK_PATH": "/cvmfs/sft.cern.ch/lcg/views/LCG_104/x86_64-el9-gcc13-opt",
        "SWAN_ENV_SCRIPT": "env.sh",
        "MINISWAN_DESKTOP_APP": "",
    }


def test_a_desktop_only_session_runs_the_desktop_server_at_its_root_into_the_app() -> None:
    chosen = check({"session": "desktop", "app": "plot-browser"})
    plan = plan_session("bob", chosen, CATALOG, COMMANDS)
    assert (plan.command, plan.default_url, plan.server_name) == (
        ("start-desktop",),
        "",
        "your desktop",
    )
    assert plan.environment["MINISWAN_DESKTOP_APP"] == "plot-browser"
    assert plan.environment["SWAN_STACK"] == "LCG_105"


def test_a_user_name_that_cannot_name_a_home_is_refused_with_the_reason() -> None:
    with pytest.raises(eos.EosError, match="cannot name an EOS home"):
        plan_session(
            "Bad/Name",
            options.SpawnOptions(stack="LCG_105", platform="x86_64-el9-gcc13-opt"),
            CATALOG,
            COMMANDS,
        )
