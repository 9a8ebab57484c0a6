"""Checks for the exercises at the end of each notebook: specific feedback on a learner's answer.

Every check returns a :class:`Feedback` (truthy when the answer is right) whose message says what is right, or what
is wrong and how to find the right answer, e.g. "your slice kept the prompt: expected 68 ids, got 107". A wrong
answer never prints the expected answer itself; it points at how to get it. Checks never raise on a wrong answer:
wrong types and empty answers get feedback too. The worked solutions are in ``notebooks/90_solutions.ipynb``.

Every word a learner reads comes from the message catalogue (:mod:`helpers.catalogue`, the area ``[exercises]`` of
``helpers/locale/<language>/LC_MESSAGES/workbook.po``) under a language-neutral key (``Feedback.key`` says which one
was used), in the notebook's language: Chinese in ``notebooks/zh/``, English otherwise, or what ``WORKBOOK_LANG``
asks for.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from helpers import catalogue
from helpers.errors import MessagesError
from helpers.chat.messages import validate_messages
from helpers.numerics import first_difference

# Qwen2.5's end ids: a reply that stopped by itself ends with one of them.
END_IDS = {151645: "<|im_end|>", 151643: "<|endoftext|>"}


@dataclass(frozen=True)
class Feedback:
    """The result of a check: truthy when the answer is right; ``message`` says why; ``key`` names the message."""

    ok: bool
    message: str
    key: str = ""

    def __bool__(self) -> bool:
        return self.ok

    def _mark(self) -> str:
        return _say("feedback.right_mark" if self.ok else "feedback.wrong_mark")

    def __repr__(self) -> str:
        return f"{self._mark()} {self.message}"

    def _repr_html_(self) -> str:
        colour = "#2e7d32" if self.ok else "#c62828"
        return (f'<div style="border-left:4px solid {colour};padding:4px 8px;background:#fafafa">'
                f'<b style="color:{colour}">{html.escape(self._mark())}</b> {html.escape(self.message)}</div>')


def _say(key: str, **fields) -> str:
    """The message ``key`` of the catalogue, in the notebook's language, its fields filled in."""
    return catalogue.text(key, **fields)


def _right(key: str, **fields) -> Feedback:
    return Feedback(True, _say(key, **fields), key)


def _wrong(key: str, **fields) -> Feedback:
    return Feedback(False, _say(key, **fields), key)


def _plain(answer):
    """A 0-d tensor or array as the Python number it holds; anything else as it is."""
    return answer.item() if hasattr(answer, "item") and getattr(answer, "ndim", 1) == 0 else answer


def _as_int(answer, what: str):
    """(value, None) if ``answer`` is an integer, else (None, Feedback explaining the type problem)."""
    if answer is None:
        return None, _wrong("no_answer")
    answer = _plain(answer)
    if isinstance(answer, bool) or not isinstance(answer, int):
        if isinstance(answer, float) and answer.is_integer():
            return int(answer), None
        return None, _wrong("type.int", what=what, type=type(answer).__name__, value=repr(answer))
    return answer, None


def _as_ids(answer, what: str):
    """(list of ints, None) for a list/tuple/1-D tensor (or a batch of one), else (None, Feedback)."""
    if answer is None:
        return None, _wrong("no_answer")
    if isinstance(answer, str):
        return None, _wrong("ids.text", what=what, text=repr(answer[:40]))
    if isinstance(answer, dict) or hasattr(answer, "keys"):
        return None, _wrong("ids.dict", what=what, keys=sorted(answer.keys()))
    if hasattr(answer, "tolist"):
        answer = answer.tolist()
    if isinstance(answer, (list, tuple)) and len(answer) == 1 and isinstance(answer[0], (list, tuple)):
        answer = answer[0]  # a batch of one
    if not isinstance(answer, (list, tuple)) or not all(isinstance(i, int) and not isinstance(i, bool)
                                                        for i in answer):
        return None, _wrong("ids.type", what=what, type=type(answer).__name__)
    return list(answer), None


def _compare_ids(got: list[int], expected: list[int], what: str) -> Feedback:
    if got == expected:
        return _right("ids.match", what=what, count=len(expected))
    if len(got) != len(expected):
        return _wrong("ids.length", what=what, expected=len(expected), got=len(got))
    first = first_difference(got, expected)
    return _wrong("ids.position", what=what, position=first, got=got[first])


