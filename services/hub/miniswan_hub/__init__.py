"""mini-SWAN's additions to JupyterHub: the spawner with SWAN's spawn form."""
