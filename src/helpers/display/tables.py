"""Tables of token ids that a learner can read: one row per token, or a grid of ids coloured by part.

Helpers here return pandas objects and leave displaying them to the notebook. A styled table is a
:class:`ReadableStyler`: coloured HTML in JupyterLab, and the same table as aligned plain text everywhere else
(a terminal, a diff of the stored notebook, a screen reader). Colour is never the only cue: every colour also has a
column that says the same in words.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence

import jinja2
import pandas as pd
from pandas.io.formats.style import Styler

from helpers.display.words import heading, say

VISIBLE_WHITESPACE = {" ": "·", "\n": "↵", "\t": "→", "\r": "␍"}
PART_COLOURS = {"prompt": "#eef2f7", "reply": "#e3f5e1", "padding": "#f3f3f3", "special": "#fde9c8"}


# One line per row, each visible cell followed by a separator: pandas renders the cells (formats applied, hidden
# rows, columns and index left out) and ReadableStyler lines them up.
_CELL = "\x1f"
_TEXT_TEMPLATE = jinja2.Environment(autoescape=False).from_string(
    "{% for r in head %}{% for c in r %}{% if c['is_visible'] %}{{ c['display_value'] }}\x1f{% endif %}"
    "{% endfor %}\n{% endfor %}"
    "{% for r in body %}{% for c in r %}{% if c['is_visible'] %}{{ c['display_value'] }}\x1f{% endif %}"
    "{% endfor %}\n{% endfor %}")
_TAG = re.compile(r"<[^>]+>")
_NUMBER = re.compile(r"|[-+]?[\d,]*\.?\d+(e[-+]?\d+)?\s?(%|x|s|ms|MiB|GB)?|<NA>|nan|True|False")


def _width(text: str) -> int:
    """Columns a string takes in a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


class ReadableStyler(Styler):
    """A pandas ``Styler`` whose plain-text form is the table itself, not ``<Styler at 0x...>``.

    JupyterLab shows the coloured HTML; anything that reads ``text/plain`` (a terminal, ``git diff`` of a stored
    notebook, GitHub's raw view, a test) gets the same rows and columns, with the formats applied, lined up in
    columns, and the caption (without its HTML) on the first line. Every Styler method works as usual and keeps
    this class, e.g. ``styled(table).format({"p": "{:.1%}"}).bar(subset="p")``.
    """

    template_string = _TEXT_TEMPLATE

    def text_rows(self) -> list[list[str]]:
        """The visible cells as strings, header rows first, exactly as the HTML shows them (formats applied)."""
        rendered = self.to_string(sparse_index=False, sparse_columns=False)
        return [line.split(_CELL)[:-1] for line in rendered.split("\n") if _CELL in line]

    def to_text(self) -> str:
        """The table as aligned plain text: what ``repr`` and every non-HTML viewer show."""
        rows = self.text_rows()
        for r in range(self.data.columns.nlevels - 1):  # upper header levels: write a repeated label once
            rows[r] = [cell if c == 0 or cell != rows[r][c - 1] else "" for c, cell in enumerate(rows[r])]
        columns = max((len(row) for row in rows), default=0)
        body = rows[len(rows) - (len(self.data.index) - len(self.hidden_rows)):]
        numeric = [all(_NUMBER.fullmatch(row[c]) for row in body if c < len(row)) for c in range(columns)]
        widths = [max((_width(row[c]) for row in rows if c < len(row)), default=0) for c in range(columns)]

        def cell_text(cell: str, c: int) -> str:
            pad = " " * (widths[c] - _width(cell))
            return pad + cell if numeric[c] else cell + pad

        lines = ["  ".join(cell_text(cell, c) for c, cell in enumerate(row)).rstrip() for row in rows]
        caption = self.caption if isinstance(self.caption, str) else None
        if caption:
            lines.insert(0, html.unescape(_TAG.sub("", caption)))
        return "\n".join(lines)

    def _translate(self, *args, **kwargs):
        """Pandas' rendering context, with the header and row names in the notebook's language (words.heading)."""
        context = super()._translate(*args, **kwargs)
        for row in context["head"] + context["body"]:
            for cell in row:
                if cell.get("type") == "th" and isinstance(cell.get("display_value"), str):
                    cell["display_value"] = heading(cell["display_value"])
        return context

    def __repr__(self) -> str:
        return self.to_text()

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(self.to_text())


