"""helpers.display.words: what the lessons print, label and chart comes out in the edition's language, while the
code cells and the tables' own column names stay the same in both editions."""

import json
import re
import warnings
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

from helpers import catalogue
from helpers.catalogue import CatalogueError
from helpers.display import words
from helpers.display.tables import id_grid, styled

ROOT = Path(__file__).resolve().parent.parent
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
SAY_CALL = re.compile(r'\bsay\(\s*(?:\n\s*)?"((?:[^"\\]|\\.)*)"')
# Headings that are names from code or from outside the workbook, the same in every language.
CODE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
NOT_WORDS = {"CUDA GPU", 'dtype="auto"', "dtype=torch.float32", "from_pretrained(..., ?)", "MiB", "KiB"}


@pytest.fixture
def zh(monkeypatch):
    monkeypatch.setenv("WORKBOOK_LANG", "zh")


@pytest.fixture
def en(monkeypatch):
    monkeypatch.setenv("WORKBOOK_LANG", "en")


def test_say_gives_the_english_text_itself_in_english_and_its_translation_in_chinese(en):
    sentence = "{count} tokens in {seconds:.1f} s: {rate:.1f} tokens per second, {ms:.0f} ms per token"
    assert words.say(sentence, count=61, seconds=2.04, rate=29.9, ms=33.4) == \
        "61 tokens in 2.0 s: 29.9 tokens per second, 33 ms per token"
    chinese = words.say(sentence, lang="zh", count=61, seconds=2.04, rate=29.9, ms=33.4)
    assert HAN.search(chinese) and "61" in chinese and "2.0" in chinese and "33" in chinese


def test_say_of_a_text_the_catalogue_lacks_says_where_to_add_it(en):
    with pytest.raises(CatalogueError, match=r"workbook\.po.*say\."):
        words.say("a sentence nobody wrote")


def test_heading_translates_words_and_fills_in_patterns_and_leaves_code_names(zh):
    assert words.heading("position") == "位置"
    assert words.heading("temperature 0.5") == "温度 0.5"
    assert words.heading("step 5: chose ' type'") == "第 5 步：选了 ' type'"
    for name in ("top_k", "dtype", "input_ids", 3, None):
        assert words.heading(name) == name


def test_heading_changes_nothing_in_english(en):
    assert words.heading("position") == "position"
    table = pd.DataFrame({"position": [0], "probability": [0.5]})
    assert words.with_headings(table) is table


def test_a_table_shows_chinese_headings_but_keeps_the_english_column_names_the_code_uses(zh):
    table = pd.DataFrame({"position": [0, 1], "top_k": [1, 2]}).rename_axis("rank")
    shown = words.with_headings(table)
    assert list(shown.columns) == ["位置", "top_k"] and shown.index.name == "名次"
    assert list(table.columns) == ["position", "top_k"] and table.index.name == "rank"
    html = styled(table).to_html()
    assert "位置" in html and ">position<" not in html and "名次" in html
    assert list(styled(table).data.columns) == ["position", "top_k"]


def test_the_id_grid_says_prompt_and_reply_in_the_editions_language(zh):
    grid = id_grid(list(range(12)), prompt_length=5, width=10)
    text = grid.to_text()
    assert "提示" in text and "回复" in text and "prompt" not in text and "部分" in text


def _notebook_sources():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "code":
                yield path.name, "".join(cell["source"])
    for path in sorted((ROOT / "src" / "helpers").rglob("*.py")):
        yield path.relative_to(ROOT), path.read_text(encoding="utf-8")


def test_every_text_a_lesson_says_is_in_the_catalogue():
    asked = {}
    for where, source in _notebook_sources():
        for literal in SAY_CALL.findall(source):
            asked.setdefault(literal.encode().decode("unicode_escape"), where)
    assert len(asked) > 30, "the scan found almost no say() calls: has say() been renamed?"
    known = set(catalogue.messages("en").values())
    missing = [f"{text!r} ({where})" for text, where in asked.items() if text not in known]
    assert not missing, "say() texts without a catalogue entry: " + ", ".join(missing)


