"""The edition's words for what a lesson prints, labels and charts, while the code cells stay the same in both.

A code cell writes its English sentence, and :func:`say` gives it in the notebook's language::

    print(say("temperature {t}: the favourite's probability {before:.3f} -> {after:.3f}", t=0.5, before=0.34,
              after=0.61))   # zh: 温度 0.5：最可能词元的概率 0.340 -> 0.610

The English text is looked up among the catalogue's ``say.*`` (and ``label.*``) entries (:mod:`helpers.catalogue`), so an English
reader reads the sentence in the code and a Chinese reader reads it translated in the output. Table headings work
the same way without a call: ``%load_ext helpers`` shows every table with its column names, index names and row
names passed through :func:`heading` (the catalogue's ``label.*`` entries; names of code such as ``top_k`` or
``dtype`` have no entry and stay as they are). The table itself keeps its English column names, the ones the code
uses: ``table["probability"]`` works in both editions.
"""

from __future__ import annotations

import logging
import re
import string
from functools import lru_cache
from pathlib import Path

from helpers.catalogue import CatalogueError, DEFAULT, fields, language, messages, text

# Fonts with Chinese characters: the first one installed draws what matplotlib's own font lacks (Linux, macOS, Windows),
# and how their files are named, to find one installed after matplotlib last listed the machine's fonts.
CJK_FONTS = ["Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "PingFang SC", "Microsoft YaHei",
             "SimHei"]
CJK_FILES = re.compile(r"notosanscjk|sourcehansans|wqy|pingfang|msyh|simhei", re.IGNORECASE)


@lru_cache(maxsize=None)
def _english(prefix: str) -> dict[str, str]:
    """English text -> key, for the catalogue's entries under ``prefix``."""
    return {english: key for key, english in messages(DEFAULT).items() if key.startswith(prefix)}


@lru_cache(maxsize=None)
def _patterns() -> list[tuple[re.Pattern, str]]:
    """For each ``label.*`` with fields, a pattern that matches its English text with any values filled in."""
    patterns = []
    for english, key in _english("label.").items():
        if fields(english):
            regex = "".join(re.escape(literal) + (f"(?P<{name}>.+?)" if name else "")
                            for literal, name, _, _ in string.Formatter().parse(english))
            patterns.append((re.compile(regex + r"\Z"), key))
    return patterns


def say(english: str, lang: str | None = None, **values) -> str:
    """``english`` (a ``str.format`` text) in the notebook's language, its fields filled in from ``values``."""
    key = _english("say.").get(english) or _english("label.").get(english)
    if key is None:
        raise CatalogueError(f"no text {english!r} among the catalogue's say.* and label.* entries: add it to "
                             "src/helpers/locale/en/LC_MESSAGES/workbook.po (msgid 'say.<short name>', msgstr the "
                             "English text exactly as the code writes it) and its translation to every other language")
    return text(key, lang, **values)


def heading(label, lang: str | None = None):
    """A table's column, index or row name in the notebook's language; a name without a ``label.*`` entry as it is."""
    lang = lang or language()
    if lang == DEFAULT or not isinstance(label, str):
        return label
    key = _english("label.").get(label)
    if key is not None:
        return text(key, lang)
    for pattern, key in _patterns():
        if match := pattern.match(label):
            return text(key, lang, **match.groupdict())
    return label


def with_headings(table):
    """A copy of a DataFrame to display: its column, index and row names passed through :func:`heading`."""
    if language() == DEFAULT:
        return table
    shown = table.rename(columns=heading, index=heading)
    shown.columns.names = [heading(name) for name in shown.columns.names]
    shown.index.names = [heading(name) for name in shown.index.names]
    return shown


def install(shell) -> None:
    """Show DataFrames with :func:`with_headings` in ``shell``, and let matplotlib draw Chinese characters."""
    import pandas as pd

    formatters = shell.display_formatter.formatters
    formatters["text/html"].for_type(pd.DataFrame, lambda table: with_headings(table)._repr_html_())
    formatters["text/plain"].for_type(pd.DataFrame, lambda table, printer, cycle: printer.text(
        repr(with_headings(table))))
    if language() != DEFAULT:
        import matplotlib

        font = chinese_font()
        if font:   # matplotlib falls back from font to font only along font.family's list
            matplotlib.rcParams["font.family"] = ["sans-serif", font]
            # "Failed to find font weight normal for WenQuanYi Zen Hei, now using 500": its one weight is medium
            logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)


def chinese_font() -> str | None:
    """The first font of :data:`CJK_FONTS` that matplotlib can draw with, or None when none is installed.

    A font installed after matplotlib last listed the machine's fonts is added from its file.
    """
    from matplotlib import font_manager

    known = {font.name for font in font_manager.fontManager.ttflist}
    if not known & set(CJK_FONTS):
        for path in font_manager.findSystemFonts():
            if CJK_FILES.search(Path(path).name):
                font_manager.fontManager.addfont(path)
        known = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in known), None)
