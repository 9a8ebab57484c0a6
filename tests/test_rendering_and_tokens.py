"""Showing chat text and tokens (helpers.display.rendering, helpers.display.tokens): control tokens in colour, the
byte-level spelling of BPE, and the special tokens with their ids."""

import re

import pytest

from helpers import seed_messages
from helpers.display.rendering import highlight_template
from helpers.display.tokens import byte_level_spelling, special_tokens_table, utf8_bytes_table


def test_highlighting_keeps_the_text_and_marks_control_tokens():
    text = "<|im_start|>user\n<b>hi</b><|im_end|>\n"
    shown = highlight_template(text)
    assert repr(shown) == text
    html = shown._repr_html_()
    assert html.count("&lt;|im_start|&gt;</span>") == 1 and "<b>user</b>" in html
    assert "&lt;b&gt;hi&lt;/b&gt;" in html  # user text is escaped, never rendered as HTML
    assert html.count("↵") == 2


def test_highlighting_rejects_token_ids():
    with pytest.raises(TypeError, match="tokenize=False"):
        highlight_template([151644, 872])


def test_every_control_token_and_role_of_the_seed_prompt_is_marked(packaged_tokenizer):
    text = packaged_tokenizer.apply_chat_template(seed_messages(), tokenize=False, add_generation_prompt=True)
    html = highlight_template(text)._repr_html_()
    assert html.count("&lt;|im_start|&gt;</span>") == 3 and html.count("&lt;|im_end|&gt;</span>") == 2
    assert re.findall(r"<b>(\w+)</b>", html) == ["system", "user", "assistant"]


def test_byte_level_spelling_matches_the_tokenizer(packaged_tokenizer):
    for text in ["请介绍一下iPhone", " Hello world\n", "tab\there"]:
        pieces = packaged_tokenizer.convert_ids_to_tokens(packaged_tokenizer(text).input_ids)
        assert "".join(pieces) == byte_level_spelling(text)


def test_utf8_table_shows_three_bytes_for_a_chinese_character():
    row = utf8_bytes_table("请").iloc[0]
    assert row["UTF-8 bytes"] == "e8 af b7" and row["BPE spelling"] == "è¯·"


def test_special_tokens_table_has_the_seed_ids(packaged_tokenizer):
    table = special_tokens_table(packaged_tokenizer).set_index("text")
    assert table.loc["<|im_start|>", "id"] == 151644
    assert table.loc["<|im_end|>", "id"] == 151645
    assert table.loc["<|endoftext|>", "id"] == 151643
    assert "eos_token" in table.loc["<|im_end|>", "tokenizer attribute"]
