"""The exercise checks reject the usual wrong answers with specific feedback (the solutions notebook proves they
accept right ones)."""

import re
from types import SimpleNamespace

import pytest
import torch

from transformers import BatchEncoding

from helpers import exercises as ex
from helpers import seed_messages

CONFIG = SimpleNamespace(num_attention_heads=14, num_key_value_heads=2, hidden_size=896, num_hidden_layers=24)
PROMPT = list(range(100, 139))  # 39 prompt ids
REPLY = list(range(500, 567)) + [151645]  # 68 reply ids, the last one <|im_end|>
# What the tokenizer returns: model_inputs.input_ids and model_inputs["input_ids"] both work, as in the notebooks.
INPUTS = BatchEncoding({"input_ids": torch.tensor([PROMPT]), "attention_mask": torch.ones(1, 39, dtype=torch.long)})
GENERATED = torch.tensor([PROMPT + REPLY])


@pytest.fixture(autouse=True)
def english(monkeypatch):
    """These tests read the English feedback (tests/test_catalogue.py covers the Chinese): pin the language."""
    monkeypatch.setenv("WORKBOOK_LANG", "en")


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
    (ex.check_chat_reply, (None, None, None)),
    (ex.check_next_turn, (seed_messages(), "r", "q")),
])
def test_no_answer_yet_says_so(check, args):
    feedback = check(None, *args)
    assert not feedback and "No answer yet" in feedback.message


def test_slice_that_kept_the_prompt_says_so_with_the_counts():
    feedback = ex.check_slice(GENERATED[0], INPUTS, GENERATED)
    assert not feedback and feedback.key == "slice.kept_prompt"
    assert feedback.message == "your slice kept the prompt: expected 68 ids, got 107."


def test_slice_that_is_the_prompt_or_cut_in_the_wrong_place():
    assert ex.check_slice(GENERATED[0][:39], INPUTS, GENERATED).key == "slice.is_prompt"
    wrong_start = ex.check_slice(GENERATED[0][40:], INPUTS, GENERATED)
    assert wrong_start.key == "slice.wrong_start" and "starts at position 40" in wrong_start.message
    assert "one row" in wrong_start.message and "shape[1]" not in wrong_start.message
    early = ex.check_slice(GENERATED[0][39:-5], INPUTS, GENERATED)
    assert early.key == "slice.stops_early" and "5 id(s) before the end" in early.message
    assert ex.check_slice([7, 8, 9], INPUTS, GENERATED).key == "slice.not_from_row"


def test_slice_accepts_the_seed_shape_and_a_tensor():
    assert ex.check_slice([GENERATED[0][39:]], INPUTS, GENERATED)
    assert ex.check_slice(REPLY, INPUTS, GENERATED)
    assert ex.check_slice(GENERATED[:, 39:], INPUTS, GENERATED)   # both axes sliced: a batch of one
    assert ex.check_slice(GENERATED[0][INPUTS.input_ids.shape[1]:], INPUTS, GENERATED)
    assert ex.check_slice(GENERATED[0][len(INPUTS.input_ids[0]):], INPUTS, GENERATED)


# The usual mistakes of issue 14, each written as the learner writes it, on a reply that ends with <|im_end|>.

def test_slice_of_the_batch_axis_says_to_take_the_row_first():
    feedback = ex.check_slice(GENERATED[39:], INPUTS, GENERATED)   # forgot [0]: skips 39 rows of a batch of 1
    assert not feedback and feedback.key == "slice.batch_axis"
    assert "(0, 107)" in feedback.message and "(1, 107)" in feedback.message
    assert "generated_ids[0]" in feedback.message


def test_slice_cut_at_the_length_of_the_batch_says_len_counts_rows():
    answer = GENERATED[0][len(INPUTS.input_ids):]                  # len of the batch is 1
    feedback = ex.check_slice(answer, INPUTS, GENERATED)
    assert not feedback and feedback.key == "slice.len_of_batch"
    assert "position 1" in feedback.message and "one row" in feedback.message and ".shape[1]" not in feedback.message


def test_slice_that_dropped_the_end_of_turn_names_it():
    feedback = ex.check_slice(GENERATED[0][39:-1], INPUTS, GENERATED)
    assert not feedback and feedback.key == "slice.dropped_end"
    assert "<|im_end|> (151645)" in feedback.message and "skip_special_tokens" in feedback.message
    cut_off = torch.tensor([PROMPT + REPLY[:-1] + [777]])           # stopped by max_new_tokens: no end id
    assert ex.check_slice(cut_off[0][39:-1], INPUTS, cut_off).key == "slice.dropped_last"


