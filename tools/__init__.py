"""What maintainers and the tests run, and lessons never import: ``python -m tools test | store | ...``.

Not installed with the learner's package (``helpers``): run it from the repository root.
"""
