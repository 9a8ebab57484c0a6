"""Every module a lesson imports loads on Windows too: none needs a Unix-only module at import time."""

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UNIX_ONLY = ("resource", "fcntl", "termios", "pwd", "grp")


def lesson_imports() -> set[str]:
    """The ``helpers`` modules the English notebooks import (the Chinese ones share the code)."""
    modules = {"helpers"}
    for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] != "code":
                continue
            source = "\n".join(line for line in "".join(cell["source"]).splitlines() if not line.startswith(("%", "!")))
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("helpers"):
                    modules.add(node.module)
                    modules.update(f"{node.module}.{a.name}" for a in node.names if node.module == "helpers"
                                   and a.name in ("perf", "serving", "numerics", "exercises", "widget"))
                elif isinstance(node, ast.Import):
                    modules.update(a.name for a in node.names if a.name.startswith("helpers"))
    return modules


def test_the_lessons_import_the_modules_this_test_covers():
    assert {"helpers.perf", "helpers.exercises", "helpers.widget", "helpers.chat"} <= lesson_imports()


def test_every_lesson_module_imports_without_unix_only_modules():
    hide = "; ".join(f"sys.modules[{name!r}] = None" for name in UNIX_ONLY)  # None: `import x` raises ImportError
    code = f"import importlib, sys; {hide}\nfor m in {sorted(lesson_imports())!r}: importlib.import_module(m)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
