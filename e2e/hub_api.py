"""The hub's REST API as the tests and the benchmark use it: per-user tokens obtained with
the stack's passwords, servers started and stopped, files of a user's home."""

from __future__ import annotations

import json
from typing import Any

import requests
from stack_info import SPAWN_TIMEOUT_MS, StackInfo
from waiting import wait_until


class HubAPI:
    """The hub's REST API with per-user tokens, obtained with the stack's passwords."""

    def __init__(self, stack: StackInfo) -> None:
        self.stack = stack
        self._tokens: dict[str, str] = {}

    def token(self, username: str) -> str:
        if username not in self._tokens:
            admin = username == self.stack.admin_user
            if not admin:
                # The hub hands out tokens only to users it knows: create the user first.
                r = self.request("POST", f"/hub/api/users/{username}", self.stack.admin_user)
                assert r.status_code in (201, 409), r.text
            password = self.stack.admin_password if admin else self.stack.user_password
            r = requests.post(
                f"{self.stack.url}/hub/api/users/{username}/tokens",
                json={"auth": {"username": username, "password": password}, "note": "e2e"},
                timeout=30,
            )
            r.raise_for_status()
            self._tokens[username] = r.json()["token"]
        return self._tokens[username]

    def request(self, method: str, path: str, as_user: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"token {self.token(as_user)}", **kwargs.pop("headers", {})}
        return requests.request(
            method, f"{self.stack.url}{path}", headers=headers, timeout=30, **kwargs
        )

    def user_model(self, username: str) -> dict[str, Any]:
        r = self.request("GET", f"/hub/api/users/{username}", as_user=self.stack.admin_user)
        r.raise_for_status()
        return r.json()

    def write_file(self, username: str, path: str, text: str) -> None:
        """Save a text file in the user's home the way JupyterLab does (contents API)."""
        r = self.request(
            "PUT",
            f"/user/{username}/api/contents/{path}",
            as_user=username,
            json={"type": "file", "format": "text", "content": text},
        )
        assert r.status_code in (200, 201), r.text

    def read_file(self, username: str, path: str) -> str | None:
        """A text file of the user's home through the contents API; None if it is not there."""
        r = self.request(
            "GET", f"/user/{username}/api/contents/{path}?content=1&type=file", as_user=username
        )
        return r.json()["content"] if r.status_code == 200 else None

    def server(self, username: str) -> dict[str, Any] | None:
        return self.user_model(username)["servers"].get("")

    def start_server(self, username: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
        """Spawn through the API and wait until the hub reports the server ready."""
        r = self.request(
            "POST", f"/hub/api/users/{username}/server", as_user=username, json=options or {}
        )
        assert r.status_code in (201, 202), r.text
        try:
            return wait_until(
                lambda: (s := self.server(username)) and s["ready"] and s,
                SPAWN_TIMEOUT_MS / 1000,
                f"{username}'s server to be ready",
            )
        except AssertionError as error:
            raise AssertionError(
                f"{error}\nThe hub's log about {username}:\n{self.stack.hub_log_about(username)}"
            ) from None

    def progress_events(self, username: str) -> list[dict[str, Any]]:
        """Every event of the user's spawn progress stream (server-sent events), to the end."""
        events = []
        with requests.get(
            f"{self.stack.url}/hub/api/users/{username}/server/progress",
            headers={"Authorization": f"token {self.token(username)}"},
            stream=True,
            timeout=SPAWN_TIMEOUT_MS / 1000,
        ) as r:
            r.raise_for_status()
            for line in r.iter_lines(decode_unicode=True):
                if line and line.startswith("data:"):
                    events.append(json.loads(line[5:]))
                    if events[-1].get("ready") or events[-1].get("failed"):
                        break
        return events

    def refused_spawn(self, username: str, options: dict[str, Any]) -> tuple[int, str]:
        """Ask for a spawn the hub must refuse; the status and message an API client gets.

        JupyterHub answers a spawn that fails within slow_spawn_timeout with its error, and
        one still under way then with 202 and later the failure on the progress stream (how
        long a check of a stopped stand-in takes depends on the engine's DNS and network).
        Either way the client reads why, and no server is left."""
        r = self.request(
            "POST", f"/hub/api/users/{username}/server", as_user=username, json=options
        )
        if r.status_code != 202:
            assert r.status_code >= 400, r.text
            return r.status_code, r.json()["message"]
        events = self.progress_events(username)
        assert events and events[-1].get("failed"), events
        return r.status_code, events[-1]["message"]

    def stop_server(self, username: str) -> None:
        r = self.request(
            "DELETE", f"/hub/api/users/{username}/server", as_user=self.stack.admin_user
        )
        assert r.status_code in (202, 204, 400, 404), r.text
        wait_until(lambda: self.server(username) is None, 60, f"{username}'s server to stop")
