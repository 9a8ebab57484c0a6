"""Checking a chat's messages before they reach the chat template."""

from __future__ import annotations

from helpers.catalogue import text
from helpers.errors import MessagesError

# Qwen2.5's chat template renders these four roles. ``tool`` carries a function's result back to the model (the
# template wraps it in <tool_response> inside a user turn); an assistant message may carry ``tool_calls`` instead of
# text.
ROLES = ("system", "user", "assistant", "tool")

# How OpenAI-style text parts are joined into one string (vLLM joins them the same way for templates, like Qwen's,
# that expect a string).
PART_SEPARATOR = "\n"

_EXAMPLE = "[{'role': 'user', 'content': 'Hello!'}]"
_MESSAGE_EXAMPLE = "{'role': 'user', 'content': 'Hello!'}"
_PART_EXAMPLE = "{'type': 'text', 'text': 'Hello!'}"
_TOOL_CALLS_EXAMPLE = "[{'type': 'function', 'function': {'name': 'get_weather', 'arguments': {'city': 'Paris'}}}]"

# Role names of other chat APIs: the catalogue key of the hint that names the role Qwen's template knows for them.
_OTHER_APIS = {
    "developer": "error.messages.role_developer",  # OpenAI's newer name for the system message
    "function": "error.messages.role_function",  # OpenAI's old role for a function's result
    "model": "error.messages.role_model",  # Gemini's name for the assistant
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
    :class:`MessagesError` naming the first problem and its fix, in the notebook's language (:mod:`helpers.catalogue`).
    """
    if isinstance(messages, dict):
        raise MessagesError(text("error.messages.single_dict", message=_short(messages)))
    if not isinstance(messages, (list, tuple)):
        raise MessagesError(text("error.messages.not_a_list", type=type(messages).__name__, example=_EXAMPLE))
    if len(messages) == 0:
        raise MessagesError(text("error.messages.empty", example=_EXAMPLE))
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise MessagesError(text("error.messages.not_a_dict", where=where, a_type=_a(message),
                                     message_example=_MESSAGE_EXAMPLE))
        missing = [key for key in ("role", "content") if key not in message]
        if len(missing) == 2:
            raise MessagesError(text("error.messages.missing_keys", where=where, keys=sorted(message)))
        if missing:
            raise MessagesError(text("error.messages.missing_key", where=where, missing=repr(missing[0]),
                                     keys=sorted(message)))
        role = message["role"]
        if role not in ROLES:
            hint = ""
            if isinstance(role, str) and role.strip().lower() in ROLES:
                hint = text("error.messages.role_case", role=repr(role.strip().lower()))
            elif isinstance(role, str) and role in _OTHER_APIS:
                hint = text(_OTHER_APIS[role])
            raise MessagesError(text("error.messages.unknown_role", where=where, role=repr(role),
                                     roles=", ".join(ROLES), hint=hint))
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
                fix = text("error.messages.fix_convert", value=repr(content))
            else:
                fix = text("error.messages.fix_text", part_example=_PART_EXAMPLE)
            raise MessagesError(text("error.messages.content_not_str", where=where, a_type=_a(content), fix=fix))
    return messages


def _check_tool_calls(message: dict, where: str) -> None:
    """An assistant's ``tool_calls``: a list of ``{"function": {"name": ..., "arguments": {...}}}`` dicts."""
    calls = message["tool_calls"]
    if message["role"] != "assistant":
        raise MessagesError(text("error.messages.tool_calls_role", where=where, role=repr(message["role"])))
    if not isinstance(calls, (list, tuple)):
        raise MessagesError(text("error.messages.tool_calls_not_list", where=where, a_type=_a(calls),
                                 example=_TOOL_CALLS_EXAMPLE))
    for j, call in enumerate(calls):
        function = call.get("function", call) if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise MessagesError(text("error.messages.tool_call_no_name", where=where, index=j,
                                     example=_TOOL_CALLS_EXAMPLE))


def _join_text_parts(parts, where: str) -> str:
    """The text of a list of OpenAI-style content parts; any part that is not text gets a clear error."""
    if len(parts) == 0:
        raise MessagesError(text("error.messages.parts_empty", where=where, part_example=_PART_EXAMPLE))
    texts = []
    for j, part in enumerate(parts):
        at = f"{where}['content'][{j}]"
        if isinstance(part, str):
            raise MessagesError(text("error.messages.part_bare_str", at=at, text=_clip(part)))
        if not isinstance(part, dict) or "type" not in part:
            raise MessagesError(text("error.messages.part_not_a_part", at=at, what=_describe(part),
                                     part_example=_PART_EXAMPLE))
        kind = part["type"]
        if kind != "text":
            raise MessagesError(text("error.messages.part_not_text", at=at, kind=repr(kind)))
        value = part.get("text")
        if not isinstance(value, str):
            raise MessagesError(text("error.messages.part_text_not_str", at=at, a_type=_a(value),
                                     part_example=_PART_EXAMPLE))
        texts.append(value)
    return PART_SEPARATOR.join(texts)


def _short(message: dict) -> str:
    shown = repr(message)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _a(value) -> str:
    """The value's type as the errors name it: "an int", "a str" (in Chinese, "int 类型的值")."""
    name = type(value).__name__
    return text("error.a_type.an" if name[0].lower() in "aeiou" else "error.a_type.a", type=name)


def _clip(value: str) -> str:
    return repr(value if len(value) <= 30 else value[:27] + "...")


def _describe(value) -> str:
    return text("error.messages.dict_without_type", value=_short(value)) if isinstance(value, dict) else _a(value)
