"""The key/value cache kept between turns (helpers.chat.conversation_cache): what it reuses, and that replies do not change.

Why the test of identical replies uses float32: with the cache kept, the keys and values of the previous reply are
the ones ``generate`` computed while decoding it, one token at a time (a matrix-vector product per layer); without
it, the next turn recomputes them in one prefill (a matrix-matrix product). Those are different kernels that round
differently, so the logits of the next turn differ in their last bits. In float32 that is about 2e-5 and greedy
replies come out the same; the workbook's default int4 model computes in bfloat16 (8 significant bits), where the
same difference is one or two units in the last place (0.125 for logits between 16 and 32; measured 0.19-0.27): enough
to flip a near-tie between two candidates somewhere in a long reply (measured: one of five 60-token replies changed
at its 13th token), never enough to change a clear choice. So for int4 the test checks what holds: the first new token's
logits agree closely, and the first token is the same whenever the winner leads by a clear margin.
"""

import pytest
import torch

from helpers import seed_messages
from helpers.chat import GREEDY, build_inputs
from helpers.chat.conversation_cache import ConversationCache, common_prefix_length, time_turns

QUESTIONS = ["Give me a short introduction to large language model.", "Now say it in one sentence, in Chinese.",
             "What is a token?"]


@pytest.mark.parametrize("cached, prompt, expected", [
    ([], [1, 2, 3], 0), ([1, 2, 3], [1, 2, 3, 4], 3), ([1, 2, 9, 4], [1, 2, 3, 4], 2), ([5], [1], 0),
    ([1, 2, 3, 4], [1, 2], 2)])
def test_common_prefix_length(cached, prompt, expected):
    assert common_prefix_length(cached, prompt) == expected


@pytest.mark.parametrize("bad", [torch.ones(2, 5, dtype=torch.long), torch.ones(5, dtype=torch.long), [[1, 2, 3]]])
def test_prepare_wants_one_prompt_as_a_tensor(packaged_model, bad):
    with pytest.raises(ValueError, match=r"expected input_ids as a tensor of shape \(1, n\)"):
        ConversationCache(packaged_model).prepare(bad)


def test_prepare_refuses_an_empty_prompt(packaged_model):
    with pytest.raises(ValueError, match="the prompt is empty"):
        ConversationCache(packaged_model).prepare(torch.zeros(1, 0, dtype=torch.long))


def generate_turns(model, tokenizer, keep: bool, max_new_tokens: int = 24):
    """Greedy turns over QUESTIONS; returns each turn's (new ids, logits of the first new token, reuse)."""
    kept, messages, turns = ConversationCache(model), seed_messages()[:1], []
    for question in QUESTIONS:
        messages.append({"role": "user", "content": question})
        inputs = build_inputs(messages, tokenizer)
        reuse = kept.prepare(inputs.input_ids) if keep else None
        with torch.no_grad():
            out = model.generate(**inputs, max_new_tokens=max_new_tokens, **GREEDY, output_scores=True,
                                 return_dict_in_generate=True, **({"cache": kept.cache} if keep else {}))
        if keep:
            kept.update(out.sequences)
            # the cache holds the prompt and the reply, all but the last token (generate never fed it back)
            assert len(kept.ids) == kept.cache.get_seq_length() == out.sequences.shape[1] - 1
        new_ids = out.sequences[0, inputs.input_ids.shape[1]:].tolist()
        messages.append({"role": "assistant", "content": tokenizer.decode(new_ids, skip_special_tokens=True)})
        turns.append((new_ids, out.scores[0][0].float(), reuse))
    return turns


def test_each_turn_reads_only_what_the_cache_lacks(packaged_model, packaged_tokenizer):
    turns = generate_turns(packaged_model, packaged_tokenizer, keep=True, max_new_tokens=12)
    first, *later = [reuse for _, _, reuse in turns]
    assert first.reused == 0 and first.computed == 39  # turn 1: the seed's 39 ids, all computed
    for reuse, (previous_ids, _, previous) in zip(later, turns):
        # at least the whole previous prompt is reused; at most it and the previous reply minus its last token
        assert previous.prompt_tokens <= reuse.reused <= previous.prompt_tokens + len(previous_ids) - 1
        assert reuse.computed < 40  # this turn's question and its frame, not the whole conversation


