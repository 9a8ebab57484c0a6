"""The repository's pytest set-up, for the unit tests and the notebooks alike: what nbval compares
(tools/nbval_numerics.py), and the slowest files first (tools/slow_first.py)."""

pytest_plugins = ["tools.nbval_numerics", "tools.slow_first"]

# The learner's working copy (`make lab`): their own edits, never a test, even under `pytest .`; the published
# lessons are notebooks/ (pyproject's testpaths).
collect_ignore = ["my-work"]