def styled(table: pd.DataFrame) -> ReadableStyler:
    """``table.style`` that stays readable outside JupyterLab: use it wherever a notebook would write ``.style``."""
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"styled() expects a pandas DataFrame, got {type(table).__name__}; "
                        "build the table first (e.g. pd.DataFrame(rows)), then style it")
    return ReadableStyler(table)


def show_whitespace(text: str) -> str:
    """Make spaces, newlines and tabs visible: ``"a b\\n"`` becomes ``"a·b↵"``."""
    return "".join(VISIBLE_WHITESPACE.get(ch, ch) for ch in text)


def as_id_rows(ids) -> list[list[int]]:
    """Normalise ids to a list of sequences: a flat list or 1-D tensor is one sequence, a 2-D one is a batch."""
    if hasattr(ids, "tolist"):
        ids = ids.tolist()
    if isinstance(ids, dict) or isinstance(ids, (str, bytes)):
        raise TypeError(f"expected token ids (a list of ints or a tensor), got {type(ids).__name__}; "
                        "pass model_inputs['input_ids'] rather than model_inputs")
    ids = list(ids)
    if not any(isinstance(i, (list, tuple)) for i in ids):
        return [ids]
    if all(isinstance(row, (list, tuple)) for row in ids):
        return [list(row) for row in ids]
    raise TypeError("expected a flat list of int ids or a list of such lists (a batch)")


def check_ids(rows: list[list[int]], tokenizer) -> None:
    """Raise a ValueError naming the first id that is not in the tokenizer's vocabulary."""
    size = len(tokenizer)
    for row in rows:
        for i in row:
            if not isinstance(i, int) or not 0 <= i < size:
                raise ValueError(f"id {i!r} is outside the vocabulary: valid ids are integers from 0 to {size - 1}. "
                                 "Check that the ids came from this tokenizer.")


def token_table(ids, tokenizer, attention_mask=None, prompt_length: int | None = None) -> pd.DataFrame:
    """One row per token: position, id, the token as the BPE vocabulary spells it, its text, and flags.

    ``ids`` may be a flat list, a 1-D tensor, or a batch (2-D); a batch adds a ``sequence`` column.
    ``attention_mask`` (same shape) adds a ``mask`` column. ``prompt_length`` labels each token as prompt or
    reply. Whitespace in the text column is made visible (· for a space, ↵ for a newline).
    """
    rows = as_id_rows(ids)
    check_ids(rows, tokenizer)
    masks = as_id_rows(attention_mask) if attention_mask is not None else None
    if masks is not None and [len(m) for m in masks] != [len(r) for r in rows]:
        raise ValueError("attention_mask must have the same shape as the ids")
    special = set(tokenizer.all_special_ids) | set(getattr(tokenizer, "added_tokens_decoder", {}))
    records = []
    for s, row in enumerate(rows):
        pieces = tokenizer.convert_ids_to_tokens(row)
        for pos, (token_id, piece) in enumerate(zip(row, pieces)):
            record = {"sequence": s, "position": pos, "id": token_id, "BPE token": piece,
                      "text": show_whitespace(tokenizer.decode([token_id])), "special": token_id in special}
            if masks is not None:
                record["mask"] = masks[s][pos]
            if prompt_length is not None:
                record["part"] = "prompt" if pos < prompt_length else "reply"
            records.append(record)
    columns = ["sequence", "position", "id", "BPE token", "text", "special"]
    columns += ["mask"] if masks is not None else []
    columns += ["part"] if prompt_length is not None else []
    table = pd.DataFrame.from_records(records, columns=columns)
    if len(rows) == 1:
        table = table.drop(columns="sequence")
    return table


def _parts_of_row(start: int, count: int, prompt_length: int) -> str:
    """Say in words which positions of a grid row are prompt and which are reply (the colours say it too)."""
    end = start + count - 1
    if end < prompt_length:
        return say("prompt")
    if start >= prompt_length:
        return say("reply")
    return say("prompt to {last}, reply from {first}", last=prompt_length - 1, first=prompt_length)