# ----------------------------------------------------------------------------------------- 00 environment check

def check_thread_count(answer) -> Feedback:
    """00: how many threads torch uses for matrix products on this machine."""
    import torch

    value, problem = _as_int(answer, _say("what.thread_count"))
    if problem is not None:
        return problem
    expected = torch.get_num_threads()
    if value == expected:
        return _right("threads.right", expected=expected)
    return _wrong("threads.wrong", value=value)


# ----------------------------------------------------------------------------------------- 01 load the model

def check_queries_per_kv_head(answer, config) -> Feedback:
    """01: how many query heads share one key/value head."""
    value, problem = _as_int(answer, _say("what.heads_per_kv"))
    if problem is not None:
        return problem
    expected = config.num_attention_heads // config.num_key_value_heads
    if value == expected:
        return _right("heads.right", query=config.num_attention_heads, kv=config.num_key_value_heads,
                      expected=expected)
    if value == config.num_attention_heads:
        return _wrong("heads.all_queries", value=value)
    return _wrong("heads.wrong", value=value)


def check_float32_bytes(answer, model) -> Feedback:
    """01: how many bytes the weights would take in float32."""
    value, problem = _as_int(answer, _say("what.bytes"))
    if problem is not None:
        return problem
    count = sum(p.numel() for p in model.parameters())
    expected = count * 4
    if value == expected:
        return _right("bytes.right", count=count, expected=expected, gib=expected / 2**30)
    if value == count * 2:
        return _wrong("bytes.bfloat16")
    if value == count:
        return _wrong("bytes.count")
    return _wrong("bytes.wrong", value=value)


# ----------------------------------------------------------------------------------------- 02 the tokenizer

def check_encoding(answer, text: str, tokenizer) -> Feedback:
    """02: the ids of ``text``."""
    ids, problem = _as_ids(answer, _say("what.answer"))
    if problem is not None:
        return problem
    return _compare_ids(ids, tokenizer.encode(text), _say("what.ids_of", text=repr(text)))


def check_special_id(answer, token: str, tokenizer) -> Feedback:
    """02: the id of a control token such as ``<|im_end|>``."""
    value, problem = _as_int(answer, _say("what.id_of", token=token))
    if problem is not None:
        return problem
    expected = tokenizer.convert_tokens_to_ids(token)
    if value == expected:
        return _right("special.right", token=token, expected=expected)
    other = tokenizer.convert_ids_to_tokens(value) if 0 <= value < len(tokenizer) else None
    named = _say("special.other", value=value, other=repr(other)) if other else ""   # " (151644 is '<|im_start|>')"
    return _wrong("special.wrong", token=token, value=value, other=named, token_repr=repr(token))


# ----------------------------------------------------------------------------------------- 03 messages

# Ways to ask for one sentence, in the languages a learner is likely to write the system message in. Each pattern
# is searched in the lower-cased text; "sentence" must be singular, so "a few sentences" does not count.
ONE_SENTENCE_PATTERNS = (
    r"\b(?:one|1|a|single)(?:[\s,-]+[a-z]+){0,2}?[\s-]+sentence\b",   # one sentence, a single short sentence
    r"一句",                                                          # 一句话 / 一句話 / 用一句回答
    r"一个句子|一個句子|单句|單句",
    r"一文|1文|ひとつの文",                                             # Japanese: 一文で答えて
    r"한\s*문장",                                                      # Korean
    r"\bune\s+(?:seule\s+)?phrase\b",                                 # French
    r"\buna\s+(?:sola\s+|única\s+)?(?:frase|oración)\b",              # Spanish, Italian, Portuguese-ish
    r"\buma\s+(?:só\s+|única\s+)?frase\b",                            # Portuguese
    r"\bein(?:em|er|en)?\s+(?:einzigen\s+)?satz\b",                   # German
    r"одн(?:им|о|ом)\s+предложени",                                   # Russian
)


def asks_for_one_sentence(text: str) -> bool:
    """True when ``text`` asks for one sentence, in English, Chinese or one of a few other languages."""
    lowered = text.lower()
    return any(re.search(pattern, lowered) for pattern in ONE_SENTENCE_PATTERNS)


