"""The message catalogues (helpers.catalogue, src/helpers/locale/<lang>/LC_MESSAGES/workbook.po): every language has
every key of every other, with the same fields; the .po files are what babel and msgfmt accept and write; every message
formats; the Chinese one is Chinese; the language follows WORKBOOK_LANG or the kernel's folder, in a real kernel too."""

import gettext
import io
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import nbformat
import pytest
import torch
from babel.messages.pofile import read_po, write_po

from helpers import catalogue
from helpers import exercises as ex
from helpers.catalogue import CatalogueError

# Keys whose Chinese text may hold no Chinese character, each with the reason. Add a key here only when its text
# truly has no words (a symbol, a code name); a sentence left in English is a missing translation.
ALLOWED_WITHOUT_CJK = {
    "feedback.right_mark": "the mark of a right answer, ✓: a symbol, the same in every language",
    "feedback.wrong_mark": "the mark of a wrong answer, ✗: a symbol, the same in every language",
}

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


ROOT = Path(__file__).resolve().parent.parent
AREA = re.compile(r"^\[(\w+)\]")     # the note "#. [widget] ..." that opens an area of a .po file


def po_file(lang):
    return catalogue.LOCALE / lang / "LC_MESSAGES" / f"{catalogue.DOMAIN}.po"


def read_catalog(lang):
    """The .po file of ``lang`` as babel reads it; a syntax error fails here (abort_invalid) instead of being skipped."""
    with po_file(lang).open("rb") as po:
        return read_po(po, locale=lang, domain=catalogue.DOMAIN, abort_invalid=True)


def areas(lang):
    """{area: [keys]} of one language, in the order of its .po file: an area runs from its #. [area] note to the next."""
    grouped, area = {}, None
    for message in read_catalog(lang):
        if not message.id:
            continue
        opening = AREA.match(message.auto_comments[0]) if message.auto_comments else None
        if opening:
            area = opening.group(1)
            assert area not in grouped, f"{po_file(lang)}: the area [{area}] is opened twice"
        assert area, f"{po_file(lang)}: {message.id!r} comes before the first #. [area] note"
        grouped.setdefault(area, []).append(message.id)
    return grouped


OTHERS = [lang for lang in catalogue.LANGUAGES if lang != catalogue.LANGUAGES[0]]


@pytest.fixture
def no_language_set(monkeypatch):
    monkeypatch.delenv("WORKBOOK_LANG", raising=False)


# ----------------------------------------------------------------------------------------- the catalogues agree

@pytest.mark.parametrize("one, other", [(a, b) for a in catalogue.LANGUAGES for b in catalogue.LANGUAGES if a != b])
def test_every_key_of_one_language_is_in_the_other(one, other):
    mine, theirs = areas(one), areas(other)
    where = po_file(other).relative_to(ROOT)
    gaps = []
    for area, keys in mine.items():
        missing = [key for key in keys if key not in theirs.get(area, [])]
        if area not in theirs:
            gaps.append(f"{where} has no area [{area}] (it has {len(keys)} keys in {one})")
        elif missing:
            gaps.append(f"{where} lacks {len(missing)} key(s) of the area [{area}] of {one}: " + ", ".join(missing))
    assert not gaps, "\n".join(gaps)
    assert list(mine) == list(theirs), f"the areas come in another order in {one} and {other}"
    assert sum(map(len, mine.values())) == len(catalogue.messages(one)), "a message outside every area"


# ----------------------------------------------------------------------------------------- the .po files themselves

