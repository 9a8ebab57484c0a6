"""What a learner reads must hold: readable stored tables, notebook references that point at the right notebook,
glossary links that land on a definition, and a "Try it" at the end of every lesson.

These tests read the stored notebooks (and README.md, GLOSSARY.md) as text; they run no kernel.
"""

import json
import re
from pathlib import Path

import pytest

from tools import edition

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
NUMBERS = {p.stem[:2]: p for p in NOTEBOOKS}
LESSONS = [p for p in NOTEBOOKS if p.stem[:2] != "90"]  # 90 holds the solutions, not a lesson

OBJECT_REPR = re.compile(r"<[\w.]+(?: object)? at 0x[0-9a-fA-F]+>")


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def markdown_of(path: Path) -> str:
    return "\n\n".join("".join(c["source"]) for c in cells(path) if c["cell_type"] == "markdown")


def prose_sources() -> list[tuple[str, str]]:
    """(name, text) of everything a learner reads as prose: every notebook's markdown, the README, the glossary."""
    sources = [(p.stem, markdown_of(p)) for p in NOTEBOOKS]
    for name in ("README.md", "GLOSSARY.md"):
        if (ROOT / name).exists():
            sources.append((name, (ROOT / name).read_text(encoding="utf-8")))
    return sources


def title_of(path: Path) -> str:
    """The notebook's title, from its first heading: '# 02 · The tokenizer' gives 'The tokenizer'."""
    first = next(c for c in cells(path) if c["cell_type"] == "markdown")
    heading = "".join(first["source"]).splitlines()[0]
    return heading.lstrip("# ").split("·", 1)[-1].strip()


# ------------------------------------------------------------------------------------------------------ outputs

@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_stored_output_is_an_object_repr(path):
    """A styled table stored as '<pandas.io.formats.style.Styler at 0x...>' is lost to every viewer but JupyterLab:
    use helpers.display.tables.styled() (or a helper that returns a ReadableStyler) instead of DataFrame.style."""
    found = []
    for index, cell in enumerate(cells(path)):
        for output in cell.get("outputs", []):
            text = "".join(output.get("data", {}).get("text/plain", "")) + "".join(output.get("text", ""))
            found += [f"cell {index}: {match}" for match in OBJECT_REPR.findall(text)]
    assert not found, f"{path.name} stores object reprs instead of readable text: {found}"


def test_the_object_repr_check_catches_a_styler():
    import pandas as pd

    assert OBJECT_REPR.search(repr(pd.DataFrame({"a": [1]}).style))
    assert not OBJECT_REPR.search("<Figure size 700x280 with 1 Axes>")


# ---------------------------------------------------------------------------------------- notebook references

REFERENCE = re.compile(r"\bnotebooks?\s+(\d\d)(?:\s*(?:to|-|–|and)\s*(\d\d))?", re.IGNORECASE)
FILE_NAME = re.compile(r"(?<![\w/])(\d\d_[a-z0-9_]+?)(?:\.ipynb)?(?![\w])")
BOLD_TITLE = re.compile(r"\*\*(\d\d) · ([^*]+)\*\*")


@pytest.mark.parametrize("name, text", prose_sources(), ids=lambda v: v if len(v) < 60 else "")
def test_every_notebook_named_in_prose_exists(name, text):
    missing = []
    for match in REFERENCE.finditer(text):
        missing += [f"{match.group(0)!r}" for number in match.groups() if number and number not in NUMBERS]
    stems = {p.stem for p in NOTEBOOKS}
    missing += [f"{m!r}" for m in FILE_NAME.findall(text) if m not in stems]
    for number, title in BOLD_TITLE.findall(text):
        title = " ".join(title.split())  # a title may wrap over two lines of markdown
        if number not in NUMBERS:
            missing.append(f"**{number} · {title}**")
        elif not title_of(NUMBERS[number]).lower().startswith(title.strip().lower()):
            missing.append(f"**{number} · {title}** (notebook {number} is titled {title_of(NUMBERS[number])!r})")
    assert not missing, f"{name} names notebooks that do not exist or have another title: {missing}"


# Where a sentence points a learner at the notebook that shows a thing, it must be the right notebook. Each anchor
# is a topic and a pattern of how prose refers to it; the captured number must be the notebook that shows it.
ANCHORS = [
    ("two ways to stop", r"notebook (\d\d)'s two ways to stop|two ways to stop\W{0,3}\(?notebook (\d\d)", "10"),
    ("the hand-written loop", r"(?:loop|generate) of notebook (\d\d)|notebook (\d\d)'s (?:greedy |hand-written )?loop",
     "10"),
    ("<|im_end|> when decoding", r"<\|im_end\|>`?[^.()]{0,60}\(notebook (\d\d)\)", "08"),
    ("decoding with batch_decode", r"`batch_decode` in notebook (\d\d)|decod\w+ \(notebook (\d\d)\)", "08"),
    ("KV cache", r"(?:KV|key/value) cache[^.()]{0,40}\(notebook (\d\d)\)|notebook (\d\d) explains the cache", "11"),
    ("grouped-query attention", r"grouped-query attention\*?,? \(?notebook (\d\d)", "01"),
    ("sampling", r"sampl\w+[^.()]{0,30}\(notebook (\d\d)\)|Notebook (\d\d) comes back to sampling", "12"),
    ("left padding", r"padding[^.]{0,80}notebook (\d\d) shows why", "13"),
    ("slicing", r"slic\w+ in notebook (\d\d)|as in notebook (\d\d)\b[^.]{0,20}slice", "07"),
    ("the chat template", r"chat template of notebook (\d\d)|template \(notebook (\d\d)\)", "04"),
    ("why decoding is slow", r"[Nn]otebook (\d\d) (?:explains|measures)(?: and explains)? why", "30"),
    ("the widget", r"widget of notebook (\d\d)", "20"),
]


