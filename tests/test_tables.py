"""Display helpers: token tables, id grids, side-by-side slices, including odd input."""

import pytest
import torch

import pandas as pd
from IPython.core.formatters import PlainTextFormatter

from helpers.display.tables import (ReadableStyler, as_id_rows, id_grid, show_whitespace, side_by_side, style_tokens, styled,
                            token_table)


def test_whitespace_is_made_visible():
    assert show_whitespace("a b\n\tc") == "a·b↵→c"


def test_token_table_spells_each_token_and_marks_specials(packaged_tokenizer):
    ids = packaged_tokenizer("<|im_start|>user\n Hi").input_ids
    table = token_table(ids, packaged_tokenizer)
    assert list(table.columns) == ["position", "id", "BPE token", "text", "special"]
    assert table["id"].tolist() == ids
    assert table.loc[0, "text"] == "<|im_start|>" and bool(table.loc[0, "special"])
    assert table["text"].tolist()[1:] == ["user", "↵", "·Hi"]
    assert table["BPE token"].tolist()[-1] == "ĠHi"


def test_token_table_accepts_a_tensor_a_mask_and_a_prompt_length(packaged_tokenizer):
    enc = packaged_tokenizer(["Hello world"], return_tensors="pt")
    table = token_table(enc.input_ids[0], packaged_tokenizer, attention_mask=enc.attention_mask[0], prompt_length=1)
    assert table["mask"].tolist() == [1, 1]
    assert table["part"].tolist() == ["prompt", "reply"]


def test_a_batch_of_two_gets_a_sequence_column(packaged_tokenizer):
    table = token_table(torch.tensor([[9707, 1879], [151643, 9707]]), packaged_tokenizer,
                        attention_mask=[[1, 1], [0, 1]])
    assert table["sequence"].tolist() == [0, 0, 1, 1]
    assert table["mask"].tolist() == [1, 1, 0, 1]
    styled = style_tokens(table).to_html()
    assert "color: #999" in styled  # the padding row is greyed out


def test_empty_ids_give_an_empty_table_with_the_columns(packaged_tokenizer):
    table = token_table([], packaged_tokenizer)
    assert len(table) == 0 and "id" in table.columns


@pytest.mark.parametrize("bad", [[-1], [10**7], [1, 2.5]])
def test_ids_outside_the_vocabulary_are_named(packaged_tokenizer, bad):
    with pytest.raises(ValueError, match="outside the vocabulary"):
        token_table(bad, packaged_tokenizer)


def test_a_whole_batch_encoding_is_refused_with_a_hint(packaged_tokenizer):
    with pytest.raises(TypeError, match="input_ids"):
        token_table(dict(packaged_tokenizer(["x"])), packaged_tokenizer)


def test_mask_shape_must_match(packaged_tokenizer):
    with pytest.raises(ValueError, match="same shape"):
        token_table([1, 2], packaged_tokenizer, attention_mask=[1])


def test_as_id_rows_normalises_shapes():
    assert as_id_rows([1, 2]) == [[1, 2]]
    assert as_id_rows(torch.tensor([[1], [2]])) == [[1], [2]]
    assert as_id_rows([]) == [[]]


def test_id_grid_lays_out_ids_by_position_and_colours_the_parts():
    grid = id_grid(list(range(100, 125)), prompt_length=12, width=10)
    assert grid.data.index.tolist() == [0, 10, 20]
    assert grid.data.loc[10, 1] == 111
    html = grid.to_html()
    assert html.count("#e3f5e1") >= 1 and "prompt (12)" in html and "reply (13)" in html
    assert grid.to_html() == id_grid(list(range(100, 125)), prompt_length=12, width=10).to_html()  # stable for nbval


def test_id_grid_of_nothing_is_empty():
    assert id_grid([], prompt_length=0).data.empty


