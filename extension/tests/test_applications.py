"""Applications of the software stack: declared in a file, listed, run alone in a session
that ends when the program exits. Real Jupyter server and real xpra; the "applications" are
small shell programs (a stack's real ones need its view, tested end to end in e2e/)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from miniswan_desktop.applications import (
    OPENBOX_CONFIG,
    ApplicationsFileError,
    load_applications,
    parse_applications,
)

ICON = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><circle r="9"/></svg>'


def entry(**fields: Any) -> dict[str, Any]:
    return {"id": "viewer", "name": "Viewer", "command": ["/bin/true"], **fields}


# The short application's program: wait for the file named by its argument, then exit.
WAIT_FOR = 'while [ ! -e "$1" ]; do sleep 0.1; done'


def quit_file(tmp_path: Path) -> Path:
    return tmp_path / "short-may-quit"


@pytest.fixture
def apps_file(tmp_path: Path) -> Path:
    icon = tmp_path / "viewer.svg"
    icon.write_text(ICON)
    path = tmp_path / "applications.json"
    path.write_text(
        json.dumps(
            {
                "applications": [
                    # A window that lives until it is stopped: a desktop-like program.
                    entry(
                        name="Viewer",
                        command=["xterm", "-e", "sleep", "600"],
                        icon=str(icon),
                        gl=True,
                    ),
                    # A window that closes when the test says so (a file appears), as a
                    # user closing it would. (A fixed lifetime raced a slow start: on a
                    # loaded machine the program had ended before the test saw it running.)
                    entry(
                        id="short",
                        name="Short",
                        command=[
                            "xterm",
                            "-e",
                            "sh",
                            "-c",
                            WAIT_FOR,
                            "short",
                            str(quit_file(tmp_path)),
                        ],
                    ),
                ]
            }
        )
    )
    return path


@pytest.fixture
def desktop_config(apps_file: Path) -> dict[str, Any]:
    return {"max_desktops": 4, "start_timeout": 30.0, "applications_file": str(apps_file)}


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ([], "expected"),
        ({"applications": [entry(id="Bad Id")]}, "id must match"),
        ({"applications": [entry(), entry()]}, "declared twice"),
        ({"applications": [entry(name="")]}, "name must be"),
        ({"applications": [entry(command=[])]}, "command must be"),
        ({"applications": [entry(command="xterm")]}, "command must be"),
        ({"applications": ["viewer"]}, "not an object"),
    ],
)
def test_a_bad_declaration_names_its_problem(data: Any, problem: str) -> None:
    with pytest.raises(ApplicationsFileError, match=problem):
        parse_applications(data)


def test_an_unusable_file_offers_nothing_and_a_scripted_icon_is_dropped(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert load_applications(bad) == {}
    assert load_applications(tmp_path / "missing.json") == {}
    assert load_applications(None) == {}
    icon = tmp_path / "evil.svg"
    icon.write_text('<svg onload="alert(1)"></svg>')
    apps = parse_applications({"applications": [entry(icon=str(icon))]})
    assert apps["viewer"].icon_svg == ""


def test_the_program_runs_beside_a_maximising_window_manager() -> None:
    app = parse_applications({"applications": [entry(command=["/opt/v/bin/viewer", "a b"])]})
    argv = app["viewer"].start_command()
    assert argv[-2:] == ["/opt/v/bin/viewer", "a b"]  # arguments kept whole
    assert str(OPENBOX_CONFIG) in argv and OPENBOX_CONFIG.is_file()
    assert "<maximized>true</maximized>" in OPENBOX_CONFIG.read_text()


async def test_listing_names_ids_and_icons(jp_fetch: Any) -> None:
    r = await jp_fetch("desktops", "api", "applications")
    listed = json.loads(r.body)
    assert [a["id"] for a in listed] == ["viewer", "short"]
    assert listed[0]["icon_svg"] == ICON and listed[0]["gl"] is True
    assert listed[1]["icon_svg"] == ""
    assert "command" not in listed[0]  # what runs is the server's business


async def test_an_unknown_application_is_refused_naming_the_offered_ones(api: Any) -> None:
    for app in ("nope", 3, ["viewer"]):
        r = await api.call("POST", body={"app": app})
        assert r.code == 400, r.body
        message = json.loads(r.body)["message"]
        assert "unknown application" in message and "short, viewer" in message
    assert await api.list() == []


@pytest.mark.usefixtures("xpra_required")
async def test_an_application_session_runs_the_program_and_ends_with_it(
    api: Any, tmp_path: Path
) -> None:
    viewer = await api.create(app="viewer")
    assert viewer["app"] == "viewer" and viewer["name"] == "Viewer"
    short = await api.create(app="short", name="Quick one")
    assert short["app"] == "short" and short["name"] == "Quick one"
    await api.wait_state(viewer["id"], {"running"})
    await api.wait_state(short["id"], {"running"})
    # The program exits by itself: the session stops and is listed no more.
    quit_file(tmp_path).touch()
    r = None
    for _ in range(200):
        r = await api.call("GET", short["id"])
        if r.code == 404:
            break
        assert json.loads(r.body)["state"] in {"running", "stopped"}, r.body
        import asyncio

        await asyncio.sleep(0.1)
    assert r is not None and r.code == 404
    assert [d["id"] for d in await api.list()] == [viewer["id"]]
    # The other one is stopped as a desktop is.
    assert (await api.delete(viewer["id"]))["state"] == "stopped"
