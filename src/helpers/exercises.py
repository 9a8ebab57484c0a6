"""Checks for the exercises at the end of each notebook: specific feedback on a learner's answer.

Every check returns a :class:`Feedback` (truthy when the answer is right) whose message says what was expected and
what came in, e.g. "your slice kept the prompt: expected 68 ids, got 107". Checks never raise on a wrong answer:
wrong types and empty answers get feedback too. The worked solutions are in ``notebooks/90_solutions.ipynb``.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from .errors import MessagesError
from .messages import validate_messages


@dataclass(frozen=True)
class Feedback:
    ok: bool
    message: str

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        return ("✓ " if self.ok else "✗ ") + self.message

    def _repr_html_(self) -> str:
        colour, mark = ("#2e7d32", "✓") if self.ok else ("#c62828", "✗")
        return (f'<div style="border-left:4px solid {colour};padding:4px 8px;background:#fafafa">'
                f'<b style="color:{colour}">{mark}</b> {html.escape(self.message)}</div>')


def _right(message: str) -> Feedback:
    return Feedback(True, message)


def _wrong(message: str) -> Feedback:
    return Feedback(False, message)


NO_ANSWER = "No answer yet: replace None with your answer and run the cell again."


def _as_int(answer, what: str):
    """(value, None) if ``answer`` is an integer, else (None, Feedback explaining the type problem)."""
    if answer is None:
        return None, _wrong(NO_ANSWER)
    if hasattr(answer, "item") and getattr(answer, "ndim", 1) == 0:
        answer = answer.item()
    if isinstance(answer, bool) or not isinstance(answer, int):
        if isinstance(answer, float) and answer.is_integer():
            return int(answer), None
        return None, _wrong(f"{what} should be a whole number (an int), got {type(answer).__name__} {answer!r}.")
    return answer, None


def _as_ids(answer, what: str):
    """(list of ints, None) for a list/tuple/1-D tensor (or a batch of one), else (None, Feedback)."""
    if answer is None:
        return None, _wrong(NO_ANSWER)
    if isinstance(answer, str):
        return None, _wrong(f"{what} should be token ids (numbers), but you gave text: {answer[:40]!r}. "
                            "Use tokenizer.encode(...) or the ids tensor.")
    if isinstance(answer, dict):
        return None, _wrong(f"{what} should be ids, but you gave a dict with keys {sorted(answer)}: "
                            "take its 'input_ids'.")
    if hasattr(answer, "tolist"):
        answer = answer.tolist()
    if isinstance(answer, (list, tuple)) and len(answer) == 1 and isinstance(answer[0], (list, tuple)):
        answer = answer[0]  # a batch of one
    if not isinstance(answer, (list, tuple)) or not all(isinstance(i, int) for i in answer):
        return None, _wrong(f"{what} should be a list of ints or a tensor, got {type(answer).__name__}.")
    return list(answer), None


def _compare_ids(got: list[int], expected: list[int], what: str) -> Feedback:
    if got == expected:
        return _right(f"{what}: all {len(expected)} ids match.")
    if len(got) != len(expected):
        return _wrong(f"{what}: expected {len(expected)} ids, got {len(got)}.")
    first = next(i for i, (a, b) in enumerate(zip(got, expected)) if a != b)
    return _wrong(f"{what}: right length, but position {first} is {got[first]} instead of {expected[first]}.")


# ----------------------------------------------------------------------------------------- 00 environment check

def check_thread_count(answer) -> Feedback:
    """00: how many threads torch uses for matrix products on this machine."""
    import torch

    value, problem = _as_int(answer, "The thread count")
    if problem is not None:
        return problem
    expected = torch.get_num_threads()
    if value == expected:
        return _right(f"torch uses {expected} threads here.")
    return _wrong(f"torch uses {expected} threads here, not {value}: ask torch.get_num_threads().")


# ----------------------------------------------------------------------------------------- 01 load the model

def check_queries_per_kv_head(answer, config) -> Feedback:
    """01: how many query heads share one key/value head."""
    value, problem = _as_int(answer, "The number of query heads per key/value head")
    if problem is not None:
        return problem
    expected = config.num_attention_heads // config.num_key_value_heads
    if value == expected:
        return _right(f"{config.num_attention_heads} query heads / {config.num_key_value_heads} key/value heads "
                      f"= {expected}.")
    if value == config.num_attention_heads:
        return _wrong(f"{value} is the number of query heads; divide it by the number of key/value heads.")
    return _wrong(f"expected {expected}, got {value}: divide num_attention_heads by num_key_value_heads.")


def check_float32_bytes(answer, model) -> Feedback:
    """01: how many bytes the weights would take in float32."""
    value, problem = _as_int(answer, "The number of bytes")
    if problem is not None:
        return problem
    count = sum(p.numel() for p in model.parameters())
    expected = count * 4
    if value == expected:
        return _right(f"{count:,} parameters x 4 bytes = {expected:,} bytes ({expected / 2**30:.2f} GiB).")
    if value == count * 2:
        return _wrong("that is the size in bfloat16 (2 bytes per parameter); float32 takes 4.")
    if value == count:
        return _wrong("that is the number of parameters; multiply by the bytes per float32 number (4).")
    return _wrong(f"expected {expected:,} bytes, got {value:,}: parameters x 4.")


# ----------------------------------------------------------------------------------------- 02 the tokenizer

def check_encoding(answer, text: str, tokenizer) -> Feedback:
    """02: the ids of ``text``."""
    ids, problem = _as_ids(answer, "Your answer")
    if problem is not None:
        return problem
    return _compare_ids(ids, tokenizer.encode(text), f"the ids of {text!r}")


def check_special_id(answer, token: str, tokenizer) -> Feedback:
    """02: the id of a control token such as ``<|im_end|>``."""
    value, problem = _as_int(answer, f"The id of {token}")
    if problem is not None:
        return problem
    expected = tokenizer.convert_tokens_to_ids(token)
    if value == expected:
        return _right(f"{token} is id {expected}.")
    other = tokenizer.convert_ids_to_tokens(value) if 0 <= value < len(tokenizer) else None
    hint = f" ({value} is {other!r})" if other else ""
    return _wrong(f"{token} is not id {value}{hint}; try tokenizer.convert_tokens_to_ids({token!r}).")


# ----------------------------------------------------------------------------------------- 03 messages

def check_one_sentence_chat(answer) -> Feedback:
    """03: a conversation with a system message asking for one-sentence answers, then a user question."""
    if answer is None:
        return _wrong(NO_ANSWER)
    try:
        validate_messages(answer)
    except MessagesError as error:
        return _wrong(f"not a valid messages list yet: {error}")
    if answer[0]["role"] != "system":
        return _wrong(f"the first message should be the system message, but it is {answer[0]['role']!r}.")
    if "sentence" not in answer[0]["content"].lower():
        return _wrong("the system message should ask for answers of one sentence.")
    if answer[-1]["role"] != "user":
        return _wrong(f"the last message should be the user's question, but it is {answer[-1]['role']!r}.")
    if not answer[-1]["content"].strip():
        return _wrong("the user's question is empty.")
    return _right(f"a valid conversation of {len(answer)} messages: system first, the user's question last.")


# ----------------------------------------------------------------------------------------- 04 the chat template

def check_without_generation_prompt(answer, messages, tokenizer) -> Feedback:
    """04: the template's text for ``messages`` without the generation prompt."""
    if answer is None:
        return _wrong(NO_ANSWER)
    if not isinstance(answer, str):
        return _wrong(f"expected the rendered text (a str); got {type(answer).__name__}. Use tokenize=False.")
    expected = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=False)
    if answer == expected:
        return _right(f"right: the text ends with {expected[-12:]!r}, after the last message; no assistant turn opened.")
    if answer == expected + "<|im_start|>assistant\n":
        return _wrong("this text still ends with the generation prompt '<|im_start|>assistant\\n': "
                      "set add_generation_prompt=False.")
    return _wrong("this is not the template's text for these messages: render `messages` with "
                  "apply_chat_template(messages, tokenize=False, add_generation_prompt=False).")


