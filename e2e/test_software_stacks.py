"""Software stacks from the CVMFS stand-in: chosen on the spawn page, active in kernels,
terminals and desktops, read-only, and refused clearly when the choice or the stub is bad."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import docker
from hub_api import HubAPI
from lab_ui import launch_desktop
from ledger import Ledger
from playwright.sync_api import Page, expect
from stack_info import SPAWN_TIMEOUT_MS, StackInfo
from waiting import wait_until
from x_session import find_window, session_env
from xpra_client import drawn_window, focus_terminal, wait_for_drawn_window

VIEWS = "/export/sft.cern.ch/lcg/views"  # in the stub container (the volume it fills)


def stub(stack: StackInfo, docker_client: docker.DockerClient) -> Any:
    return docker_client.containers.get(f"{stack.project}-cvmfs-stub-1")


def catalog(stack: StackInfo, docker_client: docker.DockerClient) -> dict[str, Any]:
    """The catalog as the stub publishes it: what each release ships."""
    result = stub(stack, docker_client).exec_run(["cat", f"{VIEWS}/catalog.json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def packages(cat: dict[str, Any], release: str) -> dict[str, str]:
    return next(iter(cat["releases"][release]["platforms"].values()))["packages"]


def spawn_from_page(page: Page, stack: StackInfo, user: str, choices: dict[str, str]) -> None:
    """Choose on the spawn page (select ids = field names) and start; wait for JupyterLab."""
    page.goto(f"{stack.url}/hub/spawn/{user}")
    for field, value in choices.items():
        page.locator(f"#{field}").select_option(value)
    page.get_by_role("button", name="Start").click()
    expect(page).to_have_url(re.compile(rf"/user/{user}/lab"), timeout=SPAWN_TIMEOUT_MS)
    # A fresh workspace: the Launcher, not the notebooks the last session left open.
    page.goto(f"{stack.url}/user/{user}/lab?reset")
    expect(page.locator(".jp-Launcher")).to_be_visible(timeout=60_000)


def notebook_kernels(page: Page) -> list[str]:
    cards = page.locator('.jp-Launcher:visible .jp-LauncherCard[data-category="Notebook"]')
    expect(cards.first).to_be_visible()
    return [c.strip() for c in cards.all_inner_texts()]


def run_in_new_notebook(page: Page, kernel: str, code: str) -> Any:
    """Open a notebook on `kernel` from the Launcher, run `code` in its first cell; return
    the cell's output locator."""
    page.locator(".jp-Launcher:visible .jp-LauncherCard", has_text=kernel).first.click()
    notebook = page.locator(".jp-NotebookPanel:visible")
    # The kernel has started (the status bar says so), then the first cell takes the code.
    idle = page.get_by_role("button", name=re.compile(rf"{re.escape(kernel)} \| Idle"))
    expect(idle).to_be_visible(timeout=60_000)
    cell = notebook.locator(".jp-Cell .cm-content").first
    cell.click()
    expect(cell).to_be_focused()
    page.keyboard.insert_text(code)  # no key events: no auto-closed brackets
    expect(cell).to_contain_text("SWAN_STACK")
    page.keyboard.press("Shift+Enter")
    return notebook.locator(".jp-OutputArea-output").first


def test_each_release_brings_its_own_packages_to_the_notebook(
    page: Page,
    stack: StackInfo,
    hub: HubAPI,
    user: str,
    login: Callable[..., None],
    docker_client: docker.DockerClient,
) -> None:
    page.set_viewport_size({"width": 1400, "height": 900})
    cat = catalog(stack, docker_client)
    a, b = "LCG_104", "LCG_105"
    assert packages(cat, a)["numpy"] != packages(cat, b)["numpy"]
    code = (
        "import numpy, matplotlib, os, sys; "
        "print('stack', os.environ['SWAN_STACK'], numpy.__version__, matplotlib.__version__)"
    )
    login(page, user)
    for release, cores, memory in ((a, "1", "1"), (b, "2", "2")):
        spawn_from_page(page, stack, user, {"stack": release, "cores": cores, "memory": memory})
        # The release's kernel replaces the server's own Python kernel in the Launcher.
        assert notebook_kernels(page) == [f"Python 3 ({release})"]
        output = run_in_new_notebook(page, f"Python 3 ({release})", code)
        versions = packages(cat, release)
        expect(output).to_have_text(
            f"stack {release} {versions['numpy']} {versions['matplotlib']}", timeout=60_000
        )
        # Cores and memory are the container's limits.
        host = docker_client.containers.get(stack.container_name(user)).attrs["HostConfig"]
        assert host["Memory"] == int(memory) * 1024**3
        assert host["CpuQuota"] == int(cores) * host["CpuPeriod"]
        hub.stop_server(user)


