"""Display helpers: token tables, id grids, side-by-side slices, including odd input."""

import pytest
import torch

from helpers.tables import as_id_rows, id_grid, show_whitespace, side_by_side, style_tokens, token_table


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
