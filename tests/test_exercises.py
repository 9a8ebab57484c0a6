"""The exercise checks reject the usual wrong answers with specific feedback (the solutions notebook proves they
accept right ones)."""

from types import SimpleNamespace

import pytest
import torch

from helpers import exercises as ex
from helpers import seed_messages

CONFIG = SimpleNamespace(num_attention_heads=14, num_key_value_heads=2, hidden_size=896, num_hidden_layers=24)
PROMPT = list(range(100, 139))  # 39 prompt ids
REPLY = list(range(500, 568))  # 68 reply ids
INPUTS = {"input_ids": torch.tensor([PROMPT]), "attention_mask": torch.ones(1, 39, dtype=torch.long)}
GENERATED = torch.tensor([PROMPT + REPLY])


def test_feedback_is_truthy_only_when_right_and_renders():
    right, wrong = ex.Feedback(True, "fine"), ex.Feedback(False, "no")
    assert right and not wrong
    assert repr(right) == "✓ fine" and repr(wrong) == "✗ no"
    assert "✗" in wrong._repr_html_() and "&lt;" in ex.Feedback(False, "<b>")._repr_html_()


@pytest.mark.parametrize("check, args", [
    (ex.check_thread_count, ()),
    (ex.check_queries_per_kv_head, (CONFIG,)),
    (ex.check_one_sentence_chat, ()),
    (ex.check_slice, (INPUTS, GENERATED)),
    (ex.check_chat_reply, ()),
    (ex.check_padding_side, ()),
    (ex.check_next_turn, (seed_messages(), "r", "q")),
])
def test_no_answer_yet_says_so(check, args):
    feedback = check(None, *args)
    assert not feedback and "No answer yet" in feedback.message


def test_slice_that_kept_the_prompt_says_so_with_the_counts():
    feedback = ex.check_slice(GENERATED[0], INPUTS, GENERATED)
    assert not feedback
    assert feedback.message == "your slice kept the prompt: expected 68 ids, got 107."


def test_slice_that_is_the_prompt_or_cut_in_the_wrong_place():
    assert "this is the prompt" in ex.check_slice(GENERATED[0][:39], INPUTS, GENERATED).message
    assert "wrong place" in ex.check_slice(GENERATED[0][40:], INPUTS, GENERATED).message


def test_slice_accepts_the_seed_shape_and_a_tensor():
    assert ex.check_slice([GENERATED[0][39:]], INPUTS, GENERATED)
    assert ex.check_slice(REPLY, INPUTS, GENERATED)


@pytest.mark.parametrize("answer, words", [
    ("500 501", "you gave text"),
    ({"input_ids": [1]}, "take its 'input_ids'"),
    (3.5, "list of ints or a tensor"),
])
def test_slice_of_the_wrong_type(answer, words):
    feedback = ex.check_slice(answer, INPUTS, GENERATED)
    assert not feedback and words in feedback.message


def test_wrong_numbers_get_a_hint():
    assert "divide it" in ex.check_queries_per_kv_head(14, CONFIG).message
    assert "whole number" in ex.check_queries_per_kv_head("7", CONFIG).message
    assert ex.check_queries_per_kv_head(7.0, CONFIG)
    assert ex.check_queries_per_kv_head(torch.tensor(7), CONFIG)


def test_float32_bytes_recognises_bfloat16_and_the_bare_count():
    model = torch.nn.Linear(10, 10)  # 110 parameters
    assert ex.check_float32_bytes(440, model)
    assert "bfloat16" in ex.check_float32_bytes(220, model).message
    assert "number of parameters" in ex.check_float32_bytes(110, model).message