def test_terminals_and_desktops_run_in_the_stack_and_cvmfs_is_read_only(
    page: Page,
    stack: StackInfo,
    hub: HubAPI,
    user: str,
    login: Callable[..., None],
    ledger: Ledger,
    docker_client: docker.DockerClient,
) -> None:
    page.set_viewport_size({"width": 1400, "height": 900})
    release = "LCG_105"
    view = next(iter(catalog(stack, docker_client)["releases"][release]["platforms"].values()))
    hub.start_server(user, {"stack": release})
    login(page, user)
    page.goto(f"{stack.url}/user/{user}/lab")
    expect(page.locator(".jp-Launcher")).to_be_visible(timeout=60_000)
    container = docker_client.containers.get(stack.container_name(user))

    def home_file(name: str) -> str:
        result = container.exec_run(["sh", "-c", f'cat "$HOME/{name}"'], user="jovyan")
        return result.output.decode() if result.exit_code == 0 else ""

    expected = f"{release} {view['path']}/bin/python3"

    # A JupyterLab terminal (a login shell) has the stack on PATH.
    page.locator(".jp-Launcher:visible .jp-LauncherCard", has_text="Terminal").first.click()
    terminal = page.locator(".jp-Terminal:visible")
    expect(terminal.locator(".xterm-screen")).to_be_visible(timeout=30_000)

    def typed_in_terminal() -> bool:
        # Keys typed while xterm.js is still connecting its websocket are dropped: type the
        # (idempotent) command again until its file appears.
        terminal.click()
        page.keyboard.type('echo "$SWAN_STACK $(command -v python3)" > ~/terminal.txt\n', delay=20)
        try:
            wait_until(lambda: home_file("terminal.txt").strip() == expected, 10, "the echo")
        except AssertionError:
            return False
        return True

    wait_until(typed_in_terminal, 60, "the terminal's echo", interval=0.1)

    # Nobody writes under /cvmfs: not the user, not root in the container.
    for who in ("jovyan", "root"):
        with ledger.attack(f"{who} writes under /cvmfs"):
            result = container.exec_run(
                ["sh", "-c", f"echo x > {view['path']}/setup.sh || touch /cvmfs/new"], user=who
            )
            assert result.exit_code != 0
            assert b"Read-only file system" in result.output, result.output
    assert container.exec_run(["test", "-e", "/cvmfs/new"]).exit_code != 0

    # A desktop's xterm too, and the stack's matplotlib opens a Tk window in that desktop.
    desktop = launch_desktop(page, from_menu=True)  # the terminal hides the Launcher
    client = page.frame_locator(f'.miniswan-DesktopPanel[data-desktop-id="{desktop}"] iframe')
    facts = wait_for_drawn_window(client)
    focus_terminal(client, facts)
    page.keyboard.type(
        'echo "$SWAN_STACK $(command -v python3)" > ~/desktop.txt; python3 -c '
        "'import matplotlib.pyplot as p; p.plot([1, 3, 2]); "
        "print(p.get_backend(), flush=True); p.show()'"
        " > ~/plot.txt 2>&1 &\n",
        delay=20,
    )
    wait_until(lambda: home_file("desktop.txt").strip() == expected, 30, "the xterm's echo")
    # The figure's window exists on the desktop's X display (found with the session's X
    # cookie, as any X client there needs it), and the client draws more.
    pid = hub.request("GET", f"/user/{user}/desktops/api/desktops/{desktop}", as_user=user).json()[
        "pid"
    ]
    env = session_env(container, pid)
    wait_until(
        lambda: find_window(container, env, "^Figure 1$", by="name"),
        60,
        f"a matplotlib window on the desktop (plot output: {home_file('plot.txt')!r})",
    )
    assert "tkagg" in home_file("plot.txt").lower().split()
    wait_until(
        lambda: (now := drawn_window(client)) and now["colours"] > facts["colours"],
        30,
        "the plot window drawn on the desktop's canvas",
    )