def _headings(html):
    for cell in re.findall(r"<th\b[^>]*>(.*?)</th>", html, re.S):
        text = re.sub(r"<[^>]+>", "", cell).replace("&nbsp;", " ").strip()
        yield text.replace("&quot;", '"').replace("&#x27;", "'").replace("&amp;", "&")


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks" / "zh").glob("*.ipynb")), ids=lambda p: p.name)
def test_no_stored_chinese_table_has_an_english_heading(path):
    english = set()
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        for output in cell.get("outputs", []):
            for heading in _headings("".join(output.get("data", {}).get("text/html", ""))):
                if (re.search(r"[A-Za-z]{2}", heading) and not HAN.search(heading)
                        and not CODE_NAME.fullmatch(heading) and heading not in NOT_WORDS):
                    english.add(heading)
    assert not english, (f"{path.name}: English headings in the Chinese edition: {sorted(english)}; add each to the "
                         "catalogue's label.* entries (helpers.display.words) and store the notebook again")


def _cjk_font():
    from matplotlib import font_manager

    names = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in words.CJK_FONTS if name in names), None)


@pytest.mark.skipif(_cjk_font() is None, reason="no font with Chinese characters installed (e.g. fonts-noto-cjk)")
def test_a_chinese_chart_draws_every_character(tmp_path):
    """In a kernel in notebooks/zh: %load_ext helpers puts a CJK font in matplotlib's fallback list, so a chart
    with Chinese labels renders without 'Glyph missing' warnings."""
    folder = tmp_path / "notebooks" / "zh"
    folder.mkdir(parents=True)
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("%load_ext helpers"),
        nbformat.v4.new_code_cell(
            "import io, warnings\nimport matplotlib\nmatplotlib.use('agg')\nimport matplotlib.pyplot as plt\n"
            "from helpers.display.words import say\n"
            "fig, ax = plt.subplots()\nax.set_title(say('the ten likeliest first tokens of the reply'))\n"
            "ax.set_ylabel(say('probability'))\n"
            "with warnings.catch_warnings(record=True) as caught:\n"
            "    warnings.simplefilter('always')\n    fig.savefig(io.BytesIO(), format='png')\n"
            "print(ax.get_title()); print([str(w.message) for w in caught if 'Glyph' in str(w.message)])"),
        nbformat.v4.new_code_cell("import pandas as pd\npd.DataFrame({'position': [0], 'top_k': [1]})"),
    ])
    NotebookClient(notebook, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    printed = "".join(output.get("text", "") for output in notebook.cells[1].outputs)
    title, glyph_warnings = printed.splitlines()[-2:]
    assert HAN.search(title) and glyph_warnings == "[]"
    assert not [output for output in notebook.cells[1].outputs if output.get("name") == "stderr"], "a noisy cell"
    shown = notebook.cells[2].outputs[0]["data"]
    assert "位置" in shown["text/html"] and "位置" in shown["text/plain"] and "top_k" in shown["text/plain"]


def test_without_a_chinese_font_the_tests_stop_saying_what_to_install(monkeypatch):
    """No CJK font (none of the known names, no file to add): chinese_font() says None, and the test run's check
    stops with the apt-get command instead of letting every Chinese chart fail on matplotlib's glyph warnings."""
    from helpers.display import words
    from tools import fonts

    monkeypatch.setattr(words, "CJK_FONTS", ["No Such Font SC"])
    monkeypatch.setattr(words, "CJK_FILES", re.compile(r"no-such-font-file"))
    assert words.chinese_font() is None
    monkeypatch.setattr(fonts, "root_with_apt", lambda: False)
    with pytest.raises(fonts.MissingFont, match="apt-get install -y --no-install-recommends fonts-wqy-zenhei"):
        fonts.ensure_chinese_font()


def test_an_installed_chinese_font_is_found_by_its_family_name():
    from helpers.display.words import CJK_FONTS, chinese_font

    font = chinese_font()
    assert font in CJK_FONTS, f"the tests need a CJK font (tools.fonts installs one); found {font!r}"
