"""How sampling settings reshape the next-token distribution, using transformers' own logits processors."""

from __future__ import annotations

import pandas as pd

from helpers.display.tables import show_whitespace
from helpers.display.words import heading, say


def next_token_logits(model, model_inputs):
    """The logits for the token after the prompt (one forward pass), as float32."""
    import torch

    with torch.no_grad():
        return model(**model_inputs).logits[0, -1].float()


def reshape(logits, *, temperature: float | None = None, top_k: int | None = None, top_p: float | None = None,
            repetition_penalty: float | None = None, previous_ids=None):
    """Apply the settings in ``generate``'s order (penalty, temperature, top-k, top-p); return probabilities.

    Each setting runs transformers' own processor, so what you see is what ``generate(do_sample=True, ...)`` samples
    from. Tokens that top-k or top-p remove get probability 0.
    """
    import torch
    from transformers import (RepetitionPenaltyLogitsProcessor, TemperatureLogitsWarper, TopKLogitsWarper,
                              TopPLogitsWarper)

    scores = logits.float().unsqueeze(0).clone()
    history = torch.tensor([list(previous_ids or [])], dtype=torch.long)
    if repetition_penalty is not None:
        scores = RepetitionPenaltyLogitsProcessor(repetition_penalty)(history, scores)
    if temperature is not None:
        scores = TemperatureLogitsWarper(temperature)(history, scores)
    if top_k is not None:
        scores = TopKLogitsWarper(top_k)(history, scores)
    if top_p is not None:
        scores = TopPLogitsWarper(top_p)(history, scores)
    return torch.softmax(scores, dim=-1)[0]


def compare_distributions(before, after, tokenizer, k: int = 10) -> pd.DataFrame:
    """The ``k`` likeliest tokens before a change, with their probability before and after it."""
    import torch

    top = torch.topk(before, k).indices.tolist()
    rows = [{"token": show_whitespace(tokenizer.decode([i])), "id": i,
             "before": before[i].item(), "after": after[i].item()} for i in top]
    table = pd.DataFrame(rows)
    table.index = range(1, len(rows) + 1)
    table.index.name = "rank"
    return table


def plot_comparisons(tables: dict[str, pd.DataFrame], title: str = ""):
    """Bar charts of before/after probabilities, one panel per setting; returns the matplotlib figure."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(tables), figsize=(4.2 * len(tables), 3.4), sharey=True, squeeze=False)
    for ax, (name, table) in zip(axes[0], tables.items()):
        x = range(len(table))
        ax.bar([i - 0.2 for i in x], table["before"], width=0.4, label=say("before"), color="#90a4ae")
        ax.bar([i + 0.2 for i in x], table["after"], width=0.4, label=say("after"), color="#2e7d32")
        ax.set_xticks(list(x), table["token"], rotation=60, ha="right", fontsize=8)
        ax.set_title(heading(name), fontsize=10)
    axes[0][0].set_ylabel(say("probability"))
    axes[0][0].legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    plt.close(fig)
    return fig
