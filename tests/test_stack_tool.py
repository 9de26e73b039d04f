"""Unit tests of tools/stack.py, the code behind `nox -s up/down/logs/e2e`.

The Docker CLI is faked by small shell scripts on PATH (these tests run without Docker);
the e2e suite exercises the real thing.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tools.stack import (
    ENV_FILE,
    BuildProgress,
    Stack,
    StackError,
    failure_digest,
    preflight,
    read_env_defaults,
)


def fake_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> None:
    """Put a `docker` on PATH that runs `script` (sh) instead of the real CLI."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(f"#!/bin/sh\n{script}\n")
    docker.chmod(docker.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(bin_dir))


def test_env_defaults_document_every_login_setting() -> None:
    defaults = read_env_defaults(ENV_FILE)
    for key in ("MINISWAN_PORT", "MINISWAN_USER_PASSWORD", "MINISWAN_ADMIN_USER"):
        assert defaults[key], key
    # JupyterHub's shared-password mode refuses shorter passwords: fail here, not at start-up.
    assert len(defaults["MINISWAN_USER_PASSWORD"]) >= 8
    assert len(defaults["MINISWAN_ADMIN_PASSWORD"]) >= 32
    assert defaults["MINISWAN_USER_PASSWORD"] != defaults["MINISWAN_ADMIN_PASSWORD"]


def test_environment_overrides_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINISWAN_PORT", "8123")
    stack = Stack.from_env()
    assert stack.url == "http://127.0.0.1:8123"
    assert stack.environment()["COMPOSE_PROJECT_NAME"] == "miniswan"


def test_missing_ca_bundle_falls_back_to_an_empty_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINISWAN_BUILD_CA_BUNDLE", "/nonexistent/ca.crt")
    bundle = Path(Stack().environment()["MINISWAN_BUILD_CA_BUNDLE"])
    assert bundle.is_file() and bundle.read_bytes() == b""


def test_preflight_without_docker_says_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(StackError, match="`docker` command is not installed"):
        preflight()


def test_preflight_with_a_stopped_engine_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_docker(
        tmp_path,
        monkeypatch,
        'echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock." >&2; exit 1',
    )
    with pytest.raises(StackError) as error:
        preflight()
    assert "not running" in str(error.value)
    assert "Cannot connect to the Docker daemon" in str(error.value)
    assert "dockerd" in str(error.value)


def test_preflight_without_compose_v2_names_the_plugin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_docker(tmp_path, monkeypatch, '[ "$1" = compose ] && exit 1; exit 0')
    with pytest.raises(StackError, match="Compose v2"):
        preflight()


def test_failure_digest_shows_problems_not_refused_requests(tmp_path: Path) -> None:
    """The security tests make hundreds of refused requests on purpose; a CI failure should
    print the spawn error, not them."""
    log = tmp_path / "hub.log"
    noise = [
        f"[W 2026-11-26 18:09:46.0{i:02d} JupyterHub log:192] 403 GET /hub/api/users/x ({i})"
        for i in range(100)
    ]
    log.write_text(
        "\n".join(
            [
                "[I 18:00 JupyterHub app:1] starting",
                "[E 18:01 JupyterHub user:2] Unhandled error starting alice's server: boom",
                *noise,
                "[I 18:02 JupyterHub log:192] 200 GET /hub/health",
            ]
        )
    )
    digest = failure_digest(log, tail=3)
    assert digest[0].startswith("[E 18:01") and digest[1] == "[…]"
    assert not any("403 GET" in line for line in digest[:2])
    assert digest[-1].endswith("200 GET /hub/health") and len(digest) == 5


# BuildKit's plain progress as `docker compose build --progress plain` prints it: steps of
# two images interleaved, a cached step, a header repeated when a step's output resumes.
BUILDKIT_OUTPUT = """\
#1 [internal] load build definition from Dockerfile
#1 DONE 0.0s
#4 [hub internal] load build definition from Dockerfile
#4 DONE 0.0s
#5 [hub stage-0  3/10] RUN --mount=type=cache,target=/var/cache/apt apt-get install nodejs npm
#6 [user-image stage-1  2/15] COPY requirements.txt /tmp/
#6 CACHED
#5 0.412 Get:1 http://deb.debian.org/debian bookworm InRelease [151 kB]
#7 [user-image extension-wheel 3/7] RUN pip install --require-hashes -r /tmp/requirements.txt
#7 1.203 Collecting jupyterlab==4.6.6
#5 12.01 Setting up nodejs (18.19.0+dfsg-6~deb12u2) ...
#5 DONE 14.2s
#7 [user-image extension-wheel 3/7] RUN pip install --require-hashes -r /tmp/requirements.txt
#7 9.871 ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE.
#7 ERROR: process "/bin/sh -c pip install" did not complete successfully: exit code: 1
"""


def test_build_progress_says_each_running_step_once_and_names_the_failed_one() -> None:
    progress = BuildProgress()
    said = [s for line in BUILDKIT_OUTPUT.splitlines(keepends=True) if (s := progress.read(line))]
    pip = (
        "user-image extension-wheel 3/7 RUN pip install --require-hashes -r /tmp/requirements.txt"
    )
    assert said == [
        "hub 3/10 RUN apt-get install nodejs npm",
        pip,
    ]
    assert progress.failed == pip


def test_build_progress_reads_the_classic_builder_and_shortens_long_commands() -> None:
    progress = BuildProgress()
    lines = [
        "Step 1/3 : FROM debian:bookworm-slim",
        " ---> 1f2e3d4c5b6a",
        "Step 2/3 : COPY . /src",
        " ---> Using cache",
        "Step 3/3 : RUN " + "x" * 200,
        " ---> Running in 0123456789ab",
    ]
    said = [s for line in lines if (s := progress.read(line))]
    assert said[0] == "1/3 FROM debian:bookworm-slim"
    assert len(said) == 2 and said[1].startswith("3/3 RUN xxx") and said[1].endswith("...")
    assert len(said[1]) <= 4 + 90


def test_a_failed_build_names_its_step_and_shows_its_last_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = tmp_path / "output.txt"
    output.write_text(BUILDKIT_OUTPUT)
    fake_docker(tmp_path, monkeypatch, f"cat {output}; exit 17")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    heard: list[str] = []
    with pytest.raises(StackError) as failure:
        Stack().build(tmp_path / "build.log", on_step=heard.append)
    message = str(failure.value)
    assert "Failed step: user-image extension-wheel 3/7 RUN pip install" in message
    assert "THESE PACKAGES DO NOT MATCH THE HASHES" in message
    assert [h.split("  +")[0] for h in heard][0].startswith("hub 3/10 RUN apt-get")
    assert (tmp_path / "build.log").read_text() == BUILDKIT_OUTPUT
