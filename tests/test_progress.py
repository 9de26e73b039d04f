"""miniswan_hub.progress: the spawn page gets every step, in order, whenever it connects."""

from __future__ import annotations

import asyncio

from miniswan_hub.progress import SpawnProgress


async def collect(progress: SpawnProgress) -> list[str]:
    return [event["message"] async for event in progress.events()]


def test_a_late_page_gets_the_steps_so_far_then_follows() -> None:
    async def spawn() -> tuple[list[str], list[str]]:
        progress = SpawnProgress()
        progress.step(5, "Checking your choices")
        early = asyncio.ensure_future(collect(progress))
        await asyncio.sleep(0)
        progress.step(30, "Preparing your EOS home")
        late = asyncio.ensure_future(collect(progress))
        await asyncio.sleep(0.01)
        progress.step(60, "Starting your container")
        progress.end()
        return await early, await late

    early, late = asyncio.run(spawn())
    expected = ["Checking your choices", "Preparing your EOS home", "Starting your container"]
    assert early == late == expected


def test_a_failure_names_its_step() -> None:
    progress = SpawnProgress()
    assert progress.failed("no answer") == "no answer"
    progress.step(30, "Preparing your EOS home")
    assert progress.failed("the eos-stub did not answer") == (
        "Preparing your EOS home: failed. the eos-stub did not answer"
    )


def test_the_failure_carries_its_message_for_every_page_jupyterhub_renders() -> None:
    from jupyterhub.utils import format_exception
    from tornado import web

    progress = SpawnProgress()
    progress.step(60, "Starting your container")
    failure = progress.failure(web.HTTPError(500, "The user image 'x' is not available"))
    expected = "Starting your container: failed. The user image 'x' is not available"
    assert failure.status_code == 500
    assert failure.log_message == expected
    # What the "Spawn failed" page and the progress stream show (only_jupyterhub: the page's
    # own reading, which shows nothing for an exception without the attribute).
    assert format_exception(failure, only_jupyterhub=True)[0] == expected
    assert format_exception(web.HTTPError(500, "x"), only_jupyterhub=True)[0] is None


def test_each_step_is_logged_with_the_seconds_since_the_start(caplog) -> None:
    import logging
    import re

    log = logging.getLogger("test.spawn")
    with caplog.at_level(logging.INFO, logger="test.spawn"):
        progress = SpawnProgress(log, "alice")
        progress.step(5, "Checking your choices")
        progress.step(60, "Starting your container")
        progress.end()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3
    pattern = r"^spawn step alice \+(\d+\.\d{3}) (.*)$"
    parsed = [re.match(pattern, line) for line in lines]
    assert all(parsed), lines
    assert [m.group(2) for m in parsed if m] == [
        "Checking your choices",
        "Starting your container",
        "done",
    ]
    seconds = [float(m.group(1)) for m in parsed if m]
    assert seconds == sorted(seconds)
