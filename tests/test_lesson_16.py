"""Lesson 16 (tools): the question set, the parser, the schema check and the verdicts in helpers.chat.tools, the same
functions written out in the notebook (run here from its cells, so the two cannot drift apart), the highlighted
template, and check_tool_message's feedback on the usual mistakes."""

import json
import re
from pathlib import Path

import pytest
from transformers.utils import get_json_schema

from helpers import exercises as ex
from tools.edition import cell_source
from helpers.chat import tools as t
from helpers.display.words import say

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "16_tools.ipynb"


@pytest.fixture(autouse=True)
def english(monkeypatch):
    monkeypatch.setenv("WORKBOOK_LANG", "en")


def get_weather(city: str, unit: str = "celsius"):
    """Get the current weather in a city.

    Args:
        city: The city's name, e.g. Beijing.
        unit: The temperature unit. (choices: ["celsius", "fahrenheit"])
    """
    return {"city": city, "unit": unit}


def add(a: int, b: int):
    """Add two whole numbers.

    Args:
        a: The first number.
        b: The second number.
    """
    return a + b


TOOLS = [get_json_schema(get_weather), get_json_schema(add)]
ADD = {"name": "add", "arguments": {"a": 1, "b": 2}}


@pytest.fixture(scope="module")
def page():
    """The notebook's own parse_tool_calls, check_call and verdict, defined by running its cells."""
    namespace = {"json": json, "re": re, "say": say}
    for cell_id in ("c09", "c15", "c24"):
        exec(cell_source(NOTEBOOK, cell_id), namespace)
    return namespace


# ------------------------------------------------------------------------------------------------ the question set

def test_the_question_set_has_calls_and_no_calls_in_both_languages():
    questions = t.tool_questions()
    names = {tool["function"]["name"] for tool in TOOLS}
    calls = [q for q in questions if q["expected"]]
    plain = [q for q in questions if q["expected"] is None]
    assert {q["language"] for q in calls} == {"en", "zh"} and {q["language"] for q in plain} == {"en", "zh"}
    for q in calls:
        assert q["expected"]["name"] in names
        assert t.check_call(q["expected"], TOOLS) == [], f"the expected call of {q['question']!r} must fit its schema"


def test_a_broken_question_file_says_which_entry_and_what_it_should_be(monkeypatch):
    class Broken:
        def joinpath(self, *parts):
            return self

        def read_text(self, encoding):
            return json.dumps([{"question": "q", "language": "en", "expected": None},
                               {"question": "q", "expected": {"name": "add"}}])

    monkeypatch.setattr(t.resources, "files", lambda package: Broken())
    with pytest.raises(ValueError, match=r"entry 1: expected .*'arguments': dict"):
        t.tool_questions()


# ------------------------------------------------------------------------------------------------------ the parser

CALL_JSON = '{"name": "add", "arguments": {"a": 1, "b": 2}}'


@pytest.mark.parametrize("reply, form, calls", [
    (f"<tool_call>\n{CALL_JSON}\n</tool_call>", "<tool_call> tags", [ADD]),
    (f"<tool_call>\n{CALL_JSON}\n</tool_call>\n<tool_call>\n{CALL_JSON}\n</tool_call>", "<tool_call> tags", [ADD, ADD]),
    (f"```json\n{CALL_JSON}\n```", "```json fence", [ADD]),
    (f"Here you go:\n```\n{CALL_JSON}\n```", "```json fence", [ADD]),
    (f"  {CALL_JSON}\n", "bare JSON", [ADD]),
    ('{"name": "add", "arguments": "{\\"a\\": 1, \\"b\\": 2}"}', "bare JSON", [ADD]),   # arguments as a JSON string
    ('{"name": "get_weather"}', "bare JSON", [{"name": "get_weather", "arguments": {}}]),
    ("One plus two is three.", "no call", []),
    ("```python\nprint(1 + 2)\n```", "no call", []),                  # a code block that is not a call
    ("<tool_call>\nnot json\n</tool_call>", "no call", []),
    ('{"answer": 3}', "no call", []),                                  # JSON, but no name
    ('{"name": "add", "arguments": [1, 2]}', "no call", []),           # arguments not an object
    ('{"name": "add", "arguments": "a=1"}', "no call", []),            # arguments a string that is not JSON
])
def test_the_parser_reads_each_form_and_says_which(page, reply, form, calls):
    assert t.parse_tool_calls(reply) == (form, calls)
    assert page["parse_tool_calls"](reply) == (form, calls), "the notebook's parser and the module's agree"


# ------------------------------------------------------------------------------------------------ the schema check

@pytest.mark.parametrize("call, problems", [
    ({"name": "get_weather", "arguments": {"city": "Beijing"}}, []),
    ({"name": "get_weather", "arguments": {"city": "北京", "unit": "fahrenheit"}}, []),
    ({"name": "Joke", "arguments": {}}, ["no tool named 'Joke'"]),
    ({"name": "get_weather", "arguments": {"unit": "kelvin"}},
     ["'city' is required", "'unit' should be one of ['celsius', 'fahrenheit'], not 'kelvin'"]),
    ({"name": "add", "arguments": {"a": 2.5, "b": True}},
     ["'a' should be of type integer, not 2.5", "'b' should be of type integer, not True"]),
    ({"name": "add", "arguments": {"a": "1", "b": 2}}, ["'a' should be of type integer, not '1'"]),
    ({"name": "get_weather", "arguments": {"city": "Beijing", "country": "China"}}, ["there is no argument 'country'"]),
])
def test_the_schema_check_names_each_problem(page, call, problems):
    assert t.check_call(call, TOOLS) == problems
    assert page["check_call"](call, TOOLS) == problems


