"""One decoding step seen from inside (lessons 10 and 11): the candidates for the next token, and the KV cache.

The loops themselves are written on the lesson pages: notebook 10's greedy loop, notebook 11's with and without
the cache.
"""

from __future__ import annotations

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