def test_cache_bytes_recognises_missing_values_and_all_heads():
    right = 24 * 2 * 2 * 64 * 2 * 1000
    assert ex.check_cache_bytes(right, CONFIG, torch.bfloat16, 1000)
    assert "keys and values" in ex.check_cache_bytes(right // 2, CONFIG, torch.bfloat16, 1000).message
    assert "key/value heads" in ex.check_cache_bytes(right * 7, CONFIG, torch.bfloat16, 1000).message


def test_messages_exercise_names_what_is_missing():
    assert "not a valid messages list" in ex.check_one_sentence_chat([{"role": "bot", "content": "x"}]).message
    assert "first message should be the system" in ex.check_one_sentence_chat(
        [{"role": "user", "content": "hi"}]).message
    assert "one sentence" in ex.check_one_sentence_chat(
        [{"role": "system", "content": "Be nice."}, {"role": "user", "content": "hi"}]).message
    assert "last message" in ex.check_one_sentence_chat(
        [{"role": "system", "content": "One sentence."}, {"role": "assistant", "content": "hi"}]).message


def test_reply_text_spots_unsliced_undecoded_and_listed_answers(packaged_tokenizer):
    sliced = [torch.tensor(packaged_tokenizer.encode("Hello there.") + [151645])]
    assert ex.check_reply_text("Hello there.", sliced, packaged_tokenizer)
    assert "take [0]" in ex.check_reply_text(["Hello there."], sliced, packaged_tokenizer).message
    assert "skip_special_tokens" in ex.check_reply_text("Hello there.<|im_end|>", sliced, packaged_tokenizer).message
    assert "full ids" in ex.check_reply_text("system\nYou are...", sliced, packaged_tokenizer).message


def test_chat_reply_spots_prompt_and_control_tokens():
    assert "prompt" in ex.check_chat_reply("system\nYou are Qwen").message
    assert "<|im_end|>" in ex.check_chat_reply("Hi<|im_end|>").message
    assert "empty" in ex.check_chat_reply("  ").message
    assert "str" in ex.check_chat_reply(["Hi"]).message


def test_template_exercise_spots_the_generation_prompt(packaged_tokenizer):
    messages = seed_messages()
    with_prompt = packaged_tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    feedback = ex.check_without_generation_prompt(with_prompt, messages, packaged_tokenizer)
    assert not feedback and "add_generation_prompt=False" in feedback.message
    assert "tokenize=False" in ex.check_without_generation_prompt([1, 2], messages, packaged_tokenizer).message


def test_padding_exercise_spots_right_padding_and_lists(packaged_tokenizer):
    texts = ["a longer text here", "hi"]
    packaged_tokenizer.padding_side = "right"
    right = packaged_tokenizer(texts, return_tensors="pt", padding=True)
    lists = packaged_tokenizer(texts, padding=True)
    packaged_tokenizer.padding_side = "left"
    left = packaged_tokenizer(texts, return_tensors="pt", padding=True)
    assert ex.check_left_padded_batch(left, texts, packaged_tokenizer)
    assert "padding_side = 'left'" in ex.check_left_padded_batch(right, texts, packaged_tokenizer).message
    assert "return_tensors" in ex.check_left_padded_batch(lists, texts, packaged_tokenizer).message
    assert "batch of 2" in ex.check_left_padded_batch(
        packaged_tokenizer(texts[:1], return_tensors="pt"), texts, packaged_tokenizer).message


def test_encoding_and_special_id(packaged_tokenizer):
    assert "you gave text" in ex.check_encoding("你好", "你好", packaged_tokenizer).message
    assert "expected" in ex.check_encoding([1, 2, 3, 4, 5, 6, 7], "你好", packaged_tokenizer).message
    assert "'<|im_start|>'" in ex.check_special_id(151644, "<|im_end|>", packaged_tokenizer).message


def test_generation_exercise_spots_slices_and_overlong_runs():
    assert "whole output" in ex.check_short_generation(REPLY[:5], INPUTS, 10).message
    assert "more than max_new_tokens" in ex.check_short_generation(GENERATED, INPUTS, 10).message
    assert "no new tokens" in ex.check_short_generation(PROMPT, INPUTS, 10).message
    assert ex.check_short_generation(PROMPT + REPLY[:10], INPUTS, 10)


def test_first_token_spots_the_first_position():
    logits = torch.zeros(1, 3, 5)
    logits[0, 0, 1] = 5
    logits[0, -1, 3] = 5
    tok = SimpleNamespace(decode=lambda ids: f"<{ids[0]}>")
    assert ex.check_first_token(3, logits, tok)
    assert "last one" in ex.check_first_token(1, logits, tok).message


def test_next_turn_spots_a_missing_reply_and_a_wrong_role():
    history = seed_messages()
    assert "reply is missing" in ex.check_next_turn(history + [{"role": "user", "content": "q"}], history, "r", "q").message
    wrong_role = history + [{"role": "user", "content": "r"}, {"role": "user", "content": "q"}]
    assert "'assistant'" in ex.check_next_turn(wrong_role, history, "r", "q").message


def test_padding_side_and_candidates():
    assert "warns" in ex.check_padding_side("right").message
    assert ex.check_padding_side(" Left ")
    assert ex.check_surviving_candidates(2, torch.tensor([0.5, 0.5, 0.0]))
    assert "expected 2" in ex.check_surviving_candidates(3, torch.tensor([0.5, 0.5, 0.0])).message


def test_ceiling_rejects_the_usual_mistakes():
    bandwidth, per_token = 30e9, 0.309e9
    assert ex.check_ceiling(bandwidth / per_token, bandwidth, per_token)
    assert "No answer yet" in ex.check_ceiling(None, bandwidth, per_token).message
    assert "upside down" in ex.check_ceiling(per_token / bandwidth, bandwidth, per_token).message
    assert "wrong units" in ex.check_ceiling(30 / per_token, bandwidth, per_token).message
    assert "should be a number" in ex.check_ceiling("97", bandwidth, per_token).message
    wrong = ex.check_ceiling(50.0, bandwidth, per_token)
    assert not wrong and wrong.message == "expected bandwidth / bytes per token = 97.1 tokens per second, got 50."


def test_greedy_request_names_the_missing_or_wrong_field():
    messages = seed_messages()
    right = {"model": "m", "messages": messages, "max_tokens": 30, "temperature": 0, "frequency_penalty": 0}
    assert ex.check_greedy_request(right, max_tokens=30)
    assert "No answer yet" in ex.check_greedy_request(None, max_tokens=30).message
    assert "is a dict" in ex.check_greedy_request([right], max_tokens=30).message
    assert "temperature 0.7" in ex.check_greedy_request({**right, "temperature": 0.7}, max_tokens=30).message
    no_penalty = {k: v for k, v in right.items() if k != "frequency_penalty"}
    assert "repetition_penalty of 1.1" in ex.check_greedy_request(no_penalty, max_tokens=30).message
    assert "HTTP 422" in ex.check_greedy_request({**right, "do_sample": False}, max_tokens=30).message
    assert "got 100" in ex.check_greedy_request({**right, "max_tokens": 100}, max_tokens=30).message
    assert "valid messages" in ex.check_greedy_request({**right, "messages": []}, max_tokens=30).message
    assert "system message" in ex.check_greedy_request({**right, "messages": messages[1:]}, max_tokens=30).message
    assert "stream" in ex.check_greedy_request({**right, "stream": True}, max_tokens=30).message
