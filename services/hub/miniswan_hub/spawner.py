"""DockerSpawner with mini-SWAN's spawn form: what runs in the user container is chosen there."""

from __future__ import annotations

import asyncio
from typing import Any

import docker.errors
from dockerspawner import DockerSpawner
from tornado import web
from traitlets import Float, Int, List, Unicode, default

from . import form, options, stacks


class MiniSwanSpawner(DockerSpawner):
    """One container per user; JupyterLab or a desktop-only server, as the user chose."""

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

    # --- Software stacks (CVMFS stand-in) and resources: docs/software-stacks.md
    cvmfs_catalog_url = Unicode(
        "http://cvmfs-stub:8000/sft.cern.ch/lcg/views/catalog.json",
        help="""URL of the CVMFS stand-in's catalog of software stacks (releases, platforms,
        view paths). The spawn page lists what it holds; no stack starts while it is down.""",
    ).tag(config=True)

    cvmfs_timeout = Float(
        3.0,
        help="Seconds to wait for the CVMFS stand-in before saying it is unavailable.",
    ).tag(config=True)

    cpu_choices = List(
        Int(),
        default_value=[1, 2],
        help="CPU cores a user may choose; enforced as the container's CPU limit.",
    ).tag(config=True)

    default_cpu = Int(2, help="CPU cores preselected on the spawn page.").tag(config=True)

    memory_choices_gb = List(
        Int(),
        default_value=[1, 2, 4],
        help="""Memory (GB) a user may choose, up to max_memory_gb; enforced as the
        container's memory limit.""",
    ).tag(config=True)

    default_memory_gb = Int(2, help="Memory (GB) preselected on the spawn page.").tag(config=True)

    max_memory_gb = Int(
        4, help="The most memory (GB) a user may ask for; more is refused with a message."
    ).tag(config=True)

    @default("options_form")
    def _options_form_default(self) -> Any:
        # A callable: the form lists the catalog as it is when the page is rendered.
        return MiniSwanSpawner._render_options_form

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

    def _limits(self) -> options.Limits:
        return options.Limits(
            cores=tuple(self.cpu_choices),
            default_cores=self.default_cpu,
            memory_gb=tuple(self.memory_choices_gb),
            default_memory_gb=self.default_memory_gb,
            max_memory_gb=self.max_memory_gb,
        )

    async def _catalog(self) -> stacks.Catalog:
        return await asyncio.to_thread(
            stacks.fetch_catalog, self.cvmfs_catalog_url, self.cvmfs_timeout
        )

    async def _apply_stack(self, chosen: options.SpawnOptions, catalog: stacks.Catalog) -> None:
        """Check the chosen view is there (503 otherwise), set the container's limits and
        the environment miniswan-session reads in the user image."""
        try:
            await asyncio.to_thread(
                stacks.check_view,
                self.cvmfs_catalog_url,
                catalog,
                chosen.stack,
                chosen.platform,
                self.cvmfs_timeout,
            )
        except (stacks.StacksUnavailable, stacks.ViewMissing) as error:
            raise web.HTTPError(503, str(error)) from None
        self.cpu_limit = float(chosen.cores)
        self.mem_limit = f"{chosen.memory}G"
        view = catalog.releases[chosen.stack].platforms[chosen.platform]
        self._stack_env = {
            "SWAN_STACK": chosen.stack,
            "SWAN_PLATFORM": chosen.platform,
            "SWAN_STACK_PATH": view.path,
            "SWAN_ENV_SCRIPT": chosen.env_script,
        }

    def get_env(self) -> dict[str, str]:
        env = super().get_env()
        env.update(getattr(self, "_stack_env", {}))
        return env

    async def start(self) -> Any:
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
            raise web.HTTPError(400, str(error)) from None
        await self._apply_stack(chosen, catalog)
        if chosen.session == "desktop":
            self.cmd = list(self.desktop_cmd)
            self.default_url = ""
        else:
            self.cmd = list(self.jupyterlab_cmd)
            self.default_url = self.jupyterlab_url
        self.log.info(
            "Starting %s session for %s with %s (%s), %d cores, %d GB",
            chosen.session,
            self.user.name,
            chosen.stack,
            chosen.platform,
            chosen.cores,
            chosen.memory,
        )
        try:
            return await super().start()
        except docker.errors.APIError as error:
            # Relayed to the user as is (spawn page and API): say what failed, not "500".
            raise web.HTTPError(500, await self._explain(error)) from error

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
