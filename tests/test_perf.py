"""helpers.perf: the byte counts, and every weight format on the packaged model (helpers.model.formats converts).

No timing is asserted here: speed belongs in benchmarks/decode_benchmark.py's output.
"""

import math

import pytest

from helpers import SEED_PROMPT_IDS, perf
from helpers.model import formats
from helpers.perf import WeightBytes

# --------------------------------------------------------------------------------------------------------------------
# Bytes read per token
# --------------------------------------------------------------------------------------------------------------------


def test_a_token_reads_one_embedding_row():
    counted = WeightBytes(total=1000, embedding=400, embedding_rows=100, weights=250)
    assert counted.per_token == 604  # 600 bytes of other weights + one 4-byte row
    assert WeightBytes(total=400, embedding=400, embedding_rows=4, weights=100).per_token == 100  # all embedding
    assert counted.bits_per_weight == 32.0


def test_a_tied_head_reads_the_whole_table():
    assert WeightBytes(total=1000, embedding=400, embedding_rows=100, weights=250, tied=True).per_token == 1000


def test_the_packaged_models_ceilings():
    """The figures of the shared notes: 494,032,768 weights read per token besides one embedding row."""
    vocab, hidden = 151_936, 896
    total_weights, embedding_weights = 630_167_424, vocab * hidden
    fp32 = WeightBytes(4 * total_weights, 4 * embedding_weights, vocab, total_weights).per_token
    bf16 = WeightBytes(2 * total_weights, 2 * embedding_weights, vocab, total_weights).per_token
    assert fp32 == 4 * (494_032_768 + hidden)
    assert bf16 * 2 == fp32  # bfloat16 halves the bytes, so it doubles the ceiling
    bandwidth = 34.2e9
    assert round(bandwidth / fp32, 1) == 17.3
    assert round(bandwidth / bf16, 1) == 34.6
    assert round(bandwidth / 391_859_712) == 87  # the Q4_K_M GGUF


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
    from gguf import GGUFReader

    assert perf.gguf_weight_bytes(GGUFReader(str(path))) == counted, "an open reader counts the same"


def test_tensor_nbytes_counts_what_is_stored():
    import torch

    assert perf.tensor_nbytes(torch.zeros(3, 5, dtype=torch.float32)) == 60
    assert perf.tensor_nbytes(torch.zeros(3, 5, dtype=torch.bfloat16)) == 30
    assert perf.tensor_nbytes(torch.zeros(3, 5, dtype=torch.int8)) == 15


def test_quantized_weights_count_their_scales():
    import torch

    linear = torch.nn.Linear(256, 64, bias=False)
    formats.to_format(torch.nn.Sequential(linear), "int4")
    # half a byte a weight, plus a bfloat16 scale and a bfloat16 zero point for each group of weights in a row
    groups = 64 * 256 // formats.INT4_GROUP_SIZE
    assert perf.tensor_nbytes(linear.weight) == 64 * 256 // 2 + groups * 2 * 2


# --------------------------------------------------------------------------------------------------------------------
# Every format on the packaged model: same prompt ids, a non-empty reply
# --------------------------------------------------------------------------------------------------------------------


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="unknown format"):
        formats.to_format(object(), "int3")


@pytest.mark.parametrize("fmt", formats.TRANSFORMERS_FORMATS)
def test_every_transformers_format_replies(fmt, packaged_tokenizer):
    assert formats.torchao_available()  # a pinned dependency: int8 and int4 need it
    from helpers import load_model

    model = formats.to_format(load_model("packaged", fast=False), fmt)
    timing, prompt_ids, new_ids = perf.time_decode(model, packaged_tokenizer, new_tokens=8)
    assert prompt_ids == SEED_PROMPT_IDS
    assert len(new_ids) == 8 and timing.new_tokens == 8 and timing.prompt_tokens == 39
    assert packaged_tokenizer.decode(new_ids, skip_special_tokens=True).strip()
    assert timing.prefill_s > 0 and math.isfinite(timing.tokens_per_second)
    counted = perf.weight_bytes(model)
    assert counted.per_token < counted.total


def test_llama_cpp_replies_with_the_same_prompt_ids():
    if not perf.llama_cpp_available():  # an optional extra (tests/test_benchmarks.py checks the way it is refused)
        pytest.skip("llama-cpp-python is not installed")
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

    model = formats.speed_up(load_model("packaged", fast=False))
    reply = chat(seed_messages(), model, packaged_tokenizer, max_new_tokens=24)
    assert reply.startswith("Large language model"), reply
    assert len(set(reply.split())) > 10, reply  # words, not a loop