# ----------------------------------------------------------------------------------------- 05 model inputs

def check_left_padded_batch(answer, texts, tokenizer) -> Feedback:
    """05 and 13: a left-padded batch of ``texts`` with tensors."""
    if answer is None:
        return _wrong(NO_ANSWER)
    if not hasattr(answer, "keys") or "input_ids" not in answer or "attention_mask" not in answer:
        return _wrong("expected the tokenizer's output, with 'input_ids' and 'attention_mask'.")
    ids, mask = answer["input_ids"], answer["attention_mask"]
    if not hasattr(ids, "shape"):
        return _wrong("the ids are Python lists: add return_tensors='pt'.")
    if ids.shape[0] != len(texts):
        return _wrong(f"expected a batch of {len(texts)} rows, got {ids.shape[0]}: pass the list of texts.")
    lengths = [len(tokenizer(t)["input_ids"]) for t in texts]
    if ids.shape[1] != max(lengths):
        return _wrong(f"rows should be padded to the longest prompt, {max(lengths)} tokens; got {ids.shape[1]}.")
    short = lengths.index(min(lengths))
    if min(lengths) < max(lengths) and mask[short, -1] == 0:
        return _wrong("the padding is on the right (mask ends with 0): set tokenizer.padding_side = 'left'.")
    return _right(f"a {ids.shape[0]} x {ids.shape[1]} batch, padded on the left; "
                  f"{int((mask == 0).sum())} padding positions masked with 0.")


