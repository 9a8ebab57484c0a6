"""helpers.perf: the bandwidth-ceiling arithmetic, the byte counts, and every weight format on the packaged model.

No timing is asserted here: speed belongs in benchmarks/decode_benchmark.py's output.
"""

import math

import pytest

from helpers import SEED_PROMPT_IDS, perf

# --------------------------------------------------------------------------------------------------------------------
# The arithmetic
# --------------------------------------------------------------------------------------------------------------------


def test_bytes_per_token_reads_one_embedding_row():
    assert perf.bytes_per_token(1000, 400, 100) == 604
    assert perf.bytes_per_token(400, 400, 4) == 100  # a model that is all embedding reads one row


def test_bytes_per_token_tied_head_reads_the_whole_table():
    assert perf.bytes_per_token(1000, 400, 100, tied=True) == 1000


@pytest.mark.parametrize("args", [(-1, 0, 1), (10, -1, 1), (10, 5, 0), (10, 11, 1)])
def test_bytes_per_token_rejects_impossible_counts(args):
    with pytest.raises(ValueError):
        perf.bytes_per_token(*args)


def test_ceiling_and_share():
    assert perf.ceiling_tokens_per_second(32e9, 2e9) == 16.0
    assert perf.share_of_ceiling(8.0, 16.0) == 0.5
    assert perf.effective_bandwidth(8.0, 2e9) == 16e9
    assert perf.bits_per_weight(1000, 2000) == 4.0
    for bad in [(0, 1), (1, 0), (-1, 1)]:
        with pytest.raises(ValueError):
            perf.ceiling_tokens_per_second(*bad)
    with pytest.raises(ValueError):
        perf.share_of_ceiling(1.0, 0.0)
    with pytest.raises(ValueError):
        perf.bits_per_weight(1, 0)


def test_the_packaged_models_ceilings():
    """The figures of the shared notes: 494,032,768 weights read per token besides one embedding row."""
    vocab, hidden = 151_936, 896
    total_weights, embedding_weights = 630_167_424, vocab * hidden
    fp32 = perf.bytes_per_token(4 * total_weights, 4 * embedding_weights, vocab)
    bf16 = perf.bytes_per_token(2 * total_weights, 2 * embedding_weights, vocab)
    assert fp32 == 4 * (494_032_768 + hidden)
    assert bf16 * 2 == fp32  # bfloat16 halves the bytes, so it doubles the ceiling
    bandwidth = 34.2e9
    assert round(perf.ceiling_tokens_per_second(bandwidth, fp32), 1) == 17.3
    assert round(perf.ceiling_tokens_per_second(bandwidth, bf16), 1) == 34.6
    assert round(perf.ceiling_tokens_per_second(bandwidth, 391_859_712)) == 87  # the Q4_K_M GGUF


# --------------------------------------------------------------------------------------------------------------------
# Counting bytes
# --------------------------------------------------------------------------------------------------------------------


def _tiny_qwen2(tied: bool):
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(0)
    config = Qwen2Config(vocab_size=256, hidden_size=128, intermediate_size=256, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=tied)
    return Qwen2ForCausalLM(config)


@pytest.mark.parametrize("tied", [False, True])
def test_weight_bytes_of_a_tiny_qwen2(tied):
    import torch

    model = _tiny_qwen2(tied)
    counted = perf.weight_bytes(model)
    params = list(model.parameters())
    assert counted.weights == sum(p.numel() for p in params)
    assert counted.total == 4 * counted.weights and counted.bits_per_weight == 32.0
    assert counted.embedding == 256 * 128 * 4 and counted.embedding_rows == 256
    assert counted.tied is tied
    expected = counted.total if tied else counted.total - counted.embedding + 128 * 4
    assert counted.per_token == expected
    half = perf.weight_bytes(model.to(torch.bfloat16))
    assert half.total * 2 == counted.total and half.per_token * 2 == counted.per_token


