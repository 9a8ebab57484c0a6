"""The workbook's words, one gettext catalogue per language: every message a learner reads comes from here.

A translator edits ``src/helpers/locale/<lang>/LC_MESSAGES/workbook.po`` and nothing else (``en`` is the source).
Its msgids are language-neutral keys (``widget.send``), not English sentences, so that rewording the English does not
orphan a translation; each msgstr is a ``str.format`` text whose fields in braces the caller fills in. Every language
has every key, with the same fields (``tests/test_catalogue.py``). The .po is compiled in memory (babel) and read by
the standard library's ``gettext``: no .mo is committed.

Which language? :func:`language` answers, so that the code cells of both editions stay identical:
1. ``WORKBOOK_LANG`` when it is set (``en``, ``zh``, ``zh_CN.UTF-8``...);
2. otherwise the edition whose folder the kernel runs in: JupyterLab and nbval start a notebook's kernel in the
   notebook's own folder, so ``notebooks/zh/`` means Chinese;
3. otherwise English.
"""

from __future__ import annotations

import gettext
import io
import os
import string
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from .errors import WorkbookError

#: The languages that have a catalogue; the first is the one every other is checked against.
LANGUAGES = ("en", "zh")
DEFAULT = "en"
DOMAIN = "workbook"
LOCALE = Path(__file__).parent / "locale"   # LOCALE / lang / "LC_MESSAGES" / "workbook.po", the files gettext expects


class CatalogueError(WorkbookError, KeyError):
    """A language or message key the catalogues do not have."""

    def __str__(self) -> str:  # KeyError would print the message in quotes
        return str(self.args[0]) if self.args else ""


def language() -> str:
    """The language the workbook speaks in this process: ``WORKBOOK_LANG``, else the kernel's edition folder."""
    asked = os.environ.get("WORKBOOK_LANG", "").strip()
    if asked:
        chosen = asked.lower().replace("-", "_").split(".")[0].split("_")[0]   # "zh_CN.UTF-8" -> "zh"
        if chosen not in LANGUAGES:
            raise CatalogueError(f"WORKBOOK_LANG={asked!r} is not a language of this workbook: set it to one of "
                                 f"{', '.join(LANGUAGES)}, or unset it to follow the notebook's folder.")
        return chosen
    cwd = Path.cwd()
    if cwd.name in LANGUAGES and cwd.parent.name == "notebooks":
        return cwd.name
    return DEFAULT


@lru_cache(maxsize=None)
def translations(lang: str) -> gettext.GNUTranslations:
    """The catalogue of ``lang`` as gettext reads it: its .po compiled to an in-memory .mo (fuzzy entries left out)."""
    if lang not in LANGUAGES:
        raise CatalogueError(f"no catalogue for {lang!r}: the workbook has {', '.join(LANGUAGES)}")
    with (LOCALE / lang / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as po:
        catalog = read_po(po, locale=lang, domain=DOMAIN)
    mo = io.BytesIO()
    write_mo(mo, catalog)
    mo.seek(0)
    return gettext.GNUTranslations(mo)


@lru_cache(maxsize=None)
def messages(lang: str = DEFAULT) -> dict[str, str]:
    """The whole catalogue of ``lang``: key -> text, the .po header left out."""
    return {key: text for key, text in translations(lang)._catalog.items() if key}


def fields(template: str) -> set[str]:
    """The names in braces that a message fills in: ``"{count:,} ids of {what}"`` -> ``{"count", "what"}``."""
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(template) if name}


def text(key: str, lang: str | None = None, **values) -> str:
    """The message ``key`` in ``lang`` (default: :func:`language`), its fields filled in from ``values``."""
    lang = lang or language()
    if key not in messages(lang):   # gettext would answer with the key itself
        raise CatalogueError(f"no message {key!r} in the {lang} catalogue: add it (msgid {key!r}) to "
                             f"src/helpers/locale/{lang}/LC_MESSAGES/{DOMAIN}.po, and the same key, with the same "
                             f"fields, to every other language ({', '.join(LANGUAGES)})")
    template = translations(lang).gettext(key)
    missing = sorted(fields(template) - set(values))
    if missing:
        raise CatalogueError(f"the message {key!r} fills in {', '.join(missing)}: pass "
                             f"{', '.join(f'{name}=...' for name in missing)} to text()")
    return template.format(**values)
