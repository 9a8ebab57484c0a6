"""The environment check's fix-it messages (notebook 00): a missing or different package gets the command that fixes
it, in the notebook's language; the status of a good row is ``ok`` in every language, because code compares it."""

import re

import pytest

from helpers.display.environment import version_summary, version_table

CHINESE = re.compile(r"[\u4e00-\u9fff]")
# One pin that holds, one that differs, one package that is not installed.
PINS = {"pytest": pytest.__version__, "pandas": "0.0.1", "no-such-workbook-package": "1.0"}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_each_row_says_ok_or_the_command_that_fixes_it(lang, monkeypatch):
    monkeypatch.setenv("WORKBOOK_LANG", lang)
    status = version_table(PINS).set_index("package")["status"]
    assert status["pytest"] == "ok"
    assert status["pandas"].startswith("differs") and status["pandas"].endswith("pip install pandas==0.0.1")
    assert status["no-such-workbook-package"].startswith("missing") and "make lab" in status["no-such-workbook-package"]
    assert bool(CHINESE.search(status["pandas"])) == (lang == "zh")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_summary_lists_only_the_fixes(lang, monkeypatch):
    monkeypatch.setenv("WORKBOOK_LANG", lang)
    table = version_table(PINS)
    lines = version_summary(table).splitlines()
    assert [line.strip() for line in lines[1:]] == list(table["status"][table["status"] != "ok"])
    assert "Kernel → Restart" in lines[0] and bool(CHINESE.search(lines[0])) == (lang == "zh")
    good = version_summary(version_table({"pytest": pytest.__version__}))
    assert "1" in good and "\n" not in good and bool(CHINESE.search(good)) == (lang == "zh")


def test_the_english_summary_is_the_sentence_notebook_00_prints():
    table = version_table({"pytest": pytest.__version__, "pandas": "0.0.1"})
    assert version_summary(table.iloc[:1]) == "All 1 pinned packages are installed at their pinned versions."
    assert version_summary(table) == ("Fix these, then restart the kernel (Kernel → Restart):\n"
                                      "   differs: pip install pandas==0.0.1")