def _text_of(content) -> str:
    """A message's content as text: a str as it is, OpenAI-style text parts joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, (list, tuple)):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


def check_one_sentence_chat(answer) -> Feedback:
    """03: a conversation with a system message asking for one-sentence answers (in any language), then a
    user question."""
    if answer is None:
        return _wrong("no_answer")
    try:
        answer = validate_messages(answer)   # text parts come back joined into one string
    except MessagesError as error:
        return _wrong("chat.invalid", error=error)
    if answer[0]["role"] != "system":
        return _wrong("chat.system_first", role=repr(answer[0]["role"]))
    system = _text_of(answer[0]["content"])
    if not asks_for_one_sentence(system):
        shown = system if len(system) <= 80 else system[:77] + "..."
        return _wrong("chat.one_sentence", content=repr(shown))
    if answer[-1]["role"] != "user":
        return _wrong("chat.user_last", role=repr(answer[-1]["role"]))
    if not _text_of(answer[-1]["content"]).strip():
        return _wrong("chat.empty_question")
    return _right("chat.right", count=len(answer))


# ----------------------------------------------------------------------------------------- 04 the chat template

def check_without_generation_prompt(answer, messages, tokenizer) -> Feedback:
    """04: the template's text for ``messages`` without the generation prompt."""
    if answer is None:
        return _wrong("no_answer")
    if not isinstance(answer, str):
        return _wrong("template.type", type=type(answer).__name__)
    expected = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=False)
    if answer == expected:
        return _right("template.right", ending=repr(expected[-12:]))
    if answer == expected + "<|im_start|>assistant\n":
        return _wrong("template.generation_prompt")
    return _wrong("template.wrong")


# ----------------------------------------------------------------------------------------- 05 model inputs

def check_left_padded_batch(answer, texts, tokenizer) -> Feedback:
    """05 and 13: a left-padded batch of ``texts`` with tensors."""
    if answer is None:
        return _wrong("no_answer")
    if not hasattr(answer, "keys") or "input_ids" not in answer or "attention_mask" not in answer:
        return _wrong("batch.not_inputs")
    ids, mask = answer["input_ids"], answer["attention_mask"]
    if not hasattr(ids, "shape"):
        return _wrong("batch.lists")
    if ids.shape[0] != len(texts):
        return _wrong("batch.rows", expected=len(texts), got=ids.shape[0])
    lengths = [len(tokenizer(t)["input_ids"]) for t in texts]
    if ids.shape[1] != max(lengths):
        return _wrong("batch.width", expected=max(lengths), got=ids.shape[1])
    short = lengths.index(min(lengths))
    if min(lengths) < max(lengths) and mask[short, -1] == 0:
        return _wrong("batch.right_padding")
    return _right("batch.right", rows=ids.shape[0], width=ids.shape[1], padding=int((mask == 0).sum()))


# ----------------------------------------------------------------------------------------- 06 generate

def check_short_generation(answer, model_inputs, max_new_tokens: int, model) -> Feedback:
    """06: ``generate``'s output for ``model_inputs``, greedy, with at most ``max_new_tokens`` new tokens.

    Greedy means the ids are the ones greedy decoding gives: the check generates them itself with ``model``, once
    with the lesson's settings (``do_sample=False, repetition_penalty=1.0``) and, when those differ, once with
    ``do_sample=False`` alone (greedy over the model's penalised scores, also greedy).
    """
    import torch

    ids, problem = _as_ids(answer, "generated_ids")
    if problem is not None:
        return problem
    prompt = model_inputs["input_ids"][0].tolist()
    if ids[:len(prompt)] != prompt:
        if len(ids) <= max_new_tokens:
            return _wrong("generate.slice")
        return _wrong("generate.other_prompt")
    new = len(ids) - len(prompt)
    if new == 0:
        return _wrong("generate.nothing_new")
    if new > max_new_tokens:
        return _wrong("generate.too_long", new=new, limit=max_new_tokens)

    def greedy(**settings) -> list[int]:
        with torch.no_grad():
            out = model.generate(**model_inputs, max_new_tokens=max_new_tokens, do_sample=False, **settings)
        return out[0].tolist()

    if ids == greedy(repetition_penalty=1.0):
        return _right("generate.right", prompt=len(prompt), new=new)
    penalty = getattr(model.generation_config, "repetition_penalty", 1.0) or 1.0
    if penalty != 1.0 and ids == greedy():
        return _right("generate.right_with_penalty", prompt=len(prompt), new=new, penalty=penalty)
    if new < max_new_tokens and ids[-1] not in END_IDS:
        return _wrong("generate.stopped_early", new=new, limit=max_new_tokens)
    return _wrong("generate.not_greedy")