def test_gguf_weight_bytes_of_a_tiny_file(tmp_path):
    import numpy as np
    from gguf import GGUFWriter

    path = tmp_path / "tiny.gguf"
    writer = GGUFWriter(str(path), "qwen2")
    writer.add_tensor("token_embd.weight", np.zeros((10, 8), dtype=np.float32))  # 10 rows of 8
    writer.add_tensor("blk.0.ffn_up.weight", np.zeros((16, 8), dtype=np.float16))
    writer.add_tensor("output.weight", np.zeros((10, 8), dtype=np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    counted = perf.gguf_weight_bytes(path)
    assert counted.total == 10 * 8 * 4 + 16 * 8 * 2 + 10 * 8 * 2
    assert counted.embedding == 320 and counted.embedding_rows == 10 and not counted.tied
    assert counted.per_token == counted.total - 320 + 32


def test_tensor_nbytes_counts_what_is_stored():
    import torch

    assert perf.tensor_nbytes(torch.zeros(3, 5, dtype=torch.float32)) == 60
    assert perf.tensor_nbytes(torch.zeros(3, 5, dtype=torch.bfloat16)) == 30
    assert perf.tensor_nbytes(torch.zeros(3, 5, dtype=torch.int8)) == 15


def test_quantized_weights_count_their_scales():
    import torch

    linear = torch.nn.Linear(256, 64, bias=False)
    perf.to_format(torch.nn.Sequential(linear), "int4")
    # half a byte a weight, plus a bfloat16 scale and a bfloat16 zero point for each group of weights in a row
    groups = 64 * 256 // perf.INT4_GROUP_SIZE
    assert perf.tensor_nbytes(linear.weight) == 64 * 256 // 2 + groups * 2 * 2


# --------------------------------------------------------------------------------------------------------------------
# Every format on the packaged model: same prompt ids, a non-empty reply
# --------------------------------------------------------------------------------------------------------------------


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="unknown format"):
        perf.to_format(object(), "int3")


@pytest.mark.parametrize("fmt", perf.TRANSFORMERS_FORMATS)
def test_every_transformers_format_replies(fmt, packaged_tokenizer):
    assert fmt in perf.available_formats()  # torchao is a pinned dependency
    from helpers import load_model

    model = perf.to_format(load_model("packaged", fast=False), fmt)
    timing, prompt_ids, new_ids = perf.time_decode(model, packaged_tokenizer, new_tokens=8)
    assert prompt_ids == SEED_PROMPT_IDS
    assert len(new_ids) == 8 and timing.new_tokens == 8 and timing.prompt_tokens == 39
    assert packaged_tokenizer.decode(new_ids, skip_special_tokens=True).strip()
    assert timing.prefill_s > 0 and math.isfinite(timing.tokens_per_second)
    counted = perf.weight_bytes(model)
    assert counted.per_token < counted.total


def test_llama_cpp_replies_with_the_same_prompt_ids_or_says_how_to_install_it():
    if not perf.llama_cpp_available():  # an optional extra: then asking for it must say how to get it
        from helpers.errors import WorkbookError

        assert "llama.cpp" not in perf.available_formats()
        with pytest.raises(WorkbookError, match=r"pip install llama-cpp-python"):
            perf.benchmark_format("llama.cpp", new_tokens=2, repeats=1)
        return
    from llama_cpp import Llama

    llm = Llama(model_path=str(perf.packaged_gguf_path()), n_ctx=128, n_threads=perf.cpu_threads(), verbose=False)
    prompt_ids = perf.llama_cpp_prompt_ids(llm)
    assert prompt_ids == SEED_PROMPT_IDS
    timing, new_ids = perf.time_decode_llama_cpp(llm, prompt_ids, new_tokens=8)
    assert len(new_ids) == 8 and llm.detokenize(new_ids).decode("utf-8", errors="replace").strip()


def test_speed_up_keeps_the_reply_fluent(packaged_tokenizer):
    from helpers import load_model
    from helpers.chat import chat
    from helpers.seed import seed_messages

    model = perf.speed_up(load_model("packaged", fast=False))
    reply = chat(seed_messages(), model, packaged_tokenizer, max_new_tokens=24)
    assert reply.startswith("Large language model"), reply
    assert len(set(reply.split())) > 10, reply  # words, not a loop
