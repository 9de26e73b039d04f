"""Sessions of mini-SWAN. `nox -l` lists them; `nox -s NAME -- ARGS` passes ARGS on.

The two a newcomer needs:
    nox -s up            # build and start the stack, print where to log in
    nox -s lint tests e2e  # lint, the fast tests, then the browser suite in its own stack
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import nox

sys.path.insert(0, str(Path(__file__).parent))
from tools.stack import Stack, StackError, failure_digest, preflight  # noqa: E402

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_venv = "yes"
nox.needs_version = ">=2025.2.9"

ROOT = Path(__file__).parent
ARTIFACTS = ROOT / "artifacts"
PYTHON = "3.11"
# The e2e suite runs in its own compose project and port, so it never touches the demo stack.
# MINISWAN_E2E_PROJECT / MINISWAN_E2E_PORT move it, e.g. to run two checkouts side by side.
E2E_PROJECT = os.environ.get("MINISWAN_E2E_PROJECT", "miniswan-e2e")
E2E_PORT = int(os.environ.get("MINISWAN_E2E_PORT", "8010"))
# Short enough for the idle-culling test to see a cull, long enough for every other test.
E2E_SETTINGS = {"MINISWAN_CULL_IDLE_TIMEOUT": "90", "MINISWAN_CULL_EVERY": "15"}
PYPROJECT = nox.project.load_toml("pyproject.toml")
# What pytest's `pythonpath` (pyproject.toml) gives the tests, for the scripts that reuse the
# e2e helpers outside pytest (the benchmark, the dev-loop timing): the repository's root
# (`tools.stack`), e2e/ (stack_info, hub_api, xpra_client, ...) and, for the benchmark's
# websocket probe, extension/tests/ (xpra_wire).
SCRIPT_IMPORT_PATH = {
    "PYTHONPATH": ":".join(str((ROOT / p).resolve()) for p in (".", "e2e", "extension/tests"))
}


def group(name: str) -> tuple[str, ...]:
    """A dependency group of the root pyproject.toml (the host tools' pins)."""
    return nox.project.dependency_groups(PYPROJECT, name)


def fail(session: nox.Session, error: StackError) -> None:
    session.error(f"\n{error}")


def start_stack(session: nox.Session, stack: Stack, build_log: Path, fresh: bool = False) -> None:
    """Build what changed, start the services, wait for the hub; a clear error otherwise.
    `fresh` first removes what an earlier instance left (containers, users, volumes)."""
    try:
        preflight()
        if fresh:
            stack.down(volumes=True)
        session.log(f"Building images (full log: {build_log.relative_to(ROOT)})")
        seconds = stack.build(
            build_log, on_step=lambda step: print(f"  [build] {step}", flush=True)
        )
        session.log(f"Images ready in {seconds:.0f} s; starting the stack")
        started = time.monotonic()
        stack.up()
        session.log(f"Hub answering at {stack.url} after {time.monotonic() - started:.0f} s")
    except StackError as error:
        fail(session, error)


@nox.session(python=False)
def up(session: nox.Session) -> None:
    """Build the images and start the stack on http://127.0.0.1:8000; safe to run twice."""
    stack = Stack.from_env()
    start_stack(session, stack, ARTIFACTS / "logs" / "build.log")
    admin = stack.setting("MINISWAN_ADMIN_USER")
    user_password = stack.setting("MINISWAN_USER_PASSWORD")
    admin_password = stack.setting("MINISWAN_ADMIN_PASSWORD")
    print(
        f"\n  mini-SWAN is up: {stack.url}\n"
        f"  Log in with any user name and the password '{user_password}'.\n"
        f"  Admin: user '{admin}', password '{admin_password}'"
        f" (admin panel: {stack.url}/hub/admin).\n"
        "  Change them with MINISWAN_USER_PASSWORD / MINISWAN_ADMIN_PASSWORD (see compose/.env).\n"
        "  Logs: nox -s logs    Stop: nox -s down\n"
    )


@nox.session(python=False)
def down(session: nox.Session) -> None:
    """Stop the stack and the users' containers; `-- --volumes` also deletes its data.

    `-- --e2e` stops the e2e suite's stack instead (left running by `--keep-stack`).
    """
    stack = Stack(E2E_PROJECT, E2E_PORT) if "--e2e" in session.posargs else Stack.from_env()
    try:
        preflight()
        stack.down(volumes="--volumes" in session.posargs)
    except StackError as error:
        fail(session, error)


@nox.session(python=False)
def logs(session: nox.Session) -> None:
    """Show the hub's and proxy's logs (`-- -f` follows them) and list users' containers."""
    stack = Stack.from_env()
    for name in stack.user_containers():
        session.log(f"user container: {name} (docker logs {name})")
    stack.compose("logs", "--tail", "200", *session.posargs)


def jlpm(session: nox.Session, *args: str, quiet: bool = False) -> None:
    """Run the frontend's yarn (jlpm, from jupyter-builder) in extension/. `quiet` keeps
    the output (e.g. an install's hundreds of lines) out of the console unless it fails."""
    session.run("jlpm", *args, external=False, silent=quiet)


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Fast tests without Docker: the desktop extension against real Xpra, the frontend's
    unit tests (jest), and the repository's own unit tests."""
    # The Python tests need no frontend build: skip it in the editable install.
    session.install("-e", "./extension[test]", env={"SKIP_JUPYTER_BUILDER": "1"})
    session.install(*group("tests"))
    session.run("pytest", "extension/tests", "tests", *session.posargs)
    with session.chdir("extension"):
        jlpm(session, "install", "--immutable", quiet=True)
        jlpm(session, "test")


@nox.session(python=PYTHON)
def wheel(session: nox.Session) -> None:
    """The extension as anyone installs it: sdist and wheel built, the wheel installed beside
    JupyterLab 4 in a fresh virtualenv, its server extension and labextension enabled, and a
    desktop started through its REST API with this machine's Xpra (tools/check_wheel.py)."""
    session.install(*group("wheel"))
    session.run("python", "tools/check_wheel.py")


@nox.session(python=PYTHON)
def e2e(session: nox.Session) -> None:
    """Browser tests in a throw-away stack (Chromium + Playwright); logs land in artifacts/e2e.

    `-- --keep-stack` leaves the stack running afterwards; `-- --reuse-stack` runs against
    that running stack (no build, no teardown); `-- --dev-stack` runs against the running
    `nox -s up`/`nox -s dev` stack instead. Other arguments go to pytest (`-- -k name`).
    """
    session.install(*group("e2e"))
    install_frontend_tools(session)  # for the dev-loop test (e2e/test_dev_loop.py)
    flags = ("--reuse-stack", "--keep-stack", "--dev-stack")
    dev_stack = "--dev-stack" in session.posargs
    reuse = dev_stack or "--reuse-stack" in session.posargs
    keep = reuse or "--keep-stack" in session.posargs
    pytest_args = [a for a in session.posargs if a not in flags]
    out = ARTIFACTS / "e2e"
    if dev_stack:
        stack = Stack.from_env()
    else:
        stack = Stack(project=E2E_PROJECT, port=E2E_PORT, settings=E2E_SETTINGS)
    if not reuse:
        # Throw-away means from nothing: a run that was killed (a stopped CI job, Ctrl-C)
        # leaves its stack, users' containers and volumes behind, and the next run would
        # start with its hub database (hundreds of users) and its EOS homes.
        start_stack(session, stack, out / "build.log", fresh=True)
    env = {"MINISWAN_URL": stack.url, "MINISWAN_STACK": stack.project, **stack.settings}
    shutil.rmtree(out / "logs", ignore_errors=True)  # no earlier run's logs to mislead
    try:
        session.run(
            "pytest",
            "e2e",
            "--output",
            str(out / "playwright"),
            "--screenshot",
            "only-on-failure",
            "--tracing",
            "retain-on-failure",
            "--durations",
            "5",
            *pytest_args,
            env=env,
        )
    except nox.command.CommandFailed:
        # Logs kept before the EOS test's stack down/up (e2e/test_eos.py), then the last.
        logs = sorted((out / "logs" / "before-stack-down").glob("*.log"))
        logs += stack.collect_logs(out / "logs")
        for path in logs:
            lines = failure_digest(path)
            print(
                f"\n===== problems and last lines of {path.relative_to(ROOT)} =====",
                *lines,
                sep="\n",
            )
        raise
    finally:
        stack.collect_logs(out / "logs")
        if not keep:
            stack.down(volumes=True)


def install_frontend_tools(session: nox.Session) -> None:
    """jlpm, the frontend's node modules, and the extension itself (editable, without a
    frontend build): `jupyter-builder build/watch` import the package to find where its
    labextension goes, so it must be importable in the session's virtualenv."""
    session.install(*group("frontend"))
    session.install("-e", "./extension", env={"SKIP_JUPYTER_BUILDER": "1"})
    with session.chdir("extension"):
        jlpm(session, "install", "--immutable", quiet=True)


def dev_stack(base: Stack) -> Stack:
    """`base` with the extension's source mounted into user servers (services/hub config)."""
    settings = {**base.settings, "MINISWAN_DEV_EXTENSION_DIR": str(ROOT / "extension")}
    return Stack(base.project, base.port, settings)


@nox.session(python=PYTHON)
def dev(session: nox.Session) -> None:
    """The stack with the extension's source mounted into user containers; then `jlpm watch`.

    A Python change reloads your JupyterLab server by itself (a few seconds); a TypeScript
    change shows after a browser reload; hub config changes after re-running this.
    `-- --no-watch` starts the stack and returns.
    """
    install_frontend_tools(session)
    with session.chdir("extension"):
        jlpm(session, "build")
    stack = dev_stack(Stack.from_env())
    start_stack(session, stack, ARTIFACTS / "logs" / "build.log")
    session.log(f"Dev stack at {stack.url}: extension/ is mounted into new user servers")
    if "--no-watch" not in session.posargs:
        with session.chdir("extension"):
            jlpm(session, "watch")


@nox.session(python=PYTHON, default=False)
def dev_timing(session: nox.Session) -> None:
    """Time the dev loop against a running `nox -s dev` stack (edits, then restores, files)."""
    install_frontend_tools(session)
    session.install(*group("e2e"))
    session.run("python", "tools/measure_dev_loop.py", env=SCRIPT_IMPORT_PATH)


@nox.session(python=PYTHON, default=False)
def soak(session: nox.Session) -> None:
    """Soak the running stack (`nox -s up`), not in CI: users with desktops that redraw and
    take typed lines; memory over time, drops, lost keys (artifacts/soak/, docs/soak.md).

    `-- --minutes 10 --users 3 --sample-every 30` (the defaults).
    """
    session.install(*group("e2e"))
    session.run("python", "tools/soak.py", *session.posargs, env=SCRIPT_IMPORT_PATH)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff (check and format) over all Python; eslint, prettier, stylelint on the frontend."""
    session.install(*group("lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    with session.chdir("extension"):
        jlpm(session, "install", "--immutable", quiet=True)
        jlpm(session, "lint:check")


# Packages a lock leaves out although a dependency asks for them (the images install their
# locks with --no-deps). rfc3987-syntax is jsonschema's "format-nongpl" checker for the `iri`
# format, pulled in through jupyter-events: importing it compiles ~35 Lark parsers, 1.1 s of
# every Jupyter server's start on two cores (docs/development.md, Pinning), for a format no
# Jupyter schema uses; without it jsonschema leaves that format unchecked. lark is its only user.
OMITTED_FROM_LOCK = {
    "services/user/requirements.in": ("rfc3987-syntax", "lark"),
    "bench/peer-requirements.in": ("rfc3987-syntax", "lark"),
}


def omitted(path: str) -> list[str]:
    """uv's arguments that leave a lock's OMITTED_FROM_LOCK packages out."""
    return [arg for name in OMITTED_FROM_LOCK.get(path, ()) for arg in ("--no-emit-package", name)]


@nox.session(python=PYTHON)
def lock(session: nox.Session) -> None:
    """Re-pin the images' Python dependencies (requirements.in -> requirements.txt)."""
    session.install("uv")
    # The images' own locks, and one per software stack view of the CVMFS stand-in.
    views = ROOT.glob("services/cvmfs-stub/views/*/requirements.in")
    for path in sorted([*ROOT.glob("services/*/*requirements.in"), *views]):
        session.run(
            "uv",
            "pip",
            "compile",
            "--quiet",
            "--generate-hashes",
            "--no-header",
            "--python-version",
            "3.11",
            "--python-platform",
            "x86_64-manylinux_2_36",
            *omitted(str(path.relative_to(ROOT))),
            str(path.relative_to(ROOT)),
            "-o",
            str(path.with_suffix(".txt").relative_to(ROOT)),
        )
    # The benchmark's peer image (bench/peer.Dockerfile) adds to the user image: pin it with
    # the user image's lock as constraints, so shared packages keep the same versions.
    session.run(
        "uv", "pip", "compile", "--quiet", "--generate-hashes", "--no-header",
        "--python-version", "3.11", "--python-platform", "x86_64-manylinux_2_36",
        *omitted("bench/peer-requirements.in"),
        "-c", "services/user/requirements.txt", "bench/peer-requirements.in",
        "-o", "bench/peer-requirements.txt",
    )  # fmt: skip


# The benchmark's own stack, beside the demo (8000) and e2e (8010) stacks.
BENCH_PROJECT = os.environ.get("MINISWAN_BENCH_PROJECT", "miniswan-bench")
BENCH_PORT = os.environ.get("MINISWAN_BENCH_PORT", "8020")


@nox.session(python=PYTHON, default=False)
def bench(session: nox.Session) -> None:
    """Measure what users feel (first frame, proxy overhead, a peer, memory, concurrency, up
    times) in a stack of its own; report in artifacts/bench/<time>/ (see docs/benchmark.md).

    `-- --quick` for a smaller run (about 5 min); `-- --only first_frame,memory` for some
    parts; `-- --keep-stack` / `--reuse-stack` as for e2e. Never fails on a timing.
    `-- --only swarm` (not a default part, about 5 min) measures spawns and the first frame on
    the Swarm cluster of `nox -s swarm`, brought up and torn down by the part itself.
    """
    session.install(*group("bench"))
    try:
        preflight()
    except StackError as error:
        fail(session, error)
    session.run(
        "python", "-m", "bench", "--project", BENCH_PROJECT, "--port", BENCH_PORT,
        *session.posargs, env=SCRIPT_IMPORT_PATH,
    )  # fmt: skip


@nox.session(python=PYTHON, default=False)
def swarm(session: nox.Session) -> None:
    """User servers on a Docker Swarm cluster built on this machine (docs/swarm.md): a manager
    and two workers (Docker-in-Docker nodes, tools/swarm), the hub on the manager with
    MINISWAN_ENGINE=swarm, and e2e_swarm/'s browser tests; torn down after, also on failure.

    Needs the images of `nox -s up`. The last session of `./miniswan test`, so part of CI.
    `-- --keep-cluster` leaves it running (`-- --down` removes it); other arguments go to pytest.
    """
    from tools.swarm import up as cluster
    from tools.swarm.run import ClusterError

    session.install(*group("e2e"))
    out = ARTIFACTS / "swarm"
    if "--down" in session.posargs:
        cluster.down(session.log)
        return
    keep = "--keep-cluster" in session.posargs
    pytest_args = [a for a in session.posargs if a != "--keep-cluster"]
    started = time.monotonic()
    try:
        preflight()
        cluster.down(session.log)  # what a killed run left
        cluster.up(session.log, out)
        session.run(
            "pytest", "e2e_swarm", "--output", str(out / "playwright"),
            "--screenshot", "only-on-failure", "--tracing", "retain-on-failure",
            "--durations", "5", *pytest_args,
            env=cluster.environment(),
        )  # fmt: skip
    except (StackError, ClusterError) as error:
        session.error(f"\n{error}")
    finally:
        if not keep:
            cluster.down(session.log, out / "logs")
        session.log(f"swarm: {time.monotonic() - started:.0f} s in all")
