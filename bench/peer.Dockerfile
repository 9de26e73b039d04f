# Benchmark-only image: the user image plus the most used Jupyter desktop,
# Its build context is bench/ (bench/peer-compose.yml).
# jupyter-remote-desktop-proxy (TigerVNC + noVNC), so `nox -s bench` can measure it next to
# ours in the same image. Never spawned for users: it adds its own "Desktop" launcher card.
ARG USER_IMAGE=miniswan/user:dev
FROM ${USER_IMAGE}
USER root
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt,sharing=locked \
    apt-get update \
 && apt-get install -y --no-install-recommends tigervnc-standalone-server tigervnc-tools
COPY peer-requirements.txt /tmp/peer-requirements.txt
RUN --mount=type=cache,target=/root/.cache/pip \
    --mount=type=secret,id=pip_ca \
    if [ -s /run/secrets/pip_ca ]; then export PIP_CERT=/run/secrets/pip_ca; fi \
 && /opt/jupyter/bin/pip install --disable-pip-version-check --no-deps --require-hashes \
      -r /tmp/peer-requirements.txt
# The same session as ours (openbox + xterm), so the comparison is VNC vs Xpra, not XFCE vs
# openbox.
COPY --chmod=0755 peer-xstartup.sh /opt/bench/xstartup
ENV JUPYTER_REMOTE_DESKTOP_PROXY_XSTARTUP=/opt/bench/xstartup
USER jovyan
