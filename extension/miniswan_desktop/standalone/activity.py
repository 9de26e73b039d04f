"""Tell the Hub when the desktop was last used, so that the idle culler sees real use.

Like jupyterhub-singleuser (``jupyterhub/singleuser/extension.py``, ``notify_activity``) and
unlike jupyter-server-proxy's standalone ``activity.py`` (which always reports "now"), the
timestamp sent is the last *recorded* activity: proxied traffic to the desktop (recorded by
jupyter-server-proxy's ``ProxyHandler._record_activity`` in
``settings["last_activity_times"]``), page views and restarts. Nothing new: nothing sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import Callable
from datetime import datetime

from jupyterhub.utils import exponential_backoff, isoformat
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.log import app_log

ACTIVITY_KEY = "miniswan-desktop"
"""Our key in ``settings["last_activity_times"]`` (jupyter-server-proxy uses its own)."""


def last_activity(settings: dict, started: datetime) -> datetime:
    """The latest of the start time and every time recorded in ``last_activity_times``."""
    times: dict[str, datetime] = settings.get("last_activity_times", {})
    return max([started, *times.values()])


class ActivityReporter:
    """POST ``{"servers": {name: {"last_activity": t}}, "last_activity": t}`` to the Hub.

    Every ``interval`` seconds (with 20 % jitter, as jupyterhub-singleuser does), when
    ``get_last_activity()`` is newer than what was last sent. A failed POST is retried with
    exponential backoff for up to ``retry_timeout`` seconds, then given up until next time.
    """

    def __init__(
        self,
        *,
        url: str,
        api_token: str,
        server_name: str,
        interval: float,
        get_last_activity: Callable[[], datetime],
        retry_timeout: float = 60.0,
    ) -> None:
        self.url = url
        self.api_token = api_token
        self.server_name = server_name
        self.interval = interval
        self.get_last_activity = get_last_activity
        self.retry_timeout = retry_timeout
        self.last_sent: datetime | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def notify(self) -> bool:
        """Send the last activity if it is new; True if sent (or nothing to send)."""
        activity = self.get_last_activity()
        if self.last_sent is not None and activity <= self.last_sent:
            app_log.debug("No activity since %s", isoformat(self.last_sent))
            return True
        timestamp = isoformat(activity)
        body = {
            "servers": {self.server_name: {"last_activity": timestamp}},
            "last_activity": timestamp,
        }
        request = HTTPRequest(
            self.url,
            method="POST",
            headers={
                "Authorization": f"token {self.api_token}",
                "Content-Type": "application/json",
            },
            body=json.dumps(body),
            request_timeout=20,
        )

        async def post() -> bool:
            try:
                await AsyncHTTPClient().fetch(request)
            except (HTTPClientError, OSError) as e:
                app_log.error("Error notifying the Hub of activity: %s", e)
                return False
            return True

        try:
            await exponential_backoff(
                post,
                fail_message="Failed to notify the Hub of activity",
                start_wait=1,
                max_wait=15,
                timeout=self.retry_timeout,
            )
        except TimeoutError:
            return False
        app_log.debug("Notified the Hub of activity at %s", timestamp)
        self.last_sent = activity
        return True

    async def _loop(self) -> None:
        app_log.info("Reporting activity to %s every %g s", self.url, self.interval)
        while True:
            try:
                await self.notify()
            except Exception:  # never let the reporter die
                app_log.exception("Error notifying the Hub of activity")
            await asyncio.sleep(self.interval * (1 + 0.2 * (random.random() - 0.5)))