@pytest.mark.parametrize("lang", catalogue.LANGUAGES)
def test_every_po_file_parses_and_has_no_fuzzy_empty_or_repeated_entry(lang):
    catalog = read_catalog(lang)
    assert str(catalog.locale) == lang and not catalog.fuzzy, "the header is fuzzy or names another language"
    assert not catalog.obsolete, f"obsolete (#~) entries: {sorted(catalog.obsolete)}"
    fuzzy = [message.id for message in catalog if message.id and message.fuzzy]
    empty = [message.id for message in catalog if message.id and not message.string]
    assert not fuzzy, f"fuzzy entries (gettext leaves them out: check the text, then drop '#, fuzzy'): {fuzzy}"
    assert not empty, f"entries without a text: {empty}"
    msgids = re.findall(r'^msgid "(.+)"$', po_file(lang).read_text(encoding="utf-8"), flags=re.MULTILINE)
    repeated = sorted({key for key in msgids if msgids.count(key) > 1})
    assert not repeated, f"msgids given twice (babel would keep only one): {repeated}"
    assert msgids == [message.id for message in catalog if message.id]
    assert sorted(msgids) == sorted(catalogue.messages(lang)), "gettext reads other messages than babel"


@pytest.mark.parametrize("lang", catalogue.LANGUAGES)
def test_every_po_file_is_what_babel_writes(lang):
    """A hand edit that breaks the format (wrapping, quoting, a comment in the wrong place) shows up as a difference
    from babel's own rewriting of the file; the POT-Creation-Date is babel's clock, so it is left out."""
    written = io.BytesIO()
    write_po(written, read_catalog(lang))
    header = re.compile(r'^"POT-Creation-Date: [^"]*"\n', flags=re.MULTILINE)
    original = header.sub("", po_file(lang).read_text(encoding="utf-8"))
    assert header.sub("", written.getvalue().decode("utf-8")) == original, (
        f"{po_file(lang).relative_to(ROOT)} is not in babel's format: rewrite it with babel.messages.pofile.write_po "
        "(or pybabel update), or match its layout")


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext's msgfmt is not installed")
@pytest.mark.parametrize("lang", catalogue.LANGUAGES)
def test_msgfmt_accepts_every_po_file(lang):
    checked = subprocess.run(["msgfmt", "--check", "--output-file", "/dev/null", str(po_file(lang))],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def test_the_lookup_is_gettexts():
    for lang in catalogue.LANGUAGES:
        translations = catalogue.translations(lang)
        assert isinstance(translations, gettext.GNUTranslations) and translations.info()["language"] == lang
        assert all(translations.gettext(key) == text for key, text in catalogue.messages(lang).items())
    assert catalogue.translations("zh").gettext("widget.send") == catalogue.text("widget.send", lang="zh") == "发送"


@pytest.fixture
def scratch_locale(tmp_path, monkeypatch):
    """A copy of the catalogues that a test may break, read afresh, and forgotten after the test."""
    shutil.copytree(catalogue.LOCALE, tmp_path / "locale")
    monkeypatch.setattr(catalogue, "LOCALE", tmp_path / "locale")
    catalogue.translations.cache_clear(), catalogue.messages.cache_clear()
    yield tmp_path / "locale"
    catalogue.translations.cache_clear(), catalogue.messages.cache_clear()


def test_a_fuzzy_or_empty_entry_is_a_missing_message(scratch_locale):
    po = scratch_locale / "zh" / "LC_MESSAGES" / "workbook.po"
    text = po.read_text(encoding="utf-8")
    text = text.replace('msgid "widget.send"\n', '#, fuzzy\nmsgid "widget.send"\n', 1)
    text = text.replace('msgid "widget.stop"\nmsgstr "停止"', 'msgid "widget.stop"\nmsgstr ""', 1)
    po.write_text(text, encoding="utf-8")
    assert "widget.send" not in catalogue.messages("zh") and "widget.stop" not in catalogue.messages("zh")
    with pytest.raises(CatalogueError, match=r"'widget\.send'.*src/helpers/locale/zh/LC_MESSAGES/workbook\.po"):
        catalogue.text("widget.send", lang="zh")
    assert catalogue.text("widget.send", lang="en") == "Send"


def test_the_po_files_are_installed_with_the_package():
    """pyproject.toml's package data names every .po file, so a wheel (not only this checkout) has the catalogues."""
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    package = Path(catalogue.__file__).parent
    shipped = {path for pattern in package_data["helpers"] for path in package.glob(pattern)}
    assert {po_file(lang) for lang in catalogue.LANGUAGES} <= shipped


def test_every_key_the_code_asks_for_is_in_the_catalogue():
    """Every text("key", ...) with a literal key in src/helpers: a typo in a key fails here, not in a lesson. A key
    ending in a dot is a prefix the code completes (text("widget.role." + role)): some message must start with it."""
    asked = {}
    for source in sorted((ROOT / "src" / "helpers").rglob("*.py")):
        for key in re.findall(r'\btext\(\s*"([a-z0-9_.]+)"', source.read_text(encoding="utf-8")):
            asked.setdefault(key, source.relative_to(ROOT))
    assert len(asked) > 100, "the scan found almost no keys: has text() been renamed?"
    known = catalogue.messages("en")
    unknown = [f"{key} ({where})" for key, where in sorted(asked.items())
               if key not in known and not (key.endswith(".") and any(k.startswith(key) for k in known))]
    assert not unknown, "keys the code asks for that the catalogue lacks: " + ", ".join(unknown)


@pytest.mark.parametrize("lang", OTHERS)
def test_every_message_has_the_same_fields_as_the_english_one(lang):
    english, other = catalogue.messages("en"), catalogue.messages(lang)
    differ = [f"{key}: en fills in {sorted(catalogue.fields(english[key]))}, {lang} fills in "
              f"{sorted(catalogue.fields(other[key]))}" for key in sorted(set(english) & set(other))
              if catalogue.fields(english[key]) != catalogue.fields(other[key])]
    assert not differ, "\n".join(differ)


class _Anything:
    """A dummy field value: any attribute or item of it is itself, and it formats as a number when the field has a
    numeric format (``{count:,}``, ``{gib:.2f}``), else as a short text."""

    def __getattr__(self, name):
        return self

    def __getitem__(self, item):
        return self

    def __format__(self, spec):
        return format("x", spec) if not spec or spec.endswith("s") else format(1234, spec)


@pytest.mark.parametrize("lang", catalogue.LANGUAGES)
def test_every_message_is_text_and_formats_with_dummy_values(lang):
    broken = []
    for key, template in sorted(catalogue.messages(lang).items()):
        if not isinstance(template, str) or not template:
            broken.append(f"{key}: {template!r} is not a non-empty str")
            continue
        try:
            template.format(**{name: _Anything() for name in catalogue.fields(template)})
        except (ValueError, IndexError, KeyError, AttributeError, TypeError) as error:
            broken.append(f"{key}: {type(error).__name__}: {error} in {template!r} (write a brace as {{{{ or }}}}, "
                          "and name every field)")
    assert not broken, "\n".join(broken)


def test_no_chinese_message_is_left_in_english():
    chinese, english = catalogue.messages("zh"), catalogue.messages("en")
    untranslated = [f"{key}: {text!r}" for key, text in sorted(chinese.items())
                    if key not in ALLOWED_WITHOUT_CJK and (not HAN.search(text) or text == english.get(key))]
    assert not untranslated, ("Chinese messages without Chinese (translate them, or, if the text truly has no words, "
                              "add the key to ALLOWED_WITHOUT_CJK in tests/test_catalogue.py with the reason):\n"
                              + "\n".join(untranslated))
    assert set(ALLOWED_WITHOUT_CJK) <= set(chinese), "ALLOWED_WITHOUT_CJK names keys that no longer exist"


def test_fields_names_what_a_message_fills_in():
    assert catalogue.fields("{count:,} ids of {what}, {shape[0]} rows, {config.layers}") == {
        "count", "what", "shape", "config"}
    assert catalogue.fields("no fields, {{braces}} only") == set()


# ----------------------------------------------------------------------------------------- which language

@pytest.mark.parametrize("value, lang", [("zh", "zh"), ("zh_CN.UTF-8", "zh"), ("zh-Hans", "zh"), ("en", "en"),
                                         ("en_US.UTF-8", "en"), (" EN ", "en")])
def test_language_follows_workbook_lang(value, lang, monkeypatch, tmp_path):
    (tmp_path / "notebooks" / "zh").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "notebooks" / "zh")          # the variable wins over the folder
    monkeypatch.setenv("WORKBOOK_LANG", value)
    assert catalogue.language() == lang


