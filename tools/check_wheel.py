"""The desktop extension as anyone would install it: build its sdist and wheel, install the
wheel into a fresh virtualenv beside JupyterLab 4 (outside the stack, from PyPI), and check
that the server extension is enabled, the labextension is listed, and a desktop starts and
stops through the REST API with this machine's Xpra.

Run by `nox -s wheel` (which passes the interpreter to build the virtualenv with). Prints
what it checks; exits non-zero with the reason on the first failure.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXTENSION = ROOT / "extension"
# What a site would put next to it: JupyterLab 4 (any 4.x a user picks; pinned for a repeatable
# check), nothing of this repository's locks.
JUPYTERLAB = "jupyterlab==4.6.6"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def say(message: str) -> None:
    print(f"[wheel] {message}", flush=True)


def run(*cmd: str | Path, **kwargs: Any) -> str:
    """A command's output (stdout and stderr), without the colours Jupyter's listings add;
    SystemExit with its output if it fails."""
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise SystemExit(
            f"[wheel] failed: {' '.join(map(str, cmd))}\n{result.stdout[-3000:]}"
            f"\n{result.stderr[-3000:]}"
        )
    return ANSI.sub("", result.stdout + result.stderr)


# Build outputs and caches of a developer's checkout: the check builds from the sources alone,
# and never writes into the checkout (the frontend build would leave files there that break
# the next editable install).
NOT_SOURCES = shutil.ignore_patterns(
    "node_modules", "lib", "labextension", "static", ".yarn", "coverage", "junit.xml",
    "*.tsbuildinfo",
    ".*cache", "__pycache__", "*.egg-info", "dist", "build",
)  # fmt: skip


PAGE_SCRIPT = "miniswan_desktop/standalone/static/page.js"


def build(python: str, work: Path) -> tuple[Path, Path]:
    """The sdist, then the wheel built from it (as pip would from PyPI), from a copy of the
    extension's sources."""
    say("building the sdist and the wheel (the frontend is built into the wheel)")
    sources, out = work / "extension", work / "dist"
    shutil.copytree(EXTENSION, sources, ignore=NOT_SOURCES)
    run(python, "-m", "build", "--sdist", "--wheel", "--outdir", out, sources)
    wheel = next(out.glob("miniswan_desktop-*.whl"))
    sdist = next(out.glob("miniswan_desktop-*.tar.gz"))
    say(f"built {wheel.name} ({wheel.stat().st_size // 1024} KiB) and {sdist.name}")
    # The desktop-only page's script is built from src/ like the labextension (git-ignored,
    # so only the build puts it there): without it that page shows no desktop.
    with zipfile.ZipFile(wheel) as archive:
        if PAGE_SCRIPT not in archive.namelist():
            raise SystemExit(f"[wheel] {PAGE_SCRIPT} is missing from {wheel.name}")
    say(f"{PAGE_SCRIPT}: in the wheel")
    return wheel, sdist


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(port: int, token: str, method: str, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/desktops/api/{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"token {token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def check_installed(python: str, wheel: Path, venv: Path) -> None:
    say(f"installing the wheel beside {JUPYTERLAB} into a fresh virtualenv")
    run(python, "-m", "venv", venv)
    pip = venv / "bin" / "pip"
    run(pip, "install", "--disable-pip-version-check", "-q", JUPYTERLAB, wheel)
    jupyter = venv / "bin" / "jupyter"
    servers = run(jupyter, "server", "extension", "list")
    if "miniswan_desktop enabled" not in servers:
        raise SystemExit(f"[wheel] the server extension is not enabled:\n{servers}")
    say("server extension miniswan_desktop: enabled")
    labs = run(jupyter, "labextension", "list")
    if "miniswan-desktop" not in labs or "enabled" not in labs:
        raise SystemExit(f"[wheel] the labextension is not listed:\n{labs}")
    say("labextension miniswan-desktop: listed and enabled")


def check_desktop(venv: Path, workdir: Path) -> None:
    """A real desktop through the REST API of a Jupyter server run from the virtualenv."""
    if shutil.which("xpra") is None:
        raise SystemExit("[wheel] xpra is not on PATH (Debian: apt install xpra)")
    port, token = free_port(), secrets.token_hex(16)
    runtime = Path(tempfile.mkdtemp(prefix="msw-"))  # short: unix socket paths are limited
    log = workdir / "server.log"
    env = {**os.environ, "MINISWAN_DESKTOP_RUNTIME_DIR": str(runtime), "JUPYTER_TOKEN": token}
    env.pop("SWAN_STACK_PATH", None)
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [str(venv / "bin" / "jupyter"), "server", f"--port={port}", "--no-browser",
             "--ServerApp.ip=127.0.0.1", f"--ServerApp.root_dir={workdir}",
             "--DesktopApp.prepared_desktops=0",
             *(["--allow-root"] if os.getuid() == 0 else [])],  # CI runs as root
            env=env, stdout=out, stderr=subprocess.STDOUT, cwd=workdir,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                api(port, token, "GET", "desktops")
                break
            except (urllib.error.URLError, ConnectionError):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(
                        f"[wheel] the server did not answer:\n{log.read_text()}"
                    ) from None
                time.sleep(0.5)
        desktop = api(port, token, "POST", "desktops", {"name": "wheel check"})
        while desktop["state"] == "starting" and time.monotonic() < deadline:
            time.sleep(0.3)
            desktop = api(port, token, "GET", f"desktops/{desktop['id']}")
        if desktop["state"] != "running":
            raise SystemExit(f"[wheel] the desktop did not start: {desktop}")
        say(f"desktop {desktop['id']} running (xpra pid {desktop['pid']})")
        stopped = api(port, token, "DELETE", f"desktops/{desktop['id']}")
        if stopped["state"] != "stopped":
            raise SystemExit(f"[wheel] the desktop did not stop: {stopped}")
        say("desktop stopped through the API")
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(runtime, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable, help="interpreter for the venv")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="miniswan-wheel-") as tmp:
        work = Path(tmp)
        wheel, _ = build(args.python, work)
        venv = work / "venv"
        check_installed(args.python, wheel, venv)
        check_desktop(venv, work)
    say("the extension installs and works outside the stack")


if __name__ == "__main__":
    main()
