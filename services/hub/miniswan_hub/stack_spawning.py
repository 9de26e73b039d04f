"""The spawner's part of software stacks: where the catalog is, what resources users may
ask for, and the check that a chosen stack's view is there.

A mixin of the SWAN layer (swan_layer.py) every engine's spawner shares, so its settings are
`c.MiniSwanSpawner.<name>` (or `c.MiniSwanKubeSpawner.<name>`); the rules themselves are in
options.py and stacks.py, what a chosen stack does to the server in session_plan.py.
See docs/software-stacks.md.
"""

from __future__ import annotations

import asyncio

from tornado import web
from traitlets import Float, HasTraits, Int, List, Unicode

from . import options, stacks


class SoftwareStacks(HasTraits):
    """Settings and spawner steps for the CVMFS stand-in's software stacks and resources."""

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

    def _limits(self) -> options.Limits:
        # A default outside the choices (settings changed in one place only) would refuse
        # every spawn with no choices made: fall back to the largest offered value.
        cores = tuple(self.cpu_choices) or (1,)
        memory = tuple(m for m in self.memory_choices_gb if m <= self.max_memory_gb) or (
            self.max_memory_gb,
        )
        return options.Limits(
            cores=cores,
            default_cores=self.default_cpu if self.default_cpu in cores else max(cores),
            memory_gb=memory,
            default_memory_gb=(
                self.default_memory_gb if self.default_memory_gb in memory else max(memory)
            ),
            max_memory_gb=self.max_memory_gb,
        )

    async def _catalog(self) -> stacks.Catalog:
        return await asyncio.to_thread(
            stacks.fetch_catalog, self.cvmfs_catalog_url, self.cvmfs_timeout
        )

    async def _check_stack(self, chosen: options.SpawnOptions, catalog: stacks.Catalog) -> None:
        """The chosen view is there (a 503 that says what is missing otherwise)."""
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
