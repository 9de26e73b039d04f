"""The software stacks the CVMFS stand-in publishes: its catalog, and checks before a spawn.

The cvmfs-stub serves its tree over HTTP (services/cvmfs-stub): `catalog.json` lists each
release, its platforms and their package versions, so the hub has no list of its own; a
view's `setup.sh` answering means the view is there. Standard library only (urllib), so the
unit tests run against a real local HTTP server without a hub.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any


class StacksUnavailable(RuntimeError):
    """The stub cannot be reached or answers nonsense; the message is shown to the user."""


class ViewMissing(RuntimeError):
    """The catalog lists a view whose files are not there; the message is shown as is."""


@dataclass(frozen=True)
class Platform:
    name: str
    path: str  # the view's folder, as mounted in user containers
    packages: dict[str, str] = field(default_factory=dict)
    # The GUI applications the view ships, id -> name (docs/software-stacks.md).
    applications: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Release:
    name: str
    platforms: dict[str, Platform]


@dataclass(frozen=True)
class Catalog:
    """What the stub publishes: releases (in the catalog's order) and the one preselected."""

    releases: dict[str, Release]
    default_release: str
    views: str = "/cvmfs/sft.cern.ch/lcg/views"

    @property
    def platforms(self) -> list[str]:
        """Every platform some release is built for, in first-seen order."""
        seen: dict[str, None] = {}
        for release in self.releases.values():
            seen.update(dict.fromkeys(release.platforms))
        return list(seen)

    def default_platform(self, release: str) -> str:
        return next(iter(self.releases[release].platforms))


def parse_catalog(data: Any) -> Catalog:
    """Turn catalog.json's content into a Catalog; StacksUnavailable if it is malformed."""
    try:
        releases: dict[str, Release] = {}
        for name, release in data["releases"].items():
            platforms = {
                pname: Platform(
                    name=pname,
                    path=str(platform["path"]),
                    packages={str(k): str(v) for k, v in platform.get("packages", {}).items()},
                    applications={
                        str(app["id"]): str(app.get("name") or app["id"])
                        for app in platform.get("applications", [])
                    },
                )
                for pname, platform in release["platforms"].items()
            }
            if platforms:
                releases[str(name)] = Release(name=str(name), platforms=platforms)
        default = str(data.get("default_release") or "")
        views = str(data.get("views") or Catalog.views)
    except (KeyError, TypeError, AttributeError) as error:
        raise StacksUnavailable(
            f"The software stack catalog is malformed ({error!r}); an operator must rebuild "
            "the cvmfs-stub image."
        ) from None
    if not releases:
        raise StacksUnavailable("The software stack catalog lists no release.")
    if default not in releases:
        default = next(reversed(releases))
    return Catalog(releases=releases, default_release=default, views=views)


def fetch_catalog(url: str, timeout: float) -> Catalog:
    """Read the catalog from the stub; StacksUnavailable (saying what failed) otherwise."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            data = json.load(response)
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", None) or error
        raise StacksUnavailable(
            f"The software stacks (CVMFS) are unavailable: {url} did not answer ({reason}). "
            "No session can start without them; try again in a moment or tell an operator."
        ) from None
    return parse_catalog(data)


def view_url(catalog_url: str, catalog: Catalog, view_path: str, name: str) -> str:
    """The HTTP URL of a file in a view, from its path in the mounted tree: the catalog
    sits in the views folder, so paths below that folder map onto URLs below the catalog's."""
    base = catalog_url.rsplit("/", 1)[0]
    relative = view_path.removeprefix(catalog.views).strip("/")
    return f"{base}/{relative}/{name}"


def check_view(
    catalog_url: str, catalog: Catalog, release: str, platform: str, timeout: float
) -> None:
    """Make sure the chosen view's setup.sh is published; ViewMissing or StacksUnavailable."""
    view = catalog.releases[release].platforms[platform]
    url = view_url(catalog_url, catalog, view.path, "setup.sh")
    request = urllib.request.Request(url, method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=timeout):
            return
    except urllib.error.HTTPError as error:
        if error.code == 404:
            raise ViewMissing(
                f"The software stack {release} ({platform}) is listed but missing from CVMFS "
                f"({view.path}/setup.sh not found). Choose another one or tell an operator."
            ) from None
        raise StacksUnavailable(
            f"The software stacks (CVMFS) are unavailable: {url} answered {error.code}."
        ) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", None) or error
        raise StacksUnavailable(
            f"The software stacks (CVMFS) are unavailable: {url} did not answer ({reason})."
        ) from None
