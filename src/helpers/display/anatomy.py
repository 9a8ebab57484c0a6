"""What a loaded model is made of: its configuration and where its parameters sit."""

from __future__ import annotations

import pandas as pd

CONFIG_ROWS = [
    ("num_hidden_layers", "transformer blocks (layers)"),
    ("hidden_size", "width of every token's vector"),
    ("num_attention_heads", "attention heads (queries)"),
    ("num_key_value_heads", "key/value heads (grouped-query attention)"),
    ("head_dim", "size of one head"),
    ("intermediate_size", "width of the feed-forward (MLP) layer"),
    ("vocab_size", "rows of the embedding table (token ids)"),
    ("max_position_embeddings", "context length in tokens"),
    ("rope_theta", "RoPE base (position encoding)"),
    ("tie_word_embeddings", "output layer shares the embedding table"),
    ("dtype", "dtype the weights were saved in"),
]


def config_table(config) -> pd.DataFrame:
    """The configuration values a learner needs, each with a line saying what it means."""
    values = {
        "head_dim": getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads,
        "rope_theta": (getattr(config, "rope_parameters", None) or {}).get("rope_theta",
                                                                           getattr(config, "rope_theta", None)),
        "dtype": str(getattr(config, "dtype", None)).removeprefix("torch."),
    }
    rows = []
    for key, meaning in CONFIG_ROWS:
        value = values[key] if key in values else getattr(config, key)
        rows.append({"setting": key, "value": str(value), "meaning": meaning})
    return pd.DataFrame(rows).set_index("setting")


def component_of(name: str) -> str:
    if "embed_tokens" in name:
        return "embedding table"
    if "lm_head" in name:
        return "output layer (LM head)"
    if "self_attn" in name:
        return "attention"
    if "mlp" in name:
        return "feed-forward (MLP)"
    return "norms"


def parameter_table(model) -> pd.DataFrame:
    """Parameters and bytes per component (embedding, attention, MLP, norms, LM head) and in total.

    A weight shared by two modules (tied embeddings) is counted once, as ``model.parameters()`` does.
    """
    counts: dict[str, list[int]] = {}
    for name, param in model.named_parameters():
        entry = counts.setdefault(component_of(name), [0, 0])
        entry[0] += param.numel()
        entry[1] += param.numel() * param.element_size()
    table = pd.DataFrame([{"component": k, "parameters": v[0], "MiB": v[1] / 2**20} for k, v in counts.items()])
    table = table.set_index("component")
    table.loc["total"] = [table["parameters"].sum(), table["MiB"].sum()]
    table["parameters"] = table["parameters"].astype(int)
    table["share"] = (table["parameters"] / table.loc["total", "parameters"]).map("{:.1%}".format)
    table["MiB"] = table["MiB"].round(1)
    return table
