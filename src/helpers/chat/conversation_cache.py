"""Keeping a conversation's key/value cache between turns, so that each turn computes only its new tokens.

Notebook 11 showed the key/value cache *inside* one ``generate`` call: every new token reuses the keys and values of
the tokens before it. Notebook 14 keeps that cache *between* calls. Turn 2's prompt starts with turn 1's prompt and
reply, whose keys and values turn 1 has already computed, so turn 2 only has to read the tokens that are new.

One catch: the chat template re-renders the earlier reply from its *text*, and tokenizing that text need not give
back exactly the ids the model generated (and the cache never holds the very last generated token, ``<|im_end|>``,
because ``generate`` stops before feeding it back). So :class:`ConversationCache` compares the new prompt's ids with
the ids its cache holds, keeps the common prefix, crops the rest off the cache, and lets ``generate`` compute
everything after it.

The notebook writes this out by hand; :class:`ConversationCache` is the same code for the chat widget (notebook 20),
and a test checks that the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpers.numerics import first_difference


def common_prefix_length(cached_ids: list[int], prompt_ids: list[int]) -> int:
    """How many leading ids the two lists share: the part of the prompt whose keys and values can be reused."""
    part = first_difference(cached_ids, prompt_ids)
    return min(len(cached_ids), len(prompt_ids)) if part is None else part


@dataclass
class Reuse:
    """What :meth:`ConversationCache.prepare` decided for one prompt."""

    prompt_tokens: int
    reused: int

    @property
    def computed(self) -> int:
        """Prompt tokens the model still has to read (prefill) before its first new token."""
        return self.prompt_tokens - self.reused


class ConversationCache:
    """A conversation's key/value cache, kept from one ``generate`` call to the next.

    Use it around every ``generate`` of one conversation::

        reuse = conversation_cache.prepare(inputs.input_ids)        # crop the cache to the shared prefix
        out = model.generate(**inputs, cache=conversation_cache.cache, ...)
        conversation_cache.update(out)                               # remember which ids the cache now holds

    ``generate`` is given the *full* prompt ids and attention mask, as always; seeing that the cache already holds
    the first ``reuse.reused`` positions, it feeds the model only the rest. After :meth:`reset` (a new
    conversation) the next prompt is computed in full.
    """

    def __init__(self, model):
        self.model = model
        self.cache = None
        self.ids: list[int] = []  # the token ids whose keys and values self.cache holds, in order

    def reset(self) -> None:
        """Forget everything: the next prompt is computed from its first token."""
        self.cache, self.ids = None, []

    def prepare(self, input_ids) -> Reuse:
        """Crop the cache to the longest prefix it shares with ``input_ids`` (a batch of one); return the counts.

        At least the prompt's last token is always left to compute, because ``generate`` needs the model's output
        at that position to choose the first new token.
        """
        from transformers import DynamicCache

        if getattr(input_ids, "dim", lambda: 0)() != 2 or input_ids.shape[0] != 1:
            shape = tuple(getattr(input_ids, "shape", ()))
            raise ValueError(f"ConversationCache holds one conversation: expected input_ids as a tensor of shape "
                             f"(1, n), got {type(input_ids).__name__} {shape}. Pass inputs.input_ids of one "
                             "prompt.")
        prompt = input_ids[0].tolist()
        if not prompt:
            raise ValueError("the prompt is empty: there is nothing to generate from")
        keep = min(common_prefix_length(self.ids, prompt), len(prompt) - 1)
        if self.cache is None or keep == 0:
            self.cache, self.ids = DynamicCache(config=self.model.config), []
            keep = 0
        elif keep < self.cache.get_seq_length():
            self.cache.crop(keep - self.cache.get_seq_length())  # a negative number: how many positions to drop
        self.ids = self.ids[:keep]
        return Reuse(prompt_tokens=len(prompt), reused=keep)

    def update(self, output_ids) -> None:
        """After ``generate``: record which ids the cache now holds (prompt and reply, all but the last token)."""
        held = self.cache.get_seq_length() if self.cache is not None else 0
        self.ids = output_ids[0][:held].tolist()


class FirstTokenTimer:
    """A ``StoppingCriteria`` that only records when ``generate`` first calls it: right after the first new token.

    ``at - started`` is the time to first token: the prefill of the prompt (all of it, or only what a kept cache
    lacks) and the choice of the first token.
    """

    def __init__(self):
        self.at: float | None = None

    def __call__(self, input_ids, scores, **kwargs):
        import time

        import torch

        if self.at is None:
            self.at = time.perf_counter()
        return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)


def time_turns(model, tokenizer, questions: list[str], keep_cache: bool, max_new_tokens: int = 32) -> list[dict]:
    """Ask ``questions`` one greedy turn after another, after the seed's system prompt; time each turn's first token.

    Returns one dict per turn: ``turn``, ``prompt tokens``, ``read`` (the prompt tokens the model computed),
    ``first token s``, ``new_ids``. With ``keep_cache`` a :class:`ConversationCache` carries the key/value cache from
    turn to turn; without it every turn reads the whole conversation again.
    """
    import time

    import torch
    from transformers import StoppingCriteriaList

    from helpers.chat.generation import GREEDY, build_inputs
    from helpers.display.progress import GenerationProgress
    from helpers.seed import SEED_SYSTEM_PROMPT

    messages = [{"role": "system", "content": SEED_SYSTEM_PROMPT}]
    kept = ConversationCache(model)
    progress = GenerationProgress()   # one line for all the turns, empty when they are done
    rows = []
    for turn, question in enumerate(questions, start=1):
        messages.append({"role": "user", "content": question})
        inputs = build_inputs(messages, tokenizer, model.device)
        prompt = inputs.input_ids.shape[1]
        extra, read = {}, prompt
        if keep_cache:
            reuse = kept.prepare(inputs.input_ids)
            extra, read = {"cache": kept.cache}, reuse.computed
        timer = FirstTokenTimer()
        started = time.perf_counter()
        with torch.no_grad():
            output = model.generate(**inputs, max_new_tokens=max_new_tokens, **GREEDY, **extra,
                                    stopping_criteria=StoppingCriteriaList([timer]), streamer=progress)
        if keep_cache:
            kept.update(output)
        new_ids = output[0, prompt:].tolist()
        messages.append({"role": "assistant", "content": tokenizer.decode(new_ids, skip_special_tokens=True)})
        rows.append({"turn": turn, "prompt tokens": prompt, "read": read, "first token s": timer.at - started,
                     "new_ids": new_ids})
    return rows
