"""Cluster tests: a single-node SLURM cluster on localhost (a package, so its conftest.py does not shadow tests/conftest.py)."""
