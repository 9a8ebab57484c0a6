"""A pytest plugin for the notebooks: the numerics mode (see :mod:`helpers.numerics`) decides whether nbval compares
generated text.

Loaded by ``-p helpers.nbval_numerics`` (pyproject.toml's pytest options). It resolves the mode once per test run,
says at the top of the run which mode it is in and why, and in ``native`` mode keeps nbval from comparing the outputs
of cells tagged ``generated-text``: those cells still run, and their own asserts (invariants that hold on any machine)
still fail the test when they break.
"""

from __future__ import annotations

from . import numerics

_plan: numerics.NumericsPlan | None = None


def plan() -> numerics.NumericsPlan:
    global _plan
    if _plan is None:
        resolved = numerics.current_plan()
        numerics.apply(resolved)  # before torch is imported here, and for the kernels nbval starts
        if resolved.mode == "reference":
            resolved = numerics.check_capability(resolved, numerics.torch_capability())
            numerics.apply(resolved)
        _plan = resolved
    return _plan


def pytest_configure(config):
    plan()


def pytest_report_header(config):
    return [plan().summary(), f"CPU: {numerics.avx_flags()}; torch kernels: {numerics.torch_capability()}"]


def pytest_collection_modifyitems(config, items):
    if plan().compares_generated_text:
        return
    for item in items:
        cell = getattr(item, "cell", None)
        if cell is not None and numerics.GENERATED_TAG in cell.get("metadata", {}).get("tags", []):
            item.options["check"] = False