@pytest.mark.parametrize("answer", ["Large language models are...", ["Large language models are..."]])
def test_slice_given_as_decoded_text_says_to_slice_the_ids(answer):
    feedback = ex.check_slice(answer, INPUTS, GENERATED)
    assert not feedback and feedback.key == "slice.text"
    assert "before anything is decoded" in feedback.message and "tokenizer.encode" not in feedback.message


@pytest.mark.parametrize("answer, key", [
    ({"input_ids": [1]}, "ids.dict"),
    (3.5, "ids.type"),
    ([], "slice.empty"),
])
def test_slice_of_the_wrong_type(answer, key):
    feedback = ex.check_slice(answer, INPUTS, GENERATED)
    assert not feedback and feedback.key == key


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


@pytest.mark.parametrize("system", [
    "请用一句话回答。",                       # issue 14: a correct Chinese answer was rejected
    "請用一句話回答。",
    "回答只用一个句子。",
    "Answer in one sentence.",
    "Reply with a single sentence, please.",
    "Keep every answer to one short sentence.",
    "Give one-sentence answers.",
    "Answer in 1 sentence.",
    "Réponds en une seule phrase.",
    "Responde en una frase.",
    "Antworte in einem Satz.",
    "一文で答えてください。",
    "한 문장으로 대답하세요.",
])
def test_messages_exercise_accepts_one_sentence_in_any_wording(system):
    feedback = ex.check_one_sentence_chat([{"role": "system", "content": system},
                                           {"role": "user", "content": "什么是大语言模型？"}])
    assert feedback, feedback.message


@pytest.mark.parametrize("system", ["Answer in three sentences.", "Use a few sentences.", "请用两句话回答。",
                                    "Be concise.", "用一段话回答。"])
def test_messages_exercise_rejects_other_lengths(system):
    feedback = ex.check_one_sentence_chat([{"role": "system", "content": system},
                                           {"role": "user", "content": "hi"}])
    assert not feedback and feedback.key == "chat.one_sentence" and repr(system) in feedback.message


def test_messages_exercise_reads_openai_style_text_parts():
    parts = [{"type": "text", "text": "请用"}, {"type": "text", "text": "一句话回答。"}]
    assert ex.check_one_sentence_chat([{"role": "system", "content": [{"type": "text", "text": "One sentence."}]},
                                       {"role": "user", "content": parts}])


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
    messages = [{"role": "system", "content": "Answer in one sentence."}, {"role": "user", "content": "Hi?"}]
    assert "prompt" in ex.check_chat_reply("system\nYou are Qwen", messages, None, None).message
    assert "<|im_end|>" in ex.check_chat_reply("Hi<|im_end|>", messages, None, None).message
    assert "empty" in ex.check_chat_reply("  ", messages, None, None).message
    assert ex.check_chat_reply(messages, messages, None, None).key == "reply.messages"
    assert ex.check_chat_reply(torch.tensor([1, 2]), messages, None, None).key == "reply.type"


ONE_SENTENCE = [{"role": "system", "content": "Answer in one sentence."},
                {"role": "user", "content": "What is a tokenizer?"}]


def test_chat_reply_is_the_reply_to_these_messages_with_their_system_message(packaged_model, packaged_tokenizer):
    from helpers.chat import chat

    model, tokenizer = packaged_model, packaged_tokenizer
    right = chat(ONE_SENTENCE, model, tokenizer, max_new_tokens=60)
    assert ex.check_chat_reply(right, ONE_SENTENCE, model, tokenizer)
    cut = chat(ONE_SENTENCE, model, tokenizer, max_new_tokens=5)   # a reply cut short by max_new_tokens
    assert ex.check_chat_reply(cut, ONE_SENTENCE, model, tokenizer)
    no_system = chat(ONE_SENTENCE[1:], model, tokenizer, max_new_tokens=60)
    assert no_system != right
    assert ex.check_chat_reply(no_system, ONE_SENTENCE, model, tokenizer).key == "reply.no_system"
    other = chat([ONE_SENTENCE[0], {"role": "user", "content": "What is Paris?"}], model, tokenizer, max_new_tokens=30)
    assert ex.check_chat_reply(other, ONE_SENTENCE, model, tokenizer).key == "reply.other_messages"
    no_sentence = [{"role": "system", "content": "Be brief."}, ONE_SENTENCE[1]]
    wrong = ex.check_chat_reply(right, no_sentence, model, tokenizer)
    assert wrong.key == "reply.messages_wrong" and "one sentence" in wrong.message


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