# ----------------------------------------------------------------------------------------- 06 generate

def check_short_generation(answer, model_inputs, max_new_tokens: int) -> Feedback:
    """06: ``generate``'s output for ``model_inputs`` with at most ``max_new_tokens`` new tokens."""
    ids, problem = _as_ids(answer, "generated_ids")
    if problem is not None:
        return problem
    prompt = model_inputs["input_ids"][0].tolist()
    if ids[:len(prompt)] != prompt:
        if len(ids) <= max_new_tokens:
            return _wrong("these ids do not start with the prompt: give generate's whole output, not a slice.")
        return _wrong("these ids do not start with the prompt: generate from these model_inputs.")
    new = len(ids) - len(prompt)
    if new == 0:
        return _wrong("no new tokens: did you pass max_new_tokens=0?")
    if new > max_new_tokens:
        return _wrong(f"{new} new tokens, more than max_new_tokens={max_new_tokens}.")
    return _right(f"{len(prompt)} prompt ids + {new} new ids.")


# ----------------------------------------------------------------------------------------- 07 slicing

def check_slice(answer, model_inputs, generated_ids) -> Feedback:
    """07: the generated ids with the prompt sliced off (a list with one tensor, or the ids themselves)."""
    if isinstance(answer, list) and len(answer) == 1 and hasattr(answer[0], "tolist"):
        answer = answer[0]
    ids, problem = _as_ids(answer, "Your slice")
    if problem is not None:
        return problem
    full = generated_ids[0].tolist()
    prompt_length = model_inputs["input_ids"].shape[1]
    expected = full[prompt_length:]
    if ids == expected:
        return _right(f"the reply alone: {len(expected)} ids, starting with {expected[:3]}.")
    if ids == full:
        return _wrong(f"your slice kept the prompt: expected {len(expected)} ids, got {len(ids)}.")
    if ids == full[:prompt_length]:
        return _wrong(f"this is the prompt ({prompt_length} ids), not the reply: slice from len(input_ids) on.")
    if len(ids) != len(expected) and full[-len(ids):] == ids:
        return _wrong(f"your slice starts at the wrong place: expected {len(expected)} ids, got {len(ids)}; "
                      f"cut at len(input_ids) = {prompt_length}.")
    return _compare_ids(ids, expected, "the reply's ids")


# ----------------------------------------------------------------------------------------- 08 decoding

def check_reply_text(answer, sliced_ids, tokenizer) -> Feedback:
    """08: the reply decoded from the sliced ids, without special tokens."""
    if answer is None:
        return _wrong(NO_ANSWER)
    if isinstance(answer, list):
        return _wrong(f"batch_decode returns a list of {len(answer)} string(s): take [0].")
    if not isinstance(answer, str):
        return _wrong(f"expected the reply as a str, got {type(answer).__name__}.")
    expected = tokenizer.batch_decode(sliced_ids, skip_special_tokens=True)[0]
    if answer == expected:
        return _right(f"the reply, {len(expected)} characters, no control tokens.")
    if answer.startswith("system\n"):
        return _wrong("this text starts with 'system': you decoded the full ids; decode the sliced ones.")
    if "<|im_end|>" in answer:
        return _wrong("the text still contains <|im_end|>: pass skip_special_tokens=True.")
    if not answer.strip():
        return _wrong("the text is empty.")
    return _wrong("this is not the reply decoded from the sliced ids.")


