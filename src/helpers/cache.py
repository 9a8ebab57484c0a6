"""Building a cache folder atomically: under a lock, in a temporary sibling, renamed into place when complete.

A folder counts as complete only when its ``workbook-manifest.json`` is present and every file it lists exists
with the listed size; the manifest is written last, so an interrupted build never looks complete.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

from filelock import FileLock

MANIFEST = "workbook-manifest.json"


def write_manifest(folder: Path, **info) -> dict:
    """Record every file in ``folder`` with its size, plus ``info``; call it as the build's last step."""
    files = {p.name: p.stat().st_size for p in sorted(folder.iterdir()) if p.is_file() and p.name != MANIFEST}
    manifest = {"format": 1, **info, "files": files}
    tmp = folder / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, folder / MANIFEST)
    return manifest


def read_manifest(folder: Path) -> dict:
    return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))


def check_folder(folder: Path) -> str | None:
    """Return None when ``folder`` is a complete cache, else a sentence saying what is wrong with it."""
    if not folder.is_dir():
        return "it does not exist"
    try:
        manifest = read_manifest(folder)
        files = manifest["files"]
    except FileNotFoundError:
        return f"it has no {MANIFEST} (an interrupted or foreign build)"
    except (ValueError, KeyError, TypeError) as exc:
        return f"its {MANIFEST} is unreadable ({exc})"
    for name, size in files.items():
        path = folder / name
        if not path.is_file():
            return f"{name} is missing"
        if path.stat().st_size != size:
            return f"{name} has {path.stat().st_size} bytes instead of {size}"
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


def build_atomically(final: Path, build: Callable[[Path], None], *, log: Callable[[str], None] = print) -> Path:
    """Make sure ``final`` is a complete cache folder, building it with ``build(tmp_folder)`` if it is not.

    ``build`` fills an empty temporary folder next to ``final`` and must end with :func:`write_manifest`. A lock
    keeps two processes (two kernels, say) from building at once: the second waits, then finds the folder ready.
    A partial or corrupt ``final`` is reported through ``log`` and rebuilt. On any error the temporary folder is
    removed and ``final`` is left as it was.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(final) + ".lock"):
        problem = check_folder(final)
        if problem is None:
            return final
        if final.exists():
            log(f"The cache {final.name} is not usable: {problem}. Rebuilding it.")
        for pattern in (".tmp-*", ".old-*"):  # left by a build that was killed; we hold the lock
            for stale in final.parent.glob(final.name + pattern):
                shutil.rmtree(stale, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix=final.name + ".tmp-", dir=final.parent))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; the finished cache follows the umask
        try:
            build(tmp)
            problem = check_folder(tmp)
            if problem is not None:
                raise RuntimeError(f"the freshly built cache is incomplete: {problem}")
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
