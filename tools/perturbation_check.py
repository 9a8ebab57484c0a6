"""Which cells depend on the CPU's rounding? Found by experiment: run the notebooks against a perturbed model.

    python -m tools.perturbation_check                       # the English notebooks (the Chinese ones share the code)
    python -m tools.perturbation_check notebooks/12_sampling.ipynb --scale 0.01

Every process of the run loads models whose linear layers carry seeded noise (``tools/perturb/sitecustomize.py``),
a stand-in for another CPU's kernels, and nbval runs the notebooks in the strict (``reference``) mode. Then:

- an **untagged** cell whose output changed must be tagged ``cpu-dependent`` (in native mode it would fail);
- a **tagged** cell that raised must get an assert that holds on any machine, or lose the assert that does not;
- a **tagged** cell whose output did not change is listed: the tag may not be needed (or the noise too small to
  show it).

It exits 0 when the first two lists are empty, and prints all three. Run it after changing a lesson. It takes about
as long as running the notebooks.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from . import ROOT
from .nbval_numerics import CPU_TAG, tags
from .numerics_mode import REASON_VARIABLE, RESOLVED_VARIABLE

PERTURB_DIR = Path(__file__).resolve().parent / "perturb"
DEFAULT_SCALE = 0.02

# Loaded into the pytest run with -p: writes each notebook cell's outcome to the file WORKBOOK_OUTCOMES names.
RECORDER = '''
import json, os
_outcomes = {}
def pytest_runtest_makereport(item, call):
    if call.when != "call" or not hasattr(item, "cell"):
        return
    key = f"{item.path.name}::{item.cell_num}"
    if call.excinfo is None:
        _outcomes[key] = "same"
    else:
        text = str(call.excinfo.value)
        _outcomes[key] = "changed" if text.startswith("Cell outputs differ") else "raised: " + text[:300]
def pytest_sessionfinish(session):
    with open(os.environ["WORKBOOK_OUTCOMES"], "w") as f:
        json.dump(_outcomes, f)
'''


def tagged_cells(path: Path) -> dict[int, bool]:
    """nbval's code-cell numbers of a notebook, each with whether it carries the tag."""
    notebook = nbformat.read(path, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    return {i: CPU_TAG in tags(c) for i, c in enumerate(code)}


def run(paths: list[Path], scale: float) -> dict[str, str]:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "outcome_recorder.py").write_text(RECORDER)
        outcomes = Path(tmp) / "outcomes.json"
        env = {**os.environ, "WORKBOOK_PERTURB": str(scale), "WORKBOOK_OUTCOMES": str(outcomes),
               RESOLVED_VARIABLE: "reference", REASON_VARIABLE: f"perturbation check, noise scale {scale}",
               "PYTHONPATH": os.pathsep.join([str(PERTURB_DIR), tmp, os.environ.get("PYTHONPATH", "")]),
               "WORKBOOK_MODEL": "packaged", "HF_HUB_OFFLINE": "1"}
        subprocess.run([sys.executable, "-m", "pytest", "-q", "--tb=no", "-p", "outcome_recorder", "--no-header", "-rN",
                        *map(str, paths)], cwd=ROOT, env=env)
        return json.loads(outcomes.read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--scale", type=float, default=DEFAULT_SCALE,
                        help=f"noise, in units of each layer's weight spread (default {DEFAULT_SCALE})")
    args = parser.parse_args(argv)
    paths = [p.resolve() for p in args.notebooks] or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    started = time.monotonic()
    outcomes = run(paths, args.scale)
    must_tag, raised, unchanged, confirmed = [], [], [], []
    for path in paths:
        for cell, tagged in tagged_cells(path).items():
            outcome = outcomes.get(f"{path.name}::{cell}", "not run")
            name = f"{path.name} cell {cell}"
            if outcome.startswith("raised") or outcome == "not run":
                raised.append(f"{name}: {outcome}")
            elif outcome == "changed":
                (confirmed if tagged else must_tag).append(name)
            elif tagged:
                unchanged.append(name)
    print(f"\n[perturbation check] noise scale {args.scale}, {len(paths)} notebook(s), "
          f"{time.monotonic() - started:.0f} s")
    print(f"  tagged {CPU_TAG!r} and changed (as they should): {len(confirmed)}")
    for title, names in ((f"changed but not tagged {CPU_TAG!r} (tag them)", must_tag),
                         ("raised or did not run (fix the cell or its assert)", raised),
                         (f"tagged {CPU_TAG!r} but unchanged under this noise", unchanged)):
        print(f"  {title}: {len(names)}")
        for name in names:
            print(f"    - {name}")
    return 1 if must_tag or raised else 0


if __name__ == "__main__":
    sys.exit(main())
