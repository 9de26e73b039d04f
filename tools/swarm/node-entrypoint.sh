#!/bin/sh
# Start one node's Docker engine, prepared as moby's hack/dind script prepares a nested one.
set -eu

# AppArmor and friends look for securityfs; a fresh container has it unmounted.
if [ -d /sys/kernel/security ] && ! mountpoint -q /sys/kernel/security; then
  mount -t securityfs none /sys/kernel/security || true
fi

# The node container is not --privileged (see nodes.py): its /sys and its cgroup v1
# hierarchies are mounted read-only. Its capabilities allow making this mount namespace's
# views writable, which the engine needs to create its containers' cgroups (below the node's
# own, so the nested containers stay inside the node's).
mount -o remount,rw /sys
if [ ! -f /sys/fs/cgroup/cgroup.controllers ]; then
  for hierarchy in $(awk '$2 ~ "^/sys/fs/cgroup/" { print $2 }' /proc/mounts); do
    mount -o remount,bind,rw "$hierarchy"
  done
fi

# cgroup v2: the engine must create its containers' cgroups below a cgroup with no process
# of its own ("no internal processes"), so move everything here into a child cgroup first
# and hand all controllers down. Nothing to do on cgroup v1.
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  mkdir -p /sys/fs/cgroup/init
  xargs -rn1 < /sys/fs/cgroup/cgroup.procs > /sys/fs/cgroup/init/cgroup.procs || :
  sed -e 's/ / +/g' -e 's/^/+/' < /sys/fs/cgroup/cgroup.controllers \
    > /sys/fs/cgroup/cgroup.subtree_control
fi

# Bind mounts into user containers (/cvmfs, EOS homes) come from mounts of this node: make
# them shared so that what is mounted below them later still shows.
mount --make-rshared /

# The engine answers on its usual socket (for `docker exec <node> docker ...`) and on one in
# /run/miniswan-swarm, a folder of the host (for the cluster tool and the tests).
mkdir -p /run/miniswan-swarm
rm -f /run/miniswan-swarm/docker.sock
exec dockerd \
  --host=unix:///var/run/docker.sock \
  --host=unix:///run/miniswan-swarm/docker.sock \
  --log-level=warn \
  "$@"
