"""Helpers of notebooks 10-14 against the real packaged model: the loop, the cache, sampling, trimming."""

import logging

import pytest
import torch

from helpers import seed_messages
from helpers.chat import GREEDY, build_inputs
from helpers.chat.conversation import ConversationTooLong, budget_table, count_tokens, trim_to_fit
from helpers.display.logs import captured_warnings
from helpers.chat.sampling import compare_distributions, reshape
from helpers.chat.stepping import cache_shapes, greedy_loop, prefill_cache, top_candidates


@pytest.fixture(scope="module")
def seed_inputs(packaged_tokenizer):
    return build_inputs(seed_messages(), packaged_tokenizer)


def test_the_hand_written_loop_matches_generate_with_and_without_cache(packaged_model, packaged_tokenizer, seed_inputs):
    with torch.no_grad():
        reference = packaged_model.generate(**seed_inputs, max_new_tokens=6, **GREEDY)[0, 39:].tolist()
    cached = greedy_loop(packaged_model, seed_inputs, 6, tokenizer=packaged_tokenizer, record_top=3)
    uncached = greedy_loop(packaged_model, seed_inputs, 6, use_cache=False)
    assert cached.new_ids == uncached.new_ids == reference
    assert cached.stopped_by == "max_new_tokens" and len(cached.step_seconds) == 6
    assert len(cached.candidates) == 6 and cached.candidates[0].index.tolist() == [1, 2, 3]
    assert cached.candidates[0]["id"].iloc[0] == reference[0]


def test_the_loop_stops_at_an_end_of_turn_id(packaged_model, seed_inputs):
    first = greedy_loop(packaged_model, seed_inputs, 1).new_ids[0]
    stopped = greedy_loop(packaged_model, seed_inputs, 10, eos_ids=[first])
    assert stopped.new_ids == [first] and stopped.stopped_by == "end of turn"


def test_top_candidates_are_sorted_probabilities(packaged_tokenizer):
    logits = torch.full((len(packaged_tokenizer),), -10.0)
    logits[[9707, 13048]] = torch.tensor([3.0, 1.0])
    table = top_candidates(logits, packaged_tokenizer, k=3)
    assert table["id"].tolist()[:2] == [9707, 13048]
    assert table["probability"].is_monotonic_decreasing


def test_cache_shapes_follow_grouped_query_attention(packaged_model, seed_inputs):
    shapes = cache_shapes(prefill_cache(packaged_model, seed_inputs))
    assert len(shapes) == 24
    assert shapes["keys"].iloc[0] == shapes["values"].iloc[0] == [1, 2, 39, 64]
    assert shapes["KiB"].iloc[0] == 2 * 2 * 39 * 64 * 2 / 1024


def test_reshape_matches_the_definitions():
    logits = torch.tensor([2.0, 1.0, 0.0, -1.0])
    plain = reshape(logits)
    assert torch.allclose(plain, torch.softmax(logits, -1))
    assert torch.allclose(reshape(logits, temperature=0.5), torch.softmax(logits / 0.5, -1))
    top2 = reshape(logits, top_k=2)
    assert (top2[2:] == 0).all() and torch.isclose(top2.sum(), torch.tensor(1.0))
    assert int((reshape(logits, top_p=0.5) > 0).sum()) == 1
    penalised = reshape(logits, repetition_penalty=2.0, previous_ids=[0])
    assert penalised[0] < plain[0]


def test_compare_distributions_keeps_the_top_tokens_of_before(packaged_tokenizer):
    before = torch.zeros(len(packaged_tokenizer))
    before[[5, 6, 7]] = torch.tensor([0.6, 0.3, 0.1])
    after = torch.zeros_like(before)
    after[5] = 1.0
    table = compare_distributions(before, after, packaged_tokenizer, k=3)
    assert table["id"].tolist() == [5, 6, 7] and table["after"].tolist() == [1.0, 0.0, 0.0]


def test_trim_keeps_the_system_message_and_the_newest_question(packaged_tokenizer):
    long = seed_messages() + [{"role": "assistant", "content": "word " * 50},
                              {"role": "user", "content": "And then?"}]
    kept, dropped = trim_to_fit(long, packaged_tokenizer, max_tokens=60)
    assert kept[0]["role"] == "system" and kept[-1]["content"] == "And then?"
    assert [m["role"] for m in dropped] == ["user", "assistant"]
    assert count_tokens(kept, packaged_tokenizer) <= 60
    unchanged, none = trim_to_fit(long, packaged_tokenizer, max_tokens=10_000)
    assert unchanged == long and none == []


def test_trim_explains_when_nothing_can_be_dropped(packaged_tokenizer):
    with pytest.raises(ConversationTooLong, match="shorten it"):
        trim_to_fit(seed_messages(), packaged_tokenizer, max_tokens=10)


def test_budget_table_counts_growing_prompts(packaged_tokenizer):
    history = [seed_messages(), seed_messages() + [{"role": "assistant", "content": "Hi"},
                                                   {"role": "user", "content": "More"}]]
    table = budget_table(history, packaged_tokenizer, context_length=100, reserve=50)
    assert table["prompt tokens"].tolist()[0] == 39
    assert table["prompt tokens"].is_monotonic_increasing
    assert table["fits with a reply of 50"].tolist() == [True, False]


def test_captured_warnings_collects_transformers_logs_and_python_warnings():
    import warnings

    with captured_warnings() as seen:
        logging.getLogger("transformers.generation").warning("right-padding was detected")
        warnings.warn("a python warning")
    assert seen == ["right-padding was detected", "a python warning"]


def notebook_function(notebook: str, name: str):
    """Run the cell of a stored notebook that defines ``name`` and return that function, as the notebook wrote it."""
    import json
    from pathlib import Path

    path = next((Path(__file__).resolve().parents[1] / "notebooks").glob(f"{notebook}_*.ipynb"))
    sources = ["".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    (source,) = [s for s in sources if f"def {name}(" in s]
    namespace = {"torch": torch}
    exec(compile(source, f"{path.name}:{name}", "exec"), namespace)
    return namespace[name]


def test_notebook_10s_loop_on_the_page_is_the_helpers_loop(packaged_model, seed_inputs):
    greedy_decode = notebook_function("10", "greedy_decode")
    eos_ids = packaged_model.generation_config.eos_token_id
    on_the_page = greedy_decode(packaged_model, seed_inputs, max_new_tokens=8, eos_ids=eos_ids)
    helper = greedy_loop(packaged_model, seed_inputs, 8)
    assert on_the_page == helper.new_ids and len(on_the_page) == 8
    # the same stop at an end-of-turn id: declare the third token an end of turn
    stop_at = on_the_page[2]
    expected = on_the_page[:on_the_page.index(stop_at) + 1]
    assert greedy_decode(packaged_model, seed_inputs, 8, eos_ids=[stop_at]) == expected
    assert greedy_loop(packaged_model, seed_inputs, 8, eos_ids=[stop_at]).new_ids == expected
