"""A user image run directly (no hub): a Jupyter server on a published 127.0.0.1 port with a
token, for the measurements that need settings the hub does not give (8 desktops in one
server) or an image users never get (the peer). Labelled as the stack's user containers, so
tearing the stack down removes it too."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests

from .common import Bench, wait_until
from .processes import group_pss

USER_SERVER_LABEL = "org.miniswan.stack"


@dataclass
class DirectServer:
    container: Any
    url: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(
            method, f"{self.url}/{path}", headers=self.headers, timeout=60, **kwargs
        )

    def start_desktop(self, geometry: str | None = None) -> dict[str, Any]:
        body = {"geometry": geometry} if geometry else {}
        r = self.api("POST", "desktops/api/desktops", json=body)
        r.raise_for_status()
        return r.json()

    def wait_running(self, desktop_id: str, timeout: float = 90) -> dict[str, Any]:
        def running() -> dict[str, Any] | None:
            d = self.api("GET", f"desktops/api/desktops/{desktop_id}").json()
            if d["state"] == "failed":
                raise RuntimeError(f"desktop {desktop_id} failed: {d['reason']}")
            return d if d["state"] == "running" else None

        return wait_until(running, timeout, f"desktop {desktop_id} to run", interval=0.1)

    def memory(self, roots: list[int] | None = None, match: tuple[str, ...] = ()) -> Any:
        return group_pss(self.container, roots or [], match)


@contextmanager
def direct_server(
    bench: Bench, image: str, name: str, options: tuple[str, ...] = ()
) -> Iterator[DirectServer]:
    """A Jupyter server of `image` on its own (no hub), with `options` on its command line.
    It prepares no desktop ahead: its figures are those of the desktops a part starts (a
    prepared one would be taken by the first create, and count in the container's memory)."""
    token = secrets.token_hex(16)
    container = bench.docker.containers.run(
        image,
        [
            "jupyter",
            "server",
            "--ip=0.0.0.0",
            "--port=8888",
            "--ServerApp.open_browser=False",
            f"--IdentityProvider.token={token}",
            "--DesktopApp.max_desktops=8",
            "--DesktopApp.prepared_desktops=0",
            *options,
        ],
        name=f"{bench.stack.project}-bench-{name}",
        detach=True,
        remove=True,
        ports={"8888/tcp": ("127.0.0.1", None)},
        labels={USER_SERVER_LABEL: bench.stack.project},
        # The hub's user containers have no memory limit either (DockerSpawner default).
    )
    try:
        container.reload()
        port = container.ports["8888/tcp"][0]["HostPort"]
        server = DirectServer(container, f"http://127.0.0.1:{port}", token)
        wait_until(lambda: server.api("GET", "api/status").ok, 120, f"{name}'s Jupyter server")
        yield server
    finally:
        try:
            container.remove(force=True)
        except Exception as exc:  # already gone
            bench.log(f"removing {name}: {exc}")
