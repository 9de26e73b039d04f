"""What one idle desktop costs, measured on this machine's Xpra (Debian's xpra, Xvfb, openbox,
xterm on the host, as `nox -s tests` uses them): the PSS of its process tree and the time
until Xpra answers, for the settings that trade memory (GL, the screen size limit).

    python tools/desktop_cost.py            # every variant, one desktop at a time

Each desktop is launched with the extension's own command line (miniswan_desktop/xpra.py),
left idle a few seconds, measured from /proc, and stopped. No browser is connected. The
figures in docs/desktops.md come from this script; `nox -s bench` measures the same inside
the user image, with a client connected.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "extension"))

from miniswan_desktop.session import xpra_status  # noqa: E402
from miniswan_desktop.xpra import XpraSpec  # noqa: E402

VARIANTS = {
    "default (GL on, max_screen 2560x1600)": {"gl": True, "max_screen": "2560x1600"},
    "GL off": {"gl": False, "max_screen": "2560x1600"},
    "max_screen 3840x2160": {"gl": True, "max_screen": "3840x2160"},
    "max_screen 1920x1080": {"gl": True, "max_screen": "1920x1080"},
}


def tree(pid: int) -> list[int]:
    pids, i = [pid], 0
    while i < len(pids):
        try:
            pids += [
                int(c)
                for c in Path(f"/proc/{pids[i]}/task/{pids[i]}/children").read_text().split()
            ]
        except OSError:
            pass
        i += 1
    return pids


def pss_mib(pids: list[int]) -> dict[str, float]:
    out: dict[str, float] = {}
    for pid in pids:
        try:
            comm = Path(f"/proc/{pid}/comm").read_text().strip()
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    out[comm] = out.get(comm, 0.0) + int(line.split()[1]) / 1024
        except OSError:
            continue
    return out


def measure(settings: dict[str, object], settle: float = 4.0) -> tuple[float, dict[str, float]]:
    folder = Path(tempfile.mkdtemp(prefix="cost-"))
    folder.chmod(0o700)
    spec = XpraSpec(session_dir=folder, geometry="1280x800", **settings)  # type: ignore[arg-type]
    spec.write_config()
    started = time.monotonic()
    proc = subprocess.Popen(
        spec.command(), env=spec.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        # started as the extension counts it (Desktop._wait_ready): xpra answers and the
        # start script has noted the display
        while not (spec.display_file.exists() and asyncio.run(xpra_status(spec.socket_path, 1.0))):
            if time.monotonic() - started > 60:
                raise TimeoutError("xpra did not answer within 60 s")
            time.sleep(0.05)
        ready = time.monotonic() - started
        time.sleep(settle)
        return ready, pss_mib(tree(proc.pid))
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    for name, settings in VARIANTS.items():
        ready, parts = measure(settings)
        detail = ", ".join(f"{k} {v:.0f}" for k, v in sorted(parts.items(), key=lambda kv: -kv[1]))
        print(
            f"{name}: {sum(parts.values()):.0f} MiB PSS ({detail}); answered after {ready:.2f} s"
        )


if __name__ == "__main__":
    main()
