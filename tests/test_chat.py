"""The pipeline helpers against the real packaged model."""

import pytest

from helpers import MessagesError, SEED_PROMPT_IDS, seed_messages
from helpers.display.anatomy import config_table, parameter_table
from helpers.chat import build_inputs, chat, generate, render_prompt


def test_build_inputs_gives_the_seed_ids(packaged_tokenizer):
    inputs = build_inputs(seed_messages(), packaged_tokenizer)
    assert inputs.input_ids.tolist() == [SEED_PROMPT_IDS]
    assert inputs.attention_mask.sum().item() == 39


def test_bad_messages_never_reach_the_template(packaged_tokenizer):
    with pytest.raises(MessagesError):
        render_prompt([{"role": "robot", "content": "hi"}], packaged_tokenizer)


def test_generate_keeps_prompt_and_reply_apart(packaged_model, packaged_tokenizer):
    result = generate(packaged_model, packaged_tokenizer, seed_messages(), max_new_tokens=8)
    assert result.prompt_ids == SEED_PROMPT_IDS
    assert result.full_ids[:39] == SEED_PROMPT_IDS
    assert len(result.new_ids) == 8 and result.stopped_by == "max_new_tokens"
    assert result.tokens_per_second > 0


def test_chat_is_greedy_and_reproducible(packaged_model, packaged_tokenizer):
    first = chat(seed_messages(), packaged_model, packaged_tokenizer, max_new_tokens=10)
    assert first == chat(seed_messages(), packaged_model, packaged_tokenizer, max_new_tokens=10)
    assert first.startswith("Large language model") and "<|im_end|>" not in first


def test_config_and_parameter_tables(packaged_model):
    config = config_table(packaged_model.config)
    assert config.loc["num_key_value_heads", "value"] == "2"
    assert config.loc["head_dim", "value"] == "64"
    params = parameter_table(packaged_model)
    assert params.loc["total", "parameters"] == 630_167_424
    assert params.loc["embedding table", "parameters"] == 151936 * 896
    assert params.drop(index="total")["parameters"].sum() == params.loc["total", "parameters"]


def test_a_tool_call_and_its_result_render_as_qwen_documents_them(packaged_tokenizer):
    # Qwen2.5's function-calling format: the assistant's call as JSON inside <tool_call>, the result inside
    # <tool_response> in a user turn (Qwen's docs, "Function Calling"; the Hub template renders the same).
    messages = [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": None,
         "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
        {"role": "tool", "content": '{"celsius": 21}'},
    ]
    text = render_prompt(messages, packaged_tokenizer)
    assert text.endswith(
        "<|im_start|>user\nWeather in Paris?<|im_end|>\n"
        '<|im_start|>assistant\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n'
        "</tool_call><|im_end|>\n"
        '<|im_start|>user\n<tool_response>\n{"celsius": 21}\n</tool_response><|im_end|>\n'
        "<|im_start|>assistant\n")


def test_text_parts_render_like_the_joined_text(packaged_tokenizer):
    parts = [{"role": "system", "content": [{"type": "text", "text": "You are Qwen, created by Alibaba Cloud."},
                                           {"type": "text", "text": "You are a helpful assistant."}]},
             {"role": "user", "content": [{"type": "text", "text": seed_messages()[1]["content"]}]}]
    joined = [{"role": "system", "content": "You are Qwen, created by Alibaba Cloud.\nYou are a helpful assistant."},
              seed_messages()[1]]
    assert render_prompt(parts, packaged_tokenizer) == render_prompt(joined, packaged_tokenizer)
    assert build_inputs([parts[1]], packaged_tokenizer).input_ids.tolist() == \
        build_inputs([seed_messages()[1]], packaged_tokenizer).input_ids.tolist()


def test_in_chinese_a_model_and_tokenizer_in_each_others_places_are_named(packaged_tokenizer, monkeypatch):
    from helpers.errors import ArgumentError

    monkeypatch.setenv("WORKBOOK_LANG", "zh")
    with pytest.raises(ArgumentError) as caught:
        chat(seed_messages(), packaged_tokenizer, packaged_tokenizer)
    message = str(caught.value)
    assert "Qwen2Tokenizer（这是分词器）" in message and "chat(messages, model, tokenizer)" in message
    with pytest.raises(MessagesError, match="'robot'.*system, user, assistant, tool"):
        render_prompt([{"role": "robot", "content": "hi"}], packaged_tokenizer)