GREEDY_NEW = list(range(700, 710))        # what greedy decoding gives with the lesson's settings
PENALISED_NEW = list(range(800, 810))     # greedy over scores the model's repetition penalty changed


class FakeModel:
    """generate() as a model with generation_config.repetition_penalty 1.1 would answer do_sample=False."""

    generation_config = SimpleNamespace(repetition_penalty=1.1)

    def generate(self, input_ids, attention_mask, max_new_tokens, do_sample, repetition_penalty=None):
        assert do_sample is False
        new = GREEDY_NEW if repetition_penalty == 1.0 else PENALISED_NEW
        return torch.tensor([input_ids[0].tolist() + new[:max_new_tokens]])


def test_generation_exercise_spots_slices_and_overlong_runs():
    model = FakeModel()
    assert "whole output" in ex.check_short_generation(REPLY[:5], INPUTS, 10, model).message
    assert "more than max_new_tokens" in ex.check_short_generation(GENERATED, INPUTS, 10, model).message
    assert "no new tokens" in ex.check_short_generation(PROMPT, INPUTS, 10, model).message


def test_generation_exercise_checks_that_the_ids_are_greedy():
    model = FakeModel()
    assert ex.check_short_generation(PROMPT + GREEDY_NEW, INPUTS, 10, model).key == "generate.right"
    with_penalty = ex.check_short_generation(PROMPT + PENALISED_NEW, INPUTS, 10, model)
    assert with_penalty and with_penalty.key == "generate.right_with_penalty" and "1.1" in with_penalty.message
    sampled = ex.check_short_generation(PROMPT + REPLY[:10], INPUTS, 10, model)   # what do_sample=True drew
    assert not sampled and sampled.key == "generate.not_greedy" and "do_sample=True" in sampled.message
    short = ex.check_short_generation(PROMPT + GREEDY_NEW[:3], INPUTS, 10, model)  # cut short, no end of turn
    assert not short and short.key == "generate.stopped_early" and "max_length" in short.message


def test_first_token_spots_the_first_position():
    logits = torch.zeros(1, 3, 5)
    logits[0, 0, 1] = 5
    logits[0, -1, 3] = 5
    tok = SimpleNamespace(decode=lambda ids: f"<{ids[0]}>")
    assert ex.check_first_token(3, logits, tok)
    assert "last one" in ex.check_first_token(1, logits, tok).message


def test_next_turn_spots_a_missing_reply_and_a_wrong_role():
    history = seed_messages()
    swapped = history + [{"role": "user", "content": "q"}, {"role": "assistant", "content": "r"}]
    order = ex.check_next_turn(swapped, history, "r", "q")
    assert order.key == "turn.order" and "order" in order.message
    assert "reply is missing" in ex.check_next_turn(history + [{"role": "user", "content": "q"}], history, "r", "q").message
    wrong_role = history + [{"role": "user", "content": "r"}, {"role": "user", "content": "q"}]
    assert "'assistant'" in ex.check_next_turn(wrong_role, history, "r", "q").message


def test_surviving_candidates():
    probabilities = torch.tensor([0.5, 0.3, 0.2, 0.0, 0.0])
    assert ex.check_surviving_candidates(3, probabilities)
    assert ex.check_surviving_candidates(4, probabilities).key == "candidates.too_many"
    assert ex.check_surviving_candidates(1, probabilities).key == "candidates.too_few"
    assert ex.check_surviving_candidates(5, probabilities).key == "candidates.vocabulary"
    assert ex.check_surviving_candidates(0, probabilities).key == "candidates.zero"


def test_ceiling_rejects_the_usual_mistakes():
    bandwidth, per_token = 30e9, 0.309e9
    assert ex.check_ceiling(bandwidth / per_token, bandwidth, per_token)
    assert "No answer yet" in ex.check_ceiling(None, bandwidth, per_token).message
    assert "upside down" in ex.check_ceiling(per_token / bandwidth, bandwidth, per_token).message
    assert "wrong units" in ex.check_ceiling(30 / per_token, bandwidth, per_token).message
    assert "should be a number" in ex.check_ceiling("97", bandwidth, per_token).message
    wrong = ex.check_ceiling(50.0, bandwidth, per_token)
    assert not wrong and wrong.message == "50 is not it: divide the bandwidth (bytes per second) by the bytes read per token."


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


