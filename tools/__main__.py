"""Maintainers' commands: ``python -m tools test | store | probe | perturbation-check``.

- ``test``     what ``make test`` runs after setup: prepare the packaged model offline, make sure a font with Chinese
  characters is there (:mod:`tools.fonts`), decide the numerics mode by measurement (:mod:`tools.numerics_mode`),
  then pytest: unit tests and every notebook of both editions under nbval,
  on two workers. Extra arguments go to pytest, e.g. ``python -m tools test -k messages``.
- ``store``    re-execute notebooks (all, or the ones named) top to bottom in a fresh kernel and save their outputs,
  on a quiet machine only (:mod:`tools.store`); storing them all also re-records the probe's reference.
- ``probe``    measure this machine's numerics against the reference (:mod:`tools.numerics_probe`).
- ``perturbation-check``  which cells change under another CPU's rounding (:mod:`tools.perturbation_check`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from . import ROOT


def offline_packaged(prefix: str) -> None:
    """Tests and stored notebooks always use the offline model and never touch the network, and the Chinese edition's
    charts need a font with Chinese characters (:class:`tools.fonts.MissingFont` when there is none to be had)."""
    from helpers.__main__ import prepare

    from .fonts import ensure_chinese_font

    os.environ["WORKBOOK_MODEL"] = "packaged"
    os.environ["HF_HUB_OFFLINE"] = "1"
    prepare(record=False)
    print(f"{prefix} Chinese charts drawn with {ensure_chinese_font(prefix)}", flush=True)


def test(args: list[str]) -> int:
    from . import numerics_mode

    offline_packaged("[test]")
    started = time.monotonic()
    try:
        plan = numerics_mode.plan()
    except numerics_mode.ModeError as exc:
        print(f"[error] {exc}", file=sys.stderr)
        return 2
    numerics_mode.apply(plan)
    print(f"[test] {plan.summary()} ({time.monotonic() - started:.0f} s)", flush=True)
    # Two workers, each file (a notebook's cells run in order in one kernel) on one worker. Each kernel keeps torch's
    # own thread count, since the probe measured with it (one thread rounds bfloat16 differently); OpenMP threads
    # that sleep instead of spinning while they wait keep two processes' threads from starving each other.
    workers = [] if "-n" in args or any(a.startswith("--numprocesses") for a in args) else ["-n", "2", "--dist", "loadfile"]
    env = {"OMP_WAIT_POLICY": "PASSIVE", **os.environ}
    return subprocess.call([sys.executable, "-m", "pytest", *workers, *args], cwd=ROOT, env=env)


def main(argv: list[str] | None = None) -> int:
    from .fonts import MissingFont

    argv = sys.argv[1:] if argv is None else argv
    command, rest = (argv[0], argv[1:]) if argv else ("", [])
    try:
        if command == "test":
            return test(rest)
        if command == "store":
            from .store import main as store

            offline_packaged("[store]")
            return store(rest)
    except MissingFont as exc:
        print(f"[error] {exc}", file=sys.stderr)
        return 2
    if command == "probe":
        from .numerics_probe import main as probe

        return probe(rest)
    if command == "perturbation-check":
        from .perturbation_check import main as check

        return check(rest)
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
