"""What maintainers and the tests run, and lessons never import: ``python -m tools test | store | ...``.

Not installed with the learner's package (``helpers``): run it from the repository root.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the repository root: every tool runs from there
