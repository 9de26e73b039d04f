"""EOS homes in the running stack: the eos-stub (a real XRootD server) holds every home at
/eos/user/<initial>/<name>; JupyterLab, desktops and XRootD see the same files; users cannot
reach each other's homes; new users never restart XRootD (another user's transfer goes on);
data survives eos-stub restarts and `down` + `up` of the stack.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import docker
import pytest
from hub_api import HubAPI
from ledger import Ledger
from playwright.sync_api import Page, expect
from stack_info import ROOT, StackInfo, home_path
from waiting import wait_until

from tools.stack import Stack

EOS = "root://eos-stub:1094"


def run(container: Any, *argv: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run a command in a container as its user (uid 1000), with the container's env."""
    result = container.exec_run(list(argv), environment=env)
    return result.exit_code, result.output.decode(errors="replace")


def eos_stub(stack: StackInfo, docker_client: docker.DockerClient) -> Any:
    return docker_client.containers.get(f"{stack.project}-eos-stub-1")


def xrd_read(container: Any, path: str) -> str | None:
    code, out = run(container, "xrdcp", "-s", f"{EOS}/{path}", "-")
    return out if code == 0 else None


def test_home_is_eos_and_every_path_sees_the_same_files(
    stack: StackInfo,
    hub: HubAPI,
    user: str,
    docker_client: docker.DockerClient,
    page: Page,
    login: Callable[..., None],
) -> None:
    hub.start_server(user)
    home = home_path(user)
    container = docker_client.containers.get(stack.container_name(user))

    # $HOME, the working directory and the Jupyter root are the EOS home.
    code, out = run(container, "sh", "-c", 'echo "$HOME"; pwd')
    assert code == 0 and out.split() == [home, home], out
    mounts = {m["Destination"]: m for m in container.attrs["Mounts"]}
    assert home in mounts and mounts[home]["RW"], mounts

    # Saved in JupyterLab -> read with xrdcp in the user's container and on the eos-stub.
    text = f"saved in lab {uuid.uuid4().hex}\n"
    hub.write_file(user, "from-lab.txt", text)
    assert xrd_read(container, f"{home}/from-lab.txt") == text
    code, out = run(eos_stub(stack, docker_client), "stat", "-c", "%u %a", f"{home}/from-lab.txt")
    assert code == 0 and out.split()[0] == "1000", out
    code, out = run(eos_stub(stack, docker_client), "cat", f"{home}/from-lab.txt")
    assert out == text

    # Written with xrdcp (and with the Python client of a notebook) -> in JupyterLab.
    xrd_text = f"written over xrootd {uuid.uuid4().hex}\n"
    code, out = run(
        container, "sh", "-c", f"printf '{xrd_text}' | xrdcp -s - {EOS}/{home}/from-xrdcp.txt"
    )
    assert code == 0, out
    assert hub.read_file(user, "from-xrdcp.txt") == xrd_text
    code, out = run(
        container,
        "/opt/jupyter/bin/python",
        "-c",
        "import os; from XRootD import client; "
        "s, listing = client.FileSystem(os.environ['EOS_MGM_URL'])"
        ".dirlist(os.environ['EOS_HOME'] + '/'); "
        "print(sorted(e.name for e in listing))",
    )
    assert code == 0 and "from-xrdcp.txt" in out and "from-lab.txt" in out, out

    # A file made in a shell (as a desktop terminal makes it) is the user's and readable over
    # XRootD; the desktop starts in the home.
    code, out = run(container, "sh", "-c", "echo term > term.txt && stat -c %u term.txt")
    assert code == 0 and out.strip() == "1000", out
    assert xrd_read(container, f"{home}/term.txt") == "term\n"
    r = hub.request("POST", f"/user/{user}/desktops/api/desktops", as_user=user, json={})
    assert r.status_code == 201, r.text
    desktop_id = r.json()["id"]

    def xterm_cwd() -> str | None:
        code, out = run(container, "sh", "-c", "readlink /proc/$(pgrep -n xterm)/cwd")
        return out.strip() if code == 0 and out.strip() else None

    assert wait_until(xterm_cwd, 60, "the desktop's xterm") == home
    hub.request("DELETE", f"/user/{user}/desktops/api/desktops/{desktop_id}", as_user=user)

    # And JupyterLab's file browser lists the file written over XRootD.
    login(page, user)
    page.goto(f"{stack.url}/user/{user}/lab")
    expect(page.locator(".jp-DirListing-item[title*='from-xrdcp.txt']")).to_be_visible(
        timeout=60_000
    )


