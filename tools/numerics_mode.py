"""Which outputs ``make test`` compares: decided once per run, by measurement (:mod:`tools.numerics_probe`).

- ``reference``: every stored output is compared, the cells tagged ``cpu-dependent`` included;
- ``native``: cells tagged ``cpu-dependent`` run and their own asserts (what holds on any machine) must pass, but
  their outputs are not compared.

``WORKBOOK_NUMERICS`` chooses: ``auto`` (the default) runs the probe and picks ``reference`` when this machine
reproduces every format's reference values, ``native`` otherwise; ``reference`` or ``native`` forces a mode (the
probe still runs for ``reference``, so the header says what to expect). The resolved mode is passed to child
processes in ``WORKBOOK_NUMERICS_RESOLVED``, so it is resolved once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass

from . import ROOT
from .numerics_probe import FormatVerdict

MODE_VARIABLE = "WORKBOOK_NUMERICS"
MODES = ("auto", "reference", "native")
RESOLVED_VARIABLE = "WORKBOOK_NUMERICS_RESOLVED"
REASON_VARIABLE = "WORKBOOK_NUMERICS_REASON"


class ModeError(ValueError):
    pass


@dataclass(frozen=True)
class Plan:
    mode: str  # "reference" or "native"
    reason: str

    @property
    def compares_cpu_dependent(self) -> bool:
        return self.mode == "reference"

    def summary(self) -> str:
        what = ("every stored output compared" if self.compares_cpu_dependent else
                "cells tagged 'cpu-dependent' run their own asserts, their outputs are not compared")
        return f"numerics: {self.mode} ({what}). {self.reason}"


def run_probe() -> list[FormatVerdict]:
    """Run :mod:`tools.numerics_probe` in a fresh process (the environment the Jupyter kernels get)."""
    result = subprocess.run([sys.executable, "-m", "tools.numerics_probe", "--json"], cwd=ROOT,
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"the numerics probe failed:\n{result.stderr[-3000:]}")
    return [FormatVerdict(**v) for v in json.loads(result.stdout.strip().splitlines()[-1])]


def plan(environ=None, probe=run_probe) -> Plan:
    """Resolve ``WORKBOOK_NUMERICS`` into a :class:`Plan`, running the probe where the mode depends on it."""
    environ = os.environ if environ is None else environ
    resolved = environ.get(RESOLVED_VARIABLE)
    if resolved in ("reference", "native"):
        return Plan(resolved, environ.get(REASON_VARIABLE, ""))
    wanted = environ.get(MODE_VARIABLE, "auto").strip().lower() or "auto"
    if wanted not in MODES:
        raise ModeError(f"{MODE_VARIABLE}={wanted!r} is not understood: use auto (the default: measure), "
                        "reference (compare every stored output) or native (do not compare cpu-dependent cells).")
    if wanted == "native":
        return Plan("native", f"{MODE_VARIABLE}=native: the probe was not run.")
    verdicts = probe()
    measured = "Probe: " + "; ".join(v.line() for v in verdicts) + "."
    if wanted == "reference":
        return Plan("reference", f"{MODE_VARIABLE}=reference. {measured}")
    return Plan("reference" if all(v.reproduced for v in verdicts) else "native", measured)


def apply(resolved: Plan, environ=None) -> None:
    """Hand the plan to child processes (pytest, and the kernels nbval starts)."""
    environ = os.environ if environ is None else environ
    environ[RESOLVED_VARIABLE] = resolved.mode
    environ[REASON_VARIABLE] = resolved.reason