# ---------------------------------------------------------------------------------------------------- the verdicts

WEATHER = {"name": "get_weather", "arguments": {"city": "Beijing"}}


@pytest.mark.parametrize("expected, form, calls, verdict", [
    (WEATHER, "<tool_call> tags", [{"name": "get_weather", "arguments": {"city": "Beijing", "unit": "celsius"}}],
     "right call"),
    (WEATHER, "```json fence", [WEATHER], "right call, wrong form"),
    (WEATHER, "bare JSON", [WEATHER], "right call, wrong form"),
    (WEATHER, "no call", [], "no call"),
    (None, "no call", [], "right: no call"),
    (None, "bare JSON", [{"name": "Joke", "arguments": {}}], "invented tool"),
    (WEATHER, "<tool_call> tags", [{"name": "Weather", "arguments": {"city": "Beijing"}}], "invented tool"),
    (None, "bare JSON", [{"name": "add", "arguments": {"a": 2.5, "b": 3}}], "wrong arguments"),
    (WEATHER, "<tool_call> tags", [{"name": "get_weather", "arguments": {"city": "Paris"}}], "wrong arguments"),
    (None, "```json fence", [{"name": "get_weather", "arguments": {"city": "Paris"}}], "called when it should not"),
    (WEATHER, "<tool_call> tags", [ADD], "wrong tool"),
])
def test_each_verdict(page, expected, form, calls, verdict):
    assert t.verdict(expected, form, calls, TOOLS) == verdict
    assert page["verdict"](expected, form, calls, TOOLS) == verdict


def test_every_form_and_verdict_has_words_in_both_languages():
    words = ["<tool_call> tags", "```json fence", "bare JSON", "no call", "right call", "right call, wrong form",
             "invented tool", "wrong arguments", "called when it should not", "wrong tool", "right: no call"]
    for english in words:
        assert say(english, "en") == english
        assert say(english, "zh") != english


# ------------------------------------------------------------------------------------------------------ the displays

def test_a_call_as_one_line_keeps_chinese_and_no_call_is_words():
    assert t.call_text({"name": "get_weather", "arguments": {"city": "北京", "unit": "celsius"}}) == \
        'get_weather(city="北京", unit="celsius")'
    assert t.call_text(ADD) == "add(a=1, b=2)"
    assert t.call_text(None) == "no call"


def test_the_tool_parts_of_the_template_are_highlighted():
    text = ("<|im_start|>system\n# Tools\n<tools>\n{\"name\": \"add\"}\n</tools><|im_end|>\n"
            "<|im_start|>user\n<tool_response>\n3\n</tool_response><|im_end|>\n")
    shown = t.highlight_tools(text)
    assert repr(shown) == text
    html = shown._repr_html_()
    marked = re.findall(r'<span style="background:#fff3b0">(.*?)</span>(?=<)', html, flags=re.DOTALL)
    assert len(marked) == 2 and marked[0].startswith("&lt;tools&gt;") and "&lt;/tool_response&gt;" in marked[1]
    assert "# Tools" not in "".join(marked), "only the tagged blocks are highlighted"
    with pytest.raises(TypeError, match="tokenize=False"):
        t.highlight_tools([1, 2, 3])


# -------------------------------------------------------------------------------------------------- the exercise

RESULT = {"city": "上海", "temperature": 70, "unit": "fahrenheit", "sky": "sunny"}


@pytest.mark.parametrize("content", [json.dumps(RESULT), json.dumps(RESULT, ensure_ascii=False),
                                     json.dumps(RESULT, indent=2)])
def test_a_tool_message_with_the_result_as_json_text_is_right(content):
    feedback = ex.check_tool_message({"role": "tool", "content": content}, RESULT)
    assert feedback and feedback.key == "tool_message.right" and "<tool_response>" in feedback.message


def test_a_number_result_as_text_is_right():
    assert ex.check_tool_message({"role": "tool", "content": "42"}, 42)


@pytest.mark.parametrize("answer, key, words", [
    (None, "no_answer", "No answer yet"),
    ([{"role": "tool", "content": "{}"}], "tool_message.type", "not a list"),
    ({"role": "tool"}, "tool_message.keys", "['role']"),
    ({"role": "assistant", "content": json.dumps(RESULT)}, "tool_message.role", "not 'assistant'"),
    ({"role": "function", "content": json.dumps(RESULT)}, "tool_message.role", "knows no role 'function'"),
    ({"role": "user", "content": json.dumps(RESULT)}, "tool_message.role", "not 'user'"),
    ({"role": "tool", "content": RESULT}, "tool_message.content_type", "not a dict"),
    ({"role": "tool", "content": str(RESULT)}, "tool_message.repr", "single quotes"),
    ({"role": "tool", "content": json.dumps({**RESULT, "temperature": 21})}, "tool_message.content", "yours starts"),
    ({"role": "tool", "content": "", "tool_calls": [{"function": {"name": "get_weather"}}]},
     "tool_message.tool_calls", "assistant's message"),
])
def test_the_usual_mistakes_get_feedback_that_names_them(answer, key, words):
    feedback = ex.check_tool_message(answer, RESULT)
    assert not feedback and feedback.key == key and words in feedback.message


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_feedback_gives_the_expression_away(lang, monkeypatch):
    monkeypatch.setenv("WORKBOOK_LANG", lang)
    for answer in ({"role": "tool", "content": RESULT}, {"role": "tool", "content": str(RESULT)}):
        assert "json.dumps" not in ex.check_tool_message(answer, RESULT).message