def test_bad_stack_choices_and_a_down_stub_are_refused_with_a_message(
    page: Page,
    stack: StackInfo,
    hub: HubAPI,
    user: str,
    login: Callable[..., None],
    ledger: Ledger,
    docker_client: docker.DockerClient,
) -> None:
    login(page, user)

    def refused_on_page(message: str, tamper: Callable[[], None]) -> None:
        page.goto(f"{stack.url}/hub/spawn/{user}")
        tamper()
        page.get_by_role("button", name="Start").click()
        expect(page.get_by_text(message).first).to_be_visible()
        assert hub.server(user) is None

    with ledger.bad_input("spawn form: unknown software stack"):
        refused_on_page(
            "Unknown software stack 'LCG_99'",
            lambda: page.locator("#stack option:checked").evaluate("el => el.value = 'LCG_99'"),
        )
    with ledger.bad_input("spawn form: memory above the maximum"):
        refused_on_page(
            "Memory 64 GB is above the maximum",
            lambda: page.locator("#memory option:checked").evaluate("el => el.value = '64'"),
        )
    with ledger.bad_input("spawn form: environment script outside the home"):
        refused_on_page(
            "Environment script '../../etc/profile' is outside your home",
            lambda: page.locator("#env-script").fill("../../etc/profile"),
        )
    with ledger.bad_input("spawn API: too many cores"):
        r = hub.request("POST", f"/hub/api/users/{user}/server", as_user=user, json={"cores": 64})
        assert r.status_code == 400 and "CPU cores 64 is not offered" in r.json()["message"]

    # A view listed in the catalog but gone from CVMFS: the hub says so, nothing starts.
    cvmfs = stub(stack, docker_client)
    hidden = f"{VIEWS}/.LCG_104-hidden"
    with ledger.fault("a software stack's view is missing from CVMFS"):
        assert cvmfs.exec_run(["mv", f"{VIEWS}/LCG_104", hidden]).exit_code == 0
        try:
            status, message = hub.refused_spawn(user, {"stack": "LCG_104"})
            assert status in (503, 202) and "missing from CVMFS" in message, (status, message)
        finally:
            cvmfs.exec_run(["mv", hidden, f"{VIEWS}/LCG_104"])
        wait_until(lambda: hub.server(user) is None, 30, "no server left behind")

    # The stub hangs (paused: connections are accepted, nothing answers): the check gives up
    # after cvmfs_timeout (3 s), later than the hub holds a spawn request (2 s), so the API
    # client gets 202 and then the failure, with its reason, on the progress stream.
    with ledger.fault("cvmfs-stub hangs"):
        cvmfs.pause()
        try:
            status, message = hub.refused_spawn(user, {})
            assert status == 202 and "unavailable" in message, (status, message)
            assert "timed out" in message, message
        finally:
            cvmfs.unpause()
        wait_until(lambda: hub.server(user) is None, 30, "no server left behind")

    # The stub stopped: the spawn page says the stacks are unavailable and nothing starts.
    with ledger.fault("cvmfs-stub stopped"):
        cvmfs.stop(timeout=5)
        try:
            refused_on_page("software stacks (CVMFS) are unavailable", lambda: None)
            expect(page.locator("#miniswan-stacks-unavailable")).to_be_visible()
            status, message = hub.refused_spawn(user, {})
            assert status in (503, 202) and "unavailable" in message, (status, message)
        finally:
            # Back up before the next test, whatever happened above: it spawns at once.
            cvmfs.start()
            wait_until(
                lambda: stub(stack, docker_client).attrs["State"]["Health"]["Status"] == "healthy",
                60,
                "the cvmfs-stub to be healthy again",
            )
        # The page lists the stacks again.
        wait_until(
            lambda: page.goto(f"{stack.url}/hub/spawn/{user}") and page.locator("#stack").count(),
            60,
            "the spawn page to list the software stacks again",
        )
