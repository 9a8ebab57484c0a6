"""The message catalogues (helpers.catalogue): every language has every key of every other, with the same fields;
every message formats; the Chinese one is Chinese; the language follows WORKBOOK_LANG or the kernel's folder, in a
real kernel too."""

import importlib
import pkgutil
import re

import nbformat
import pytest
import torch

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


def _modules(lang):
    """{module name: its MESSAGES} for one language's package."""
    package = importlib.import_module(f"helpers.catalogue.{lang}")
    return {m.name: importlib.import_module(f"{package.__name__}.{m.name}").MESSAGES
            for m in pkgutil.iter_modules(package.__path__)}


OTHERS = [lang for lang in catalogue.LANGUAGES if lang != catalogue.LANGUAGES[0]]


@pytest.fixture
def no_language_set(monkeypatch):
    monkeypatch.delenv("WORKBOOK_LANG", raising=False)


# ----------------------------------------------------------------------------------------- the catalogues agree

@pytest.mark.parametrize("one, other", [(a, b) for a in catalogue.LANGUAGES for b in catalogue.LANGUAGES if a != b])
def test_every_key_of_one_language_is_in_the_other(one, other):
    mine, theirs = _modules(one), _modules(other)
    gaps = []
    for module, messages in sorted(mine.items()):
        missing = sorted(set(messages) - set(theirs.get(module, {})))
        if module not in theirs:
            gaps.append(f"src/helpers/catalogue/{other}/{module}.py is missing (it has {len(messages)} keys in {one})")
        elif missing:
            gaps.append(f"src/helpers/catalogue/{other}/{module}.py lacks {len(missing)} key(s) of {one}/{module}.py: "
                        + ", ".join(missing))
    assert not gaps, "\n".join(gaps)


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
    assert "'slice.no_such_message'" in message and "src/helpers/catalogue/zh/" in message and "en, zh" in message
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
    assert ex.check_padding_side(None).message == catalogue.text("no_answer", lang="zh")


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
        nbformat.v4.new_code_cell("from helpers.exercises import check_padding_side\n\nanswer = 'right'\n"
                                  "check_padding_side(answer)"),
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
    chinese = catalogue.text("side.wrong_side", lang="zh")
    english = catalogue.text("side.wrong_side", lang="en")
    assert HAN.search(chinese)
    assert zh_feedback["text/plain"] == f"✗ {chinese}" and chinese in zh_feedback["text/html"]
    assert en_feedback["text/plain"] == f"✗ {english}" and english in en_feedback["text/html"]


def test_the_feedback_html_escapes_the_message_in_both_languages(monkeypatch):
    for lang in catalogue.LANGUAGES:
        monkeypatch.setenv("WORKBOOK_LANG", lang)
        html = ex.check_chat_reply("Hi<|im_end|>")._repr_html_()
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
