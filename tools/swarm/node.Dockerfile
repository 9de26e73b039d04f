# A node of the test Swarm cluster (tools/swarm, `nox -s swarm`): Debian's Docker engine in
# a container with the rights of one (Docker-in-Docker, tools/swarm/nodes.py), made from the
# local base image so that no registry is needed. Each node keeps its own /var/lib/docker on
# a volume (overlay2 cannot sit on the node container's own overlay file system).
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends docker.io iptables ca-certificates procps \
 && rm -rf /var/lib/apt/lists/*
COPY node-entrypoint.sh /usr/local/bin/miniswan-swarm-node
ENTRYPOINT ["/usr/local/bin/miniswan-swarm-node"]