# ----------------------------------------------------------------------------------------- 07 slicing

def _is_text(answer) -> bool:
    return isinstance(answer, str) or (isinstance(answer, (list, tuple)) and len(answer) > 0
                                       and all(isinstance(a, str) for a in answer))


def check_slice(answer, model_inputs, generated_ids) -> Feedback:
    """07: the generated ids with the prompt sliced off (a list with one tensor, or the ids themselves).

    Recognises the usual mistakes: slicing the batch axis (``generated_ids[39:]``), cutting at the batch's length
    (``len(model_inputs.input_ids)`` is 1), dropping the end-of-turn id (``[39:-1]``), keeping the prompt, and
    answering with decoded text instead of ids.
    """
    if answer is None:
        return _wrong("no_answer")
    if _is_text(answer):
        return _wrong("slice.text")
    if isinstance(answer, list) and len(answer) == 1 and hasattr(answer[0], "tolist"):
        answer = answer[0]
    full_shape = tuple(generated_ids.shape)
    shape = tuple(answer.shape) if hasattr(answer, "shape") else None
    if shape is not None and len(shape) == 2 and shape[0] == 0:
        return _wrong("slice.batch_axis", shape=shape, full_shape=full_shape, rows=full_shape[0])
    ids, problem = _as_ids(answer, _say("what.slice"))
    if problem is not None:
        return problem
    full = generated_ids[0].tolist()
    prompt_length = model_inputs["input_ids"].shape[1]
    rows = model_inputs["input_ids"].shape[0]
    expected = full[prompt_length:]
    if ids == expected:
        return _right("slice.right", count=len(expected), start=expected[:3])
    if not ids:
        return _wrong("slice.empty")
    if ids == full:
        return _wrong("slice.kept_prompt", expected=len(expected), got=len(ids))
    if rows != prompt_length and ids == full[rows:]:
        return _wrong("slice.len_of_batch", cut=rows)
    if ids == expected[:-1]:
        if expected[-1] in END_IDS:
            return _wrong("slice.dropped_end", token=END_IDS[expected[-1]], id=expected[-1])
        return _wrong("slice.dropped_last")
    if ids == full[:prompt_length]:
        return _wrong("slice.is_prompt", count=prompt_length)
    if full[-len(ids):] == ids:
        return _wrong("slice.wrong_start", start=len(full) - len(ids), prompt=prompt_length)
    if ids == full[prompt_length:prompt_length + len(ids)]:
        return _wrong("slice.stops_early", missing=len(expected) - len(ids))
    if len(ids) != len(expected):
        return _wrong("slice.not_from_row")
    return _compare_ids(ids, expected, _say("what.reply_ids"))


# ----------------------------------------------------------------------------------------- 08 decoding

def check_reply_text(answer, sliced_ids, tokenizer) -> Feedback:
    """08: the reply decoded from the sliced ids, without special tokens."""
    if answer is None:
        return _wrong("no_answer")
    if isinstance(answer, list):
        return _wrong("decode.list", count=len(answer))
    if not isinstance(answer, str):
        return _wrong("decode.type", type=type(answer).__name__)
    expected = tokenizer.batch_decode(sliced_ids, skip_special_tokens=True)[0]
    if answer == expected:
        return _right("decode.right", count=len(expected))
    if answer.startswith("system\n"):
        return _wrong("decode.full")
    if "<|im_end|>" in answer:
        return _wrong("decode.special")
    if not answer.strip():
        return _wrong("decode.empty")
    return _wrong("decode.wrong")


# ----------------------------------------------------------------------------------------- 09 the whole pipeline

