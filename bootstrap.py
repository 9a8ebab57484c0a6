"""Set up the workbook's virtual environment, then hand over to ``python -m helpers``.

Usage:  python3 bootstrap.py lab | restore LESSON | test | prepare | [any other ``helpers`` or ``tools`` command]

Standard library only, because it runs before anything is installed. It

1. creates ``.venv`` if it is missing,
2. installs the pinned dependencies and this project (editable) unless the ``pyproject.toml`` they came from is
   unchanged since the last install (a stamp file inside ``.venv`` remembers its hash),
3. runs ``.venv``'s ``python -m helpers lab`` (prepare the model, make the learner's working copy ``my-work/`` on
   first start, start JupyterLab there), ``python -m helpers restore 06`` (one lesson of the copy back as published)
   or, for the maintainers' commands (``test``, ``store``, ...), ``python -m tools <command>`` from the repository
   root.

``make lab`` and ``make test`` are thin wrappers around this file, so a user without make (Windows, say) runs
``python bootstrap.py lab`` instead.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("WORKBOOK_VENV", ROOT / ".venv"))
STAMP = VENV / ".workbook-installed"
MAINTAINER_COMMANDS = ("test", "store", "probe", "perturbation-check")


def venv_python() -> Path:
    if os.name == "nt":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


def wanted_stamp(extras: str) -> str:
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes())
    digest.update(sys.version.encode())
    digest.update(extras.encode())
    return digest.hexdigest()


def ensure_venv(extras: str = "") -> None:
    """``extras``: ``"[test]"`` for the maintainers' commands (the test runners), ``""`` for a learner's."""
    if not venv_python().exists():
        print(f"[setup] creating the virtual environment {VENV.name}/ ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    installed = STAMP.read_text().split() if STAMP.exists() else []
    if wanted_stamp(extras) in installed or (not extras and wanted_stamp("[test]") in installed):
        print(f"[setup] {VENV.name}/ is up to date with pyproject.toml: nothing to install.", flush=True)
        return
    started = time.monotonic()
    print("[setup] installing the pinned dependencies (about a minute the first time) ...", flush=True)
    pip = [str(venv_python()), "-m", "pip", "--disable-pip-version-check"]
    subprocess.run(pip + ["install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run(pip + ["install", "--progress-bar", "on", "-e", f"{ROOT}{extras}"], check=True)
    STAMP.write_text(wanted_stamp(extras) + "\n")
    print(f"[setup] dependencies installed in {time.monotonic() - started:.0f} s.", flush=True)


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    maintainer = argv[0] in MAINTAINER_COMMANDS
    try:
        extras = ",".join(["test", *filter(None, os.environ.get("WORKBOOK_TEST_EXTRAS", "").split(","))])
        ensure_venv(f"[{extras}]" if maintainer else "")   # the hosted CI adds server-test (docs/maintaining.md)
    except subprocess.CalledProcessError as exc:
        print(f"[setup] failed: {' '.join(map(str, exc.cmd))} exited with {exc.returncode}. "
              "Read pip's message above; delete .venv and run again to start from scratch.", file=sys.stderr)
        return exc.returncode or 1
    package = "tools" if maintainer else "helpers"
    return subprocess.call([str(venv_python()), "-m", package, *argv], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
