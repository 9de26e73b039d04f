"""Handing the stack's images (built by `nox -s up`) to the nodes: no registry can be
reached, so each node loads what it runs from `docker save` of the host's engine. The
manager gets the hub's and the stand-ins' images, the workers the user image."""

from __future__ import annotations

import subprocess
import time

from . import names
from .run import ClusterError, run


def needs(settings: dict[str, str]) -> dict[str, list[str]]:
    """Which images each node runs, from the stack's settings (compose/.env)."""
    manager = [
        settings[k] for k in ("MINISWAN_HUB_IMAGE", "MINISWAN_EOS_IMAGE", "MINISWAN_CVMFS_IMAGE")
    ]
    return {
        names.MANAGER: manager,
        **{w: [settings["MINISWAN_USER_IMAGE"]] for w in names.WORKERS},
    }


def check_built(images: dict[str, list[str]]) -> None:
    missing = sorted(
        {i for wanted in images.values() for i in wanted if not run("images", "-q", i)}
    )
    if missing:
        raise ClusterError(f"images {', '.join(missing)} are not built: run `nox -s up` first")


def hand_over(images: dict[str, list[str]]) -> float:
    """`docker save | docker load` into every node at once; returns the seconds it took."""
    started = time.monotonic()
    loads = []
    for node, wanted in images.items():
        save = subprocess.Popen(["docker", "save", *wanted], stdout=subprocess.PIPE)
        load = subprocess.Popen(
            ["docker", "exec", "-i", node, "docker", "load", "-q"],
            stdin=save.stdout,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert save.stdout is not None
        save.stdout.close()  # the loader holds the pipe now: it sees the end of the stream
        loads.append((node, save, load))
    for node, save, load in loads:
        output, _ = load.communicate()
        if save.wait() != 0 or load.returncode != 0:
            raise ClusterError(f"handing images to {node} failed: {output.strip()}")
    return time.monotonic() - started
