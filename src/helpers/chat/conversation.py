"""A conversation of several turns: counting its tokens against the context, and what to say when it does not fit.

Notebook 14 writes the trimming itself on its page; this module counts the tokens and words the errors.
"""

from __future__ import annotations

import pandas as pd

from helpers.catalogue import text
from helpers.errors import PromptTooLong
from helpers.chat.messages import validate_messages


def count_tokens(messages, tokenizer, add_generation_prompt: bool = True) -> int:
    """How many tokens the rendered conversation takes (what the model must read before it can answer)."""
    rendered = tokenizer.apply_chat_template(validate_messages(messages), tokenize=False,
                                             add_generation_prompt=add_generation_prompt)
    return len(tokenizer(rendered)["input_ids"])


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
    """Even the system message and the newest message alone need more than ``max_tokens``: nothing is left to drop.

    Notebook 14's ``trim_to_fit`` raises it. The message, in the notebook's language, gives both numbers and what to
    do about it.
    """

    def __init__(self, need: int, max_tokens: int):
        super().__init__(text("error.context.newest_too_long", need=need, max_tokens=max_tokens))
        self.need, self.max_tokens = need, max_tokens


# -- does a prompt fit the context? (one check for the pipeline functions and the chat widget) ------------------

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