# ----------------------------------------------------------------------------------------- 09 the whole pipeline

def check_chat_reply(answer) -> Feedback:
    """09: what a chat(messages) function returned: the reply alone, as text."""
    if answer is None:
        return _wrong(NO_ANSWER)
    if not isinstance(answer, str):
        return _wrong(f"chat should return a str, got {type(answer).__name__}: decode and take [0].")
    if not answer.strip():
        return _wrong("the reply is empty: did generation stop at once, or did you slice everything off?")
    if answer.startswith("system\n") or "<|im_start|>" in answer:
        return _wrong("the reply still contains the prompt: slice the prompt ids off before decoding.")
    if "<|im_end|>" in answer:
        return _wrong("the reply contains <|im_end|>: decode with skip_special_tokens=True.")
    return _right(f"a reply of {len(answer)} characters.")


# ----------------------------------------------------------------------------------------- 10-14 under the hood

def check_first_token(answer, logits, tokenizer) -> Feedback:
    """10: the id of the likeliest next token, read off the last position's logits."""
    value, problem = _as_int(answer, "The id")
    if problem is not None:
        return problem
    last = logits[0, -1] if logits.ndim == 3 else logits
    expected = int(last.argmax())
    if value == expected:
        return _right(f"id {expected}, {tokenizer.decode([expected])!r}.")
    if logits.ndim == 3 and value == int(logits[0, 0].argmax()):
        return _wrong("that is the prediction after the first position; use the last one, logits[0, -1].")
    return _wrong(f"not the argmax of the last position's logits (that is id {expected}, "
                  f"{tokenizer.decode([expected])!r}).")


def check_cache_bytes(answer, config, dtype, tokens: int) -> Feedback:
    """11: the bytes the KV cache takes for ``tokens`` tokens."""
    import torch

    value, problem = _as_int(answer, "The number of bytes")
    if problem is not None:
        return problem
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    size = torch.finfo(dtype).bits // 8
    expected = config.num_hidden_layers * 2 * config.num_key_value_heads * head_dim * size * tokens
    if value == expected:
        return _right(f"{config.num_hidden_layers} layers x 2 (keys, values) x {config.num_key_value_heads} heads "
                      f"x {head_dim} x {size} bytes x {tokens} tokens = {expected:,} bytes.")
    if value == expected // 2:
        return _wrong("half the expected size: count keys and values (x 2).")
    if value == expected * config.num_attention_heads // config.num_key_value_heads:
        return _wrong("you counted all attention heads; the cache only keeps the key/value heads.")
    return _wrong(f"expected {expected:,} bytes, got {value:,}.")


def check_surviving_candidates(answer, probabilities) -> Feedback:
    """12: how many tokens keep a non-zero probability after top-k / top-p."""
    value, problem = _as_int(answer, "The count")
    if problem is not None:
        return problem
    expected = int((probabilities > 0).sum())
    if value == expected:
        return _right(f"{expected} tokens can still be drawn.")
    return _wrong(f"{value} is not it: count the entries with probability > 0 (expected {expected}).")


def check_padding_side(answer) -> Feedback:
    """13: which side to pad on for generation with a decoder-only model."""
    if answer is None:
        return _wrong(NO_ANSWER)
    if not isinstance(answer, str):
        return _wrong(f"answer 'left' or 'right', got {type(answer).__name__}.")
    if answer.strip().lower() == "left":
        return _right("left: every row then ends with its own last prompt token, where the reply starts.")
    if answer.strip().lower() == "right":
        return _wrong("right padding puts padding between the prompt and the reply; generate warns about it.")
    return _wrong(f"answer 'left' or 'right', got {answer!r}.")


