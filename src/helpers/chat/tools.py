"""Tool calls (lesson 16): its question set, the parser and the schema check it writes out, and its displays.

Lesson 16 writes :func:`parse_tool_calls`, :func:`check_call` and :func:`verdict` in its own cells; they are kept here,
the same code, so that a later lesson can import them (``tests/test_lesson_16.py`` runs the notebook's cells and
checks that the two agree).
"""

from __future__ import annotations

import json
import re
from importlib import resources

from helpers.display.rendering import HighlightedText, highlight_template
from helpers.display.words import say

QUESTIONS_FILE = "tool_questions.json"

TAGS = re.compile(r"<tool_call>\s*(.*?)\s*</tool_call>", re.DOTALL)      # the form the template asks for
FENCE = re.compile(r"```(?:json)?\s*(.*?)\s*```", re.DOTALL)              # a Markdown code block
JSON_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "array": list, "object": dict}


def tool_questions() -> list[dict]:
    """The committed question set: ``{"question", "language", "expected"}``, where ``expected`` is the call a right
    reply makes (``{"name", "arguments"}``, the arguments it must have) or ``None`` where no tool fits."""
    text = resources.files("helpers").joinpath("data", QUESTIONS_FILE).read_text(encoding="utf-8")
    questions = json.loads(text)
    for i, row in enumerate(questions):
        expected = row.get("expected", "missing") if isinstance(row, dict) else "missing"
        if not isinstance(row, dict) or not isinstance(row.get("question"), str) or not (
                expected is None or isinstance(expected, dict) and isinstance(expected.get("name"), str)
                and isinstance(expected.get("arguments"), dict)):
            raise ValueError(f"{QUESTIONS_FILE}, entry {i}: expected {{'question': str, 'language': str, 'expected': "
                             f"None or {{'name': str, 'arguments': dict}}}}, got {row!r}")
    return questions


def as_call(text: str) -> dict | None:
    """``{"name": ..., "arguments": {...}}`` if ``text`` is the JSON of a call, else None."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        return None
    arguments = value.get("arguments", {})
    if isinstance(arguments, str):           # some models write the arguments as a JSON string
        try:
            arguments = json.loads(arguments)
        except json.JSONDecodeError:
            return None
    return {"name": value["name"], "arguments": arguments} if isinstance(arguments, dict) else None


def parse_tool_calls(reply: str) -> tuple[str, list[dict]]:
    """The calls in a reply and the form they came in: ``(form, [{"name": ..., "arguments": {...}}, ...])``."""
    for form, pattern in (("<tool_call> tags", TAGS), ("```json fence", FENCE)):
        calls = [as_call(block) for block in pattern.findall(reply)]
        if calls and all(calls):
            return form, calls
    call = as_call(reply.strip())
    if call:
        return "bare JSON", [call]
    return "no call", []


def check_call(call: dict, tools: list[dict]) -> list[str]:
    """What is wrong with ``call`` against the schemas in ``tools``, one sentence each (empty when it fits)."""
    schemas = {tool["function"]["name"]: tool["function"]["parameters"] for tool in tools}
    if call["name"] not in schemas:
        return [say("no tool named {name!r}", name=call["name"])]
    parameters, arguments = schemas[call["name"]], call["arguments"]
    problems = [say("{name!r} is required", name=name) for name in parameters.get("required", [])
                if name not in arguments]
    for name, value in arguments.items():
        spec = parameters["properties"].get(name)
        if spec is None:
            problems.append(say("there is no argument {name!r}", name=name))
        elif not isinstance(value, JSON_TYPES[spec["type"]]) or (
                isinstance(value, bool) and spec["type"] != "boolean"):   # in Python, True is an int too
            problems.append(say("{name!r} should be of type {type}, not {value!r}", name=name, type=spec["type"],
                                value=value))
        elif "enum" in spec and value not in spec["enum"]:
            problems.append(say("{name!r} should be one of {choices}, not {value!r}", name=name,
                                choices=spec["enum"], value=value))
    return problems


def verdict(expected: dict | None, form: str, calls: list[dict], tools: list[dict]) -> str:
    """How a reply did against the ``expected`` call (None: no tool fits), in a few words."""
    if not calls:
        return "right: no call" if expected is None else "no call"
    call = calls[0]
    if call["name"] not in {tool["function"]["name"] for tool in tools}:
        return "invented tool"
    if check_call(call, tools):
        return "wrong arguments"
    if expected is None:
        return "called when it should not"
    if call["name"] != expected["name"]:
        return "wrong tool"
    if any(call["arguments"].get(name) != value for name, value in expected["arguments"].items()):
        return "wrong arguments"
    return "right call" if form == "<tool_call> tags" else "right call, wrong form"


def call_text(call: dict | None) -> str:
    """A call as one short line, ``get_weather(city="北京")``; ``None`` as the words "no call"."""
    if call is None:
        return say("no call")
    arguments = ", ".join(f"{name}={json.dumps(value, ensure_ascii=False)}" for name, value in call["arguments"].items())
    return f"{call['name']}({arguments})"


class ToolsHighlightedText(HighlightedText):
    """Chat-template text with its control tokens in colour and the tool parts on a yellow ground."""

    def _repr_html_(self) -> str:
        marked = re.sub(r"(&lt;(tools|tool_call|tool_response)&gt;.*?&lt;/\2&gt;)",
                        r'<span style="background:#fff3b0">\1</span>', super()._repr_html_(), flags=re.DOTALL)
        return marked


def highlight_tools(text: str) -> ToolsHighlightedText:
    """Like :func:`helpers.display.rendering.highlight_template`, with ``<tools>``, ``<tool_call>`` and
    ``<tool_response>`` blocks highlighted."""
    return ToolsHighlightedText(highlight_template(text).text)
