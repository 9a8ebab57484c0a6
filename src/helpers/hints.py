"""A hint for the most common error of a notebook run out of order: a ``NameError`` for a variable that an earlier
cell defines (and one line under ``generate``'s ValueError for a ``max_length`` that the prompt alone fills).

A fresh kernel that runs a notebook's last cell first fails with a bare ``NameError: name 'sliced_ids' is not
defined``, and the stored outputs, numbered [1], [2]... from the run that saved them, make it look as if the cells
above had run. :func:`install` adds one line under the usual traceback, for example::

    Hint: `sliced_ids` is defined in an earlier cell of this notebook (code cell 3): run the cells above first
    (Run > Run All Above Selected Cell).

The hint speaks the notebook's language (:mod:`helpers.catalogue`: a kernel started in ``notebooks/zh/`` gets it in
Chinese). ``%load_ext helpers``, the first line of every lesson, installs it, never over an exception handler that
someone else set.
"""

from __future__ import annotations

import ast
import difflib
import json
import os
import re
import sys
from pathlib import Path

from helpers.catalogue import text

_NAME_IN_MESSAGE = re.compile(r"name '([^']+)' is not defined")
# transformers' generate, given max_length no longer than the prompt
_MAX_LENGTH = re.compile(r"Input length of input_ids is (\d+), but `max_length` is set to (\d+)")


def install(shell) -> bool:
    """Add the hint to ``shell``'s NameErrors (``%load_ext helpers`` does); returns whether it is installed.

    A shell that already has another custom exception handler keeps it.
    """
    if getattr(shell, "_workbook_name_hint", False):
        return True
    if tuple(getattr(shell, "custom_exceptions", ())):
        return False  # someone else's handler: leave it
    shell.set_custom_exc((NameError, ValueError), _show_with_hint)
    shell._workbook_name_hint = True
    return True


def hint_for(name: str, shell=None, notebook: str | os.PathLike | None = None) -> str:
    """The hint for a NameError on ``name``: where the notebook defines it, or what to check when it does not.

    ``notebook`` is the .ipynb file the kernel runs (found from JupyterLab's session when not given); each of its
    code cells is read for the names it defines (assignments, imports, ``def``, ``class``, ``for`` and ``with``
    targets).
    """
    path = Path(notebook) if notebook is not None else _current_notebook(shell)
    cells = _code_cells(path) if path is not None else None
    current = _current_cell_index(cells, shell) if cells else None
    if cells:
        defining = [i for i, source in enumerate(cells) if name in names_defined(source)]
        earlier = [i for i in defining if current is None or i < current]
        later = [i for i in defining if current is not None and i > current]
        if earlier:
            where = ", ".join(str(i + 1) for i in earlier[-3:])
            return text("hint.earlier", name=name, cells=where, run_above=text("hint.run_above"))
        if later:
            return text("hint.later", name=name, cell=later[0] + 1)
        known = set().union(*(names_defined(source) for source in cells))
        return _unknown_name_hint(name, known | _namespace_names(shell), in_notebook=True)
    return _unknown_name_hint(name, _namespace_names(shell), in_notebook=False)


def names_defined(source: str) -> set[str]:
    """The global names a cell's code defines (magics and shell escapes are skipped; code that does not parse
    defines nothing)."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return set()
    found: set[str] = set()

    class Visitor(ast.NodeVisitor):
        def visit_Name(self, node):
            if isinstance(node.ctx, ast.Store):
                found.add(node.id)

        def visit_FunctionDef(self, node):
            found.add(node.name)  # its body's names are local

        visit_AsyncFunctionDef = visit_FunctionDef

        def visit_ClassDef(self, node):
            found.add(node.name)

        def visit_Lambda(self, node):
            pass

        def visit_ListComp(self, node):  # comprehension variables are local too
            pass

        visit_SetComp = visit_DictComp = visit_GeneratorExp = visit_ListComp

        def visit_Import(self, node):
            for alias in node.names:
                found.add(alias.asname or alias.name.split(".")[0])

        visit_ImportFrom = visit_Import

    Visitor().visit(tree)
    return found


# ----------------------------------------------------------------------------------------------------- internals

def _show_with_hint(shell, etype, value, tb, tb_offset=None):
    """IPython's custom exception handler: the usual traceback, plus one line of hint under it."""
    stb = shell.InteractiveTB.structured_traceback(etype, value, tb, tb_offset=tb_offset)
    if not issubclass(etype, NameError):
        if match := _MAX_LENGTH.search(str(value)):
            stb = stb + ["", text("hint.line", hint=text("hint.max_length", prompt=int(match.group(1)),
                                                              limit=int(match.group(2))))]
        name = None
    else:
        name = getattr(value, "name", None) or _name_from_message(str(value))
    if name and not issubclass(etype, UnboundLocalError) and _raised_by_notebook_code(tb, shell):
        try:
            stb = stb + ["", text("hint.line", hint=hint_for(name, shell))]
        except Exception:  # a hint must never hide the error itself
            pass
    sys.last_type, sys.last_value, sys.last_traceback = etype, value, tb
    if sys.version_info >= (3, 12):
        sys.last_exc = value
    shell._showtraceback(etype, value, stb)
    if getattr(shell, "call_pdb", False):
        shell.debugger(force=True)
    return stb


def _name_from_message(message: str) -> str | None:
    match = _NAME_IN_MESSAGE.search(message)
    return match.group(1) if match else None


def _raised_by_notebook_code(tb, shell) -> bool:
    """True when the innermost frame runs in the notebook's namespace (a cell, or a function a cell defined)."""
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and tb.tb_frame.f_globals is getattr(shell, "user_ns", None)


def _unknown_name_hint(name: str, known: set[str], in_notebook: bool) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.8)
    if close:
        return text("hint.did_you_mean", name=name, close=close[0])
    if in_notebook:
        return text("hint.not_in_notebook", name=name)
    return text("hint.not_in_kernel", name=name, run_above=text("hint.run_above"))


def _namespace_names(shell) -> set[str]:
    namespace = getattr(shell, "user_ns", None) or {}
    return {key for key in namespace if isinstance(key, str) and not key.startswith("_")}


def _current_notebook(shell) -> Path | None:
    """The notebook the kernel runs: JupyterLab names it in ``__session__`` (ipykernel) or ``JPY_SESSION_NAME``."""
    namespace = getattr(shell, "user_ns", None) or {}
    session = namespace.get("__session__") or os.environ.get("JPY_SESSION_NAME")
    if not session or not str(session).endswith(".ipynb"):
        return None
    session = Path(session)
    for candidate in (session, Path.cwd() / session, Path.cwd() / session.name):
        if candidate.is_file():
            return candidate
    return None


def _code_cells(path: Path) -> list[str] | None:
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return ["".join(c.get("source", "")) for c in cells if c.get("cell_type") == "code"]


def _current_cell_index(cells: list[str], shell) -> int | None:
    """Which code cell is running, when its text is the same as in the saved notebook."""
    manager = getattr(shell, "history_manager", None)
    history = getattr(manager, "input_hist_raw", None) or (getattr(shell, "user_ns", None) or {}).get("In") or []
    if not history:
        return None
    running = str(history[-1]).strip()
    matches = [i for i, source in enumerate(cells) if source.strip() == running]
    return matches[0] if len(matches) == 1 else None
