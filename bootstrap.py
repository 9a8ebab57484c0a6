"""Set up the workbook's virtual environment, then hand over to ``python -m helpers``.

Usage:  python3 bootstrap.py lab | test | prepare | [any other ``helpers`` command]

Standard library only, because it runs before anything is installed. It

1. creates ``.venv`` if it is missing,
2. installs the pinned dependencies and this project (editable) unless the ``pyproject.toml`` they came from is
   unchanged since the last install (a stamp file inside ``.venv`` remembers its hash),
3. runs ``.venv``'s ``python -m helpers <command>``, which prepares the model and starts JupyterLab or the tests.

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


def venv_python() -> Path:
    if os.name == "nt":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


def wanted_stamp() -> str:
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def ensure_venv() -> None:
    if not venv_python().exists():
        print(f"[setup] creating the virtual environment {VENV.name}/ ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    if STAMP.exists() and STAMP.read_text().strip() == wanted_stamp():
        print(f"[setup] {VENV.name}/ is up to date with pyproject.toml: nothing to install.", flush=True)
        return
    started = time.monotonic()
    print("[setup] installing the pinned dependencies (about a minute the first time) ...", flush=True)
    pip = [str(venv_python()), "-m", "pip", "--disable-pip-version-check"]
    subprocess.run(pip + ["install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run(pip + ["install", "--progress-bar", "on", "-e", str(ROOT)], check=True)
    STAMP.write_text(wanted_stamp() + "\n")
    print(f"[setup] dependencies installed in {time.monotonic() - started:.0f} s.", flush=True)


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    try:
        ensure_venv()
    except subprocess.CalledProcessError as exc:
        print(f"[setup] failed: {' '.join(map(str, exc.cmd))} exited with {exc.returncode}. "
              "Read pip's message above; delete .venv and run again to start from scratch.", file=sys.stderr)
        return exc.returncode or 1
    return subprocess.call([str(venv_python()), "-m", "helpers", *argv], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
