"""Notebooks 10-14 against the real packaged model: the loops written on their pages, the candidates, the cache,
sampling, token counts."""

import logging

import pytest
import torch

from helpers import seed_messages
from helpers.chat import GREEDY, build_inputs
from helpers.chat.conversation import ConversationTooLong, budget_table, count_tokens
from helpers.display.logs import captured_warnings
from helpers.chat.sampling import compare_distributions, reshape
from helpers.chat.stepping import cache_shapes, prefill_cache, top_candidates


@pytest.fixture(scope="module")
def seed_inputs(packaged_tokenizer):
    return build_inputs(seed_messages(), packaged_tokenizer)


def notebook_function(notebook: str, name: str):
    """Run the cell of a stored notebook that defines ``name`` and return that function, as the notebook wrote it."""
    import json
    import time
    from pathlib import Path

    path = next((Path(__file__).resolve().parents[1] / "notebooks").glob(f"{notebook}_*.ipynb"))
    sources = ["".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    (source,) = [s for s in sources if f"def {name}(" in s]
    namespace = {"torch": torch, "time": time, "top_candidates": top_candidates}  # what the notebook imported before
    exec(compile(source, f"{path.name}:{name}", "exec"), namespace)
    return namespace[name]


@pytest.fixture(scope="module")
def by_generate(packaged_model, seed_inputs):
    with torch.no_grad():
        return packaged_model.generate(**seed_inputs, max_new_tokens=8, **GREEDY)[0, 39:].tolist()


def test_notebook_10s_loop_is_generate_and_says_why_it_stopped(packaged_model, packaged_tokenizer, seed_inputs,
                                                               by_generate):
    greedy_decode = notebook_function("10", "greedy_decode")
    eos_ids = packaged_model.generation_config.eos_token_id
    new_ids, candidates, stopped_by = greedy_decode(packaged_model, packaged_tokenizer, seed_inputs, 8, eos_ids)
    assert new_ids == by_generate and stopped_by == "max_new_tokens"
    assert len(candidates) == 8 and [c["id"].iloc[0] for c in candidates] == new_ids  # greedy: rank 1 each step
    # the stop at an end-of-turn id: declare the third token an end of turn
    stop_at = new_ids[2]
    stopped, _, stopped_by = greedy_decode(packaged_model, packaged_tokenizer, seed_inputs, 8, [stop_at])
    assert stopped == new_ids[:new_ids.index(stop_at) + 1] and stopped_by == "end of turn"


def test_notebook_11s_loop_gives_generates_ids_with_and_without_the_cache(packaged_model, seed_inputs, by_generate):
    greedy_steps = notebook_function("11", "greedy_steps")
    cached_ids, cached_seconds = greedy_steps(packaged_model, seed_inputs, 8, use_cache=True)
    uncached_ids, uncached_seconds = greedy_steps(packaged_model, seed_inputs, 8, use_cache=False)
    assert cached_ids == uncached_ids == by_generate
    assert len(cached_seconds) == len(uncached_seconds) == 8 and min(cached_seconds + uncached_seconds) > 0


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


def test_notebook_14s_trim_keeps_the_system_message_and_the_newest_question(packaged_tokenizer):
    trim_to_fit = notebook_function("14", "trim_to_fit")
    long = seed_messages() + [{"role": "assistant", "content": "word " * 50},
                              {"role": "user", "content": "And then?"}]
    kept, dropped = trim_to_fit(long, packaged_tokenizer, max_tokens=60)
    assert kept[0]["role"] == "system" and kept[-1]["content"] == "And then?"
    assert [m["role"] for m in dropped] == ["user", "assistant"]
    assert count_tokens(kept, packaged_tokenizer) <= 60 < count_tokens(long, packaged_tokenizer)
    assert len(long) == 4  # the conversation itself is left as it was
    unchanged, none = trim_to_fit(long, packaged_tokenizer, max_tokens=10_000)
    assert unchanged == long and none == []


def test_notebook_14s_trim_explains_when_nothing_can_be_dropped(packaged_tokenizer):
    trim_to_fit = notebook_function("14", "trim_to_fit")
    with pytest.raises(ConversationTooLong, match="needs 39 tokens .* than the 10 allowed: shorten it") as caught:
        trim_to_fit(seed_messages(), packaged_tokenizer, max_tokens=10)
    assert (caught.value.need, caught.value.max_tokens) == (39, 10)


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