# Wrong answers point at how to find the answer, never at the answer itself (issue 14: "expected 20" gave it away).

@pytest.mark.parametrize("feedback, expected", [
    (lambda: ex.check_surviving_candidates(10, torch.tensor([0.05] * 20 + [0.0] * 5)), "20"),
    (lambda: ex.check_queries_per_kv_head(5, CONFIG), "7"),
    (lambda: ex.check_float32_bytes(123, torch.nn.Linear(10, 10)), "440"),
    (lambda: ex.check_cache_bytes(12345, CONFIG, torch.bfloat16, 1000), "12,288,000"),
    (lambda: ex.check_ceiling(50.0, 30e9, 0.309e9), "97"),
    (lambda: ex.check_thread_count(torch.get_num_threads() + 1), str(torch.get_num_threads())),
    (lambda: ex.check_encoding([1, 2, 9], "x", SimpleNamespace(encode=lambda text: [1, 2, 3])), "3 "),
])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_wrong_answer_does_not_print_the_expected_one(feedback, expected, lang, monkeypatch):
    monkeypatch.setenv("WORKBOOK_LANG", lang)
    result = feedback()
    assert not result and expected not in result.message


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_hint_is_the_expression_to_type(lang):
    """A hint says where to look: no message of a wrong answer holds the code that answers the exercise."""
    from helpers.catalogue import messages
    from test_catalogue import areas

    answers = re.compile(r"input_ids\.shape\[1\]|len\(model_inputs\.input_ids\[0\]\)|\.sum\(\)|int\(\(")
    found = {key: text for key, text in messages(lang).items()
             if key in areas("en")["exercises"] and answers.search(text)}
    assert not found, f"hints that are the answer: {found}"


def test_first_token_names_the_rank_not_the_answer():
    logits = torch.tensor([[[0.0, 1.0, 3.0, 2.0]]])
    tok = SimpleNamespace(decode=lambda ids: f"<{ids[0]}>")
    feedback = ex.check_first_token(3, logits, tok)
    assert feedback.key == "first.rank" and "number 2 candidate" in feedback.message
    assert "<2>" not in feedback.message and " 2," not in feedback.message


# The catalogue: every message a check can give lives under a key in the area [exercises] of
# src/helpers/locale/<lang>/LC_MESSAGES/workbook.po (the keys and fields of both languages are compared in
# tests/test_catalogue.py).

def test_every_message_key_used_exists_and_every_message_is_used():
    import inspect
    import re

    from helpers.catalogue import fields, messages
    from test_catalogue import areas

    feedback = set(areas("en")["exercises"])
    source = inspect.getsource(ex)
    used = set(re.findall(r'_(?:right|wrong|say)\(\s*"([a-z0-9_.]+)"', source))
    used |= set(re.findall(r'"(candidates\.too_(?:many|few)|feedback\.(?:right|wrong)_mark)"', source))
    assert used <= feedback, f"keys without a message: {sorted(used - feedback)}"
    assert feedback - used == set(), "messages that no check gives"
    assert fields(messages("en")["slice.batch_axis"]) == {"shape", "full_shape", "rows"}


def test_no_english_words_are_left_in_the_checks():
    """Every text a learner reads comes from the catalogue: no string literal of exercises.py outside docstrings
    and the catalogue's keys holds a sentence (the one-sentence patterns are regular expressions, not words)."""
    import ast
    import inspect
    import re

    tree = ast.parse(inspect.getsource(ex))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and node.body
                  and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    patterns = {id(node) for assign in ast.walk(tree) if isinstance(assign, ast.Assign)
                and any(getattr(t, "id", "") == "ONE_SENTENCE_PATTERNS" for t in assign.targets)
                for node in ast.walk(assign.value)}
    words = [node.value for node in ast.walk(tree)
             if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
             and id(node) not in patterns and re.search(r"[A-Za-z]+ [A-Za-z]+ [A-Za-z]+", node.value)]
    assert words == [], f"English text outside the catalogue: {words}"