@pytest.fixture(scope="module")
def two_users(hub: HubAPI) -> Iterator[tuple[str, str]]:
    """Two running users; the victim has a secret file in their home."""
    tag = uuid.uuid4().hex[:6]
    # The victim's name has the attacker's as a prefix: XRootD matches authdb paths by prefix.
    attacker, victim = f"eosa{tag}", f"eosa{tag}x"
    for name in (attacker, victim):
        hub.start_server(name)
    hub.write_file(victim, "secret.txt", "victim's secret\n")
    yield attacker, victim
    for name in (attacker, victim):
        hub.stop_server(name)


def test_users_cannot_reach_each_others_home(
    stack: StackInfo,
    two_users: tuple[str, str],
    docker_client: docker.DockerClient,
    ledger: Ledger,
) -> None:
    attacker, victim = two_users
    theirs = home_path(victim)
    container = docker_client.containers.get(stack.container_name(attacker))

    def refused(code: int, out: str) -> bool:
        return code != 0 and re.search(r"permission denied|not authorized|Auth failed", out, re.I)

    for what, argv, env in [
        ("list", ["xrdfs", EOS, "ls", f"{theirs}/"], None),
        ("list (no slash)", ["xrdfs", EOS, "ls", theirs], None),
        ("stat", ["xrdfs", EOS, "stat", f"{theirs}/secret.txt"], None),
        ("read", ["xrdcp", "-s", f"{EOS}/{theirs}/secret.txt", "-"], None),
        ("write", ["xrdcp", "-s", "/etc/hostname", f"{EOS}/{theirs}/planted.txt"], None),
        ("delete", ["xrdfs", EOS, "rm", f"{theirs}/secret.txt"], None),
        ("list /eos/user", ["xrdfs", EOS, "ls", "/eos/user/"], None),
        (
            "read claiming B's name",
            ["xrdcp", "-s", f"{EOS}/{theirs}/secret.txt", "-"],
            {"XrdSecUSER": victim},
        ),
        (
            "read without a token (unix)",
            ["xrdcp", "-s", f"{EOS}/{theirs}/secret.txt", "-"],
            {"XrdSecPROTOCOL": "unix"},
        ),
        (
            "read without a token (ztn, no token file)",
            ["xrdcp", "-s", f"{EOS}/{theirs}/secret.txt", "-"],
            {"BEARER_TOKEN_FILE": "/nonexistent"},
        ),
        (
            "read with sss (no key)",
            ["xrdcp", "-s", f"{EOS}/{theirs}/secret.txt", "-"],
            {"XrdSecPROTOCOL": "sss"},
        ),
    ]:
        with ledger.attack(f"A -> B's EOS home over XRootD: {what}"):
            code, out = run(container, *argv, env=env)
            assert refused(code, out), f"{what}: exit {code}: {out}"
            assert "victim's secret" not in out

    with ledger.attack("A -> B's EOS home through the file system"):
        code, out = run(container, "sh", "-c", f"ls {theirs}; cat {theirs}/secret.txt")
        assert code != 0 and "victim's secret" not in out, out
        mounted = [m["Destination"] for m in container.attrs["Mounts"]]
        assert not any(victim in m for m in mounted), mounted
        # A's folder holds A's token only (and the CA certificate), for A's name.
        code, out = run(container, "sh", "-c", "ls -A /etc/eos-key; cat /etc/eos-key/token")
        assert code == 0 and out.split()[:2] == ["certs", "token"], out
        assert token_claims(out.split()[2])["sub"] == attacker, out

    # B's file is untouched and nothing was planted.
    stub = eos_stub(stack, docker_client)
    assert run(stub, "cat", f"{theirs}/secret.txt")[1] == "victim's secret\n"
    assert run(stub, "ls", theirs)[1].split() == ["secret.txt"]


def token_claims(token: str) -> dict[str, Any]:
    """A JWT's claims, read without checking them (the server does that)."""
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims


def xrootd_pid(stub: Any) -> str:
    """The PID (on the host) of the eos-stub's xrootd server process."""
    top = stub.top()
    column = top["Titles"].index("PID")
    pids = [p[column] for p in top["Processes"] if " -c /etc/xrootd/" in p[-1]]
    assert len(pids) == 1, top["Processes"]
    return str(pids[0])


# How much user A copies and how fast: slow enough (the rate limit) that the copy is still in
# flight when two new users have spawned, on a busy machine too.
BIG_FILE_MB = 300
COPY_RATE = "6M"


