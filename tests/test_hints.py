"""The out-of-order hint: a NameError in a notebook's namespace keeps its traceback and gains one line saying where
the name is defined, tested on a real IPython shell and once in a real Jupyter kernel."""

import json

import nbformat
import pytest
from IPython.core.interactiveshell import InteractiveShell

from helpers import hints


@pytest.fixture
def shell():
    shell = InteractiveShell.instance()
    shell.set_custom_exc((), None)
    shell._workbook_name_hint = False
    assert hints.install(shell)
    yield shell
    shell.set_custom_exc((), None)
    shell._workbook_name_hint = False
    for name in ("__session__", "sliced_ids", "prompt_length"):
        shell.user_ns.pop(name, None)


def write_notebook(path, *sources):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    path.write_text(json.dumps(notebook))
    return path


SLICING = ("%xmode Minimal\nfrom math import floor as fl", "prompt_length = 39\nsliced_ids = [1, 2, 3]",
           "print(sliced_ids, prompt_length)")


def test_a_name_defined_in_an_earlier_cell_gets_the_run_above_hint(shell, tmp_path, capsys):
    shell.user_ns["__session__"] = str(write_notebook(tmp_path / "07_slicing.ipynb", *SLICING))
    result = shell.run_cell(SLICING[2], store_history=True)
    out = capsys.readouterr().out
    assert isinstance(result.error_in_exec, NameError)           # the error is still the error
    assert "NameError" in out and "name 'sliced_ids' is not defined" in out   # traceback kept
    assert ("Hint: `sliced_ids` is defined in an earlier cell of this notebook (code cell 2): run the cells above "
            "first (Run > Run All Above Selected Cell).") in out
    assert out.index("NameError") < out.index("Hint:")


def test_a_name_defined_further_down_says_to_run_in_order(shell, tmp_path, capsys):
    shell.user_ns["__session__"] = str(write_notebook(tmp_path / "n.ipynb", "print(prompt_length)",
                                                      "prompt_length = 39"))
    shell.run_cell("print(prompt_length)", store_history=True)
    assert "defined further down this notebook (code cell 2)" in capsys.readouterr().out


def test_a_typo_gets_a_spelling_hint_not_run_above(shell, tmp_path, capsys):
    shell.user_ns["__session__"] = str(write_notebook(tmp_path / "n.ipynb", *SLICING))
    shell.run_cell("sliced_id", store_history=True)
    out = capsys.readouterr().out
    assert "did you mean `sliced_ids`?" in out and "Run All Above" not in out
    shell.run_cell("completely_unknown_thing", store_history=True)
    assert "no cell of this notebook defines `completely_unknown_thing`" in capsys.readouterr().out


def test_without_a_known_notebook_the_hint_is_conditional(shell, capsys):
    shell.run_cell("sliced_ids", store_history=True)
    out = capsys.readouterr().out
    assert "`sliced_ids` is not defined in this kernel yet. If an earlier cell of this notebook defines it" in out


def test_errors_raised_outside_the_notebook_and_other_errors_are_left_alone(shell, capsys):
    shell.run_cell("import json\njson.loads('{')", store_history=True)
    assert "Hint" not in capsys.readouterr().out
    shell.run_cell("def f():\n    x += 1\nf()", store_history=True)          # UnboundLocalError, a NameError
    out = capsys.readouterr().out
    assert "UnboundLocalError" in out and "Hint" not in out


def test_names_defined_by_a_cell():
    source = ("%matplotlib inline\nimport torch\nfrom a.b import c as d\nx, (y, z) = 1, (2, 3)\nfor i in []: pass\n"
              "def f(q):\n    inner = 1\nclass K: pass\nwith open('f') as handle: pass\nsquares = [n * n for n in []]\n"
              "total += 1\n(w := 5)")
    assert hints.names_defined(source) == {"torch", "d", "x", "y", "z", "i", "f", "K", "handle", "squares",
                                                  "total", "w"}
    assert hints.names_defined("def broken(:") == set()


def test_someone_elses_handler_is_kept():
    shell = InteractiveShell.instance()
    shell._workbook_name_hint = False

    def theirs(self, etype, value, tb, tb_offset=None):
        return ["theirs"]

    shell.set_custom_exc((KeyError,), theirs)
    try:
        assert not hints.install(shell)
        assert shell.custom_exceptions == (KeyError,)
    finally:
        shell.set_custom_exc((), None)