@pytest.mark.parametrize("value", ["fr", "klingon", "C.UTF-8"])
def test_language_rejects_an_unknown_workbook_lang(value, monkeypatch):
    monkeypatch.setenv("WORKBOOK_LANG", value)
    with pytest.raises(CatalogueError) as caught:
        catalogue.language()
    message = str(caught.value)
    assert f"WORKBOOK_LANG={value!r}" in message and "en, zh" in message and "unset it" in message


@pytest.mark.parametrize("folder, lang", [("notebooks/zh", "zh"), ("notebooks", "en"), ("somewhere/zh", "en"),
                                          ("notebooks/zh/deeper", "en")])
def test_language_follows_the_folder_the_kernel_runs_in(folder, lang, tmp_path, monkeypatch, no_language_set):
    (tmp_path / folder).mkdir(parents=True)
    monkeypatch.chdir(tmp_path / folder)
    assert catalogue.language() == lang


def test_an_empty_workbook_lang_means_follow_the_folder(tmp_path, monkeypatch):
    (tmp_path / "notebooks" / "zh").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "notebooks" / "zh")
    monkeypatch.setenv("WORKBOOK_LANG", "  ")
    assert catalogue.language() == "zh"


# ----------------------------------------------------------------------------------------- text()

def test_text_fills_in_the_fields_in_the_chosen_language():
    english = catalogue.text("slice.kept_prompt", lang="en", expected=68, got=107)
    chinese = catalogue.text("slice.kept_prompt", lang="zh", expected=68, got=107)
    assert english == "your slice kept the prompt: expected 68 ids, got 107."
    assert HAN.search(chinese) and "68" in chinese and "107" in chinese and chinese != english