def test_new_users_never_restart_xrootd_nor_cut_a_transfer(
    stack: StackInfo, hub: HubAPI, user: str, docker_client: docker.DockerClient, ledger: Ledger
) -> None:
    hub.start_server(user)
    container = docker_client.containers.get(stack.container_name(user))
    stub = eos_stub(stack, docker_client)
    code, out = run(
        container,
        "sh",
        "-c",
        f"head -c {BIG_FILE_MB}M /dev/urandom > /tmp/big.bin && sha256sum /tmp/big.bin",
    )
    assert code == 0, out
    checksum = out.split()[0]
    target = f"{home_path(user)}/big.bin"
    pid_before = xrootd_pid(stub)
    since = int(time.time()) - 1
    copy: dict[str, Any] = {}

    def copy_big_file() -> None:
        started = time.monotonic()
        copy["result"] = run(
            container, "xrdcp", "-f", "-s", "--xrate", COPY_RATE, "/tmp/big.bin", f"{EOS}/{target}"
        )
        copy["seconds"] = time.monotonic() - started

    newcomers = [f"eosnew{uuid.uuid4().hex[:6]}", f"eosnew{uuid.uuid4().hex[:6]}"]
    with ledger.fault("two users spawn for the first time while another user's xrdcp runs"):
        copier = threading.Thread(target=copy_big_file)
        copier.start()
        try:
            # The copy is under way: part of the file is on the eos-stub.
            wait_until(
                lambda: run(stub, "sh", "-c", f"test -s {target}")[0] == 0, 30, "the copy to start"
            )
            for name in newcomers:
                hub.start_server(name)
                # A newcomer's token works at once: no key to load, nothing restarted.
                new = docker_client.containers.get(stack.container_name(name))
                code, out = run(new, "sh", "-c", f'echo hi | xrdcp -s - {EOS}/"$EOS_HOME"/hi.txt')
                assert code == 0, f"{name}'s first XRootD write: {out}"
                assert xrd_read(new, f"{home_path(name)}/hi.txt") == "hi\n"
            assert copier.is_alive(), (
                f"the copy ended before the new users had spawned ({copy}): it proved nothing; "
                "make BIG_FILE_MB larger or COPY_RATE lower"
            )
            copier.join(timeout=BIG_FILE_MB / 2 + 120)
            assert not copier.is_alive(), "the copy did not end"
            code, out = copy["result"]
            assert code == 0, f"A's copy failed: {out}"
            code, out = run(stub, "sha256sum", target)
            assert code == 0 and out.split()[0] == checksum, (out, checksum)
            # The same xrootd process throughout, and its log shows no restart.
            assert xrootd_pid(stub) == pid_before
            log = stub.logs(since=since).decode(errors="replace")
            assert "restarting" not in log and "initialization completed" not in log, log[-2000:]
        finally:
            copier.join(timeout=BIG_FILE_MB / 2 + 120)
            run(stub, "rm", "-f", target)
            for name in newcomers:
                hub.stop_server(name)
    print(
        f"\n{BIG_FILE_MB} MB copied in {copy.get('seconds', 0):.1f} s by {user} "
        f"while {len(newcomers)} users spawned; xrootd PID {pid_before} throughout"
    )


def expired_copy(token: str) -> str:
    """`token` with claims that ended a day ago (its signature no longer matches them)."""
    header, payload, signature = token.split(".")
    claims = token_claims(token)
    claims["iat"] = claims["nbf"] = int(time.time()) - 3 * 24 * 3600
    claims["exp"] = int(time.time()) - 24 * 3600
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{body}.{signature}"


def test_a_token_past_its_end_is_renewed_while_the_server_runs(
    stack: StackInfo, hub: HubAPI, user: str, docker_client: docker.DockerClient, ledger: Ledger
) -> None:
    """The hub renews a running user's token from its poll (every 10 s here), and XRootD
    takes the new one on the next connection: staged by putting a token that ended a day ago
    where the hub keeps the user's, rather than waiting out a real lifetime (3 days)."""
    hub.start_server(user)
    container = docker_client.containers.get(stack.container_name(user))
    hub_container = docker_client.containers.get(f"{stack.project}-hub-1")
    home = home_path(user)
    code, out = run(container, "sh", "-c", f'echo kept | xrdcp -s - {EOS}/"$EOS_HOME"/kept.txt')
    assert code == 0, out
    code, token = run(container, "cat", "/etc/eos-key/token")
    assert code == 0, token
    first = token_claims(token.strip())

    with ledger.fault("a user's EOS token is past its end while the server runs"):
        # Replaced in one rename, as the hub writes it (the user's folder is read-only inside
        # the user's container; the hub's auth volume holds it).
        path = f"/srv/eos-auth/users/{user}/token"
        stale = expired_copy(token.strip())
        code, out = run(
            hub_container,
            "sh",
            "-c",
            f"printf '%s\\n' '{stale}' > {path}.stale && chown 1000 {path}.stale && "
            f"chmod 600 {path}.stale && mv {path}.stale {path}",
        )
        assert code == 0, out
        code, out = run(container, "xrdcp", "-s", f"{EOS}/{home}/kept.txt", "-")
        assert code != 0, f"XRootD took a token that ended a day ago: {out}"

        def renewed() -> dict[str, Any] | None:
            code, text = run(container, "cat", "/etc/eos-key/token")
            claims = token_claims(text.strip()) if code == 0 else {}
            return claims if claims.get("exp", 0) > time.time() else None

        claims = wait_until(renewed, 40, "the hub to renew the token (its poll)")
        assert claims["sub"] == first["sub"] == user and claims["iat"] >= first["iat"], claims
        assert xrd_read(container, f"{home}/kept.txt") == "kept\n"


