"""A pytest plugin for the notebooks (registered by the repository's ``conftest.py``): what nbval compares.

- Cells tagged ``timing`` print how long something took: never compared (they differ from run to run).
- Cells tagged ``cpu-dependent`` print what the model's floating-point arithmetic computed (generated text,
  probabilities, logits, counts derived from them): compared in the ``reference`` mode, run but not compared in the
  ``native`` mode, where their own asserts still have to hold. :mod:`tools.numerics_mode` decides the mode by
  measurement, once per run, and the header says which and why.
"""

from __future__ import annotations

from . import numerics_mode

CPU_TAG = "cpu-dependent"
TIMING_TAG = "timing"

_plan: numerics_mode.Plan | None = None


def plan() -> numerics_mode.Plan:
    global _plan
    if _plan is None:
        _plan = numerics_mode.plan()
        numerics_mode.apply(_plan)  # for the kernels nbval starts
    return _plan


def tags(cell) -> list[str]:
    """A notebook cell's tags (a cell as nbformat or json reads it)."""
    return cell.get("metadata", {}).get("tags", [])


def cell_tags(item) -> list[str]:
    cell = getattr(item, "cell", None)
    return [] if cell is None else tags(cell)


def pytest_configure(config):
    if config.getoption("nbval", default=False):
        plan()


def pytest_report_header(config):
    from helpers.numerics import avx_flags, torch_capability

    lines = [f"CPU: {avx_flags()}; torch kernels: {torch_capability()}"]
    if _plan is not None:
        lines.insert(0, _plan.summary())
    return lines


def pytest_collection_modifyitems(config, items):
    for item in items:
        tags = cell_tags(item)
        if TIMING_TAG in tags or (CPU_TAG in tags and not plan().compares_cpu_dependent):
            item.options["check"] = False
