"""Checking a chat's messages before they reach the chat template."""

from __future__ import annotations

from .errors import MessagesError

ROLES = ("system", "user", "assistant")

_EXAMPLE = "[{'role': 'user', 'content': 'Hello!'}]"


def validate_messages(messages) -> list[dict]:
    """Check that ``messages`` is a non-empty list of ``{"role": ..., "content": ...}`` dicts.

    Roles must be one of ``system``, ``user`` or ``assistant`` and every content a string. Returns the list
    unchanged so the call can wrap an argument; raises :class:`MessagesError` naming the first problem and its fix.
    """
    if isinstance(messages, dict):
        raise MessagesError(
            "messages is a single dict, but a list of dicts is expected: wrap it in a list, "
            f"e.g. [{_short(messages)}].")
    if not isinstance(messages, (list, tuple)):
        raise MessagesError(
            f"messages must be a list of {{'role': ..., 'content': ...}} dicts, got {type(messages).__name__}. "
            f"Example: {_EXAMPLE}")
    if len(messages) == 0:
        raise MessagesError(f"messages is empty: add at least one user message, e.g. {_EXAMPLE}")
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise MessagesError(
                f"{where} is {_a(message)}, not a dict. Each message looks like "
                "{'role': 'user', 'content': 'Hello!'}.")
        missing = [key for key in ("role", "content") if key not in message]
        if missing:
            raise MessagesError(
                f"{where} has no {' and no '.join(repr(k) for k in missing)} key; it has {sorted(message)}. "
                "Each message needs both 'role' and 'content'.")
        role = message["role"]
        if role not in ROLES:
            hint = ""
            if isinstance(role, str) and role.strip().lower() in ROLES:
                hint = f" Roles are lower-case: write {role.strip().lower()!r}."
            raise MessagesError(
                f"{where}['role'] is {role!r}, an unknown role: use one of {', '.join(ROLES)}.{hint}")
        content = message["content"]
        if not isinstance(content, str):
            raise MessagesError(
                f"{where}['content'] is {_a(content)}, not a str: the chat template renders text "
                f"only. Convert it first, e.g. str({content!r}).")
    return messages


def _short(message: dict) -> str:
    text = repr(message)
    return text if len(text) <= 60 else text[:57] + "..."


def _a(value) -> str:
    name = type(value).__name__
    return f"{'an' if name[0].lower() in 'aeiou' else 'a'} {name}"
