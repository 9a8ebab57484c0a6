"""Store notebooks: execute each top to bottom in a fresh kernel and save its outputs, on a quiet machine only.

Stored outputs are what a learner reads first, and a timing taken while other work loads the CPU tells them
nothing true (a stored "0.7 tokens per second" once sat beside prose about tens of milliseconds a token). So before
each notebook this waits until the machine is quiet, measures while it runs how much CPU other processes took,
records that in the notebook's metadata (``workbook.other_load``, in cores, with the CPU's flags), and refuses to
save a notebook with ``timing`` cells when the other load was over :data:`MAX_OTHER_LOAD`
(``tests/test_stored_notebooks.py`` fails on a stored one that was). Storing every notebook also re-records the
numerics probe's reference (:mod:`tools.numerics_probe`), since the stored outputs and the probe must come from the
same machine; storing some notebooks first checks with the probe that this machine reproduces that reference.

    python -m tools store                                  # every notebook of every edition
    python -m tools store notebooks/06_generate.ipynb notebooks/zh/06_generate.ipynb
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from . import ROOT
from .nbval_numerics import TIMING_TAG, tags
from .quiet import OtherLoad, wait_for_quiet

MAX_OTHER_LOAD = 0.25  # cores other processes may keep busy, on average, while a notebook with timings runs
QUIET_PERCENT = 10.0  # the whole machine's CPU use (over 3 s) under which a notebook may start
QUIET_WAIT_S = 600


def notebook_paths(args: list[str]) -> list[Path]:
    if args:
        paths = [Path(a).resolve() for a in args]
        for path in paths:
            if path.suffix != ".ipynb" or not path.is_file():
                raise SystemExit(f"{path} is not a notebook file: name .ipynb files, e.g. "
                                 "notebooks/06_generate.ipynb")
        return paths
    folder = ROOT / "notebooks"
    return sorted(folder.glob("[0-9][0-9]_*.ipynb")) + sorted(folder.glob("*/[0-9][0-9]_*.ipynb"))


def has_timings(notebook) -> bool:
    return any(TIMING_TAG in tags(c) for c in notebook.cells)


def store_one(path: Path) -> bool:
    """Execute and save one notebook; ``False`` (and nothing written) if its timings would not be trustworthy."""
    import nbclient
    import nbformat

    from tools.edition import write_notebook
    from helpers.numerics import avx_flags

    notebook = nbformat.read(path, as_version=4)
    if not wait_for_quiet(QUIET_WAIT_S, QUIET_PERCENT):
        print(f"[store] the machine stayed busy for {QUIET_WAIT_S} s; storing anyway, with its load measured",
              flush=True)
    started, load = time.monotonic(), OtherLoad()
    client = nbclient.NotebookClient(notebook, timeout=900, kernel_name="python3", record_timing=False,
                                     resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as exc:
        print(f"[store] {path.name} failed and was not saved:\n{exc}", file=sys.stderr)
        return False
    wall = time.monotonic() - started
    # The kernel has ended and been waited for by now, so its CPU time (and that of anything it started and waited
    # for, notebook 40's server say) is in this process's children times: what is left is other processes'.
    other = load.cores()
    notebook.metadata["workbook"] = {"other_load": round(other, 2), "cpu": avx_flags()}
    rel = path.relative_to(ROOT)
    if has_timings(notebook) and other > MAX_OTHER_LOAD:
        print(f"[store] {rel}: other processes kept {other:.2f} cores busy while it ran; its timing cells would be "
              f"wrong, so it was NOT saved. Stop the other work and store it again.",
              file=sys.stderr, flush=True)
        return False
    write_notebook(notebook, path)
    print(f"[store] {rel}: {wall:.1f} s, other load {other:.2f} cores", flush=True)
    return True


def main(args: list[str]) -> int:
    paths = notebook_paths(args)
    if args:  # some notebooks only: they must come from the machine the others (and the probe's reference) came from
        from .numerics_mode import run_probe

        differing = [v for v in run_probe() if not v.reproduced]
        if differing:
            print("[store] this machine does not reproduce the reference the other stored notebooks come from ("
                  + "; ".join(v.line() for v in differing) + "). Store every notebook here "
                  "(python -m tools store, which also re-records the reference), or store these on that machine.",
                  file=sys.stderr)
            return 1
    total = time.monotonic()
    failed = [p for p in paths if not store_one(p)]
    print(f"[store] {len(paths) - len(failed)} of {len(paths)} notebook(s) stored in "
          f"{time.monotonic() - total:.0f} s.", flush=True)
    if not args and not failed:
        from .numerics_probe import main as probe

        probe(["--record"])
    return 1 if failed else 0
