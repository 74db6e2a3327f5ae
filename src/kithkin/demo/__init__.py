"""Synthetic demo data: a deterministic generator of a realistic practice (see generator.py).

Every person here is invented. Nothing in this package is used outside demos, tests and
benchmarks."""