def sentences(text: str) -> list[str]:
    """The text cut into sentences and list items, each on one line (a reference may wrap in the markdown)."""
    return [" ".join(s.split()) for s in re.split(r"(?<=[.!?])\s+|\n\s*[-*] |\n\n", text) if s.strip()]


@pytest.mark.parametrize("topic, pattern, expected", ANCHORS, ids=[a[0] for a in ANCHORS])
def test_references_point_at_the_notebook_that_shows_the_thing(topic, pattern, expected):
    wrong, seen = [], 0
    for name, text in prose_sources():
        for sentence in sentences(text):
            for match in re.finditer(pattern, sentence):
                seen += 1
                number = next(g for g in match.groups() if g)
                if number != expected:
                    wrong.append(f"{name}: {match.group(0)!r} should say notebook {expected}")
    assert seen, f"no prose refers to {topic!r} this way any more: update the anchor's pattern"
    assert not wrong, "; ".join(wrong)


@pytest.mark.parametrize("topic, pattern, expected", ANCHORS, ids=[a[0] for a in ANCHORS])
def test_each_anchor_names_a_notebook_that_exists(topic, pattern, expected):
    assert expected in NUMBERS, f"anchor {topic!r} expects notebook {expected}, which does not exist"


def test_an_anchor_catches_a_wrong_reference():
    pattern = dict((a[0], a[1]) for a in ANCHORS)["two ways to stop"]
    match = re.search(pattern, "`max_tokens` ran out first (notebook 06's two ways to stop)")
    assert match and next(g for g in match.groups() if g) == "06"


# ------------------------------------------------------------------------------------------------ the glossary

GLOSSARY = ROOT / "GLOSSARY.md"
GLOSSARY_ZH = ROOT / "GLOSSARY.zh-CN.md"
GLOSSARY_LINK = re.compile(r"\]\((?:\.\./)*GLOSSARY(?:\.zh-CN)?\.md#([^)\s]+)\)")
heading_slug = edition.heading_slug  # GitHub's anchor for a markdown heading


def glossary_entries(text: str) -> list[tuple[str, str]]:
    """(anchor, heading) of each ``## `` entry of a glossary, in order (:func:`tools.edition.glossary_sections`:
    the explicit ``<a id>`` above the heading, which the Chinese glossary uses to keep the English anchors, else
    GitHub's slug of the heading)."""
    return [(section["anchor"], section["heading"]) for section in edition.glossary_sections(text)]


def glossary_anchors(path: Path = GLOSSARY) -> set[str]:
    """Every anchor a link into the glossary at ``path`` can land on: each heading's GitHub slug and each explicit
    ``<a id>`` anchor."""
    text = path.read_text(encoding="utf-8")
    anchors = {heading_slug(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}
    anchors |= set(re.findall(r'<a id="([^"]+)"></a>', text))
    return anchors


def test_the_glossary_defines_the_terms_the_notebooks_use():
    anchors = glossary_anchors()
    for term in ("token", "tokenizer", "chat-template", "logits", "argmax", "softmax", "greedy-decoding", "sampling",
                 "prefill", "decode", "kv-cache", "qkv-and-attention-heads", "grouped-query-attention", "rope",
                 "activations", "bfloat16", "int4", "gguf", "cors", "the-seed-article", "the-packaged-model"):
        assert term in anchors, f"GLOSSARY.md has no heading for {term!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_glossary_links_land_on_a_definition(path):
    anchors = glossary_anchors()
    broken = [a for a in GLOSSARY_LINK.findall(markdown_of(path)) if a not in anchors]
    assert not broken, f"{path.name} links to glossary entries that do not exist: {broken}"


def test_the_seed_article_is_defined_where_it_is_first_used():
    first = next(p for p in NOTEBOOKS if "seed article" in markdown_of(p))
    text = markdown_of(first)
    assert "GLOSSARY.md#the-seed-article" in text, f"{first.name} uses 'the seed article' without linking it"


# ---------------------------------------------------------------------------------------------------- Try it

@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_every_lesson_ends_with_a_try_it(path):
    last = "".join(next(c for c in reversed(cells(path)) if c["cell_type"] == "markdown")["source"])
    assert "**Try it" in last, f"{path.name}'s last markdown cell has no **Try it:** suggestion"
