"""The Docker engine: DockerSpawner under the SWAN layer (swan_layer.py), a container per user
on a private network, the EOS home as Docker volumes."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import docker.errors
from dockerspawner import DockerSpawner
from tornado import web
from tornado.httpclient import AsyncHTTPClient, HTTPClientError
from traitlets import Float, Int

from . import eos
from .networks import NetworkError, UserNetworks
from .progress import SpawnProgress
from .session_plan import SessionPlan
from .swan_layer import SwanLayer


class MiniSwanSpawner(SwanLayer, DockerSpawner):
    """One container per user; JupyterLab or a desktop-only server, as the user chose."""

    failure_log_lines = Int(
        12,
        help="""Lines of a container's output shown to the user when their server exits while
        starting (the reason, e.g. an error of their environment script).""",
    ).tag(config=True)

    answer_poll_interval = Float(
        0.05,
        help="""Seconds between two looks at a starting server's HTTP port. Every look the
        server is up before the hub sees it is time the user waits (JupyterHub's own wait
        backs off from 0.2 s to seconds).""",
    ).tag(config=True)

    exit_check_interval = Float(
        1.0,
        help="""Seconds between two checks, while a server starts, that its container still
        runs (a Docker API call): a server that exits is reported within this time.""",
    ).tag(config=True)

    _networks: UserNetworks | None = None

    @property
    def networks(self) -> UserNetworks:
        """This server's private network (see networks.py), configured as c.UserNetworks."""
        if self._networks is None:
            self._networks = UserNetworks(self.docker, parent=self)
        return self._networks

    async def _launch(self, plan: SessionPlan, steps: SpawnProgress) -> Any:
        # The user's EOS home (docs/eos.md): created, mounted, $HOME; a clear 503 if EOS is down.
        steps.step(30, "Preparing your EOS home")
        await eos.prepare_spawner(self)
        try:
            # Keep a container that exits on its own until we have read why (its output):
            # _wait_until_answering and poll() remove it.
            self.extra_host_config = {**self.extra_host_config, "auto_remove": False}
            if self.networks.enabled:
                steps.step(45, "Creating your private network")
                self.network_name = self.networks.name_for(self.escaped_name)
                await self.networks.ensure(self.network_name)
            steps.step(
                60, f"Starting your container ({plan.cores} cores, {plan.memory_gb} GB memory)"
            )
            ip_port = await self._engine_start()
            steps.step(80, f"Waiting for {plan.server_name} to answer")
            await self._wait_until_answering(*ip_port)
            return ip_port
        except NetworkError as error:
            raise web.HTTPError(500, str(error)) from error
        except docker.errors.APIError as error:
            # Relayed to the user as is (spawn page and API): say what failed, not "500".
            raise web.HTTPError(500, await self._explain(error)) from error

    async def _wait_until_answering(self, host: str, port: int) -> None:
        """Return once the server answers HTTP; if its container exits first, remove it and
        say why, with the last lines it printed (e.g. a failing environment script).

        JupyterHub itself would wait http_timeout for a server that is already gone, report
        a timeout without a reason, and leave the exited container behind. Its backoff
        (0.2 s, doubling) also let a returning user wait half a second after the server
        listened (bench/login.py's profile); this looks every answer_poll_interval.
        """
        if self.server is None:
            return
        url = f"http://{host}:{port}{self.server.base_url}api"
        client = AsyncHTTPClient()
        deadline = time.monotonic() + self.http_timeout
        next_exit_check = time.monotonic() + self.exit_check_interval
        while time.monotonic() < deadline:
            if await self._answers(client, url):
                return
            if time.monotonic() >= next_exit_check:
                # DockerSpawner's poll: ours would remove the exited container before its
                # logs are read.
                status = await super().poll()
                if status is not None:
                    raise web.HTTPError(500, await self._exited_during_start(status))
                next_exit_check = time.monotonic() + self.exit_check_interval
            await asyncio.sleep(self.answer_poll_interval)
        # Still silent: JupyterHub's own wait reports the timeout.

    @staticmethod
    async def _answers(client: AsyncHTTPClient, url: str) -> bool:
        """The server answers HTTP: any status below 500 (its API says 200, a proxy 404)."""
        try:
            response = await client.fetch(
                url, raise_error=False, follow_redirects=False, request_timeout=2
            )
        except OSError:  # refused or reset: not listening yet (raise_error does not cover it)
            return False
        except HTTPClientError:
            # 599, no answer within the request timeout: raised even with raise_error=False.
            # Seen when the container had exited and its address answered nothing: the
            # spawn failed with "Timeout while connecting" instead of saying why it exited.
            return False
        return response.code < 500

    async def _exited_during_start(self, status: Any) -> str:
        last_lines = ""
        try:
            logs = await self.docker("logs", self.container_id, tail=self.failure_log_lines)
            last_lines = logs.decode(errors="replace").strip()
        except docker.errors.APIError as error:
            self.log.warning("No logs of %s's exited container: %s", self.user.name, error)
        await self.stop()  # removes the exited container (and its network)
        self.log.warning("%s's server exited while starting (%s)", self.user.name, status)
        message = f"Your server stopped while starting ({status})."
        if last_lines:
            message += f" Its last output: {last_lines}"
        return message

    async def poll(self) -> Any:
        status = await super().poll()
        if status is not None and self.object_id:
            # Exited on its own (killed, crashed): it is not auto-removed (see start), and
            # JupyterHub does not call stop() for a server that is already dead.
            self.log.info("Removing %s's exited container (%s)", self.user.name, status)
            await self.remove_object()
        if status is None and self.networks.enabled:
            # A recreated proxy or hub container has lost its place on this user's network:
            # rejoin it, so routes keep working (runs every poll_interval).
            try:
                await self.networks.ensure(self.networks.name_for(self.escaped_name))
            except (NetworkError, docker.errors.APIError) as error:
                self.log.warning("Could not check the network of %s: %s", self.user.name, error)
        if status is None:
            # The user's EOS token is renewed at half its life while the server runs.
            await eos.refresh_token(self)
        return status

    async def stop(self, now: bool = False) -> None:
        await super().stop(now=now)
        if self.networks.enabled:
            try:
                await self.networks.remove(self.networks.name_for(self.escaped_name))
            except docker.errors.APIError as error:
                self.log.warning("Could not remove the network of %s: %s", self.user.name, error)

    async def _explain(self, error: docker.errors.APIError) -> str:
        detail = error.explanation or str(error)
        try:
            await self.docker("inspect_image", self.image)
            image_missing = False
        except docker.errors.ImageNotFound:
            image_missing = True
        if image_missing:
            return (
                f"The user image {self.image!r} is not available on this Docker engine and "
                f"could not be pulled ({detail}). An operator must build it (nox -s up)."
            )
        return f"Docker could not start your container: {detail}"
