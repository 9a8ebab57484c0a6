"""Tables of token ids that a learner can read: one row per token, or a grid of ids coloured by part.

Helpers here return pandas objects and leave displaying them to the notebook.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

VISIBLE_WHITESPACE = {" ": "·", "\n": "↵", "\t": "→", "\r": "␍"}
PART_COLOURS = {"prompt": "#eef2f7", "reply": "#e3f5e1", "padding": "#f3f3f3", "special": "#fde9c8"}


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


def id_grid(ids: Sequence[int], prompt_length: int = 0, width: int = 10):
    """The ids laid out ``width`` per row (like a printed tensor), prompt and reply in different colours.

    The row label is the position of the row's first id, so a learner can find position 39 at a glance.
    """
    (row,) = as_id_rows(ids) if ids is not None else [[]]
    cells = [row[i:i + width] + [None] * (width - len(row[i:i + width])) for i in range(0, len(row), width)]
    grid = pd.DataFrame(cells, index=[i * width for i in range(len(cells))], columns=range(width), dtype="Int64")
    grid.index.name = "position"

    def colour(column):
        out = []
        for start, value in zip(grid.index, column):
            pos = start + column.name
            if pd.isna(value):
                out.append("")
            else:
                part = "prompt" if pos < prompt_length else "reply"
                out.append(f"background-color: {PART_COLOURS[part]}")
        return out

    return (grid.style.apply(colour).format(na_rep="").set_uuid(f"id-grid-{len(row)}-{prompt_length}")
            .set_caption(f"{len(row)} ids: <span style='background:{PART_COLOURS['prompt']}'>prompt "
                         f"({min(prompt_length, len(row))})</span> "
                         f"<span style='background:{PART_COLOURS['reply']}'>reply "
                         f"({max(len(row) - prompt_length, 0)})</span>"))


def style_tokens(table: pd.DataFrame, name: str = "tokens"):
    """Colour a :func:`token_table`: special tokens amber, reply tokens green, padding (mask 0) grey."""

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

    return table.style.apply(colour, axis=1).hide(axis="index").set_uuid(name)


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
