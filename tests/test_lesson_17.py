"""Lesson 17 (structured output): the notebook's own pattern builders, valid-prefix test, logits processor and
llguidance processor, run here from its cells (so the page is what is tested), and check_enum_pattern's feedback."""

import functools
import json
import time
from types import SimpleNamespace

import pandas as pd
import pytest
import regex
import torch
from pydantic import BaseModel, Field
from typing import Literal
from pathlib import Path

from helpers import exercises as ex
from tools.edition import cell_source
from helpers.chat.tools import check_call, parse_tool_calls

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "17_structured_output.ipynb"


@pytest.fixture(autouse=True)
def english(monkeypatch):
    monkeypatch.setenv("WORKBOOK_LANG", "en")


@pytest.fixture(scope="module")
def page(packaged_tokenizer):
    """The notebook's tools, patterns, valid-prefix test and processors, defined by running its cells."""
    import llguidance
    import llguidance.hf
    from transformers import LogitsProcessor
    from transformers.utils import get_json_schema

    model = SimpleNamespace(config=SimpleNamespace(vocab_size=len(packaged_tokenizer)))
    namespace = {"functools": functools, "json": json, "regex": regex, "pd": pd, "time": time, "torch": torch, "llguidance": llguidance,
                 "LogitsProcessor": LogitsProcessor, "get_json_schema": get_json_schema,
                 "tokenizer": packaged_tokenizer, "model": model}
    for cell_id in ("c03", "c05", "c07", "c09", "c11", "c28"):
        exec(cell_source(NOTEBOOK, cell_id), namespace)
    return namespace


def call_text_of(name, arguments):
    """A call written as the template writes it (and as the form wants it)."""
    return "<tool_call>\n" + json.dumps({"name": name, "arguments": arguments}, ensure_ascii=False) + "\n</tool_call>"


COMPLETE = [call_text_of("get_weather", {"city": "Beijing"}),
            call_text_of("get_weather", {"city": "北京", "unit": "fahrenheit"}),
            call_text_of("add", {"a": 1234, "b": -5678}),
            call_text_of("add", {"a": 0, "b": 3})]


# ------------------------------------------------------------------------------------------------------- the form

@pytest.mark.parametrize("text", COMPLETE)
def test_a_complete_call_fits_the_form_and_parses_and_validates(page, text):
    assert page["complete"](page["form"], text)
    form_seen, calls = parse_tool_calls(text)
    assert form_seen == "<tool_call> tags" and len(calls) == 1
    assert check_call(calls[0], page["tools"]) == [], "whatever fits the form also fits the schema"


@pytest.mark.parametrize("text", ["", "<", "<tool_call>", "<tool_call>\n{\"name\": \"get", COMPLETE[1][:-20],
                                  COMPLETE[1][:COMPLETE[1].index("北")] + "\ufffd",   # half a Chinese character, as decode shows it
                                  '<tool_call>\n{"name": "add", "arguments": {"a": 12',
                                  '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}'])
def test_a_valid_prefix_is_accepted_and_is_not_complete(page, text):
    assert page["valid_prefix"](page["form"], text)
    assert not page["complete"](page["form"], text)


@pytest.mark.parametrize("text", [
    "```json\n{",                                                          # lesson 16's fence
    '{"name": "add"',                                                      # bare JSON
    '<tool_call>\n{"name": "Joke"',                                        # a tool that is not in the list
    '<tool_call>\n{"name": "add", "arguments": {"a": 2.',                  # a float where the schema says integer
    '<tool_call>\n{"name": "add", "arguments": {"a": "1"',                 # a string where it says integer
    '<tool_call>\n{"name": "add", "arguments": {"b": 1',                   # the arguments out of the schema's order
    '<tool_call>\n{"name": "get_weather", "arguments": {"unit": "celsius"',   # the required city left out
    '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Beijing", "unit": "kelvin',
    '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Beijing", "country"',
    '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Bei\njing',   # a line break inside a string
    COMPLETE[0] + "\n",                                                    # anything after the end
])
def test_an_invalid_start_is_refused(page, text):
    assert not page["valid_prefix"](page["form"], text)


def test_only_one_line_of_json_with_the_templates_separators_fits(page):
    spaced = "<tool_call>\n" + json.dumps({"name": "add", "arguments": {"a": 1, "b": 2}}, indent=2) + "\n</tool_call>"
    compact = "<tool_call>\n" + json.dumps({"name": "add", "arguments": {"a": 1, "b": 2}}, separators=(",", ":"))
    assert not page["valid_prefix"](page["form"], spaced) and not page["valid_prefix"](page["form"], compact)


class Review(BaseModel):
    sentiment: Literal["positive", "negative", "neutral"]
    stars: int = Field(ge=1, le=5)
    summary: str = Field(max_length=60)


