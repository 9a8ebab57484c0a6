"""The package's layers point one way: the model layer knows nothing of chat or measuring (it may show a progress bar); the fast path
(model.formats) knows nothing of loading or perf (perf measures what formats makes); and the learner's package never
imports the maintainers' tools, benchmarks or tests."""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "helpers"


def _module_name(path):
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path):
    """Every module ``path`` imports, as absolute dotted names (relative imports resolved)."""
    package = _module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else _module_name(path)
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _imports_under(folder_or_file):
    files = [folder_or_file] if folder_or_file.suffix == ".py" else sorted(folder_or_file.rglob("*.py"))
    return {name for path in files for name in _imports(path)}


def _hits(imported, prefixes):
    return sorted(name for name in imported if any(name == p or name.startswith(p + ".") for p in prefixes))


def test_the_model_layer_imports_no_chat_or_measuring():
    assert not _hits(_imports_under(PACKAGE / "model"), ["helpers.chat", "helpers.perf", "helpers.numerics",
                                                         "helpers.widget", "helpers.serving", "helpers.exercises"])


def test_the_fast_path_imports_neither_loading_nor_perf():
    assert not _hits(_imports(PACKAGE / "model" / "formats.py"), ["helpers.model.loading", "helpers.perf"])


def test_loading_uses_the_fast_path_and_not_perf():
    imported = _imports(PACKAGE / "model" / "loading.py")
    assert _hits(imported, ["helpers.model.formats"]) and not _hits(imported, ["helpers.perf"])


@pytest.mark.parametrize("outside", ["tools", "benchmarks", "tests", "conftest"])
def test_the_learners_package_never_imports_the_maintainers_code(outside):
    assert not _hits(_imports_under(PACKAGE), [outside])


def test_the_checker_sees_imports():
    """The helpers above would pass vacuously if _imports found nothing; loading's imports are known."""
    assert "helpers.model.formats" in {n.rsplit(".", 1)[0] for n in _imports(PACKAGE / "model" / "loading.py")} | \
        _imports(PACKAGE / "model" / "loading.py")
