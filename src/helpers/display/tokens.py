"""Facts about the tokenizer: its special tokens and how byte-level BPE spells text."""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

SPECIAL_TOKEN_PURPOSES = {
    "<|im_start|>": "opens a message; the role name follows it",
    "<|im_end|>": "closes a message; the instruct model ends its reply with it (generation stops there)",
    "<|endoftext|>": "end of a document in pre-training; also the padding token and a second stop token",
}


def special_tokens_table(tokenizer) -> pd.DataFrame:
    """The chat's control tokens: id, text, which tokenizer attribute points at it, and what it is for."""
    roles = {}
    for attribute in ("eos_token", "pad_token", "bos_token", "unk_token"):
        token = getattr(tokenizer, attribute, None)
        if token:
            roles.setdefault(token, []).append(attribute)
    rows = []
    for text, purpose in SPECIAL_TOKEN_PURPOSES.items():
        rows.append({"text": text, "id": tokenizer.convert_tokens_to_ids(text),
                     "tokenizer attribute": ", ".join(roles.get(text, [])) or "-", "purpose": purpose})
    return pd.DataFrame(rows)


@lru_cache(maxsize=1)
def byte_to_unicode() -> dict[int, str]:
    """GPT-2's byte-level BPE alphabet: each of the 256 byte values as one printable character.

    Printable ASCII and Latin-1 bytes stand for themselves; the others (space, newline, control bytes, ...)
    are shifted to code points 256 and up, which is why a space shows as ``Ġ`` and a newline as ``Ċ``.
    """
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), 256))
    mapping, shift = {}, 0
    for b in range(256):
        if b in keep:
            mapping[b] = chr(b)
        else:
            mapping[b] = chr(256 + shift)
            shift += 1
    return mapping


def byte_level_spelling(text: str) -> str:
    """How byte-level BPE spells ``text``: its UTF-8 bytes, each shown as one character of the BPE alphabet."""
    table = byte_to_unicode()
    return "".join(table[b] for b in text.encode("utf-8"))


def utf8_bytes_table(text: str) -> pd.DataFrame:
    """Each character of ``text`` with its UTF-8 bytes and their BPE spelling."""
    rows = [{"character": ch, "UTF-8 bytes": " ".join(f"{b:02x}" for b in ch.encode("utf-8")),
             "BPE spelling": byte_level_spelling(ch)} for ch in text]
    return pd.DataFrame(rows)