def test_the_review_pattern_takes_exactly_what_pydantic_validates(page):
    pattern = page["object_pattern"](Review.model_json_schema())
    good = json.dumps({"sentiment": "negative", "stars": 2, "summary": "电池两天就坏了"}, ensure_ascii=False)
    assert page["complete"](pattern, good) and Review.model_validate_json(good)
    for bad in ({"sentiment": "mixed", "stars": 2, "summary": "x"}, {"sentiment": "negative", "stars": 6, "summary": "x"},
                {"sentiment": "negative", "stars": 2, "summary": "x" * 61}, {"sentiment": "negative", "stars": 2}):
        assert not page["complete"](pattern, json.dumps(bad)), bad


def test_a_schema_the_builder_cannot_write_gets_a_clear_error(page):
    with pytest.raises(ValueError, match="first property to be required"):
        page["object_pattern"]({"properties": {"a": {"type": "integer"}}, "required": []})
    with pytest.raises(ValueError, match="no pattern for a value"):
        page["value_pattern"]({"type": "array"})


# ------------------------------------------------------------------------------------------------ the processor

def ids_of(tokenizer, text):
    return tokenizer(text, add_special_tokens=False).input_ids


def scores_favouring(order, vocab_size):
    """Scores where the tokens of ``order`` come first, in that order, and every other token far behind."""
    scores = torch.full((1, vocab_size), -100.0)
    for rank, token in enumerate(order):
        scores[0, token] = 50.0 - rank
    return scores


def test_the_processor_keeps_the_likeliest_token_that_fits_and_nothing_else(page, packaged_tokenizer):
    tokenizer = packaged_tokenizer
    fence, tag = ids_of(tokenizer, "```")[0], tokenizer.convert_tokens_to_ids("<tool_call>")
    processor = page["KeepToForm"](page["form"])
    prompt = torch.tensor([ids_of(tokenizer, "Hello")])
    kept = processor(prompt, scores_favouring([fence, tag], len(page["pieces"])))
    assert torch.isfinite(kept[0]).nonzero().flatten().tolist() == [tag], "``` is refused, <tool_call> kept"
    assert processor.prompt_length == prompt.shape[1] and processor.seconds > 0


def test_the_end_of_turn_is_allowed_only_once_the_form_is_complete(page, packaged_tokenizer):
    tokenizer, end = packaged_tokenizer, page["end_id"]
    comma = ids_of(tokenizer, ",")[0]
    prompt = ids_of(tokenizer, "Hello")
    for text, expected in [(COMPLETE[2], end), (COMPLETE[2][:-len("\n</tool_call>")], None)]:
        processor = page["KeepToForm"](page["form"])
        processor(torch.tensor([prompt]), torch.zeros(1, len(page["pieces"])))   # the first call sees the prompt
        scores = scores_favouring([end, comma], len(page["pieces"]))
        kept = processor(torch.tensor([prompt + ids_of(tokenizer, text)]), scores)
        chosen = kept[0].argmax().item()
        assert (chosen == end) == (expected == end), (text, page["pieces"][chosen])


def test_when_no_likely_token_fits_it_walks_down_the_vocabulary(page, packaged_tokenizer):
    tokenizer = packaged_tokenizer
    fence, brace = ids_of(tokenizer, "```")[0], ids_of(tokenizer, "{")[0]
    processor = page["KeepToForm"](page["form"], candidates=2)
    kept = processor(torch.tensor([ids_of(tokenizer, "Hi")]), scores_favouring([fence, brace], len(page["pieces"])))
    chosen = kept[0].argmax().item()
    assert torch.isfinite(kept[0]).sum() == 1 and page["pieces"][chosen].startswith("<")


def test_a_row_that_has_ended_keeps_its_scores(page, packaged_tokenizer):
    tokenizer = packaged_tokenizer
    processor = page["KeepToForm"](page["form"])
    prompt = ids_of(tokenizer, "Hi")
    processor(torch.tensor([prompt, prompt]), torch.zeros(2, len(page["pieces"])))
    scores = torch.randn(2, len(page["pieces"]))
    ended = prompt + ids_of(tokenizer, COMPLETE[3]) + [page["end_id"]]
    going = prompt + ids_of(tokenizer, COMPLETE[3][:-5]) + [0]
    kept = processor(torch.tensor([ended, going[:len(ended)]]), scores.clone())
    assert torch.equal(kept[0], scores[0]) and torch.isfinite(kept[1]).sum() == 1


def test_control_tokens_never_fit_even_inside_a_string(page, packaged_tokenizer):
    start = packaged_tokenizer.convert_tokens_to_ids("<|im_start|>")
    inside = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "'
    assert start in page["control"] and not page["fits"](page["form"], inside, start)
    assert page["fits"](page["form"], inside, ids_of(packaged_tokenizer, "Paris")[0])


# --------------------------------------------------------------------------------------------------- the library

