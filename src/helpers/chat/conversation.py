"""A conversation of several turns: counting its tokens against the context, and trimming it to fit."""

from __future__ import annotations

import pandas as pd

from helpers.catalogue import text
from helpers.errors import PromptTooLong
from helpers.chat.messages import validate_messages


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
            raise ConversationTooLong(text("error.context.newest_too_long", need=need, max_tokens=max_tokens))
        dropped.append(rest.pop(0))
    return system + rest, dropped


# -- does a prompt fit the context? (one check for the pipeline functions and the chat widget) ------------------

# What the widget tells the learner to do, and what a function call's caller can do: in the notebook's language
# from widget_fix() and call_fix(); the English texts stay importable as constants.
WIDGET_FIX = text("error.context.fix_widget", "en")
CALL_FIX = text("error.context.fix_call", "en")


def widget_fix(lang: str | None = None) -> str:
    """What the chat widget tells the learner to do about a conversation too long for the context."""
    return text("error.context.fix_widget", lang)


def call_fix(lang: str | None = None) -> str:
    """What the caller of :func:`helpers.chat.chat` can do about a prompt too long for the context."""
    return text("error.context.fix_call", lang)


def context_length(model) -> int:
    """The model's context window in tokens, prompt and reply together: ``config.max_position_embeddings``."""
    return int(model.config.max_position_embeddings)


def context_problem(prompt_tokens: int, max_new_tokens: int, context_length: int,
                    fix: str | None = None, lang: str | None = None) -> str | None:
    """None when a prompt of ``prompt_tokens`` plus up to ``max_new_tokens`` new ones fits, else the message to show.

    The message, in ``lang`` (default: the notebook's language), gives both counts, the limit, and ``fix`` (what to do about it; default
    :func:`call_fix`). The widget shows it in its status line with :func:`widget_fix`; :func:`check_fits_context`
    raises it.
    """
    if prompt_tokens + max_new_tokens <= context_length:
        return None
    return text("error.context.too_long", lang, prompt_tokens=prompt_tokens, max_new_tokens=max_new_tokens,
                context_length=context_length, fix=call_fix(lang) if fix is None else fix)


def check_fits_context(prompt_tokens: int, max_new_tokens: int, context_length: int,
                       fix: str | None = None) -> None:
    """Raise :class:`helpers.errors.PromptTooLong` when the prompt and its reply would not fit the context.

    Call it after tokenizing and before ``generate``: a prompt that does not fit would otherwise run for minutes
    (attention over tens of thousands of tokens on a CPU) and then fail or produce nonsense.
    """
    problem = context_problem(prompt_tokens, max_new_tokens, context_length, fix)
    if problem is not None:
        raise PromptTooLong(problem)
