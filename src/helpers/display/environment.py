"""Checks for the environment-check notebook: installed versions against the pins, and the machine."""

from __future__ import annotations

import os
import platform
from importlib import metadata

import pandas as pd

from helpers.catalogue import text

PROJECT = "qwen-chat-workbook"


def pinned_requirements() -> dict[str, str]:
    """The exact pins this project declares for this platform, as {distribution name: version}."""
    from packaging.requirements import Requirement

    pins = {}
    for line in metadata.requires(PROJECT) or []:
        requirement = Requirement(line)
        if "extra ==" in line or (requirement.marker is not None and not requirement.marker.evaluate()):
            continue  # an optional extra, or a package for other platforms only
        exact = [spec.version for spec in requirement.specifier if spec.operator == "=="]
        if exact:
            pins[requirement.name] = exact[0]
    return pins


def version_table(pins: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per pinned package: the pin, what is installed, and whether they agree.

    The status is ``ok``, or the fix to run in the notebook's language (``missing: run make lab``,
    ``differs: pip install NAME==VERSION``); ``ok`` is the same word in every language, so code can compare it.
    """
    pins = pinned_requirements() if pins is None else pins
    rows = []
    for name, wanted in pins.items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed is None:
            status = text("env.missing")
        elif installed.split("+")[0] == wanted:
            status = "ok"
        else:
            status = text("env.differs", name=name, version=wanted)
        rows.append({"package": name, "pinned": wanted, "installed": installed or "-", "status": status})
    return pd.DataFrame(rows, columns=["package", "pinned", "installed", "status"])


def version_summary(versions: pd.DataFrame) -> str:
    """The package table in a sentence: all pinned versions installed, or the fixes to run, one per line."""
    problems = versions[versions["status"] != "ok"]
    if problems.empty:
        return text("env.summary.ok", count=len(versions))
    return "\n".join([text("env.summary.fix"), *(f"   {fix}" for fix in problems["status"])])


def machine_table() -> pd.DataFrame:
    """Python, CPU cores, RAM and torch's thread count: what decides how fast the lessons run."""
    import psutil
    import torch

    memory = psutil.virtual_memory()
    rows = {
        "python": platform.python_version(),
        "operating system": f"{platform.system()} {platform.machine()}",
        "CPU cores (usable)": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "torch threads": torch.get_num_threads(),
        "RAM total (GiB)": round(memory.total / 2**30, 1),
        "RAM available (GiB)": round(memory.available / 2**30, 1),
        "CUDA GPU": torch.cuda.is_available(),
    }
    return pd.DataFrame({"value": {k: str(v) for k, v in rows.items()}})
