"""Showing rendered chat text with its control tokens highlighted."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

CONTROL_TOKEN = re.compile(r"<\|[a-z_]+\|>")
ROLE = re.compile(r"system|user|assistant|tool")
NEWLINE = '<span style="color:#999">↵</span>\n'
CONTROL_COLOURS = {"<|im_start|>": "#1565c0", "<|im_end|>": "#c62828", "<|endoftext|>": "#6a1b9a"}


@dataclass(frozen=True)
class HighlightedText:
    """Text shown as HTML with control tokens in colour, role names in bold and newlines marked ↵.

    Its plain repr is the text itself, so a terminal, ``print`` or a test sees exactly what the model sees.
    """

    text: str

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        parts, after_start = [], False
        for piece in re.split(f"({CONTROL_TOKEN.pattern})", self.text):
            if CONTROL_TOKEN.fullmatch(piece):
                colour = CONTROL_COLOURS.get(piece, "#455a64")
                parts.append(f'<span style="color:#fff;background:{colour};border-radius:3px;padding:0 3px">'
                             f"{html.escape(piece)}</span>")
                after_start = piece == "<|im_start|>"
                continue
            role = ""
            if after_start and (match := ROLE.match(piece)):
                role, piece = f"<b>{match.group(0)}</b>", piece[match.end():]
            parts.append(role + html.escape(piece).replace("\n", NEWLINE))
            after_start = False
        return ('<pre style="white-space:pre-wrap;line-height:1.7;font-size:0.95em;padding:8px;'
                f'border:1px solid #ddd;border-radius:4px">{"".join(parts)}</pre>')


def highlight_template(text: str) -> HighlightedText:
    """Wrap chat-template text so that a notebook shows its control tokens in colour."""
    if not isinstance(text, str):
        raise TypeError(f"highlight_template expects the rendered text (a str), got {type(text).__name__}; "
                        "call apply_chat_template(..., tokenize=False)")
    return HighlightedText(text)
