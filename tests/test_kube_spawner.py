"""Kubernetes, checked without a cluster: the user pods MiniSwanKubeSpawner builds for every
spawn-page choice, and the manifests of deploy/kubernetes/, against Kubernetes' own schema.

The spawner is configured from deploy/kubernetes/values.yaml's `hub.config` (what the chart
hands to JupyterHub), builds each pod with KubeSpawner's real `get_pod_manifest()` after the
SWAN layer's real steps (validation, the stack check against a served catalog, the plan),
and each pod is validated in strict mode against the Kubernetes version the chart needs.
What is faked, and why: no cluster runs here, so KubeSpawner is made with `_mock=True` (its
own tests' switch), the user is a stand-in object, the hub is JupyterHub's `Hub` object
without a running hub, and the API client KubeSpawner makes at start is given a kubeconfig
naming an API server on loopback that nothing ever contacts (`kubeconfig` below).
"""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from jupyterhub.objects import Hub
from kubernetes_asyncio.client import ApiClient
from kubernetes_asyncio.config import kube_config
from miniswan_hub.kube_spawner import CVMFS_VOLUME, EOS_VOLUME, MiniSwanKubeSpawner
from miniswan_hub.progress import SpawnProgress
from traitlets.config import Config

from tests.hub_objects import StandInUser

DEPLOY = Path(__file__).parent.parent / "deploy" / "kubernetes"
# The Kubernetes version deploy/kubernetes/values.yaml is written for: the schema pods must pass.
KUBERNETES = "1.32.0"


@pytest.fixture(autouse=True, scope="module")
def kubeconfig(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A kubeconfig for KubeSpawner's client: building a manifest never calls the API."""
    path = tmp_path_factory.mktemp("kube") / "config"
    cluster = {"server": "https://127.0.0.1:9"}  # discard port: nothing listens there
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "none", "cluster": cluster}],
                "users": [{"name": "none", "user": {"token": "unused"}}],
                "contexts": [{"name": "none", "context": {"cluster": "none", "user": "none"}}],
                "current-context": "none",
            }
        )
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(path))
        yield path


def values() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "values.yaml").read_text())


def spawner_for(name: str, user_options: dict[str, Any], catalog_url: str) -> Any:
    config = Config(values()["hub"]["config"])
    # The catalog this test serves, in place of the cluster's.
    config.MiniSwanKubeSpawner.cvmfs_catalog_url = catalog_url
    spawner = MiniSwanKubeSpawner(config=config, user=StandInUser(name), hub=Hub(), _mock=True)
    spawner.user_options = user_options
    return spawner


async def pod_for(spawner: Any) -> dict[str, Any]:
    """The pod KubeSpawner would create, as the JSON the API server receives."""
    plan = await spawner.plan(SpawnProgress())
    spawner.apply_plan(plan)
    pod = await spawner.get_pod_manifest()
    return ApiClient().sanitize_for_serialization(pod)


def build(name: str, user_options: dict[str, Any], catalog_url: str) -> dict[str, Any]:
    """The pod for one user's choice. KubeSpawner makes its API client at construction, on
    the running event loop: the spawner is made inside the loop that builds the pod."""

    async def made_and_built() -> dict[str, Any]:
        return await pod_for(spawner_for(name, user_options, catalog_url))

    return asyncio.run(made_and_built())


def container(pod: dict[str, Any]) -> dict[str, Any]:
    (notebook,) = [c for c in pod["spec"]["containers"] if c["name"] == "notebook"]
    return notebook


def env(pod: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in container(pod)["env"]}


# Every spawn-page choice the served catalog (conftest.py's stub) and values.yaml offer.
SESSIONS = [("jupyterlab", ""), ("desktop", ""), ("desktop", "plot-browser")]
STACKS = ["LCG_104", "LCG_105"]
CORES = values()["hub"]["config"]["MiniSwanKubeSpawner"]["cpu_choices"]
MEMORY = values()["hub"]["config"]["MiniSwanKubeSpawner"]["memory_choices_gb"]


