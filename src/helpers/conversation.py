"""A conversation of several turns: counting its tokens against the context, and trimming it to fit."""

from __future__ import annotations

import pandas as pd

from .messages import validate_messages


def count_tokens(messages, tokenizer, add_generation_prompt: bool = True) -> int:
    """How many tokens the rendered conversation takes (what the model must read before it can answer)."""
    text = tokenizer.apply_chat_template(validate_messages(messages), tokenize=False,
                                         add_generation_prompt=add_generation_prompt)
    return len(tokenizer(text)["input_ids"])


def budget_table(history: list[list[dict]], tokenizer, context_length: int, reserve: int = 512) -> pd.DataFrame:
    """For each state of a growing conversation: messages, prompt tokens, room left for a reply of ``reserve``."""
    rows = []
    for messages in history:
        used = count_tokens(messages, tokenizer)
        rows.append({"messages": len(messages), "prompt tokens": used,
                     "left for the reply": context_length - used,
                     "fits with a reply of %d" % reserve: used + reserve <= context_length})
    return pd.DataFrame(rows)


class ConversationTooLong(ValueError):
    """Even the system message and the newest user message alone do not fit."""


def trim_to_fit(messages, tokenizer, max_tokens: int) -> tuple[list[dict], list[dict]]:
    """Drop the oldest turns (never the system message or the newest message) until the prompt fits ``max_tokens``.

    Returns ``(kept, dropped)``. Raises :class:`ConversationTooLong` when even the minimum does not fit, with the
    numbers, so the caller can tell the user to shorten the message or start a new chat.
    """
    messages = list(validate_messages(messages))
    system = [m for m in messages[:1] if m["role"] == "system"]
    rest = messages[len(system):]
    dropped = []
    while count_tokens(system + rest, tokenizer) > max_tokens:
        if len(rest) <= 1:
            need = count_tokens(system + rest, tokenizer)
            raise ConversationTooLong(
                f"the newest message alone needs {need} tokens with the system prompt, more than the "
                f"{max_tokens} allowed: shorten it or raise the limit")
        dropped.append(rest.pop(0))
    return system + rest, dropped
