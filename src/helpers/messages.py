"""Checking a chat's messages before they reach the chat template."""

from __future__ import annotations

from .errors import MessagesError

# Qwen2.5's chat template renders these four roles. ``tool`` carries a function's result back to the model (the
# template wraps it in <tool_response> inside a user turn); an assistant message may carry ``tool_calls`` instead of
# text.
ROLES = ("system", "user", "assistant", "tool")

# How OpenAI-style text parts are joined into one string (vLLM joins them the same way for templates, like Qwen's,
# that expect a string).
PART_SEPARATOR = "\n"

_EXAMPLE = "[{'role': 'user', 'content': 'Hello!'}]"

# Role names of other chat APIs, and the role Qwen's template knows for them.
_OTHER_APIS = {
    "developer": "'developer' is OpenAI's newer name for the system message: write 'system'.",
    "function": "'function' is OpenAI's old role for a function's result: write 'tool'.",
    "model": "'model' is Gemini's name for the assistant: write 'assistant'.",
}


def validate_messages(messages) -> list[dict]:
    """Check that ``messages`` is a non-empty list of ``{"role": ..., "content": ...}`` dicts.

    Roles must be one of ``system``, ``user``, ``assistant`` or ``tool`` (a function's result) and every content a
    string. A content may also be a list of OpenAI-style text parts, ``[{"type": "text", "text": "Hello"}]``: their
    texts are joined with a newline, as OpenAI-compatible servers do for a text-only model; image, audio or file
    parts are refused, since this model reads text only. An assistant message with ``tool_calls`` may have no
    content (``None``).

    Returns the list unchanged so the call can wrap an argument, or, when some content was a list of parts, a new
    list in which those contents are joined strings (the argument itself is not modified). Raises
    :class:`MessagesError` naming the first problem and its fix.
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
            elif role in _OTHER_APIS:
                hint = f" {_OTHER_APIS[role]}"
            raise MessagesError(
                f"{where}['role'] is {role!r}, an unknown role: use one of {', '.join(ROLES)}.{hint}")
        if "tool_calls" in message:
            _check_tool_calls(message, where)
        content = message["content"]
        if isinstance(content, (list, tuple)):
            joined = _join_text_parts(content, where)
            messages = [*messages[:i], {**message, "content": joined}, *messages[i + 1:]]
        elif content is None and role == "assistant" and message.get("tool_calls"):
            pass  # a pure function call: Qwen's template renders the tool_calls alone
        elif not isinstance(content, str):
            if isinstance(content, (int, float)) and not isinstance(content, bool):
                fix = f"Convert it first, e.g. str({content!r})."
            else:
                fix = ("Pass the text as a str, or as a list of text parts like "
                       "[{'type': 'text', 'text': 'Hello!'}].")
            raise MessagesError(
                f"{where}['content'] is {_a(content)}, not a str: the chat template renders text only. {fix}")
    return messages


def _check_tool_calls(message: dict, where: str) -> None:
    """An assistant's ``tool_calls``: a list of ``{"function": {"name": ..., "arguments": {...}}}`` dicts."""
    example = "[{'type': 'function', 'function': {'name': 'get_weather', 'arguments': {'city': 'Paris'}}}]"
    calls = message["tool_calls"]
    if message["role"] != "assistant":
        raise MessagesError(f"{where} has 'tool_calls', but only an assistant message can call a tool "
                            f"(this one is {message['role']!r}). A tool's result goes in a 'tool' message.")
    if not isinstance(calls, (list, tuple)):
        raise MessagesError(f"{where}['tool_calls'] is {_a(calls)}, not a list: write e.g. {example}.")
    for j, call in enumerate(calls):
        function = call.get("function", call) if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise MessagesError(f"{where}['tool_calls'][{j}] has no function name: write e.g. {example}.")


def _join_text_parts(parts, where: str) -> str:
    """The text of a list of OpenAI-style content parts; any part that is not text gets a clear error."""
    if len(parts) == 0:
        raise MessagesError(f"{where}['content'] is an empty list: give it at least one part, "
                            "e.g. [{'type': 'text', 'text': 'Hello!'}], or a str.")
    texts = []
    for j, part in enumerate(parts):
        at = f"{where}['content'][{j}]"
        if isinstance(part, str):
            raise MessagesError(f"{at} is a bare str: a content part is a dict, write "
                                f"{{'type': 'text', 'text': {_clip(part)}}} (or pass the text itself as content).")
        if not isinstance(part, dict) or "type" not in part:
            raise MessagesError(f"{at} is {_describe(part)}, not a content part: a content part looks like "
                                "{'type': 'text', 'text': 'Hello!'}.")
        kind = part["type"]
        if kind != "text":
            raise MessagesError(
                f"{at} is a {kind!r} part: only 'text' parts can be used. Qwen2.5-0.5B-Instruct reads text only "
                "(it has no image, audio or file encoder), so this part cannot reach it. Remove the part, or "
                "describe what it shows in a text part.")
        text = part.get("text")
        if not isinstance(text, str):
            raise MessagesError(f"{at} is a text part whose 'text' is {_a(text)}, not a str: write "
                                "{'type': 'text', 'text': 'Hello!'}.")
        texts.append(text)
    return PART_SEPARATOR.join(texts)


def _short(message: dict) -> str:
    text = repr(message)
    return text if len(text) <= 60 else text[:57] + "..."


def _a(value) -> str:
    name = type(value).__name__
    return f"{'an' if name[0].lower() in 'aeiou' else 'a'} {name}"


def _clip(text: str) -> str:
    return repr(text if len(text) <= 30 else text[:27] + "...")


def _describe(value) -> str:
    return f"a dict without 'type' ({_short(value)})" if isinstance(value, dict) else _a(value)
