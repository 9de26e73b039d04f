"""The Kubernetes engine: KubeSpawner under the SWAN layer (swan_layer.py), a pod per user.

The session plan becomes the pod: its command and URL, the chosen cores and memory as the
pod's limits (and a share of them as its requests), /cvmfs and /eos from the clusters'
volumes (CVMFS's and EOS's CSI drivers, claimed by deploy/kubernetes/storage.yaml) with the
mount propagation their automounts need, the user's EOS home as $HOME and working folder.
Isolation between users is z2jh's NetworkPolicy (deploy/kubernetes/values.yaml).

Checked without a cluster: tests/test_kube_spawner.py builds the pod for every spawn-page
choice with KubeSpawner's own `get_pod_manifest()` and validates it against a pinned
Kubernetes schema. docs/kubernetes.md says what that proves and what it does not.
"""

from __future__ import annotations

from typing import Any

from kubespawner import KubeSpawner
from traitlets import Float, Unicode

from .progress import SpawnProgress
from .session_plan import SessionPlan
from .swan_layer import SwanLayer

# Volume names in the pod (also what the tests look for).
CVMFS_VOLUME = "cvmfs"
EOS_VOLUME = "eos"


class MiniSwanKubeSpawner(SwanLayer, KubeSpawner):
    """One pod per user; JupyterLab or a desktop-only server, as the user chose."""

    cvmfs_claim = Unicode(
        "cvmfs",
        help="""PersistentVolumeClaim of the CVMFS CSI driver's volume, mounted read-only at
        /cvmfs in every user pod (its automount shows each repository on first access).""",
    ).tag(config=True)

    eos_claim = Unicode(
        "eos",
        help="""PersistentVolumeClaim of the EOS CSI driver's (eosxd's) volume, mounted at /eos
        in every user pod; the user's home is /eos/user/<initial>/<name> on it. Access to
        the files is EOS's own (each user's credentials, EOS's ACLs).""",
    ).tag(config=True)

    eos_mgm_url = Unicode(
        "root://eosuser.example.org",
        help="""The EOS instance's XRootD URL, given to user servers as $EOS_MGM_URL (for
        xrdcp and the eos client in a notebook or desktop).""",
    ).tag(config=True)

    guarantee_fraction = Float(
        1.0,
        min=0.01,
        max=1.0,
        help="""Share of the chosen cores and memory the pod requests (its guarantee, what the
        scheduler reserves); the whole choice is always its limit. 1.0 reserves what the user
        chose; less packs more users on a node and lets them burst.""",
    ).tag(config=True)

    def apply_plan(self, plan: SessionPlan) -> None:
        """Set KubeSpawner's traits from the plan: what get_pod_manifest() builds the pod of."""
        self.cpu_guarantee = plan.cores * self.guarantee_fraction
        self.mem_guarantee = int(plan.memory_gb * self.guarantee_fraction * 1024**3)
        # HostToContainer: both CSI drivers mount below the volume after the pod starts
        # (CVMFS repositories, EOS FUSE mounts); without it the pod sees an empty folder.
        self.volumes = {
            **_as_dict(self.volumes),
            CVMFS_VOLUME: {
                "name": CVMFS_VOLUME,
                "persistentVolumeClaim": {"claimName": self.cvmfs_claim, "readOnly": True},
            },
            EOS_VOLUME: {
                "name": EOS_VOLUME,
                "persistentVolumeClaim": {"claimName": self.eos_claim},
            },
        }
        self.volume_mounts = {
            **_as_dict(self.volume_mounts),
            CVMFS_VOLUME: {
                "name": CVMFS_VOLUME,
                "mountPath": "/cvmfs",
                "readOnly": True,
                "mountPropagation": "HostToContainer",
            },
            EOS_VOLUME: {
                "name": EOS_VOLUME,
                "mountPath": "/eos",
                "mountPropagation": "HostToContainer",
            },
        }
        self.environment = {
            **self.environment,
            "HOME": plan.home,
            "EOS_HOME": plan.home,
            "EOS_MGM_URL": self.eos_mgm_url,
        }
        self.working_dir = plan.home
        self.notebook_dir = plan.home

    async def _launch(self, plan: SessionPlan, steps: SpawnProgress) -> Any:
        self.apply_plan(plan)
        steps.step(60, f"Starting your pod ({plan.cores} cores, {plan.memory_gb} GB memory)")
        # KubeSpawner creates the pod and waits until it runs and its server answers.
        return await self._engine_start()


def _as_dict(value: Any) -> dict[str, Any]:
    """KubeSpawner takes volumes as a list or (since 7) a dict keyed by name: one form."""
    if isinstance(value, dict):
        return dict(value)
    return {item["name"]: item for item in value or []}
