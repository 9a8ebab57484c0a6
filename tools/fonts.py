"""A font with Chinese characters, which the Chinese edition's charts and the browser test need.

Without one, matplotlib draws Chinese labels as empty boxes and warns once per missing character on stderr, so every
chart cell of ``notebooks/zh/`` fails under nbval ("Unexpected output fields: stderr"), and Chromium draws a Chinese
reply as boxes. :func:`ensure_chinese_font` runs before the tests: it finds one, or installs Debian's
``fonts-wqy-zenhei`` when it runs as root with apt-get, or stops with the command to run.
"""

from __future__ import annotations

import os
import shutil
import subprocess

CJK_FONT_PACKAGE = "fonts-wqy-zenhei"  # 10 MB; fonts-noto-cjk works too but is about ten times larger
HINT = (
    "The Chinese edition's charts and the browser test need a font with Chinese characters, and none is installed. "
    "Install one with\n"
    f"    sudo apt-get install -y --no-install-recommends {CJK_FONT_PACKAGE}   (Debian/Ubuntu; or fonts-noto-cjk)\n"
    "then run the tests again.")


class MissingFont(RuntimeError):
    """No font with Chinese characters, and none could be installed; the message says what to run."""


def run_logged(command: list[str], problems: list[str], prefix: str, timeout: float = 900) -> bool:
    """Run ``command``, print the last lines of its output after ``prefix``; on failure add a line to ``problems``."""
    print(f"{prefix} $ {' '.join(command)}", flush=True)
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    except (OSError, subprocess.TimeoutExpired) as exc:
        problems.append(f"{' '.join(command)}: {exc}")
        return False
    tail = (result.stdout + result.stderr).strip().splitlines()[-4:]
    for line in tail:
        print(f"{prefix}   {line}", flush=True)
    if result.returncode != 0:
        problems.append(f"{' '.join(command)} exited with {result.returncode}: {' | '.join(tail)}")
    return result.returncode == 0


def root_with_apt() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get") is not None


def apt_install(packages: list[str], problems: list[str], prefix: str) -> bool:
    """``apt-get install`` as root, with ``apt-get update`` and a second try when the package lists are stale."""
    lock_wait = ["-o", "DPkg::Lock::Timeout=300"]
    command = ["apt-get", *lock_wait, "install", "-y", "--no-install-recommends", *packages]
    if run_logged(command, problems, prefix):
        return True
    return run_logged(["apt-get", *lock_wait, "update"], problems, prefix) and run_logged(command, problems, prefix)


def ensure_chinese_font(prefix: str = "[test]") -> str:
    """The font matplotlib will draw Chinese with, installing one first if there is none and we may."""
    from helpers.display.words import chinese_font

    font = chinese_font()
    if font:
        return font
    problems: list[str] = []
    if root_with_apt():
        print(f"{prefix} No font with Chinese characters: installing Debian's {CJK_FONT_PACKAGE} with apt-get.",
              flush=True)
        apt_install([CJK_FONT_PACKAGE], problems, prefix)
        font = chinese_font()
        if font:
            return font
    raise MissingFont(HINT + "\n\nWhat was tried:\n" + "\n".join(f"- {p}" for p in problems or ["nothing"]))
