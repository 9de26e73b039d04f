"""Fast unit tests of the repository's own Python outside the extension (no Docker).

The hub's add-on package lives in services/hub (it is copied into the hub image): the root
pyproject.toml's pytest `pythonpath` puts that folder on the import path.
"""