def test_spawn_fails_clearly_while_the_eos_stub_is_down(
    stack: StackInfo, hub: HubAPI, user: str, docker_client: docker.DockerClient, ledger: Ledger
) -> None:
    stub = eos_stub(stack, docker_client)
    with ledger.fault("eos-stub stopped during a spawn"):
        stub.stop(timeout=10)
        try:
            started = time.monotonic()
            status, message = hub.refused_spawn(user, {})
            # Refused at once (not after the spawn timeout), saying why.
            assert time.monotonic() - started < 15
            assert status in (503, 202), (status, message)
            assert "EOS home is not available" in message and "eos-stub" in message, message
            wait_until(lambda: hub.server(user) is None, 30, "no server left behind")
        finally:
            stub.start()
            wait_until(
                lambda: (
                    eos_stub(stack, docker_client).attrs["State"]["Health"]["Status"] == "healthy"
                ),
                60,
                "the eos-stub to be healthy again",
            )
        hub.start_server(user)


def written_files(hub: HubAPI, user: str, container: Any) -> dict[str, str]:
    """Write files through JupyterLab and over XRootD; return name -> content."""
    home = home_path(user)
    files = {f"lab-{i}.txt": f"lab {i} {uuid.uuid4().hex}\n" for i in range(3)}
    for name, text in files.items():
        hub.write_file(user, name, text)
    text = f"xrd {uuid.uuid4().hex}\n"
    code, out = run(container, "sh", "-c", f"printf '{text}' | xrdcp -s - {EOS}/{home}/xrd.txt")
    assert code == 0, out
    return {**files, "xrd.txt": text}


def read_back(hub: HubAPI, user: str, container: Any, names: list[str]) -> dict[str, str | None]:
    home = home_path(user)
    found: dict[str, str | None] = {}
    for name in names:
        lab = hub.read_file(user, name)
        xrd = xrd_read(container, f"{home}/{name}")
        found[name] = lab if lab == xrd else f"lab={lab!r} xrootd={xrd!r}"
    return found


def test_data_survives_an_eos_stub_restart_while_the_user_works(
    stack: StackInfo, hub: HubAPI, user: str, docker_client: docker.DockerClient, ledger: Ledger
) -> None:
    hub.start_server(user)
    container = docker_client.containers.get(stack.container_name(user))
    expected = written_files(hub, user, container)
    with ledger.fault("eos-stub restarted while a user works"):
        eos_stub(stack, docker_client).restart(timeout=10)
        wait_until(lambda: xrd_read(container, f"{home_path(user)}/xrd.txt"), 30, "XRootD back")
        found = read_back(hub, user, container, list(expected))
        assert not ledger.files(expected, found), found
        hub.write_file(user, "after.txt", "after\n")
        assert xrd_read(container, f"{home_path(user)}/after.txt") == "after\n"


def test_data_survives_stack_down_and_up(
    stack: StackInfo, hub: HubAPI, user: str, docker_client: docker.DockerClient, ledger: Ledger
) -> None:
    hub.start_server(user)
    container = docker_client.containers.get(stack.container_name(user))
    expected = written_files(hub, user, container)
    compose_stack = Stack(project=stack.project, port=int(stack.url.rsplit(":", 1)[1]))
    with ledger.fault("stack down (volumes kept) and up again"):
        # Down replaces every service's container and its log: keep the logs so far, which
        # explain any earlier test's failure (nox -s e2e collects only the last ones).
        compose_stack.collect_logs(ROOT / "artifacts" / "e2e" / "logs" / "before-stack-down")
        compose_stack.down(volumes=False)
        compose_stack.up()
        wait_until(stack.healthy, 120, "the hub after up")
        hub.start_server(user)
        container = docker_client.containers.get(stack.container_name(user))
        found = read_back(hub, user, container, list(expected))
        assert not ledger.files(expected, found), found