def test_text_of_an_unknown_key_names_it_and_where_to_add_it():
    with pytest.raises(CatalogueError) as caught:
        catalogue.text("slice.no_such_message", lang="zh")
    message = str(caught.value)
    assert "'slice.no_such_message'" in message and "en, zh" in message
    assert "src/helpers/locale/zh/LC_MESSAGES/workbook.po" in message
    assert isinstance(caught.value, KeyError) and not message.startswith('"')   # readable, not KeyError's quotes


def test_text_without_a_field_names_the_field():
    with pytest.raises(CatalogueError, match=r"'slice\.kept_prompt' fills in got: pass got=\.\.\."):
        catalogue.text("slice.kept_prompt", lang="en", expected=68)


def test_a_language_without_a_catalogue_is_refused():
    with pytest.raises(CatalogueError, match="no catalogue for 'fr': the workbook has en, zh"):
        catalogue.messages("fr")


# ----------------------------------------------------------------------------------------- real checks, both languages

PROMPT = list(range(100, 139))
GENERATED = torch.tensor([PROMPT + list(range(500, 567)) + [151645]])
INPUTS = {"input_ids": torch.tensor([PROMPT])}


def test_a_real_check_answers_in_chinese_under_workbook_lang_zh(monkeypatch):
    monkeypatch.setenv("WORKBOOK_LANG", "zh")
    feedback = ex.check_slice(GENERATED[0], INPUTS, GENERATED)
    assert not feedback and feedback.key == "slice.kept_prompt"
    assert feedback.message == catalogue.text("slice.kept_prompt", lang="zh", expected=68, got=107)
    assert HAN.search(feedback.message) and repr(feedback).startswith("✗ ")
    nested = ex.check_queries_per_kv_head("7", type("Config", (), {"num_attention_heads": 14,
                                                                  "num_key_value_heads": 2}))
    assert nested.key == "type.int" and nested.message.startswith(catalogue.text("what.heads_per_kv", lang="zh"))
    assert ex.check_chat_reply(None, None, None, None).message == catalogue.text("no_answer", lang="zh")


