"""The repository's pytest set-up, for the unit tests and the notebooks alike: what nbval compares
(tools/nbval_numerics.py), and the slowest files first (tools/slow_first.py)."""

pytest_plugins = ["tools.nbval_numerics", "tools.slow_first"]
