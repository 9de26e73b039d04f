"""`nox -s swarm`: a Docker Swarm cluster of Docker-in-Docker nodes on this machine, with the
stack's hub on its manager and user servers as Swarm services on its workers (docs/swarm.md).

One module per job: names.py (what is created, all named miniswan-swarm*), run.py (running
docker), nodes.py (node image, node containers, their engines), images.py (the stack's images
handed to the nodes), cluster.py (swarm init and join), manager.py (hub, proxy and stand-ins
on the manager), and up.py (the whole, in order, and its teardown).
"""