def check_chat_reply(answer, messages, model, tokenizer) -> Feedback:
    """09: what ``chat(messages)`` returned, for ``messages`` with a system message asking for one-sentence answers.

    The reply must be the one greedy generation gives for these messages (the check generates it with
    :func:`helpers.chat.chat`), so a reply generated without the system message, or for other messages, is caught.
    """
    from helpers.chat.generation import chat

    if answer is None:
        return _wrong("no_answer")
    if _looks_like_messages(answer):
        return _wrong("reply.messages")
    if not isinstance(answer, str):
        return _wrong("reply.type", type=type(answer).__name__)
    if not answer.strip():
        return _wrong("reply.empty")
    if answer.startswith("system\n") or "<|im_start|>" in answer:
        return _wrong("reply.prompt")
    if "<|im_end|>" in answer:
        return _wrong("reply.special")
    asked = check_one_sentence_chat(messages)
    if not asked:
        return _wrong("reply.messages_wrong", problem=asked.message)
    # A reply cut short by max_new_tokens is the start of the longer one; a cut inside a character leaves "\ufffd".
    limit = len(tokenizer.encode(answer)) + 8
    start = answer.rstrip("\ufffd")

    def replies(conversation) -> bool:
        return chat(conversation, model, tokenizer, max_new_tokens=limit).startswith(start)

    if replies(messages):
        return _right("reply.right", count=len(answer))
    if replies([m for m in messages if m["role"] != "system"]):
        return _wrong("reply.no_system")
    return _wrong("reply.other_messages")


def _looks_like_messages(answer) -> bool:
    return (isinstance(answer, (list, tuple)) and len(answer) > 0
            and all(isinstance(m, dict) and "role" in m for m in answer))


# ----------------------------------------------------------------------------------------- 10-14 under the hood

def check_first_token(answer, logits, tokenizer) -> Feedback:
    """10: the id of the likeliest next token, read off the last position's logits."""
    value, problem = _as_int(answer, _say("what.id"))
    if problem is not None:
        return problem
    last = logits[0, -1] if logits.ndim == 3 else logits
    expected = int(last.argmax())
    if value == expected:
        return _right("first.right", expected=expected, text=repr(tokenizer.decode([expected])))
    if logits.ndim == 3 and value == int(logits[0, 0].argmax()):
        return _wrong("first.first_position")
    if 0 <= value < last.shape[-1]:
        rank = int((last > last[value]).sum()) + 1
        if rank <= 10:
            return _wrong("first.rank", value=value, rank=rank)
    return _wrong("first.wrong", value=value)


def check_cache_bytes(answer, config, dtype, tokens: int) -> Feedback:
    """11: the bytes the KV cache takes for ``tokens`` tokens."""
    import torch

    value, problem = _as_int(answer, _say("what.bytes"))
    if problem is not None:
        return problem
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    size = torch.finfo(dtype).bits // 8
    expected = config.num_hidden_layers * 2 * config.num_key_value_heads * head_dim * size * tokens
    if value == expected:
        return _right("cache.right", layers=config.num_hidden_layers, heads=config.num_key_value_heads,
                      head_dim=head_dim, size=size, tokens=tokens, expected=expected)
    if value == expected // 2:
        return _wrong("cache.half")
    if value == expected * config.num_attention_heads // config.num_key_value_heads:
        return _wrong("cache.all_heads")
    return _wrong("cache.wrong", value=value)


def check_surviving_candidates(answer, probabilities) -> Feedback:
    """12: how many tokens keep a non-zero probability after top-k / top-p."""
    value, problem = _as_int(answer, _say("what.count"))
    if problem is not None:
        return problem
    expected = int((probabilities > 0).sum())
    if value == expected:
        return _right("candidates.right", expected=expected)
    if value == probabilities.shape[-1]:
        return _wrong("candidates.vocabulary", value=value)
    if value <= 0:
        return _wrong("candidates.zero")
    return _wrong("candidates.too_many" if value > expected else "candidates.too_few", value=value)


def check_next_turn(answer, previous, reply: str, question: str) -> Feedback:
    """14: the conversation extended by the assistant's ``reply`` and the user's next ``question``."""
    if answer is None:
        return _wrong("no_answer")
    try:
        validate_messages(answer)
    except MessagesError as error:
        return _wrong("turn.invalid", error=error)
    expected = list(previous) + [{"role": "assistant", "content": reply}, {"role": "user", "content": question}]
    if answer == expected:
        return _right("turn.right", count=len(expected))
    if answer == list(previous) + [{"role": "user", "content": question}]:
        return _wrong("turn.missing_reply")
    if answer == list(previous) + expected[-1:] + expected[-2:-1]:
        return _wrong("turn.order")
    if len(answer) == len(expected) and answer[-2].get("role") != "assistant":
        return _wrong("turn.role", role=repr(answer[-2].get("role")))
    if answer[:len(previous)] != list(previous):
        return _wrong("turn.history")
    return _wrong("turn.wrong", expected=len(expected), got=len(answer))


