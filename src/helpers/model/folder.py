"""Building a model folder atomically: under a lock, in a temporary sibling, renamed into place when complete.

A folder counts as complete only when its ``workbook-manifest.json`` is present, every file it lists exists with
the listed size, and the manifest carries the values the caller expects (a format version, say, so that a
folder written by an older workbook is rebuilt); the manifest is written last, so an interrupted build never looks
complete. Finished files get the usual modes (``0o666`` and ``0o777`` less the umask), so a model folder shared on a
classroom server is readable by its other users.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

from filelock import FileLock, Timeout

from helpers.catalogue import text
from helpers.model.paths import atomic_write_text
from helpers.display.progress import ticking

MANIFEST = "workbook-manifest.json"


def write_manifest(folder: Path, **info) -> dict:
    """Record every file in ``folder`` with its size, plus ``info``; call it as the build's last step."""
    files = {p.name: p.stat().st_size for p in sorted(folder.iterdir()) if p.is_file() and p.name != MANIFEST}
    manifest = {"format": 1, **info, "files": files}
    atomic_write_text(folder / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    return manifest


def read_manifest(folder: Path) -> dict:
    return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))


def check_folder(folder: Path, expect: dict | None = None, *, every_file: bool = False) -> str | None:
    """Return None when ``folder`` is a complete model folder, else a sentence saying what is wrong with it.

    ``expect`` lists manifest entries that must have exactly these values, e.g. ``{"format_version": 2}``: a folder
    built by an older version of the workbook lacks the entry or has another value, and counts as not usable.
    Every listed file must have its size; the contents are checked (JSON parses, the safetensors header parses) for
    the files changed since the manifest was written, or for all of them with ``every_file``. The manifest is written
    last, so after a build that is none: a notebook's load then skips parsing the 11 MB tokenizer.json twice (about a
    second), and a file damaged or edited later is still checked.
    """
    if not folder.is_dir():
        return "it does not exist"
    try:
        manifest = read_manifest(folder)
        files = manifest["files"]
        if not isinstance(files, dict):
            raise TypeError(f"'files' is {type(files).__name__}, not a dict")
    except FileNotFoundError:
        return f"it has no {MANIFEST} (an interrupted or foreign build)"
    except (ValueError, KeyError, TypeError) as exc:
        return f"its {MANIFEST} is unreadable ({type(exc).__name__}: {exc})"
    for key, wanted in (expect or {}).items():
        found = manifest.get(key)
        if found != wanted:
            return (f"it was written by another version of the workbook ({key} is "
                    f"{'missing' if found is None else repr(found)}, this version needs {wanted!r})")
    written = (folder / MANIFEST).stat().st_mtime_ns
    for name, size in files.items():
        path = folder / name
        if not path.is_file():
            return f"{name} is missing"
        stat = path.stat()
        if stat.st_size != size:
            return f"{name} has {stat.st_size} bytes instead of {size}"
        if not every_file and stat.st_mtime_ns < written:
            continue
        problem = _check_content(path)
        if problem:
            return f"{name} is damaged ({problem})"
    return None


def _check_content(path: Path) -> str | None:
    """Cheap structural checks: JSON files parse, a safetensors header parses."""
    try:
        if path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))
        elif path.suffix == ".safetensors":
            with path.open("rb") as f:
                header_len = int.from_bytes(f.read(8), "little")
                if not 0 < header_len < path.stat().st_size:
                    return "bad header length"
                json.loads(f.read(header_len))
    except (ValueError, UnicodeDecodeError) as exc:
        return str(exc)[:80]
    return None


def build_atomically(final: Path, build: Callable[[Path], None], *, expect: dict | None = None,
                     log: Callable[[str], None] = print, wait_interval: float = 0.5) -> Path:
    """Make sure ``final`` is a complete model folder, building it with ``build(tmp_folder)`` if it is not.

    ``build`` fills an empty temporary folder next to ``final`` and must end with :func:`write_manifest` (including
    the entries of ``expect``, see :func:`check_folder`). A complete folder is returned at once, without a lock, so
    a folder that other users can only read still works. Otherwise a lock keeps two processes (two kernels, say) from
    building at once: the second one logs that another process is preparing the folder, shows a ticking clock
    while it waits, then finds the folder ready. A partial, corrupt or outdated ``final`` is reported through
    ``log`` and rebuilt; readers of the old folder are safe, since the new one replaces it by renames. The finished
    files get the usual modes (``0o666`` less the umask; folders ``0o777`` less the umask). On any error the
    temporary folder is removed and ``final`` is left as it was.
    """
    if check_folder(final, expect) is None:
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    with _locked(final, log, wait_interval):
        problem = check_folder(final, expect)
        if problem is None:
            return final
        if final.exists():
            log(f"The model folder {final.name} is not usable: {problem}. Rebuilding it.")
        for pattern in (".tmp-*", ".old-*"):  # left by a build that was killed; we hold the lock
            for stale in final.parent.glob(final.name + pattern):
                shutil.rmtree(stale, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix=final.name + ".tmp-", dir=final.parent))
        try:
            build(tmp)
            problem = check_folder(tmp, expect, every_file=True)
            if problem is not None:
                raise RuntimeError(f"the freshly built model folder is incomplete: {problem}")
            apply_umask(tmp)  # mkdtemp and the temporary files of some writers are private (0o700, 0o600)
            if final.exists():
                old = final.with_name(f"{final.name}.old-{os.getpid()}")
                os.rename(final, old)
                os.rename(tmp, final)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return final


def current_umask() -> int:
    """The process's umask (reading it means setting it, so it is set straight back)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


def apply_umask(folder: Path) -> None:
    """Give ``folder`` and everything under it the modes of a plain ``open()`` or ``mkdir()``.

    That is ``0o666`` (files) or ``0o777`` (folders) less the umask: with the usual umask 022, ``rw-r--r--`` and
    ``rwxr-xr-x``.
    """
    umask = current_umask()
    for path in [folder, *folder.rglob("*")]:
        if path.is_symlink():
            continue
        os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~umask)


@contextmanager
def _locked(final: Path, log: Callable[[str], None], wait_interval: float):
    """Hold ``final``'s lock; when another process holds it, say so and show a ticking clock while waiting."""
    lock = FileLock(str(final) + ".lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log(text("progress.other_process", name=final.name))
        with ticking(text("progress.waiting"), interval=wait_interval):
            lock.acquire()
    try:
        yield
    finally:
        lock.release()
