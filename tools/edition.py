"""Translated editions of the workbook (the Chinese one lives in ``notebooks/zh/``), kept in step with the English.

A translated notebook has the same file name as its English twin and the same cells, in the same order, with the
same cell ids:

- a **code cell** is the English cell, character for character, with the same tags, so that one fix reaches both
  editions. Where it must differ (a Chinese example, a language setting), its metadata says why:
  ``{"zh": {"differs": "the reason"}}``, and that is the only kind of difference allowed;
- a **markdown cell** is a translation. Its metadata records which English cell it translates and the sha256 of
  that cell's source at the time, plus the source itself (so that a stale translation can show what changed):
  ``{"zh": {"en_cell": "c03", "source_sha256": "...", "en_source": "..."}}``.

:func:`compare` lists every way a translated notebook has fallen out of step (``tests/test_zh_edition.py`` runs it);
:func:`translate` builds a translated notebook from the English one and a translation per markdown cell;
:func:`mark` records, after a translator updated some cells, the English source they now translate.

From a terminal::

    python -m tools.edition check                      # every translated notebook, stale cells with a diff
    python -m tools.edition mark notebooks/zh/05_model_inputs.ipynb c04 c10
    python -m tools.edition sync notebooks/zh/05_model_inputs.ipynb   # copy changed English code cells over
    python -m tools.edition glossary                   # GLOSSARY.zh-CN.md entries whose English entry changed
    python -m tools.edition glossary-mark kv-cache     # after updating that entry's translation

The Chinese glossary is kept in step the same way: each entry's anchor line, ``<a id="kv-cache"></a>``, carries the
short sha256 of the English entry it translates, ``<a id="kv-cache"></a><!-- en: 1a2b3c4d5e6f7a8b -->``.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from helpers.errors import WorkbookError
from helpers.model.paths import atomic_write_text

#: Folder under ``notebooks/`` of each edition, and the key its cells' metadata uses.
EDITIONS = ("zh",)
#: The translated glossary of each edition: ``GLOSSARY.<suffix>.md`` at the repository root.
GLOSSARY_SUFFIX = {"zh": "zh-CN"}

_CJK = re.compile(r"[\u3400-\u9fff]")


class EditionError(WorkbookError, ValueError):
    """A translated notebook that cannot be built or updated as asked."""


@dataclass(frozen=True)
class Problem:
    """One way a translated notebook is out of step with its English twin."""

    kind: str  # "cells", "code", "stale", "untranslated", "record"
    cell: str  # the cell id (or "-" for the notebook as a whole)
    message: str

    def __str__(self) -> str:
        return f"[{self.kind}] cell {self.cell}: {self.message}"


def source_of(cell: dict) -> str:
    """A cell's source as one string (notebook files may store it as a list of lines)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def source_sha256(text: str) -> str:
    """The sha256 (hex) of a cell's source text, as recorded in a translated markdown cell."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def english_twin(path: str | Path) -> Path:
    """The English notebook a translated one mirrors: ``notebooks/zh/05_x.ipynb`` -> ``notebooks/05_x.ipynb``."""
    path = Path(path)
    if path.parent.name not in EDITIONS:
        raise EditionError(f"{path} is not in an edition folder ({', '.join('notebooks/' + e for e in EDITIONS)})")
    return path.parent.parent / path.name


def read_notebook(path: str | Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def cell_source(path: str | Path, cell_id: str) -> str:
    """The source of the cell with ``cell_id`` in the notebook at ``path`` (tests run a lesson's own cells)."""
    cell = next((c for c in read_notebook(path)["cells"] if c.get("id") == cell_id), None)
    if cell is None:
        raise EditionError(f"{Path(path).name} has no cell with id {cell_id!r}")
    return source_of(cell)


def write_notebook(notebook: dict, path: str | Path) -> None:
    """Write as Jupyter and ``python -m tools store`` do (nbformat), so that diffs stay small."""
    import nbformat

    text = nbformat.writes(nbformat.from_dict(notebook))
    atomic_write_text(path, text if text.endswith("\n") else text + "\n")


def _tags(cell: dict) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _record(cell: dict, lang: str) -> dict:
    record = cell.get("metadata", {}).get(lang, {})
    return record if isinstance(record, dict) else {}


def short_diff(old: str, new: str, limit: int = 20) -> str:
    """A unified diff of two cell sources, at most ``limit`` lines, to show what changed in an English cell."""
    lines = list(difflib.unified_diff(old.splitlines(), new.splitlines(), "translated from", "English now",
                                      lineterm="", n=1))
    if len(lines) > limit:
        lines = lines[:limit] + [f"... ({len(lines) - limit} more diff lines)"]
    return "\n".join(lines)


def compare(english: dict, translated: dict, lang: str = "zh") -> list[Problem]:
    """Every way ``translated`` is out of step with ``english`` (an empty list when it is in step).

    Checks that both have the same cells (ids and types, in order); that each code cell equals its English twin
    (source and tags) unless its metadata declares why it differs; and that each markdown cell is a translation
    (has text in the edition's script) whose recorded English source is the English cell's current source.
    """
    problems: list[Problem] = []
    en_cells, tr_cells = english["cells"], translated["cells"]
    en_keys = [(c.get("id"), c["cell_type"]) for c in en_cells]
    tr_keys = [(c.get("id"), c["cell_type"]) for c in tr_cells]
    if en_keys != tr_keys:
        en_ids, tr_ids = [k[0] for k in en_keys], [k[0] for k in tr_keys]
        missing = [f"{i} (English index {en_ids.index(i)}, {t})" for i, t in en_keys if i not in tr_ids]
        extra = [f"{i} ({t})" for i, t in tr_keys if i not in en_ids]
        detail = []
        if missing:
            detail.append(f"English cells with no twin here (translate or copy them): {', '.join(missing)}")
        if extra:
            detail.append(f"cells here whose English cell is gone (delete them): {', '.join(extra)}")
        if not detail:
            detail.append("the same cells in another order or of another type: English has "
                          f"{[f'{i}:{t}' for i, t in en_keys]}, this notebook {[f'{i}:{t}' for i, t in tr_keys]}")
        problems.append(Problem("cells", "-", "; ".join(detail)))
    by_id = {c.get("id"): c for c in en_cells}
    for index, cell in enumerate(tr_cells):
        twin = by_id.get(cell.get("id"))
        if twin is None or twin["cell_type"] != cell["cell_type"]:
            continue  # reported above
        name = f"{cell.get('id')} (index {index})"
        record = _record(cell, lang)
        if cell["cell_type"] == "code":
            differs = record.get("differs")
            if _tags(cell) != _tags(twin):
                problems.append(Problem("code", name, f"tags {_tags(cell)} differ from the English cell's "
                                                      f"{_tags(twin)}: tags decide how nbval checks a cell, copy them"))
            if source_of(cell) == source_of(twin):
                if differs is not None:
                    problems.append(Problem("code", name, f"declares a difference ({differs!r}) but is identical "
                                                          f"to the English cell: remove metadata.{lang}.differs"))
            elif not (isinstance(differs, str) and differs.strip()):
                problems.append(Problem("code", name, "differs from the English cell without a declared reason: "
                                                      f"copy the English code, or say why in metadata.{lang}.differs"
                                                      f"\n{short_diff(source_of(twin), source_of(cell))}"))
        elif cell["cell_type"] == "markdown":
            now = source_of(twin)
            recorded = record.get("source_sha256")
            if not recorded:
                problems.append(Problem("untranslated", name, f"no metadata.{lang}.source_sha256: translate the "
                                                              "cell, then record it with python -m tools.edition "
                                                              "mark"))
                continue
            if lang == "zh" and not _CJK.search(source_of(cell)):
                problems.append(Problem("untranslated", name, "has no Chinese text: it still needs translating"))
            if record.get("en_cell") != twin.get("id"):
                problems.append(Problem("record", name, f"metadata.{lang}.en_cell is {record.get('en_cell')!r}, "
                                                        f"expected {twin.get('id')!r}"))
            old = record.get("en_source")
            if old is not None and source_sha256(old) != recorded:
                problems.append(Problem("record", name, f"metadata.{lang}.en_source does not match its sha256: "
                                                        "record it again with python -m tools.edition mark"))
            if recorded != source_sha256(now):
                diff = short_diff(old, now) if old is not None else "(the old English text was not recorded)"
                problems.append(Problem("stale", name, "the English cell changed after this translation was "
                                                       f"written; update the translation, then mark it:\n{diff}"))
    return problems


def compare_files(path: str | Path, lang: str | None = None) -> list[Problem]:
    """:func:`compare` for a translated notebook file and its English twin (a missing twin is a problem too)."""
    path = Path(path)
    lang = lang or path.parent.name
    twin = english_twin(path)
    if not twin.is_file():
        return [Problem("cells", "-", f"no English twin: {twin} does not exist (a translated notebook keeps the "
                                      "English file name)")]
    return compare(read_notebook(twin), read_notebook(path), lang)


def _stamp(cell: dict, english_cell: dict, lang: str) -> None:
    text = source_of(english_cell)
    record = cell.setdefault("metadata", {}).setdefault(lang, {})
    record.update({"en_cell": english_cell.get("id"), "source_sha256": source_sha256(text), "en_source": text})


def translate(english: dict, markdown: dict[str, str], code: dict[str, tuple[str, str]] | None = None,
              lang: str = "zh") -> dict:
    """A translated notebook: English code cells as they are (outputs cleared), markdown replaced and stamped.

    ``markdown`` maps every English markdown cell id to its translation; ``code`` maps the id of a code cell that
    must differ to ``(new source, reason)``.
    """
    code = code or {}
    notebook = copy.deepcopy(english)
    ids = {c.get("id"): c["cell_type"] for c in english["cells"]}
    unknown = sorted(set(markdown) - {i for i, t in ids.items() if t == "markdown"})
    unknown += sorted(set(code) - {i for i, t in ids.items() if t == "code"})
    if unknown:
        raise EditionError(f"no English cell of that type with id {unknown}: use the ids in the English notebook")
    for cell, original in zip(notebook["cells"], english["cells"]):
        if cell["cell_type"] == "markdown":
            if cell.get("id") not in markdown:
                raise EditionError(f"markdown cell {cell.get('id')} has no translation: give one for every cell")
            cell["source"] = markdown[cell["id"]]
            _stamp(cell, original, lang)
        elif cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
            cell.get("metadata", {}).pop("execution", None)
            if cell.get("id") in code:
                source, reason = code[cell["id"]]
                if not reason.strip():
                    raise EditionError(f"code cell {cell['id']}: say why it differs (reason is empty)")
                cell["source"] = source
                cell["metadata"].setdefault(lang, {})["differs"] = reason
    return notebook


def mark(translated: dict, english: dict, cell_ids: list[str] | None = None, lang: str = "zh") -> list[str]:
    """Record the English source that the named markdown cells (all, if none named) now translate; returns the ids.

    Run it after updating a translation, never instead of updating it.
    """
    by_id = {c.get("id"): c for c in english["cells"]}
    marked = []
    for cell in translated["cells"]:
        if cell["cell_type"] != "markdown" or (cell_ids and cell.get("id") not in cell_ids):
            continue
        if cell.get("id") not in by_id:
            raise EditionError(f"cell {cell.get('id')} has no English twin to record")
        _stamp(cell, by_id[cell["id"]], lang)
        marked.append(cell["id"])
    missing = sorted(set(cell_ids or []) - set(marked))
    if missing:
        raise EditionError(f"no markdown cell with id {missing} in the translated notebook")
    return marked


def sync_code(translated: dict, english: dict, lang: str = "zh") -> list[str]:
    """Copy the source and tags of every English code cell into its twin, except where a difference is declared.

    Outputs are cleared where the source changed (re-execute the notebook afterwards). Returns the changed ids.
    """
    by_id = {c.get("id"): c for c in english["cells"]}
    changed = []
    for cell in translated["cells"]:
        twin = by_id.get(cell.get("id"))
        if cell["cell_type"] != "code" or twin is None or twin["cell_type"] != "code":
            continue
        if _tags(cell) != _tags(twin):
            cell.setdefault("metadata", {})["tags"] = _tags(twin)
            changed.append(cell["id"])
        if "differs" not in _record(cell, lang) and source_of(cell) != source_of(twin):
            cell["source"], cell["outputs"], cell["execution_count"] = source_of(twin), [], None
            changed.append(cell["id"])
    return sorted(set(changed))


_ANCHOR_LINE = re.compile(r'^<a id="([^"]+)"></a>(?:<!-- en: ([0-9a-f]*) -->)?\s*$')


def heading_slug(heading: str) -> str:
    """GitHub's anchor for a markdown heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def glossary_sections(text: str) -> list[dict]:
    """Each ``## `` entry of a glossary: its anchor (the explicit ``<a id>`` on the line above the heading, else the
    heading's GitHub slug), heading, text (heading and body, stripped) and recorded English hash (or None)."""
    sections, previous = [], ""
    for line in text.splitlines():
        if line.startswith("## "):
            explicit = _ANCHOR_LINE.match(previous)
            sections.append({"anchor": explicit.group(1) if explicit else heading_slug(line[3:]),
                             "heading": line[3:].strip(), "recorded": explicit.group(2) if explicit else None,
                             "lines": [line]})
        elif sections and not _ANCHOR_LINE.match(line):
            sections[-1]["lines"].append(line)
        if line.strip():
            previous = line.strip()
    for section in sections:
        section["text"] = "\n".join(section.pop("lines")).strip()
    return sections


def entry_hash(text: str) -> str:
    """The short sha256 that a translated glossary entry records of the English entry it translates."""
    return source_sha256(text)[:16]


def stale_glossary_entries(english: str, translated: str) -> list[Problem]:
    """Translated glossary entries whose English entry changed (or was never recorded) since they were written."""
    english_entries = {s["anchor"]: s for s in glossary_sections(english)}
    problems = []
    for section in glossary_sections(translated):
        twin = english_entries.get(section["anchor"])
        if twin is None:
            continue  # a section of its own (the terminology table) or an extra entry: the tests report those
        if section["recorded"] is None:
            problems.append(Problem("untranslated", section["anchor"], "records no English hash: translate the "
                                    "entry, then run python -m tools.edition glossary-mark " + section["anchor"]))
        elif section["recorded"] != entry_hash(twin["text"]):
            problems.append(Problem("stale", section["anchor"], "the English entry changed after this translation "
                                    f"was written ({twin['heading']!r}, now {entry_hash(twin['text'])}): update the "
                                    "translation, then run python -m tools.edition glossary-mark "
                                    + section["anchor"]))
    return problems


def mark_glossary(english: str, translated: str, anchors: list[str] | None = None) -> tuple[str, list[str]]:
    """The translated glossary with the current English hash recorded on the named entries (all, if none named)."""
    english_entries = {s["anchor"]: s for s in glossary_sections(english)}
    unknown = sorted(set(anchors or []) - set(english_entries))
    if unknown:
        raise EditionError(f"GLOSSARY.md has no entry {unknown}: use the anchors of its entries, e.g. kv-cache")
    lines, marked = translated.splitlines(), []
    for index, line in enumerate(lines):
        match = _ANCHOR_LINE.match(line.strip())
        if match and match.group(1) in english_entries and (not anchors or match.group(1) in anchors):
            lines[index] = (f'<a id="{match.group(1)}"></a><!-- en: '
                            f'{entry_hash(english_entries[match.group(1)]["text"])} -->')
            marked.append(match.group(1))
    missing = sorted(set(anchors or []) - set(marked))
    if missing:
        raise EditionError(f"the translated glossary has no <a id> line for {missing}: add the entry first")
    return "\n".join(lines) + ("\n" if translated.endswith("\n") else ""), marked


def translated_notebooks(root: str | Path, lang: str = "zh") -> list[Path]:
    """The translated notebooks of one edition, in reading order."""
    return sorted((Path(root) / "notebooks" / lang).glob("[0-9][0-9]_*.ipynb"))


def main(argv: list[str] | None = None) -> int:
    from helpers.model.paths import project_root

    args = list(sys.argv[1:] if argv is None else argv)
    usage = ("usage: python -m tools.edition check [NOTEBOOK...] | mark NOTEBOOK [CELL_ID...] | "
             "sync NOTEBOOK | glossary | glossary-mark [ANCHOR...]")
    if not args or args[0] not in ("check", "mark", "sync", "glossary", "glossary-mark"):
        print(usage, file=sys.stderr)
        return 2
    command, rest = args[0], args[1:]
    if command.startswith("glossary"):
        root = project_root() or Path.cwd()
        english_path = root / "GLOSSARY.md"
        english = english_path.read_text(encoding="utf-8")
        status = 0
        for lang in EDITIONS:
            path = root / f"GLOSSARY.{GLOSSARY_SUFFIX[lang]}.md"
            translated = path.read_text(encoding="utf-8")
            if command == "glossary-mark":
                translated, marked = mark_glossary(english, translated, rest)
                atomic_write_text(path, translated)
                print(f"{path.name}: recorded the English entry of {len(marked)} entr(ies)")
                continue
            problems = stale_glossary_entries(english, translated)
            status |= bool(problems)
            print(f"{path.name}: {'in step' if not problems else f'{len(problems)} problem(s)'}")
            for problem in problems:
                print(f"  [{problem.kind}] entry {problem.cell}: {problem.message}")
        return status
    if command == "check":
        root = project_root() or Path.cwd()
        paths = [Path(p) for p in rest] or [p for lang in EDITIONS for p in translated_notebooks(root, lang)]
        failed = 0
        for path in paths:
            problems = compare_files(path)
            failed += bool(problems)
            print(f"{path}: {'in step' if not problems else f'{len(problems)} problem(s)'}")
            for problem in problems:
                print("  " + str(problem).replace("\n", "\n    "))
        return 1 if failed else 0
    if not rest:
        print(usage, file=sys.stderr)
        return 2
    path = Path(rest[0])
    translated, english = read_notebook(path), read_notebook(english_twin(path))
    if command == "mark":
        ids = mark(translated, english, rest[1:], path.parent.name)
        print(f"{path}: recorded the English source of {len(ids)} cell(s): {', '.join(ids)}")
    else:
        ids = sync_code(translated, english, path.parent.name)
        print(f"{path}: copied {len(ids)} English code cell(s): {', '.join(ids) or 'none'}"
              + ("; re-execute it with python -m tools store" if ids else ""))
    write_notebook(translated, path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