def check_ceiling(answer, bandwidth_bytes_per_s: float, bytes_per_token: float) -> Feedback:
    """30: the decoding ceiling in tokens per second, memory bandwidth divided by the bytes read per token."""
    if answer is None:
        return _wrong("no_answer")
    answer = _plain(answer)
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        return _wrong("type.number", type=type(answer).__name__, value=repr(answer))
    expected = bandwidth_bytes_per_s / bytes_per_token

    def close(value: float) -> bool:
        return abs(value - expected) <= 0.01 * expected

    if close(answer):
        return _right("ceiling.right", expected=expected)
    if answer > 0 and close(1 / answer):
        return _wrong("ceiling.inverted")
    if any(close(answer * factor) for factor in (1e3, 1e6, 1e9, 1e-3, 1e-6, 1e-9)):
        return _wrong("ceiling.units")
    return _wrong("ceiling.wrong", value=answer)


# ----------------------------------------------------------------------------------------- 16 tools

def check_tool_message(answer, result) -> Feedback:
    """16: the message that carries a function's ``result`` back to the model: role "tool", the result as a str."""
    import json

    if answer is None:
        return _wrong("no_answer")
    if not isinstance(answer, dict):
        return _wrong("tool_message.type", type=type(answer).__name__)
    if "role" not in answer or "content" not in answer:
        return _wrong("tool_message.keys", keys=sorted(answer))
    if answer["role"] != "tool":
        return _wrong("tool_message.role", role=repr(answer["role"]))
    if "tool_calls" in answer:
        return _wrong("tool_message.tool_calls")
    content = answer["content"]
    if not isinstance(content, str):
        return _wrong("tool_message.content_type", type=type(content).__name__)
    try:
        read_back = json.loads(content)
    except json.JSONDecodeError:
        read_back = None
    if read_back == result and read_back is not None:
        return _right("tool_message.right", content=content)
    if content == str(result):
        return _wrong("tool_message.repr")
    return _wrong("tool_message.content", content=repr(content[:60]))


# ----------------------------------------------------------------------------------------- 18 prompt lookup

def check_appended(answer, draft, verified) -> Feedback:
    """18: what one verifying pass of prompt lookup appends to the reply. ``verified[i]`` is the model's own choice
    after the reply so far and ``draft[:i]`` (one entry more than ``draft``); the pass keeps the drafted tokens up to
    the first one the model disagrees with, then the model's own token at that position."""
    if answer is None:
        return _wrong("no_answer")
    if isinstance(answer, str):
        return _wrong("appended.text")
    if hasattr(answer, "tolist"):
        answer = answer.tolist()
    if not isinstance(answer, (list, tuple)):
        return _wrong("appended.type", type=type(answer).__name__)
    answer, draft, verified = list(answer), list(draft), list(verified)
    accepted = 0
    while accepted < len(draft) and draft[accepted] == verified[accepted]:
        accepted += 1
    expected = verified[:accepted + 1]
    if answer == expected:
        return _right("appended.right", accepted=accepted, drafted=len(draft), own=repr(expected[-1]),
                      count=len(expected))
    if answer == draft[:accepted]:
        return _wrong("appended.own_token")
    if accepted < len(draft) and answer == draft[:accepted + 1]:
        return _wrong("appended.draft_token", token=repr(draft[accepted]))
    agreeing = [token for token, choice in zip(draft, verified) if token == choice]
    if (answer in (agreeing, agreeing + verified[len(draft):]) or answer == draft or answer == verified
            or (len(answer) > len(expected) and answer[:accepted] == expected[:accepted])):
        return _wrong("appended.past_mismatch", position=accepted)
    return _wrong("appended.wrong")


# ----------------------------------------------------------------------------------------- 40 over HTTP

