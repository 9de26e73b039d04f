"""The SWAN layer every engine's spawner shares: the spawn form, the validation of its
choices, the software stack check, the session plan and the spawn page's progress.

A mixin placed before the engine's spawner class, as SWAN's own spawners are made from
one definition over several base classes: `MiniSwanSpawner(SwanLayer, DockerSpawner)`
(spawner.py), `MiniSwanKubeSpawner(SwanLayer, KubeSpawner)` (kube_spawner.py). Its settings
are read under the concrete class's name (`c.MiniSwanSpawner.desktop_cmd`). An engine
implements `_launch(plan, steps)`: turn the plan into what the engine needs, start, and
return the server's address. Errors reach the user as `web.HTTPError`s made here or in
`_launch`; `start()` adds which step failed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from tornado import web
from traitlets import List, Unicode, default

from . import eos, form, options, stacks
from .progress import SpawnProgress
from .session_plan import Commands, SessionPlan, plan_session
from .stack_spawning import SoftwareStacks


class SwanLayer(SoftwareStacks):
    """Spawn form, options, stacks and progress; the engine comes after it in the MRO."""

    jupyterlab_cmd = List(
        Unicode(),
        default_value=["jupyterhub-singleuser"],
        help="Command that starts JupyterLab (session type 'jupyterlab') in the user image.",
    ).tag(config=True)

    desktop_cmd = List(
        Unicode(),
        default_value=["miniswan-desktop-server"],
        help="""Command that starts the desktop-only server (session type 'desktop') in the
        user image, in place of jupyterhub-singleuser.""",
    ).tag(config=True)

    jupyterlab_url = Unicode(
        "/lab",
        help="URL (below the server's prefix) a JupyterLab session opens at.",
    ).tag(config=True)

    _progress: SpawnProgress | None = None
    _plan_env: dict[str, str] | None = None

    # The attributes below come from JupyterHub's Spawner (the engine's base class).
    user: Any
    log: Any
    cmd: Any
    default_url: Any
    cpu_limit: Any
    mem_limit: Any
    _spawn_pending: bool
    user_options: Any

    @default("options_form")
    def _options_form_default(self) -> Any:
        # A callable: the form lists the catalog as it is when the page is rendered.
        return SwanLayer._render_options_form

    async def _render_options_form(self) -> str:
        limits = self._limits()
        try:
            catalog = await self._catalog()
        except stacks.StacksUnavailable as error:
            return form.render(None, limits, unavailable=str(error))
        return form.render(catalog, limits)

    async def options_from_form(self, formdata: dict[str, list[str]]) -> dict[str, Any]:
        user_options = options.from_form(formdata)
        # Refused here, the spawn page shows the message next to the form.
        try:
            choices = options.Choices(await self._catalog(), self._limits())
        except stacks.StacksUnavailable as error:
            raise options.OptionsError(str(error)) from None
        return options.validate(user_options, choices).to_dict()

    async def start(self) -> Any:
        self._progress = SpawnProgress(self.log, self.user.name)
        try:
            plan = await self.plan(self._progress)
            return await self._launch(plan, self._progress)
        except web.HTTPError as error:
            # Which step failed, and why: the spawn page shows it as the spawn's failure.
            raise self._progress.failure(error) from error
        finally:
            self._progress.end()

    async def plan(self, steps: SpawnProgress) -> SessionPlan:
        """Validate the user's options, check their stack, and set what every engine's
        spawner reads from JupyterHub's traits (command, URL, limits, environment)."""
        steps.step(5, "Checking your choices against the software stacks")
        # The REST API hands user_options over without the form: validate them again, and
        # refuse with a 400 that carries the same message as the form would show.
        try:
            catalog = await self._catalog()
        except stacks.StacksUnavailable as error:
            raise web.HTTPError(503, str(error)) from None
        try:
            chosen = options.validate(
                self.user_options or {}, options.Choices(catalog, self._limits())
            )
        except options.OptionsError as error:
            steps.current = ""  # the form's own message, as the form would show it
            raise web.HTTPError(400, str(error)) from None
        steps.step(15, f"Checking the software stack {chosen.stack} ({chosen.platform})")
        await self._check_stack(chosen, catalog)
        commands = Commands(
            tuple(self.jupyterlab_cmd), tuple(self.desktop_cmd), self.jupyterlab_url
        )
        try:
            plan = plan_session(self.user.name, chosen, catalog, commands)
        except eos.EosError as error:
            raise web.HTTPError(503, f"Your EOS home is not available: {error}") from None
        self.cmd = list(plan.command)
        self.default_url = plan.default_url
        self.cpu_limit = float(plan.cores)
        self.mem_limit = plan.memory_limit
        self._plan_env = dict(plan.environment)
        self.log.info(
            "Starting %s session for %s with %s (%s), %d cores, %d GB",
            plan.session,
            plan.user,
            plan.stack,
            plan.platform,
            plan.cores,
            plan.memory_gb,
        )
        return plan

    async def _launch(self, plan: SessionPlan, steps: SpawnProgress) -> Any:
        """Start the planned server on this engine; return its (ip, port)."""
        raise NotImplementedError

    async def _engine_start(self) -> Any:
        """The engine spawner's own start() (the class after SwanLayer in the MRO)."""
        return await super().start()  # type: ignore[misc]

    async def progress(self) -> AsyncIterator[dict[str, Any]]:
        """The spawn's steps as they happen (progress.py), for the spawn page."""
        # The page may ask before start() has begun: wait for this spawn's steps.
        while self._progress is None or self._progress.ended:
            if not self._spawn_pending:
                return
            await asyncio.sleep(0.1)
        async for event in self._progress.events():
            yield event

    def get_env(self) -> dict[str, Any]:
        env: dict[str, Any] = super().get_env()  # type: ignore[misc]
        env.update(self._plan_env or {})
        return env
