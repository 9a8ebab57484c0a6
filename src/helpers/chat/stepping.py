"""What ``generate`` does inside, written out: one forward pass per new token, with or without the KV cache."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pandas as pd

from helpers.display.tables import show_whitespace


def top_candidates(logits, tokenizer, k: int = 10) -> pd.DataFrame:
    """The ``k`` most likely next tokens for one position's logits: rank, id, text, logit and probability."""
    import torch

    logits = logits.float()
    probs = torch.softmax(logits, dim=-1)
    top = torch.topk(probs, k)
    rows = []
    for rank, (p, i) in enumerate(zip(top.values.tolist(), top.indices.tolist()), start=1):
        rows.append({"rank": rank, "id": i, "token": show_whitespace(tokenizer.decode([i])),
                     "logit": round(logits[i].item(), 2), "probability": p})
    return pd.DataFrame(rows).set_index("rank")


@dataclass
class LoopResult:
    """The ids a hand-written decoding loop produced, the time each step took, and why it stopped."""

    new_ids: list[int]
    step_seconds: list[float]
    stopped_by: str
    candidates: list[pd.DataFrame] = field(default_factory=list)

    @property
    def seconds_per_token(self) -> float:
        """Mean time of the steps after the first (the first includes reading the whole prompt)."""
        later = self.step_seconds[1:] or self.step_seconds
        return sum(later) / len(later)


def greedy_loop(model, model_inputs, max_new_tokens: int, *, use_cache: bool = True, eos_ids=None,
                tokenizer=None, record_top: int = 0) -> LoopResult:
    """Greedy decoding by hand: forward pass, logits of the last position, softmax, pick the most likely, repeat.

    With ``use_cache`` the first pass reads the whole prompt and returns the keys and values of every layer; each
    later pass feeds only the newest token plus that cache. Without it every pass re-reads the whole sequence.
    Stops at an end-of-turn id (``eos_ids``, default: the model's) or after ``max_new_tokens``. With a tokenizer
    and ``record_top=k`` the top-k candidates of every step are kept.
    """
    import torch

    if eos_ids is None:
        eos = model.generation_config.eos_token_id
        eos_ids = list(eos) if isinstance(eos, (list, tuple)) else [eos]
    ids, mask = model_inputs["input_ids"], model_inputs["attention_mask"]
    cache, new_ids, seconds, candidates = None, [], [], []
    stopped_by = "max_new_tokens"
    with torch.no_grad():
        for _ in range(max_new_tokens):
            started = time.perf_counter()
            if use_cache:
                fed = ids if cache is None else ids[:, -1:]
                out = model(input_ids=fed, attention_mask=mask, cache=cache, use_cache=True)
                cache = out.cache
            else:
                out = model(input_ids=ids, attention_mask=mask, use_cache=False)
            logits = out.logits[0, -1]
            next_id = int(torch.argmax(logits))
            seconds.append(time.perf_counter() - started)
            if record_top and tokenizer is not None:
                candidates.append(top_candidates(logits, tokenizer, record_top))
            new_ids.append(next_id)
            ids = torch.cat([ids, torch.tensor([[next_id]], device=ids.device)], dim=1)
            mask = torch.cat([mask, torch.ones((1, 1), dtype=mask.dtype, device=mask.device)], dim=1)
            if next_id in eos_ids:
                stopped_by = "end of turn"
                break
    return LoopResult(new_ids=new_ids, step_seconds=seconds, stopped_by=stopped_by, candidates=candidates)


def prefill_cache(model, model_inputs):
    """Run the prompt once with the cache on and return that cache (the state generate keeps between steps)."""
    import torch

    with torch.no_grad():
        return model(**model_inputs, use_cache=True).cache


def cache_shapes(cache) -> pd.DataFrame:
    """Per layer: the shapes of the cached keys and values, [batch, kv_heads, sequence, head_dim], and their size."""
    rows = []
    for i, layer in enumerate(cache.layers):
        keys, values = layer.keys, layer.values
        rows.append({"layer": i, "keys": list(keys.shape), "values": list(values.shape),
                     "KiB": (keys.numel() * keys.element_size() + values.numel() * values.element_size()) / 1024})
    return pd.DataFrame(rows).set_index("layer")
