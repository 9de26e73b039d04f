"""Drive the compose stack from nox: preflight checks, build, up, wait, logs, down.

Standard library only, so every nox session (including those without a virtualenv) can use
it. Each function raises `StackError` with a message meant for a person: what is wrong and
what to do about it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "compose" / "docker-compose.yml"
ENV_FILE = ROOT / "compose" / ".env"
USER_SERVER_LABEL = "org.miniswan.stack"


class StackError(RuntimeError):
    """Something a person has to fix before the stack can run; the message says what."""


def read_env_defaults(path: Path = ENV_FILE) -> dict[str, str]:
    """The documented defaults from compose/.env (KEY=VALUE lines, # comments)."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


# A build step as BuildKit's plain progress prints it when the step starts
# ("#12 [user  5/14] RUN apt-get install ..."), then its lines ("#12 0.531 ...", "#12 DONE
# 3.2s", "#12 CACHED", "#12 ERROR: ..."); and as the classic builder does ("Step 5/14 : RUN
# ...", then " ---> Using cache" or its output).
_BUILDKIT_STEP = re.compile(
    r"^#(\d+) \[(?P<image>[\w.-]+)(?: (?P<stage>[\w.-]+))?\s+(?P<step>\d+/\d+)\] (?P<what>.+)$"
)
_BUILDKIT_LINE = re.compile(r"^#(\d+) (?P<rest>.*)$")
_CLASSIC_STEP = re.compile(r"^Step (?P<step>\d+/\d+) : (?P<what>.+)$")
_CLASSIC = "classic"
_SHOWN = 90  # characters of a step's command shown on the console


class BuildProgress:
    """Reads a build's output line by line and says which steps really run (a cached step
    is not news), and which one failed."""

    def __init__(self) -> None:
        self._named: dict[str, str] = {}  # step id -> what it does, said for a person
        self._pending: dict[str, str] = {}  # started, not yet known to be cached
        self.last = ""  # the last step that ran
        self.failed = ""

    def read(self, line: str) -> str | None:
        """The step that this line shows to be running, once; None for every other line."""
        line = line.rstrip("\n")
        if match := _BUILDKIT_STEP.match(line):
            if match.group(1) not in self._named:  # BuildKit repeats a step's header
                # a multi-stage build names the stage: "user-image extension-wheel 3/7";
                # unnamed stages ("stage-1") say nothing
                stage = match["stage"] or ""
                if re.fullmatch(r"stage-\d+", stage):
                    stage = ""
                where = " ".join(part for part in (match["image"], stage) if part)
                said = f"{where} {match['step']} {_shorten(match['what'])}"
                self._named[match.group(1)] = self._pending[match.group(1)] = said
            return None
        if match := _CLASSIC_STEP.match(line):
            self._pending = {_CLASSIC: f"{match['step']} {_shorten(match['what'])}"}
            return None
        step, rest = _CLASSIC, line.strip()
        if match := _BUILDKIT_LINE.match(line):
            step, rest = match.group(1), match["rest"]
        if rest.startswith("ERROR"):
            self.failed = self.failed or self._named.get(step) or self._pending.get(step, "")
        said = self._pending.pop(step, None)
        if said is None or rest in ("CACHED", "---> Using cache"):
            return None
        self.last = said
        return said


def _shorten(text: str) -> str:
    # RUN's cache and secret mounts are how, not what: leave them out
    text = " ".join(word for word in text.split() if not word.startswith("--mount="))
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


@dataclass(frozen=True)
class Stack:
    """One instance of the stack: a compose project with its own port, network and users."""

    project: str = "miniswan"
    port: int = 8000
    # Settings (compose/.env variables) this instance overrides, e.g. a short idle timeout.
    settings: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, project: str = "miniswan", default_port: int | None = None) -> Stack:
        defaults = read_env_defaults()
        port = os.environ.get("MINISWAN_PORT") or default_port or defaults["MINISWAN_PORT"]
        return cls(project=project, port=int(port))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def setting(self, name: str) -> str:
        """A stack setting as the hub will see it: this instance's, the environment's, or
        the default in compose/.env."""
        return self.settings.get(name) or os.environ.get(name) or read_env_defaults()[name]

    def environment(self) -> dict[str, str]:
        env = {**os.environ, **self.settings}
        env["COMPOSE_PROJECT_NAME"] = self.project
        env["MINISWAN_STACK"] = self.project
        env["MINISWAN_PORT"] = str(self.port)
        ca = env.get("MINISWAN_BUILD_CA_BUNDLE") or read_env_defaults()["MINISWAN_BUILD_CA_BUNDLE"]
        if not Path(ca).is_file():
            # No CA bundle at the default path (e.g. macOS): builds need none, pass an empty one.
            empty = ROOT / "artifacts" / "empty-ca-bundle.crt"
            empty.parent.mkdir(parents=True, exist_ok=True)
            empty.touch()
            env["MINISWAN_BUILD_CA_BUNDLE"] = str(empty)
        return env

    def compose_command(self, *args: str) -> list[str]:
        return ["docker", "compose", "-f", str(COMPOSE_FILE), "-p", self.project, *args]

    def compose(self, *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
        cmd = self.compose_command(*args)
        return subprocess.run(cmd, env=self.environment(), text=True, **kwargs)  # type: ignore[call-overload]

    # --- lifecycle -------------------------------------------------------------------------

    def build(self, log_file: Path, on_step: Callable[[str], None] | None = None) -> float:
        """Build the hub and user images; the build log goes to `log_file`, and `on_step`
        hears each build step as it starts ("user 5/14 RUN apt-get ...  +73 s"), so minutes
        of building are not minutes of silence. Returns seconds."""
        log_file.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        progress = BuildProgress()
        cmd = self.compose_command("--profile", "images", "build", "--progress", "plain")
        with log_file.open("w") as log:
            with subprocess.Popen(
                cmd,
                env=self.environment(),
                text=True,
                errors="replace",
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            ) as process:
                assert process.stdout is not None
                for line in process.stdout:
                    log.write(line)
                    step = progress.read(line)
                    if step and on_step:
                        on_step(f"{step}  +{time.monotonic() - started:.0f} s")
            returncode = process.returncode
        if returncode != 0:
            tail = "\n".join(log_file.read_text().splitlines()[-40:])
            failed = f"Failed step: {progress.failed or progress.last}\n" if progress.last else ""
            hint = ""
            if "debian:bookworm-slim" in tail and ("pull" in tail or "resolve" in tail):
                hint = "\nThe base image cannot be pulled: run tools/bootstrap.sh to make one."
            raise StackError(
                f"Image build failed (full log: {log_file}):\n{failed}"
                f"Its last lines:\n{tail}{hint}"
            )
        return time.monotonic() - started

    def up(self, timeout: float = 180) -> None:
        """Start (or update) the services, wait until every one is healthy (the hub, and the
        storage stubs a spawn needs: a spawn before the CVMFS stub has published its views
        is refused), then until the hub answers through the proxy."""
        result = self.compose(
            "up",
            "-d",
            "--remove-orphans",
            "--wait",
            "--wait-timeout",
            f"{timeout:.0f}",
            capture_output=True,
        )
        if result.returncode != 0:
            logs = self.compose("logs", "--tail", "30", capture_output=True).stdout
            raise StackError(
                f"`docker compose up` failed:\n{result.stderr.strip()}\nLast logs:\n{logs}"
            )
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        last_error = "no answer yet"
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/hub/api", timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
                last_error = str(exc)
            time.sleep(1)
        logs = self.compose("logs", "--tail", "30", "hub", "proxy", capture_output=True).stdout
        raise StackError(
            f"The hub did not answer at {self.url}/hub/api within {timeout:.0f} s "
            f"({last_error}). Last logs:\n{logs}"
        )

    def user_containers(self) -> list[str]:
        """Names of the user containers the hub spawned for this stack (compose knows none)."""
        result = subprocess.run(
            [
                "docker",
                "ps",
                "-a",
                "--filter",
                f"label={USER_SERVER_LABEL}={self.project}",
                "--format",
                "{{.Names}}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        return [name for name in result.stdout.split() if name]

    def user_volumes(self) -> list[str]:
        """The users' volumes (created by the spawner, so compose does not know them): old-style
        homes and the EOS home and key mounts (`<project>-{home,eoshome,eoskey}-<user>`)."""
        result = subprocess.run(
            ["docker", "volume", "ls", "--quiet", "--filter", f"name=^{self.project}-"],
            capture_output=True,
            text=True,
            check=False,
        )
        pattern = re.compile(rf"^{re.escape(self.project)}-(home|eoshome|eoskey)-")
        return [name for name in result.stdout.split() if pattern.match(name)]

    def user_networks(self) -> list[str]:
        """The users' private networks (created by the spawner, see miniswan_hub/networks.py)."""
        result = subprocess.run(
            [
                "docker",
                "network",
                "ls",
                "--quiet",
                "--filter",
                f"label={USER_SERVER_LABEL}={self.project}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        return [name for name in result.stdout.split() if name]

    def down(self, volumes: bool = False) -> None:
        """Stop everything, user containers included; data volumes stay unless asked."""
        names = self.user_containers()
        if names:
            subprocess.run(["docker", "rm", "-f", *names], capture_output=True, check=False)
        args = ["--profile", "images", "down", "--remove-orphans"]
        if volumes:
            args.append("--volumes")
        result = self.compose(*args, capture_output=True)
        if result.returncode != 0:
            raise StackError(f"`docker compose down` failed:\n{result.stderr.strip()}")
        if networks := self.user_networks():
            subprocess.run(
                ["docker", "network", "rm", *networks], capture_output=True, check=False
            )
        if volumes and (homes := self.user_volumes()):
            subprocess.run(["docker", "volume", "rm", *homes], capture_output=True, check=False)

    def collect_logs(self, folder: Path) -> list[Path]:
        """Write each service's and each user container's log to `folder`; return the files."""
        folder.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        for service in ("hub", "proxy", "eos-stub", "cvmfs-stub"):
            path = folder / f"{service}.log"
            with path.open("w") as out:
                self.compose("logs", "--no-color", "--timestamps", service, stdout=out, stderr=out)
            written.append(path)
        for name in self.user_containers():
            path = folder / f"{name}.log"
            with path.open("w") as out:
                subprocess.run(["docker", "logs", "--timestamps", name], stdout=out, stderr=out)
            written.append(path)
        return written


# What the security and bad-input tests cause on purpose, by the hundred: refused requests
# (4xx), refused spawn options, refused XRootD logins. Noise when explaining a failure.
_REFUSED_REQUEST = re.compile(
    r"log:\d+\] 4\d\d |web:\d+\] 4\d\d |Missing or invalid credentials|Not authorizing access"
    r"|HTTP 400: Bad Request|Received unhandled user_options|Container not found"
    r"|Decryption key not found"
)
_PROBLEM = re.compile(r"\[(E|W|C) |Traceback|Error|error:|failed|refused|timed out|Killed")


def failure_digest(log: Path, problems: int = 40, tail: int = 10) -> list[str]:
    """The lines of a service log that explain a failure: its last `problems` warnings and
    errors (refused requests left out), then its last `tail` lines."""
    lines = log.read_text(errors="replace").splitlines()
    flagged = [
        line for line in lines if _PROBLEM.search(line) and not _REFUSED_REQUEST.search(line)
    ]
    digest = flagged[-problems:]
    if digest:
        digest.append("[…]")
    return digest + lines[-tail:]


def preflight() -> None:
    """Check the machine can run the stack; say what is missing and how to get it."""
    if shutil.which("docker") is None:
        raise StackError(
            "The `docker` command is not installed. Install Docker Engine "
            "(https://docs.docker.com/engine/install/) or, on Debian, run "
            "`sudo tools/bootstrap.sh`."
        )
    info = subprocess.run(["docker", "info"], capture_output=True, text=True, check=False)
    if info.returncode != 0:
        raise StackError(
            "The Docker engine is not running or not reachable "
            f"({info.stderr.strip().splitlines()[-1] if info.stderr.strip() else 'no answer'}).\n"
            "Start it (`sudo systemctl start docker`, or `sudo dockerd &` without systemd), "
            "check you may use it (`docker info`), or run `sudo tools/bootstrap.sh`."
        )
    compose = subprocess.run(
        ["docker", "compose", "version"], capture_output=True, text=True, check=False
    )
    if compose.returncode != 0:
        raise StackError(
            "Docker Compose v2 (`docker compose`) is missing. Install the compose plugin "
            "(package docker-compose-plugin) or run `sudo tools/bootstrap.sh`."
        )
