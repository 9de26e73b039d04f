"""2. Proxy overhead: one Xpra session reached (a) as the browser reaches it from the host
(the websocket through configurable-http-proxy and the single-user server's proxy; the HTML5
client's files from the server's cached copy, through configurable-http-proxy) and (b)
directly on its unix socket from inside the container, by the same probe (bench/probe.py).
The websocket is also measured (c) through the single-user server alone (the host reaches
the container's address on its network) and (d) through configurable-http-proxy reached at
its container's address instead of the published port (no engine port forwarding), which
splits what each hop adds."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from .common import Bench, run_host_probe, run_probe, wait_until
from .stats import ratio, summary

PROXY_PORT = 8000  # configurable-http-proxy's port in its container (compose/docker-compose.yml)


def start_desktop(bench: Bench, user: str) -> dict[str, Any]:
    """Create a desktop through the REST API and wait until it runs."""
    r = bench.user_api(user, "POST", "desktops/api/desktops", json={})
    r.raise_for_status()
    desktop = r.json()

    def running() -> bool:
        state = bench.user_api(user, "GET", f"desktops/api/desktops/{desktop['id']}").json()
        return state["state"] == "running"

    wait_until(running, 60, f"desktop {desktop['id']} to run", interval=0.1)
    return desktop


def socket_path(bench: Bench, user: str, desktop_id: str) -> str:
    result = bench.container(user).exec_run(
        ["sh", "-c", f"ls -d /tmp/miniswan-desktop-1000/desktop-{desktop_id}-*/xpra.sock"]
    )
    return result.output.decode().strip()


def address(container: Any) -> str:
    """A container's address on one of its networks (the host reaches bridge networks)."""
    networks = container.attrs["NetworkSettings"]["Networks"]
    return next(n["IPAddress"] for n in networks.values() if n.get("IPAddress"))


def server_url(container: Any) -> str:
    """The single-user server's own `http://<ip>:<port>` on the user's network, from the
    URL the hub gave the server."""
    env = dict(e.split("=", 1) for e in container.attrs["Config"]["Env"] if "=" in e)
    port = urlsplit(env["JUPYTERHUB_SERVICE_URL"]).port or 8888
    return f"http://{address(container)}:{port}"


def proxy_url(bench: Bench) -> str:
    """configurable-http-proxy at its container's address: the published port without the
    engine's port forwarding (docker-proxy, or Docker Desktop's own) in front."""
    proxy = bench.docker.containers.get(f"{bench.stack.project}-proxy-1")
    return f"http://{address(proxy)}:{PROXY_PORT}"


def figures(kind: str, result: dict[str, Any]) -> list[float]:
    """The per-sample figure compared between the paths: seconds (ws, assets), MiB/s (bulk)."""
    if kind == "ws":
        return [s["total_s"] for s in result["samples"]]
    if kind == "assets":
        return [r["total_s"] for r in result["rounds"]]
    return [s["mib_per_s"] for s in result["samples"]]


def run(bench: Bench) -> dict[str, Any]:
    repeat = {"ws": 10 if bench.quick else 40, "assets": 4 if bench.quick else 10}
    repeat["bulk"] = 10 if bench.quick else 30
    user = bench.new_user("px")
    bench.hub.start_server(user)
    try:
        desktop = start_desktop(bench, user)
        container = bench.container(user)
        direct_target = "unix:" + socket_path(bench, user, desktop["id"])
        proxied_target = bench.stack.url + desktop["url"]
        token = bench.hub.token(user)
        out: dict[str, Any] = {
            "direct_target": direct_target,
            "proxied_target": proxied_target,
        }
        for kind, n in repeat.items():
            # Alternate the paths in two halves, so a load spike hits both alike.
            direct: dict[str, Any] = {}
            proxied: dict[str, Any] = {}
            # The browser loads the client's files from the server's cached copy when it has
            # one (client_url), and only the websocket goes through the desktop's proxy.
            served = proxied_target
            if kind != "ws" and desktop.get("client_url"):
                served = bench.stack.url + desktop["client_url"].rsplit("/", 1)[0] + "/"
            out.setdefault("proxied_targets", {})[kind] = served
            # The websocket also by the hops' own addresses: what each hop adds.
            extra = {}
            if kind == "ws":
                extra = {
                    "server_only": server_url(container) + desktop["url"],
                    "proxy_address": proxy_url(bench) + desktop["url"],
                }
            found: dict[str, dict[str, Any]] = {key: {} for key in extra}
            for _half in range(2):
                d = run_probe(container, kind, direct_target, "--repeat", str(n // 2))
                p = run_host_probe(kind, served, token, n // 2)
                parts = [(direct, d), (proxied, p)]
                for key, target in extra.items():
                    parts.append((found[key], run_host_probe(kind, target, token, n // 2)))
                for whole, part in parts:
                    for key, value in part.items():
                        if key in ("samples", "rounds") and key in whole:
                            whole[key].extend(value)
                        else:
                            whole[key] = value
            for key, target in extra.items():
                out[key] = {
                    "target": target,
                    "ws": found[key],
                    "summary": summary(figures(kind, found[key])),
                }
            d_sum, p_sum = summary(figures(kind, direct)), summary(figures(kind, proxied))
            out[kind] = {
                "direct": direct,
                "proxied": proxied,
                "direct_summary": d_sum,
                "proxied_summary": p_sum,
                # > 1: the proxied path is slower (ws, assets) or faster (bulk).
                "ratio_proxied_to_direct": ratio(p_sum["median"], d_sum["median"]),
            }
            bench.log(
                f"proxy overhead {kind}: direct {d_sum['median']:.4f}, proxied "
                f"{p_sum['median']:.4f} (x{out[kind]['ratio_proxied_to_direct']:.2f})"
            )
        return out
    finally:
        bench.stop_all([user])