def test_import_helpers_changes_nothing():
    """Importing the package installs no handler and no log filter; ``%load_ext helpers`` does both."""
    import subprocess
    import sys

    code = ("import logging, helpers, helpers.display.tables, sys\n"
            "from IPython.core.interactiveshell import InteractiveShell\n"
            "shell = InteractiveShell.instance()\n"
            "print(shell.custom_exceptions, logging.getLogger('torchao').filters,\n"
            "      sorted(m for m in ('filelock', 'tqdm', 'torch', 'transformers') if m in sys.modules))\n"
            "shell.run_line_magic('load_ext', 'helpers')\n"
            "print(shell.custom_exceptions, len(logging.getLogger('torchao').filters))\n")
    lines = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert lines == ["() [] []", "(<class 'NameError'>, <class 'ValueError'>) 1"]


def test_import_helpers_in_a_real_kernel_adds_the_hint(tmp_path, monkeypatch):
    """JupyterLab tells the kernel which notebook it runs (JPY_SESSION_NAME); `%load_ext helpers` installs the hint."""
    from nbclient import NotebookClient

    path = write_notebook(tmp_path / "08_decoding.ipynb",
                          "%load_ext helpers", "sliced_ids = [1]", "print(sliced_ids)")
    monkeypatch.setenv("JPY_SESSION_NAME", str(path))
    notebook = nbformat.read(path, as_version=4)
    notebook.cells = [notebook.cells[0], notebook.cells[2]]            # a fresh kernel: the defining cell not run
    NotebookClient(notebook, timeout=120, allow_errors=True, resources={"metadata": {"path": str(tmp_path)}}).execute()
    error = notebook.cells[1].outputs[-1]
    assert error.output_type == "error" and error.ename == "NameError"
    assert "NameError" in error.traceback[-3]
    assert error.traceback[-1] == ("Hint: `sliced_ids` is defined in an earlier cell of this notebook (code cell 2): "
                                   "run the cells above first (Run > Run All Above Selected Cell).")


# -- the notebook's language: the hint in Chinese in the Chinese edition (helpers.catalogue) ---------------------

def test_in_chinese_the_hint_is_chinese_and_names_the_cell_and_the_menu(shell, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("WORKBOOK_LANG", "zh")
    shell.user_ns["__session__"] = str(write_notebook(tmp_path / "07_slicing.ipynb", *SLICING))
    shell.run_cell(SLICING[2], store_history=True)
    out = capsys.readouterr().out
    assert "name 'sliced_ids' is not defined" in out          # Python's own error is left as it is
    hint = out[out.index("提示："):]
    assert "`sliced_ids`" in hint and "代码单元格 2" in hint and "Run > Run All Above Selected Cell" in hint
    shell.run_cell("sliced_id", store_history=True)
    assert "你是不是想写 `sliced_ids`" in capsys.readouterr().out
    monkeypatch.setenv("WORKBOOK_LANG", "en")
    shell.run_cell("sliced_id", store_history=True)
    assert "did you mean `sliced_ids`?" in capsys.readouterr().out


def test_a_kernel_started_in_notebooks_zh_gives_the_hint_in_chinese(tmp_path, monkeypatch):
    """No setting at all: JupyterLab and nbval start the kernel in the notebook's folder, notebooks/zh/."""
    from nbclient import NotebookClient

    folder = tmp_path / "notebooks" / "zh"
    folder.mkdir(parents=True)
    path = write_notebook(folder / "08_decoding.ipynb", "%load_ext helpers", "sliced_ids = [1]", "print(sliced_ids)")
    monkeypatch.delenv("WORKBOOK_LANG", raising=False)
    monkeypatch.setenv("JPY_SESSION_NAME", str(path))
    notebook = nbformat.read(path, as_version=4)
    notebook.cells = [notebook.cells[0], notebook.cells[2]]
    NotebookClient(notebook, timeout=120, allow_errors=True, resources={"metadata": {"path": str(folder)}}).execute()
    error = notebook.cells[1].outputs[-1]
    assert error.output_type == "error" and error.ename == "NameError"
    assert error.traceback[-1] == ("提示：`sliced_ids` 在本笔记本前面的单元格里定义（代码单元格 2）：请先运行上面的单元格"
                                   "（Run > Run All Above Selected Cell）。")


def test_generate_with_a_max_length_the_prompt_fills_says_to_use_max_new_tokens(shell, capsys):
    shell.run_cell("raise ValueError('Input length of input_ids is 39, but `max_length` is set to 10. This can lead "
                   "to unexpected behavior.')", store_history=True)
    out = capsys.readouterr().out
    assert "ValueError" in out and "the prompt already has 39 ids, so max_length=10" in out
    assert "max_new_tokens" in out.split("Hint")[-1]
    shell.run_cell("raise ValueError('some other value error')", store_history=True)
    out = capsys.readouterr().out
    assert "some other value error" in out and "Hint" not in out