def check_greedy_request(answer, max_tokens: int) -> Feedback:
    """40: the JSON body of a chat request that transformers serve answers greedily, in at most ``max_tokens``."""
    if answer is None:
        return _wrong("no_answer")
    if not isinstance(answer, dict):
        return _wrong("request.type", type=type(answer).__name__)
    try:
        validate_messages(answer.get("messages"))
    except MessagesError as error:
        return _wrong("request.messages", error=error)
    messages = answer["messages"]
    if messages[0]["role"] != "system" or messages[-1]["role"] != "user":
        return _wrong("request.roles")
    unknown = sorted(set(answer) & {"do_sample", "repetition_penalty", "max_new_tokens", "top_k"})
    if unknown:
        return _wrong("request.generate_args", fields=unknown)
    if answer.get("temperature") != 0:
        return _wrong("request.temperature")
    if answer.get("frequency_penalty") != 0:
        return _wrong("request.penalty")
    asked = answer.get("max_tokens", answer.get("max_completion_tokens"))
    if asked != max_tokens:
        return _wrong("request.max_tokens", limit=max_tokens, got=repr(asked))
    if answer.get("stream"):
        return _wrong("request.stream")
    return _right("request.right", count=len(messages), limit=max_tokens)


# ----------------------------------------------------------------------------------------- 31 what int4 costs

def check_perplexity(answer, log_probs) -> Feedback:
    """31: the perplexity of a text from its tokens' natural-log probabilities; ``log_probs[0]`` belongs to the first
    token, which has no prediction (recorded as 0.0), so the mean runs over the others."""
    import math

    if answer is None:
        return _wrong("no_answer")
    answer = _plain(answer)
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        return _wrong("type.number", type=type(answer).__name__, value=repr(answer))
    predicted = [float(value) for value in log_probs[1:]]
    mean = sum(predicted) / len(predicted)
    mean_all = sum(float(value) for value in log_probs) / len(log_probs)
    expected = math.exp(-mean)

    def close(value: float, target: float) -> bool:
        return abs(value - target) <= 0.005 * abs(target)

    if close(answer, expected):
        return _right("perplexity.right", expected=expected, count=len(predicted))
    def near(*values: float) -> bool:
        return any(close(answer, value) for value in values)

    if near(math.exp(-mean_all)):
        return _wrong("perplexity.first_token")
    if near(math.exp(mean), math.exp(mean_all)):
        return _wrong("perplexity.sign")
    if near(*[base ** -m for base in (2, 10) for m in (mean, mean_all)],
            *[math.exp(-m / math.log(2)) for m in (mean, mean_all)]):
        return _wrong("perplexity.base")
    if near(math.exp(-sum(predicted))):
        return _wrong("perplexity.sum")
    if near(mean, -mean, mean_all, -mean_all):
        return _wrong("perplexity.no_exp")
    return _wrong("perplexity.wrong", value=answer)


def check_enum_pattern(answer, choices) -> Feedback:
    """17: a regular expression for one JSON value out of ``choices`` (strings), written so that it can stand inside
    a longer pattern, as ``value_pattern`` puts it inside the pattern of an object."""
    import json

    import regex

    if answer is None:
        return _wrong("no_answer")
    if not isinstance(answer, str):
        return _wrong("enum_pattern.type", type=type(answer).__name__, value=repr(answer))
    try:
        regex.compile(answer)
    except regex.error as error:
        return _wrong("enum_pattern.invalid", error=str(error))
    written = [json.dumps(choice, ensure_ascii=False) for choice in choices]
    for choice, text in zip(choices, written):
        if not regex.fullmatch(answer, text):
            if regex.fullmatch(answer, choice):
                return _wrong("enum_pattern.quotes", choice=choice)
            return _wrong("enum_pattern.missing", choice=text)
    others = [*choices, '""', json.dumps("mixed"), json.dumps(choices[0] + choices[-1]),
              *[json.dumps(choice.upper()) for choice in choices], *[text[:-2] + '"' for text in written]]
    for other in others:
        if other not in written and regex.fullmatch(answer, other):
            return _wrong("enum_pattern.too_wide", other=other)
    inside = r'\{"key": ' + answer + r', "n": 1\}'   # the value between two neighbours, as in an object's pattern
    if not all(regex.fullmatch(inside, '{"key": ' + text + ', "n": 1}') for text in written):
        return _wrong("enum_pattern.group")
    return _right("enum_pattern.right", count=len(choices))