def test_every_choice_becomes_a_valid_pod_with_its_limits_command_and_mounts(
    stub: tuple[str, Path],
) -> None:
    url, _ = stub
    fraction = values()["hub"]["config"]["MiniSwanKubeSpawner"]["guarantee_fraction"]
    built = 0
    for (session, app), stack, cores, memory in itertools.product(SESSIONS, STACKS, CORES, MEMORY):
        if app and stack != "LCG_105":
            continue  # only LCG_105 ships the application
        choice = {"session": session, "app": app, "stack": stack, "cores": cores, "memory": memory}
        pod = build("alice", choice, url)
        kubernetes_validate.validate(pod, KUBERNETES, strict=True)
        notebook = container(pod)
        resources = notebook["resources"]
        # Quantities as KubeSpawner writes them: cores as a number, memory in bytes.
        assert resources["limits"] == {"cpu": float(cores), "memory": memory * 1024**3}, choice
        assert resources["requests"] == {
            "cpu": cores * fraction,
            "memory": int(memory * fraction * 1024**3),
        }, choice
        command = notebook["args"]
        if session == "desktop":
            assert command[0] == "miniswan-desktop-server", choice
            assert env(pod)["MINISWAN_DESKTOP_APP"] == app
        else:
            assert command[0] == "jupyterhub-singleuser", choice
        assert env(pod)["SWAN_STACK"] == stack
        assert (
            env(pod)["SWAN_STACK_PATH"]
            == f"/cvmfs/sft.cern.ch/lcg/views/{stack}/x86_64-el9-gcc13-opt"
        )
        built += 1
    assert built == len(CORES) * len(MEMORY) * (len(STACKS) * 2 + 1)


def test_the_stack_and_the_eos_home_are_the_clusters_volumes_mounted_for_the_user(
    stub: tuple[str, Path],
) -> None:
    url, _ = stub
    pod = build("bob", {"env_script": "setup/my-env.sh"}, url)
    claims = {v["name"]: v["persistentVolumeClaim"] for v in pod["spec"]["volumes"]}
    assert claims[CVMFS_VOLUME] == {"claimName": "cvmfs", "readOnly": True}
    assert claims[EOS_VOLUME] == {"claimName": "eos"}
    mounts = {m["name"]: m for m in container(pod)["volumeMounts"]}
    assert mounts[CVMFS_VOLUME] == {
        "name": CVMFS_VOLUME,
        "mountPath": "/cvmfs",
        "readOnly": True,
        "mountPropagation": "HostToContainer",
    }
    assert mounts[EOS_VOLUME]["mountPath"] == "/eos"
    assert mounts[EOS_VOLUME]["mountPropagation"] == "HostToContainer"
    assert not mounts[EOS_VOLUME].get("readOnly")
    # The home is on EOS: $HOME, the working folder, the Jupyter root.
    assert container(pod)["workingDir"] == "/eos/user/b/bob"
    assert env(pod)["HOME"] == env(pod)["EOS_HOME"] == "/eos/user/b/bob"
    assert env(pod)["SWAN_ENV_SCRIPT"] == "setup/my-env.sh"
    assert env(pod)["EOS_MGM_URL"] == "root://eosuser.example.org"
    assert env(pod)["JUPYTERHUB_ROOT_DIR"] == "/eos/user/b/bob"  # the Jupyter root
    # The claims the pod names are the ones deploy/kubernetes/storage.yaml makes.
    made = {
        d["metadata"]["name"] for d in manifests("storage.yaml") if d["kind"].endswith("Claim")
    }
    assert {claims[CVMFS_VOLUME]["claimName"], claims[EOS_VOLUME]["claimName"]} <= made


def test_a_choice_the_page_would_refuse_is_refused_with_its_message(
    stub: tuple[str, Path],
) -> None:
    url, _ = stub
    with pytest.raises(Exception, match="Memory 64 GB is above the maximum") as error:
        build("carol", {"memory": 64}, url)
    assert getattr(error.value, "status_code", None) == 400


def manifests(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((DEPLOY / name).read_text()) if d]


@pytest.mark.parametrize("name", ["storage.yaml", "networkpolicy.yaml"])
def test_the_deploy_manifests_are_valid_kubernetes(name: str) -> None:
    for document in manifests(name):
        kubernetes_validate.validate(document, KUBERNETES, strict=True)


def test_the_network_policy_selects_the_pods_kubespawner_makes(stub: tuple[str, Path]) -> None:
    url, _ = stub
    pod = build("dave", {}, url)
    (policy,) = manifests("networkpolicy.yaml")
    selector = policy["spec"]["podSelector"]["matchLabels"]
    assert selector.items() <= pod["metadata"]["labels"].items()