def test_prepare_crops_the_cache_to_the_shared_prefix(packaged_model, packaged_tokenizer):
    kept = ConversationCache(packaged_model)
    inputs = build_inputs(seed_messages(), packaged_tokenizer)
    kept.prepare(inputs.input_ids)
    with torch.no_grad():
        out = packaged_model.generate(**inputs, cache=kept.cache, max_new_tokens=6, **GREEDY)
    kept.update(out)
    assert len(kept.ids) == 39 + 6 - 1
    # a different system prompt changes the prompt from position 5 on: only "<|im_start|>system\n" is shared
    other = build_inputs([{"role": "system", "content": "Answer briefly."}, seed_messages()[1]], packaged_tokenizer)
    shared = common_prefix_length(kept.ids, other.input_ids[0].tolist())
    reuse = kept.prepare(other.input_ids)
    assert reuse.reused == shared == kept.cache.get_seq_length() == len(kept.ids) and 0 < shared < 10
    # the same prompt again: everything but its last token comes from the cache
    again = ConversationCache(packaged_model)
    again.prepare(inputs.input_ids)
    with torch.no_grad():
        again.update(packaged_model.generate(**inputs, cache=again.cache, max_new_tokens=3, **GREEDY))
    assert again.prepare(inputs.input_ids).reused == 38 and again.cache.get_seq_length() == 38


def tiny_qwen2(vocab_size: int):
    """A small random Qwen2 in float32 with the real tokenizer's vocabulary size: the same code paths (attention, the
    cache, generate) as the packaged model, in a fraction of a second instead of loading 2 GB of float32 weights."""
    from transformers import AutoModelForCausalLM, Qwen2Config

    torch.manual_seed(0)
    config = Qwen2Config(vocab_size=vocab_size, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True)
    return AutoModelForCausalLM.from_config(config, dtype=torch.float32).eval()


def test_kept_cache_gives_the_same_greedy_replies_in_float32(packaged_tokenizer):
    model = tiny_qwen2(len(packaged_tokenizer))
    whole = generate_turns(model, packaged_tokenizer, keep=False, max_new_tokens=12)
    kept = generate_turns(model, packaged_tokenizer, keep=True, max_new_tokens=12)
    for (ids_a, logits_a, _), (ids_b, logits_b, reuse) in zip(whole, kept):
        assert ids_a == ids_b
        assert (logits_a - logits_b).abs().max() < 1e-3  # measured with the packaged model in float32: about 2e-5
    assert kept[-1][2].reused > 0


def test_kept_cache_in_int4_changes_logits_only_in_rounding(packaged_model, packaged_tokenizer):
    whole = generate_turns(packaged_model, packaged_tokenizer, keep=False)
    kept = generate_turns(packaged_model, packaged_tokenizer, keep=True)
    for turn, ((ids_a, logits_a, _), (ids_b, logits_b, _)) in enumerate(zip(whole, kept), start=1):
        if turn > 1 and ids_a[:1] != ids_b[:1]:
            break  # not expected; the prompts differ from here on, so later turns are not comparable
        difference = (logits_a - logits_b).abs().max().item()
        assert difference < LOGIT_TOLERANCE, f"turn {turn}: logits differ by {difference}"
        top2 = torch.topk(logits_a, 2).values
        if (top2[0] - top2[1]).item() > 2 * LOGIT_TOLERANCE:
            assert ids_a[0] == ids_b[0], f"turn {turn}: a clear first choice changed"
        if turn < len(whole) and ids_a != ids_b:
            break  # the next prompts differ: compare no further


LOGIT_TOLERANCE = 0.5  # about four bfloat16 steps at this size of logit


def test_time_turns_counts_what_each_turn_reads(packaged_model, packaged_tokenizer):
    whole = time_turns(packaged_model, packaged_tokenizer, QUESTIONS[:2], keep_cache=False, max_new_tokens=4)
    kept = time_turns(packaged_model, packaged_tokenizer, QUESTIONS[:2], keep_cache=True, max_new_tokens=4)
    assert [row["read"] for row in whole] == [row["prompt tokens"] for row in whole]
    assert kept[0]["read"] == 39 and kept[1]["read"] < kept[1]["prompt tokens"]
    assert all(row["first token s"] > 0 and len(row["new_ids"]) <= 4 for row in whole + kept)
