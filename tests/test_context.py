"""Prompts that do not fit the context, and bad arguments, fail at once with a clear message (issue 12)."""

import time
from types import SimpleNamespace

import pytest

from helpers import WorkbookError, seed_messages
from helpers.catalogue import text
from helpers.chat.generation import build_inputs, chat, check_int, generate
from helpers.chat.conversation import (ConversationTooLong, call_fix, check_fits_context, context_length,
                                       context_problem, widget_fix)
from helpers.errors import ArgumentError, PromptTooLong

LONG_MESSAGE = [{"role": "user", "content": " ".join(["word"] * 40_000)}]  # about 40,000 tokens


class NeverGenerates:
    """A model that fails the test if anything reaches generate(): the checks must come first."""

    def __init__(self, context=32_768):
        self.config = SimpleNamespace(max_position_embeddings=context)
        self.generation_config = SimpleNamespace(temperature=0.7, top_p=0.8, eos_token_id=[151645, 151643])
        self.device = "cpu"

    def generate(self, *args, **kwargs):
        raise AssertionError("generate() was called although the arguments should have been refused")


def test_context_problem_names_both_counts_the_limit_and_the_fix():
    assert context_problem(100, 28, 128) is None
    message = context_problem(40_029, 256, 32_768)
    assert "40,029 tokens" in message and "max_new_tokens is 256" in message and "32,768 tokens" in message
    assert message.endswith(call_fix())
    with pytest.raises(PromptTooLong, match="1,000 tokens") as caught:
        check_fits_context(1_000, 1, 1_000)
    assert isinstance(caught.value, WorkbookError) and isinstance(caught.value, ValueError)


@pytest.mark.parametrize("call", [
    lambda model, tok: chat(LONG_MESSAGE, model, tok),
    lambda model, tok: generate(model, tok, LONG_MESSAGE, max_new_tokens=8),
    lambda model, tok: build_inputs(LONG_MESSAGE, tok, max_new_tokens=256, context_length=context_length(model)),
])
def test_a_40000_word_message_is_refused_before_the_model_runs(packaged_tokenizer, call):
    started = time.perf_counter()
    with pytest.raises(PromptTooLong) as caught:
        call(NeverGenerates(), packaged_tokenizer)
    assert time.perf_counter() - started < 1.0
    message = str(caught.value)
    assert "the model's 32,768 tokens" in message and "lower max_new_tokens" in message
    prompt_tokens = int(message.split("the prompt is ")[1].split(" tokens")[0].replace(",", ""))
    assert prompt_tokens > 32_768


def test_a_prompt_that_fits_only_without_the_reply_is_refused(packaged_tokenizer):
    prompt_tokens = build_inputs(seed_messages(), packaged_tokenizer).input_ids.shape[1]  # 39
    with pytest.raises(PromptTooLong, match=f"the prompt is {prompt_tokens} tokens and max_new_tokens is 2,"):
        generate(NeverGenerates(context=prompt_tokens + 1), packaged_tokenizer, seed_messages(), max_new_tokens=2)


@pytest.mark.parametrize("value, words", [
    ("10", ["max_new_tokens must be an int", "str '10'", "max_new_tokens=10 without quotes"]),
    (10.0, ["float", "max_new_tokens=10."]),
    (None, ["NoneType"]),
    (True, ["bool"]),
    (0, ["at least 1", "got 0"]),
    (-5, ["at least 1"]),
])
def test_max_new_tokens_of_the_wrong_type_or_value_is_named(packaged_tokenizer, value, words):
    for call in (lambda: chat(seed_messages(), NeverGenerates(), packaged_tokenizer, max_new_tokens=value),
                 lambda: generate(NeverGenerates(), packaged_tokenizer, seed_messages(), max_new_tokens=value)):
        with pytest.raises(ArgumentError) as caught:
            call()
        for word in words:
            assert word in str(caught.value)
        assert isinstance(caught.value, TypeError) and isinstance(caught.value, WorkbookError)