def test_side_by_side_aligns_the_slice_with_its_source():
    table = side_by_side([5, 6, 7, 8], [7, 8], prompt_length=2)
    reply = table[table["part"] == "reply"]
    assert reply["full id"].tolist() == reply["sliced id"].tolist() == [7, 8]
    assert reply["position in sliced"].tolist() == [0, 1]
    assert table["sliced id"].isna().sum() == 2


def test_side_by_side_with_a_batch_of_two_is_refused():
    with pytest.raises(ValueError):
        side_by_side([[1, 2], [3, 4]], [2], prompt_length=1)


# ------------------------------------------------------------------ styled tables stay readable as plain text

def test_a_styled_table_shows_its_rows_as_text_not_an_object_repr():
    table = pd.DataFrame({"token": ["·a", "·中文"], "probability": [0.51234, 0.1]}, index=pd.Index([1, 2], name="rank"))
    shown = styled(table).format({"probability": "{:.1%}"}).bar(subset="probability")
    assert isinstance(shown, ReadableStyler)  # Styler methods keep the class
    text = PlainTextFormatter()(shown)  # what Jupyter stores as text/plain
    assert " at 0x" not in text and "Styler" not in text
    lines = text.splitlines()
    assert lines[0].split() == ["token", "probability"] and lines[1].strip() == "rank"
    assert lines[2].split() == ["1", "·a", "51.2%"] and lines[3].split() == ["2", "·中文", "10.0%"]
    assert lines[3].index("10.0%") == lines[2].index("51.2%") - 2  # 中 and 文 take two columns each
    assert "<table" in shown.to_html() and "51.2%" in shown.to_html()


def test_hidden_index_and_two_level_columns_are_written_as_shown():
    table = pd.DataFrame({"a": [1, 2], "b": [3, 4]})
    assert repr(styled(table).hide(axis="index")).splitlines() == ["a  b", "1  3", "2  4"]
    both = pd.concat({"step 0": table, "step 1": table}, axis=1)
    lines = repr(styled(both)).splitlines()
    assert lines[0].split() == ["step", "0", "step", "1"]  # the upper label once per group, not per column
    assert lines[1].split() == ["a", "b", "a", "b"] and lines[2].split() == ["0", "1", "3", "1", "3"]


def test_styled_refuses_what_is_not_a_dataframe():
    with pytest.raises(TypeError, match="DataFrame"):
        styled([[1, 2]])


def test_id_grid_says_in_words_which_ids_are_prompt_and_reply():
    grid = id_grid(list(range(100, 125)), prompt_length=12, width=10)
    assert grid.data["part"].tolist() == ["prompt", "prompt to 11, reply from 12", "reply"]
    text = repr(grid)
    assert text.splitlines()[0] == "25 ids: prompt (12) reply (13)"  # the caption, without its HTML
    assert "prompt to 11, reply from 12" in text and "124" in text and "<NA>" not in text


@pytest.mark.parametrize("width, prompt_length", [(0, 0), (2.5, 0), (10, -1), (10, "39")])
def test_id_grid_refuses_a_bad_width_or_prompt_length(width, prompt_length):
    with pytest.raises(ValueError, match="width|prompt_length"):
        id_grid([1, 2, 3], prompt_length=prompt_length, width=width)


def test_styled_tokens_keep_the_columns_that_say_what_the_colours_say(packaged_tokenizer):
    table = token_table([[151643, 9707], [9707, 1879]], packaged_tokenizer, attention_mask=[[0, 1], [1, 1]])
    text = repr(style_tokens(table))
    header, first = text.splitlines()[:2]
    assert header.split() == ["sequence", "position", "id", "BPE", "token", "text", "special", "mask"]
    assert first.split()[-2:] == ["True", "0"]  # the padding row: special, masked out
    assert "<|endoftext|>" in first  # a control token's text is kept, not taken for an HTML tag


def test_style_tokens_refuses_a_table_that_is_not_a_token_table():
    with pytest.raises(TypeError, match="token_table"):
        style_tokens(pd.DataFrame({"id": [1]}))
