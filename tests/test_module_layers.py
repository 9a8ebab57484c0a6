"""The fast path and the measuring code stay apart: loading uses helpers.fastpath, and fastpath imports neither
loading nor perf (perf measures what fastpath makes)."""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "helpers"


def _imported_modules(name):
    tree = ast.parse((SRC / f"{name}.py").read_text())
    return {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 1}


def test_fastpath_imports_neither_loading_nor_perf():
    assert not _imported_modules("fastpath") & {"loading", "perf"}


def test_loading_uses_fastpath_not_perf():
    imported = _imported_modules("loading")
    assert "fastpath" in imported and "perf" not in imported