def id_grid(ids: Sequence[int], prompt_length: int = 0, width: int = 10) -> ReadableStyler:
    """The ids laid out ``width`` per row (like a printed tensor), prompt and reply in different colours.

    The row label is the position of the row's first id, so a learner can find position 39 at a glance. The last
    column, ``part``, says in words what the colours show: whether the row's ids belong to the prompt or the reply.
    """
    if not isinstance(width, int) or isinstance(width, bool) or width < 1:
        raise ValueError(f"width must be a positive whole number of ids per row, got {width!r}")
    if not isinstance(prompt_length, int) or isinstance(prompt_length, bool) or prompt_length < 0:
        raise ValueError(f"prompt_length must be a whole number >= 0 (how many ids the prompt has), "
                         f"got {prompt_length!r}")
    (row,) = as_id_rows(ids) if ids is not None else [[]]
    cells = [row[i:i + width] + [None] * (width - len(row[i:i + width])) for i in range(0, len(row), width)]
    grid = pd.DataFrame(cells, index=[i * width for i in range(len(cells))], columns=range(width), dtype="Int64")
    grid.index.name = "position"
    grid["part"] = [_parts_of_row(start, len(row[start:start + width]), prompt_length) for start in grid.index]

    def colour(column):
        out = []
        if column.name == "part":
            return [""] * len(column)
        for start, value in zip(grid.index, column):
            pos = start + column.name
            if pd.isna(value):
                out.append("")
            else:
                part = "prompt" if pos < prompt_length else "reply"
                out.append(f"background-color: {PART_COLOURS[part]}")
        return out

    return (styled(grid).apply(colour).format(na_rep="").set_uuid(f"id-grid-{len(row)}-{prompt_length}")
            .set_caption(f"{say('{count} ids:', count=len(row))} "
                         f"<span style='background:{PART_COLOURS['prompt']}'>{say('prompt')} "
                         f"({min(prompt_length, len(row))})</span> "
                         f"<span style='background:{PART_COLOURS['reply']}'>{say('reply')} "
                         f"({max(len(row) - prompt_length, 0)})</span>"))


def style_tokens(table: pd.DataFrame, name: str = "tokens") -> ReadableStyler:
    """Colour a :func:`token_table`: special tokens amber, reply tokens green, padding (mask 0) grey.

    The colours repeat what the columns say in words (``special`` True, ``part`` reply, ``mask`` 0), so the table
    reads the same without them.
    """
    if not isinstance(table, pd.DataFrame) or "special" not in table.columns:
        raise TypeError("style_tokens expects the table that token_table() returns (with a 'special' column); "
                        "call style_tokens(token_table(ids, tokenizer))")

    def colour(row):
        if "mask" in row and row["mask"] == 0:
            css = f"background-color: {PART_COLOURS['padding']}; color: #999"
        elif row["special"]:
            css = f"background-color: {PART_COLOURS['special']}"
        elif row.get("part") == "reply":
            css = f"background-color: {PART_COLOURS['reply']}"
        else:
            css = ""
        return [css] * len(row)

    return styled(table).apply(colour, axis=1).hide(axis="index").set_uuid(name)


def side_by_side(full_ids, sliced_ids, prompt_length: int) -> pd.DataFrame:
    """Full and sliced ids aligned by position: each sliced id sits beside the full id it was cut from."""
    (full,) = as_id_rows(full_ids)
    (sliced,) = as_id_rows(sliced_ids)
    records = []
    for pos, token_id in enumerate(full):
        j = pos - prompt_length
        records.append({
            "position in full": pos, "full id": token_id,
            "part": "prompt" if j < 0 else "reply",
            "position in sliced": j if 0 <= j < len(sliced) else None,
            "sliced id": sliced[j] if 0 <= j < len(sliced) else None,
        })
    table = pd.DataFrame.from_records(records, columns=["position in full", "full id", "part",
                                                        "position in sliced", "sliced id"])
    return table.astype({"position in sliced": "Int64", "sliced id": "Int64"})
