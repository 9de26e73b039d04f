"""A desktop's X session seen from inside the user's container: its display and X
authority (Xpra's Xvfb refuses clients without the cookie), and what runs on it."""

from __future__ import annotations

import docker


def session_env(container: docker.models.containers.Container, desktop_pid: int) -> list[str]:
    """DISPLAY and XAUTHORITY of a desktop (or an application session), read from its
    window manager: the openbox that xpra's start command runs in every session."""
    ps = container.exec_run(["ps", "-eo", "pid=,sid=,comm="]).output.decode()
    openbox = next(
        int(pid)
        for pid, sid, comm in (line.split(None, 2) for line in ps.splitlines() if line.strip())
        if int(sid) == desktop_pid and comm.strip() == "openbox"
    )
    environ = container.exec_run(["cat", f"/proc/{openbox}/environ"]).output.split(b"\0")
    return [v.decode() for v in environ if v.startswith((b"DISPLAY=", b"XAUTHORITY="))]


def in_session(container: docker.models.containers.Container, env: list[str], *cmd: str) -> str:
    """Run a command in the desktop's X session (its display), return its stdout."""
    result = container.exec_run(list(cmd), environment=env)
    assert result.exit_code == 0, result.output
    return result.output.decode().strip()


def find_window(
    container: docker.models.containers.Container,
    env: list[str],
    name: str,
    by: str = "classname",
) -> str | None:
    """The ids of the session's windows whose instance name (or, with `by="name"`, title: a
    regular expression) matches, None if none (`xdotool search`). The instance name is the
    default because the shell in an xterm rewrites its title."""
    result = container.exec_run(["xdotool", "search", f"--{by}", name], environment=env)
    return result.output.decode().strip() if result.exit_code == 0 else None


def screen_size(container: docker.models.containers.Container, env: list[str]) -> str:
    """The X screen's size as the session reports it (`xdpyinfo`), e.g. `1000x700`."""
    out = in_session(container, env, "xdpyinfo")
    line = next(line for line in out.splitlines() if "dimensions:" in line)
    return line.split()[1]
