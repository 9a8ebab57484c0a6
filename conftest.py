"""The repository's pytest set-up, for the unit tests and the notebooks alike: the numerics plugin decides which
notebook outputs nbval compares (tools/nbval_numerics.py)."""

pytest_plugins = ["tools.nbval_numerics"]