def check_next_turn(answer, previous, reply: str, question: str) -> Feedback:
    """14: the conversation extended by the assistant's ``reply`` and the user's next ``question``."""
    if answer is None:
        return _wrong(NO_ANSWER)
    try:
        validate_messages(answer)
    except MessagesError as error:
        return _wrong(f"not a valid messages list: {error}")
    expected = list(previous) + [{"role": "assistant", "content": reply}, {"role": "user", "content": question}]
    if answer == expected:
        return _right(f"{len(expected)} messages: the history, the reply as 'assistant', the new question as 'user'.")
    if answer == list(previous) + [{"role": "user", "content": question}]:
        return _wrong("the model's reply is missing: append it as an 'assistant' message before the new question.")
    if len(answer) == len(expected) and answer[-2].get("role") != "assistant":
        return _wrong(f"the reply should have the role 'assistant', not {answer[-2].get('role')!r}.")
    if answer[:len(previous)] != list(previous):
        return _wrong("the earlier messages changed: keep the history as it was and append to it.")
    return _wrong(f"expected {len(expected)} messages ending with the reply and the question; got {len(answer)}.")


def check_ceiling(answer, bandwidth_bytes_per_s: float, bytes_per_token: float) -> Feedback:
    """30: the decoding ceiling in tokens per second, memory bandwidth divided by the bytes read per token."""
    if answer is None:
        return _wrong(NO_ANSWER)
    if hasattr(answer, "item") and getattr(answer, "ndim", 1) == 0:
        answer = answer.item()
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        return _wrong(f"the ceiling should be a number of tokens per second, got {type(answer).__name__} {answer!r}.")
    expected = bandwidth_bytes_per_s / bytes_per_token

    def close(value: float) -> bool:
        return abs(value - expected) <= 0.01 * expected

    if close(answer):
        return _right(f"{expected:.1f} tokens per second: no program can decode faster with these weights here.")
    if answer > 0 and close(1 / answer):
        return _wrong("upside down: that is seconds per token. Divide the bandwidth by the bytes per token.")
    if any(close(answer * factor) for factor in (1e3, 1e6, 1e9, 1e-3, 1e-6, 1e-9)):
        return _wrong("right digits, wrong units: use bytes per second and bytes per token (not GB or MB).")
    return _wrong(f"expected bandwidth / bytes per token = {expected:.1f} tokens per second, got {answer:g}.")


# ----------------------------------------------------------------------------------------- 40 over HTTP

def check_greedy_request(answer, max_tokens: int) -> Feedback:
    """40: the JSON body of a chat request that transformers serve answers greedily, in at most ``max_tokens``."""
    if answer is None:
        return _wrong(NO_ANSWER)
    if not isinstance(answer, dict):
        return _wrong(f"a request body is a dict (it becomes a JSON object), got {type(answer).__name__}.")
    try:
        validate_messages(answer.get("messages"))
    except MessagesError as error:
        return _wrong(f"'messages' is not a valid messages list: {error}")
    messages = answer["messages"]
    if messages[0]["role"] != "system" or messages[-1]["role"] != "user":
        return _wrong("the messages should start with a system message and end with your question as 'user'.")
    unknown = sorted(set(answer) & {"do_sample", "repetition_penalty", "max_new_tokens", "top_k"})
    if unknown:
        return _wrong(f"{unknown} are generate() arguments, not OpenAI fields: transformers serve rejects them "
                      "(HTTP 422). Use temperature, frequency_penalty and max_tokens.")
    if answer.get("temperature") != 0:
        return _wrong("without \"temperature\": 0 the server samples, with the temperature 0.7 of "
                      "generation_config.json; 0 makes it greedy.")
    if answer.get("frequency_penalty") != 0:
        return _wrong("the server would keep generation_config.json's repetition_penalty of 1.1: "
                      "\"frequency_penalty\": 0 makes it 1 + 0 = 1.0, as GREEDY does locally.")
    asked = answer.get("max_tokens", answer.get("max_completion_tokens"))
    if asked != max_tokens:
        return _wrong(f"ask for at most {max_tokens} new tokens with \"max_tokens\": {max_tokens} (got {asked!r}).")
    if answer.get("stream"):
        return _wrong("leave \"stream\" out: this request should come back as one JSON reply.")
    return _right(f"a greedy request of {len(messages)} messages, at most {max_tokens} new tokens.")
