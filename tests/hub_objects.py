"""Stand-ins for JupyterHub objects the engines' spawners read, for tests that build a
spawner without a running hub (tests/test_kube_spawner.py, tests/test_swarm_spawner.py)."""

from __future__ import annotations

from jupyterhub.objects import Server


class StandInUser:
    """What a spawner reads of JupyterHub's user object (no database behind it)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.escaped_name = name
        self.id = 7
        self.url = f"/user/{name}/"
        self.server = Server(base_url=self.url)