def test_the_same_check_answers_in_english_otherwise(tmp_path, monkeypatch, no_language_set):
    monkeypatch.chdir(tmp_path)
    feedback = ex.check_slice(GENERATED[0], INPUTS, GENERATED)
    assert feedback.message == "your slice kept the prompt: expected 68 ids, got 107."
    assert not HAN.search(ex.check_queries_per_kv_head("7", type("Config", (), {"num_attention_heads": 14,
                                                                               "num_key_value_heads": 2})).message)


def _run_in_a_kernel(folder):
    """Execute a two-cell notebook in a fresh kernel started in ``folder``, as nbval and JupyterLab start one in the
    notebook's folder; return the text/plain of each cell's result."""
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("from helpers.catalogue import language\nlanguage()"),
        nbformat.v4.new_code_cell("from helpers.exercises import check_chat_reply\n\nanswer = ''\n"
                                  "check_chat_reply(answer, None, None, None)"),
    ])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, folder / "99_feedback.ipynb")
    NotebookClient(notebook, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    return [cell.outputs[-1]["data"] for cell in notebook.cells]


def test_a_kernel_in_notebooks_zh_gives_chinese_feedback_and_in_notebooks_english(tmp_path, no_language_set):
    """The cwd rule end to end: the same code cell, run by a real kernel in each edition's folder."""
    zh_language, zh_feedback = _run_in_a_kernel(tmp_path / "notebooks" / "zh")
    en_language, en_feedback = _run_in_a_kernel(tmp_path / "notebooks")
    assert zh_language["text/plain"] == "'zh'" and en_language["text/plain"] == "'en'"
    chinese = catalogue.text("reply.empty", lang="zh")
    english = catalogue.text("reply.empty", lang="en")
    assert HAN.search(chinese)
    assert zh_feedback["text/plain"] == f"✗ {chinese}" and chinese in zh_feedback["text/html"]
    assert en_feedback["text/plain"] == f"✗ {english}" and english in en_feedback["text/html"]


def test_the_feedback_html_escapes_the_message_in_both_languages(monkeypatch):
    for lang in catalogue.LANGUAGES:
        monkeypatch.setenv("WORKBOOK_LANG", lang)
        html = ex.check_chat_reply("Hi<|im_end|>", [], None, None)._repr_html_()
        assert "&lt;|im_end|&gt;" in html and "<|im_end|>" not in html


def test_the_format_specs_of_numbers_survive_translation():
    """A number formatted with thousands separators in English is formatted the same way in every language."""
    spec = re.compile(r"\{(\w+)(:[^}]*)\}")
    english = catalogue.messages("en")
    for lang in OTHERS:
        other = catalogue.messages(lang)
        differ = [key for key in english if key in other
                  and sorted(spec.findall(english[key])) != sorted(spec.findall(other[key]))]
        assert not differ, f"{lang}: format specs differ from English in {differ}"



def test_make_lab_opens_the_edition_that_workbook_lang_asks_for(monkeypatch, tmp_path):
    from helpers.__main__ import lab_start_page

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WORKBOOK_LANG", raising=False)
    assert lab_start_page() == "/lab/tree/notebooks"
    monkeypatch.setenv("WORKBOOK_LANG", "zh_CN.UTF-8")
    assert lab_start_page() == "/lab/tree/notebooks/zh"
    monkeypatch.setenv("WORKBOOK_LANG", "fr")
    with pytest.raises(catalogue.CatalogueError, match="WORKBOOK_LANG"):
        lab_start_page()
