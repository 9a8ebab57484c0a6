import re

import pytest

from helpers import MessagesError, seed_messages, validate_messages


def test_the_seed_messages_are_valid():
    messages = seed_messages()
    assert validate_messages(messages) is messages
    assert [m["role"] for m in messages] == ["system", "user"]


@pytest.mark.parametrize("bad, words", [
    ("hello", ["list", "str"]),
    ({"role": "user", "content": "hi"}, ["single dict", "wrap it in a list"]),
    ([], ["empty", "user message"]),
    (["hello"], ["messages[0]", "str, not a dict"]),
    ([{"role": "user"}], ["messages[0]", "'content'"]),
    ([{"content": "hi"}], ["messages[0]", "'role'"]),
    ([{"role": "user", "content": "hi"}, {"role": "bot", "content": "x"}],
     ["messages[1]", "'bot'", "system, user, assistant, tool"]),
    ([{"role": "User", "content": "hi"}], ["lower-case", "'user'"]),
    ([{"role": "developer", "content": "Be brief."}], ["newer name for the system message", "write 'system'"]),
    ([{"role": "function", "content": "21"}], ["write 'tool'"]),
    ([{"role": "user", "content": 42}], ["messages[0]['content']", "int", "str(42)"]),
    ([{"role": "user", "content": None}], ["NoneType", "as a str", "'type': 'text'"]),
    ([{"role": "user", "content": {"type": "text", "text": "hi"}}], ["a dict, not a str", "list of text parts"]),
    # OpenAI-style content parts: text only, and each part well formed
    ([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/cat.png"}}]}],
     ["messages[0]['content'][0]", "'image_url' part", "reads text only", "Remove the part"]),
    ([{"role": "user", "content": [{"type": "text", "text": "What is it?"}, {"type": "input_audio"}]}],
     ["messages[0]['content'][1]", "'input_audio' part"]),
    ([{"role": "user", "content": []}], ["empty list", "'type': 'text'"]),
    ([{"role": "user", "content": ["Hello"]}], ["content'][0] is a bare str", "{'type': 'text', 'text': 'Hello'}"]),
    ([{"role": "user", "content": [{"text": "Hello"}]}], ["without 'type'", "not a content part"]),
    ([{"role": "user", "content": [{"type": "text", "text": 7}]}], ["'text' is an int"]),
    # tool calls belong to the assistant and name their function
    ([{"role": "user", "content": "hi", "tool_calls": []}], ["only an assistant message can call a tool"]),
    ([{"role": "assistant", "content": None, "tool_calls": "get_weather"}], ["['tool_calls'] is a str"]),
    ([{"role": "assistant", "content": None, "tool_calls": [{"function": {"arguments": {}}}]}],
     ["['tool_calls'][0] has no function name"]),
    ([{"role": "user", "content": None, "tool_calls": [{"function": {"name": "f"}}]}], ["only an assistant"]),
    (None, ["NoneType"]),
])
def test_bad_messages_name_the_problem_and_the_fix(bad, words):
    with pytest.raises(MessagesError) as caught:
        validate_messages(bad)
    for word in words:
        assert word in str(caught.value)


def test_messages_error_is_a_value_error():
    with pytest.raises(ValueError):
        validate_messages([])


def test_bad_content_never_suggests_a_python_repr():
    for content in ([{"type": "image_url", "image_url": {"url": "x"}}], None, {"text": "hi"}, ["hi"]):
        with pytest.raises(MessagesError) as caught:
            validate_messages([{"role": "user", "content": content}])
        assert "str([" not in str(caught.value) and "str({" not in str(caught.value) and "str(None" not in str(caught.value)


def test_text_parts_are_joined_into_the_text_and_the_argument_is_left_alone():
    parts = [{"type": "text", "text": "Give me a short introduction"}, {"type": "text", "text": "to LLMs."}]
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": parts, "name": "ann"}]
    checked = validate_messages(messages)
    assert checked is not messages
    assert checked == [{"role": "system", "content": "Be brief."},
                       {"role": "user", "content": "Give me a short introduction\nto LLMs.", "name": "ann"}]
    assert messages[1]["content"] is parts  # the caller's list is not modified
    assert checked[0] is messages[0]
    one = [{"role": "user", "content": [{"type": "text", "text": "Hello"}]}]
    assert validate_messages(one) == [{"role": "user", "content": "Hello"}]


def test_a_tool_call_and_its_result_are_accepted():
    messages = [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": None,
         "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
        {"role": "tool", "content": '{"celsius": 21}', "tool_call_id": "call_1"},
    ]
    assert validate_messages(messages) is messages
    with pytest.raises(MessagesError, match="NoneType"):  # without tool_calls, an assistant needs its text
        validate_messages([{"role": "assistant", "content": None}])


def test_all_three_roles_and_multi_turn_are_accepted():
    messages = seed_messages() + [{"role": "assistant", "content": "An LLM is..."}, {"role": "user", "content": "更多"}]
    assert validate_messages(messages) == messages


# -- the notebook's language: the same errors in Chinese in the Chinese edition (helpers.catalogue) ---------------

CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("bad, fix", [
    ("hello", "[{'role': 'user', 'content': 'Hello!'}]"),                   # the example to copy
    ([{"role": "User", "content": "hi"}], "'user'"),                        # the role to write
    ([{"role": "developer", "content": "Be brief."}], "'system'"),
    ([{"role": "user", "content": 42}], "str(42)"),
    ([{"content": "hi"}], "'role'"),
    ([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}], "'text'"),
    ([{"role": "user", "content": ["Hello"]}], "{'type': 'text', 'text': 'Hello'}"),
])
def test_in_chinese_the_error_is_chinese_and_still_names_the_fix(bad, fix, monkeypatch):
    monkeypatch.setenv("WORKBOOK_LANG", "zh")
    with pytest.raises(MessagesError) as chinese:
        validate_messages(bad)
    monkeypatch.setenv("WORKBOOK_LANG", "en")
    with pytest.raises(MessagesError) as english:
        validate_messages(bad)
    assert CHINESE.search(str(chinese.value)) and fix in str(chinese.value), str(chinese.value)
    assert not CHINESE.search(str(english.value)) and fix in str(english.value), str(english.value)
    assert "messages" in str(chinese.value)  # which message is wrong: the same words as in the code


def test_a_kernel_in_notebooks_zh_gets_chinese_errors_without_any_setting(tmp_path, monkeypatch):
    monkeypatch.delenv("WORKBOOK_LANG", raising=False)
    (tmp_path / "notebooks" / "zh").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "notebooks" / "zh")
    with pytest.raises(MessagesError, match="messages 是空的") as caught:
        validate_messages([])
    assert "{'role': 'user', 'content': 'Hello!'}" in str(caught.value)
    monkeypatch.chdir(tmp_path / "notebooks")
    with pytest.raises(MessagesError, match="messages is empty"):
        validate_messages([])