def test_a_model_and_tokenizer_in_each_others_places_are_named(packaged_tokenizer):
    with pytest.raises(ArgumentError, match=r"got Qwen2Tokenizer \(that is the tokenizer\)"):
        chat(seed_messages(), packaged_tokenizer, NeverGenerates())
    with pytest.raises(ArgumentError, match="tokenizer must be a tokenizer"):
        build_inputs(seed_messages(), NeverGenerates())


def test_check_int_returns_good_values():
    assert check_int("n", 5, minimum=1) == 5


def test_the_widget_shows_the_same_message(packaged_tokenizer):
    from helpers.widget import ChatWidget

    widget = ChatWidget(NeverGenerates(), packaged_tokenizer, context_length=64, max_new_tokens=40)
    assert widget.send("Give me a short introduction to large language model.", wait=True) is None
    prompt_tokens = build_inputs(widget.messages + [{"role": "user", "content": "Give me a short introduction to "
                                                     "large language model."}], packaged_tokenizer).input_ids.shape[1]
    assert widget.status_text == context_problem(prompt_tokens, 40, 64, widget_fix("en"))
    assert widget.reset_button.description in widget.status_text  # the fix names the button as the widget labels it


def test_the_real_model_refuses_a_40000_word_message_at_once(packaged_model, packaged_tokenizer):
    started = time.perf_counter()
    with pytest.raises(PromptTooLong):
        chat(LONG_MESSAGE, packaged_model, packaged_tokenizer)
    assert time.perf_counter() - started < 1.0


# -- the notebook's language: the same numbers and fix in Chinese (helpers.catalogue) ----------------------------

def test_in_chinese_the_context_message_keeps_the_numbers_and_the_fix(monkeypatch):
    monkeypatch.setenv("WORKBOOK_LANG", "zh")
    message = context_problem(40_029, 256, 32_768)
    assert "40,029 个词元" in message and "max_new_tokens 是 256" in message and "32,768 个词元" in message
    assert message.endswith(call_fix()) and call_fix() == call_fix("zh") != call_fix("en")
    assert context_problem(40_029, 256, 32_768, widget_fix()).endswith(widget_fix())
    with pytest.raises(PromptTooLong, match="1,000 个词元"):
        check_fits_context(1_000, 1, 1_000)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_fixes_name_what_the_learner_can_use(lang):
    """The widget's fix names its own Reset button, as the widget labels it; a call's fix names notebook 14's
    trim_to_fit() and the max_new_tokens argument. In Chinese both are Chinese."""
    assert text("widget.reset", lang) in widget_fix(lang) and "max_new_tokens" in widget_fix(lang)
    assert "trim_to_fit()" in call_fix(lang) and "max_new_tokens" in call_fix(lang)
    chinese = [any("\u4e00" <= ch <= "\u9fff" for ch in fix) for fix in (widget_fix(lang), call_fix(lang))]
    assert chinese == [lang == "zh"] * 2


@pytest.mark.parametrize("value, fix", [("10", "max_new_tokens=10"), (10.0, "max_new_tokens=10"), (0, "1")])
def test_in_chinese_a_bad_max_new_tokens_is_named_with_its_fix(packaged_tokenizer, monkeypatch, value, fix):
    monkeypatch.setenv("WORKBOOK_LANG", "zh")
    with pytest.raises(ArgumentError) as caught:
        chat(seed_messages(), NeverGenerates(), packaged_tokenizer, max_new_tokens=value)
    message = str(caught.value)
    assert message.startswith("max_new_tokens ") and fix in message
    assert any("\u4e00" <= character <= "\u9fff" for character in message), message


def test_in_chinese_a_conversation_that_cannot_be_trimmed_says_what_to_do(monkeypatch):
    monkeypatch.setenv("WORKBOOK_LANG", "zh")
    chinese = str(ConversationTooLong(39, 10))
    assert "39 个词元" in chinese and "允许的 10 个" in chinese and "缩短这条消息" in chinese
    monkeypatch.setenv("WORKBOOK_LANG", "en")
    english = str(ConversationTooLong(39, 10))
    assert "needs 39 tokens" in english and "the 10 allowed" in english and "shorten it" in english