def test_llguidance_follows_the_tokens_and_allows_only_the_end_once_complete(page, packaged_tokenizer):
    tokenizer = packaged_tokenizer
    processor = page["LibraryForm"](page["grammar"])
    prompt = ids_of(tokenizer, "Hi")
    scores = torch.zeros(1, len(page["pieces"]))
    first = processor(torch.tensor([prompt]), scores.clone())
    assert torch.isfinite(first[0]).nonzero().flatten().tolist() == [tokenizer.convert_tokens_to_ids("<tool_call>")]
    reply = ids_of(tokenizer, COMPLETE[0])
    for i in range(1, len(reply) + 1):
        kept = processor(torch.tensor([prompt + reply[:i]]), scores.clone())
    assert torch.isfinite(kept[0]).nonzero().flatten().tolist() == [page["end_id"]]


# -------------------------------------------------------------------------------------------------- the exercise

CHOICES = ["positive", "negative", "neutral"]


@pytest.mark.parametrize("answer", ['(?:"positive"|"negative"|"neutral")', '"(positive|negative|neutral)"',
                                    '"(?:neutral|negative|positive)"'])
def test_a_grouped_alternation_of_the_quoted_values_is_right(answer):
    feedback = ex.check_enum_pattern(answer, CHOICES)
    assert feedback and feedback.key == "enum_pattern.right"


def test_the_pages_own_value_pattern_passes(page):
    assert ex.check_enum_pattern(page["value_pattern"]({"type": "string", "enum": CHOICES}), CHOICES)


@pytest.mark.parametrize("answer, key, words", [
    (None, "no_answer", "No answer yet"),
    (["positive"], "enum_pattern.type", "got list"),
    ('("positive"', "enum_pattern.invalid", "cannot read"),
    ("positive|negative|neutral", "enum_pattern.quotes", "double quotes"),
    ("(?:positive|negative|neutral)", "enum_pattern.quotes", "double quotes"),
    ('"positive"|"negative"', "enum_pattern.missing", '"neutral"'),
    ('"[a-z]+"', "enum_pattern.too_wide", '"mixed"'),
    ('"[a-z]*"', "enum_pattern.too_wide", '""'),
    ('"?(?:positive|negative|neutral)"?', "enum_pattern.too_wide", "positive"),
    ('"(?:positive|negative|neutral)+"', "enum_pattern.too_wide", '"positiveneutral"'),
    ('"positive"|"negative"|"neutral"', "enum_pattern.group", "group"),   # the usual mistake
])
def test_the_usual_mistakes_get_feedback_that_names_them(answer, key, words):
    feedback = ex.check_enum_pattern(answer, CHOICES)
    assert not feedback and feedback.key == key and words in feedback.message


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_feedback_gives_the_pattern_away(lang, monkeypatch):
    monkeypatch.setenv("WORKBOOK_LANG", lang)
    for answer in ('"positive"|"negative"|"neutral"', "positive|negative|neutral", '"[a-z]+"'):
        message = ex.check_enum_pattern(answer, CHOICES).message
        assert "(?:" not in message and '"positive"|' not in message
        assert lang == "en" or "模式" in message


@pytest.mark.parametrize("text", ["", '<tool_call>\n{"name": "get', '<tool_call>\n{"name": "add", "arguments": {"a": 1'])
def test_the_kept_token_is_the_best_of_all_the_allowed_ones(page, packaged_tokenizer, text):
    """The shortcut (the 50 likeliest first) picks what a check of the whole vocabulary would pick."""
    tokenizer = packaged_tokenizer
    prompt = ids_of(tokenizer, "Hi")
    processor = page["KeepToForm"](page["form"])
    if text:   # the first call sees the prompt alone; with no text, that call is the one tested
        processor(torch.tensor([prompt]), torch.zeros(1, len(page["pieces"])))
    scores = torch.randn(1, len(page["pieces"]), generator=torch.Generator().manual_seed(0))
    kept = processor(torch.tensor([prompt + ids_of(tokenizer, text)]), scores.clone())
    every = torch.tensor(page["allowed"](page["form"], text))
    assert kept[0].argmax().item() == every[scores[0, every].argmax()].item()


def test_the_try_its_alternation_allows_a_call_or_plain_text(page):
    either = page["form"] + "|" + r"[^<`{][^<]*"
    assert page["complete"](either, "Paris is the capital of France.") and page["complete"](either, COMPLETE[0])
    assert page["valid_prefix"](either, "<tool_call>\n{") and not page["valid_prefix"](either, "{\"name\"")


@pytest.mark.parametrize("text", ["", '<tool_call>\n{"name": "get', COMPLETE[3]])
def test_the_first_character_shortcut_finds_every_token_that_fits(page, text):
    every = [token for token in range(len(page["pieces"])) if page["fits"](page["form"], text, token)]
    assert sorted(page["allowed"](page["form"], text)) == every and every
