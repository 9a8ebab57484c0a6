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
    ([{"role": "user", "content": "hi"}, {"role": "bot", "content": "x"}], ["messages[1]", "'bot'", "system, user, assistant"]),
    ([{"role": "User", "content": "hi"}], ["lower-case", "'user'"]),
    ([{"role": "user", "content": 42}], ["messages[0]['content']", "int", "str(42)"]),
    ([{"role": "user", "content": None}], ["NoneType"]),
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


def test_all_three_roles_and_multi_turn_are_accepted():
    messages = seed_messages() + [{"role": "assistant", "content": "An LLM is..."}, {"role": "user", "content": "更多"}]
    assert validate_messages(messages) == messages
