"""The workbook's words, one catalogue per language: every message a learner reads comes from here.

A catalogue is a dict from a language-neutral key (``"widget.send"``, ``"type.int"``) to a text whose fields in
braces the caller fills in (``"{what}: expected {expected} ids"``). Each language is a package here (``en``, ``zh``)
whose modules each hold one area's ``MESSAGES`` (exercise feedback, the chat widget, setup checks, lesson errors);
:func:`messages` merges them. Every language has every key, with the same fields (``tests/test_catalogue.py``).

Which language? :func:`language` answers, so that the code cells of both editions stay identical:

1. ``WORKBOOK_LANG`` when it is set (``en``, ``zh``, ``zh_CN.UTF-8``...);
2. otherwise the edition whose folder the kernel runs in: JupyterLab and nbval start a notebook's kernel in the
   notebook's own folder, so ``notebooks/zh/`` means Chinese;
3. otherwise English.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import string
from functools import lru_cache
from pathlib import Path

from ..errors import WorkbookError

#: The languages that have a catalogue; the first is the one every other is checked against.
LANGUAGES = ("en", "zh")
DEFAULT = "en"


class CatalogueError(WorkbookError, KeyError):
    """A language or message key the catalogues do not have."""

    def __str__(self) -> str:  # KeyError would print the message in quotes
        return str(self.args[0]) if self.args else ""


def _normalise(value: str) -> str | None:
    """``"zh_CN.UTF-8"`` -> ``"zh"``; ``None`` when the value names no language of the workbook."""
    code = value.strip().lower().replace("-", "_").split(".")[0].split("_")[0]
    return code if code in LANGUAGES else None


def language() -> str:
    """The language the workbook speaks in this process: ``WORKBOOK_LANG``, else the kernel's edition folder."""
    asked = os.environ.get("WORKBOOK_LANG", "").strip()
    if asked:
        chosen = _normalise(asked)
        if chosen is None:
            raise CatalogueError(f"WORKBOOK_LANG={asked!r} is not a language of this workbook: set it to one of "
                                 f"{', '.join(LANGUAGES)}, or unset it to follow the notebook's folder.")
        return chosen
    cwd = Path.cwd()
    if cwd.name in LANGUAGES and cwd.parent.name == "notebooks":
        return cwd.name
    return DEFAULT


@lru_cache(maxsize=None)
def messages(lang: str = DEFAULT) -> dict[str, str]:
    """The whole catalogue of ``lang``: the ``MESSAGES`` of every module in its package, merged."""
    if lang not in LANGUAGES:
        raise CatalogueError(f"no catalogue for {lang!r}: the workbook has {', '.join(LANGUAGES)}")
    package = importlib.import_module(f"{__name__}.{lang}")
    merged: dict[str, str] = {}
    for module in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        area = importlib.import_module(f"{package.__name__}.{module.name}")
        if not isinstance(getattr(area, "MESSAGES", None), dict):
            raise CatalogueError(f"src/helpers/catalogue/{lang}/{module.name}.py has no MESSAGES dict: every module "
                                 f"of a catalogue holds its messages as MESSAGES = {{key: text}}")
        clash = set(merged) & set(area.MESSAGES)
        if clash:
            raise CatalogueError(f"{lang}.{module.name} repeats keys of another module: {sorted(clash)}")
        merged.update(area.MESSAGES)
    return merged


def fields(template: str) -> set[str]:
    """The names in braces that a message fills in: ``"{count:,} ids of {what}"`` -> ``{"count", "what"}``."""
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(template) if name}


def text(key: str, lang: str | None = None, **values) -> str:
    """The message ``key`` in ``lang`` (default: :func:`language`), its fields filled in from ``values``."""
    lang = lang or language()
    catalogue = messages(lang)
    if key not in catalogue:
        raise CatalogueError(f"no message {key!r} in the {lang} catalogue: add it to the MESSAGES of a module in "
                             f"src/helpers/catalogue/{lang}/, and the same key, with the same fields, to every other "
                             f"language ({', '.join(LANGUAGES)})")
    template = catalogue[key]
    missing = sorted(fields(template) - set(values))
    if missing:
        raise CatalogueError(f"the message {key!r} fills in {', '.join(missing)}: pass "
                             f"{', '.join(f'{name}=...' for name in missing)} to text()")
    return template.format(**values)
