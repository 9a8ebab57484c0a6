"""Where the workbook keeps its model files (the converted model, the joined GGUF) and its record of the chosen model, and how it writes files there."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

PROJECT_NAME = "qwen-chat-workbook"
CHOICE_FILE_NAME = ".workbook-model.json"


def model_files_dir() -> Path:
    """``$WORKBOOK_MODEL_FILES``, else ``$XDG_CACHE_HOME/qwen-chat-workbook``, else ``~/.cache/qwen-chat-workbook``."""
    if os.environ.get("WORKBOOK_MODEL_FILES"):
        return Path(os.environ["WORKBOOK_MODEL_FILES"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / PROJECT_NAME


def project_root() -> Path | None:
    """The checkout this package was installed from (editable install), or None for a plain install."""
    candidate = Path(__file__).resolve().parents[2]
    pyproject = candidate / "pyproject.toml"
    if pyproject.is_file() and f'name = "{PROJECT_NAME}"' in pyproject.read_text(encoding="utf-8"):
        return candidate
    return None


def choice_file() -> Path:
    """The untracked file that records which model this checkout's notebooks use."""
    root = project_root()
    return (root if root is not None else model_files_dir()) / CHOICE_FILE_NAME


@contextmanager
def atomic_path(path: str | os.PathLike):
    """A temporary file's path in ``path``'s folder, for the block to write; when the block ends without an error, one
    rename puts it in ``path``'s place, so that a reader (or a process killed half-way) never sees a half-written file.
    On an error the temporary file is removed."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` through :func:`atomic_path`."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
