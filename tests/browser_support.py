"""A Chromium for the browser test: find one, or install one, or fail saying what to install.

Order of attempts: a system Chromium (``/usr/bin/chromium`` or ``chromium`` on PATH); as root with apt-get, Debian's
``chromium``, ``fonts-liberation`` and ``fonts-wqy-zenhei`` packages; Playwright's own download (``python -m playwright
install chromium``). The browser test never skips: without a browser it fails with the instruction below.

Chinese text needs a CJK font: Debian's Chromium comes with Latin fonts only and draws Chinese as empty boxes, so a
screenshot of a Chinese reply would prove nothing. :func:`ensure_cjk_font` checks ``fc-list :lang=zh``, installs
``fonts-wqy-zenhei`` as root with apt-get, and otherwise fails with the command to run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tools.fonts import CJK_FONT_PACKAGE, MissingFont, apt_install, ensure_chinese_font, root_with_apt, run_logged

APT_PACKAGES = ["chromium", "fonts-liberation", CJK_FONT_PACKAGE]
INSTALL_HINT = (
    "The browser test needs Chromium. Install it with\n"
    f"    sudo apt-get install -y --no-install-recommends {' '.join(APT_PACKAGES)}   (Debian/Ubuntu)\n"
    "or let Playwright download its own build with\n"
    "    .venv/bin/python -m playwright install chromium\n"
    "then run the tests again.")
CJK_FONT_HINT = (
    "The browser test sends a Chinese message, and Chromium draws Chinese as empty boxes without a CJK font, but "
    "`fc-list :lang=zh` finds none. Install one with\n"
    f"    sudo apt-get install -y --no-install-recommends {CJK_FONT_PACKAGE}   (Debian/Ubuntu; or fonts-noto-cjk)\n"
    "then run the tests again.")

# Flags that keep Chromium off the network: every host name except 127.0.0.1 fails to resolve, and the background
# services (updates, sync, translation, metrics...) are switched off. --disable-dev-shm-usage because containers
# often have a tiny /dev/shm.
CHROMIUM_ARGS = [
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-sync",
    "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
    "--metrics-recording-only",
    "--no-default-browser-check",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--disable-gpu",
]


def system_chromium() -> str | None:
    """The path of an installed Chromium, or None."""
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def playwright_chromium() -> str | None:
    """The Chromium that ``playwright install chromium`` downloaded, or None."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        path = playwright.chromium.executable_path
    return path if path and os.path.isfile(path) else None


def cjk_fonts() -> list[str]:
    """The font families fontconfig (which Chromium uses) offers for Chinese: ``fc-list :lang=zh family``."""
    if shutil.which("fc-list") is None:
        return []
    result = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True)
    return sorted({line.strip() for line in result.stdout.splitlines() if line.strip()})


def ensure_cjk_font() -> list[str]:
    """The installed CJK font families, installing ``fonts-wqy-zenhei`` if there are none and we may; else fail."""
    found = cjk_fonts()
    if found:
        return found
    try:
        ensure_chinese_font("[browser]")  # the one installer make test runs first, here when pytest runs alone
    except MissingFont as exc:
        pytest.fail(str(exc), pytrace=False)
    return cjk_fonts() or pytest.fail(CJK_FONT_HINT, pytrace=False)


def ensure_chromium() -> str:
    """A Chromium executable for Playwright, installing one if needed; fails the test if none can be had."""
    found = system_chromium()
    if found:
        return found
    problems: list[str] = []
    if root_with_apt():
        print(f"[browser] No Chromium found: installing Debian's {' and '.join(APT_PACKAGES)} with apt-get.",
              flush=True)
        if apt_install(APT_PACKAGES, problems, "[browser]"):
            found = system_chromium()
            if found:
                print(f"[browser] installed {found}", flush=True)
                return found
    found = playwright_chromium()
    if found:
        return found
    print("[browser] Trying Playwright's own Chromium download.", flush=True)
    if run_logged([sys.executable, "-m", "playwright", "install", "chromium"], problems, "[browser]"):
        found = playwright_chromium()
        if found:
            return found
    pytest.fail(INSTALL_HINT + "\n\nWhat was tried:\n" + "\n".join(f"- {p}" for p in problems or ["nothing"]),
                pytrace=False)
