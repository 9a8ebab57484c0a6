"""Measuring decoding on a CPU (lesson 30): the bytes of weights a token reads, memory bandwidth, timed decoding.

Each decoded token reads every weight of the model once (one row of the embedding table excepted), so decoding
cannot run faster than memory bandwidth / bytes read per token. Notebook 30 writes that arithmetic out, and the byte
count of plain tensors; these helpers do what would distract from it: counting the bytes of quantized tensors and of
a GGUF file, measuring the bandwidth, and timing greedy decoding in transformers and in llama.cpp.
``benchmarks/decode_benchmark.py`` runs the same measurements for every weight format.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

# --------------------------------------------------------------------------------------------------------------------
# Counting the bytes of a loaded model or a GGUF file
# --------------------------------------------------------------------------------------------------------------------


def tensor_nbytes(tensor) -> int:
    """Bytes a tensor really stores. Quantized tensor subclasses (torchao) count their inner tensors: the packed
    integers, the scales and the zero points."""
    flatten = getattr(tensor, "__tensor_flatten__", None)
    if flatten is not None:
        names, _ = flatten()
        return sum(tensor_nbytes(getattr(tensor, name)) for name in names)
    return tensor.numel() * tensor.element_size()


@dataclass(frozen=True)
class WeightBytes:
    """How many bytes a model's weights take, and how many of them one decoding step reads."""

    total: int  # all weights, each tensor once
    embedding: int  # the input embedding table
    embedding_rows: int  # its rows (the vocabulary size)
    weights: int  # number of weights (parameters), each tensor once
    tied: bool = False  # the output layer (LM head) is the embedding table

    @property
    def per_token(self) -> int:
        """Bytes one decoding step reads: every weight once, but one row of the embedding table, unless the LM head
        is that table (tied): then its matrix-vector product reads the whole table every token."""
        if self.tied:
            return self.total
        return self.total - self.embedding + self.embedding // self.embedding_rows

    @property
    def bits_per_weight(self) -> float:
        """Average storage per weight in bits, scales and zero points included."""
        return 8 * self.total / self.weights


def weight_bytes(model) -> WeightBytes:
    """Count a transformers model's weight bytes (each shared tensor once) and find its embedding table."""
    embedding = model.get_input_embeddings().weight
    head = model.get_output_embeddings()
    tied = head is not None and head.weight is embedding
    total = weights = 0
    for tensor in model.parameters():  # parameters() yields a tied tensor once
        total += tensor_nbytes(tensor)
        weights += tensor.numel()  # a quantized tensor subclass reports its logical shape
    return WeightBytes(total=total, embedding=tensor_nbytes(embedding), embedding_rows=embedding.shape[0],
                       weights=weights, tied=tied)


def gguf_weight_bytes(gguf) -> WeightBytes:
    """The same count for a GGUF file (its path, or a ``GGUFReader`` already open on it: opening one reads the whole
    vocabulary, over 5 s), from its tensor table (``token_embd.weight`` is the embedding table; without an
    ``output.weight`` the file ties the head to it)."""
    from gguf import GGUFReader

    tensors = (gguf if isinstance(gguf, GGUFReader) else GGUFReader(str(gguf))).tensors
    by_name = {t.name: t for t in tensors}
    embedding = by_name["token_embd.weight"]
    return WeightBytes(total=sum(int(t.n_bytes) for t in tensors), embedding=int(embedding.n_bytes),
                       embedding_rows=int(embedding.shape[-1]), weights=sum(int(t.n_elements) for t in tensors),
                       tied="output.weight" not in by_name)


def packaged_gguf_path() -> Path:
    """The packaged model's GGUF file (llama.cpp reads it directly), joined from the part packages once and kept in
    the model files folder next to the converted model."""
    from helpers.model.packaged import GGUF_NAME, GGUF_SIZE, join_gguf
    from helpers.model.paths import model_files_dir

    path = model_files_dir() / "gguf" / GGUF_NAME
    if path.is_file() and path.stat().st_size == GGUF_SIZE:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.partial")
    join_gguf(tmp)  # checks every sha256, deletes tmp on a mismatch
    os.replace(tmp, path)
    return path


# --------------------------------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------------------------------

def measure_bandwidth(megabytes: int = 1024, repeats: int = 7) -> float:
    """Memory read bandwidth in bytes/s: the best of ``repeats`` sums over a float32 tensor of ``megabytes`` MB on
    torch's threads (far larger than any CPU cache, so every byte comes from memory).

    On a virtual machine the figure can differ by a third from one process to another (where the process's memory
    happens to land), while it stays within a few percent inside one process."""
    import torch

    x = torch.ones(megabytes * 1_000_000 // 4, dtype=torch.float32)
    x.sum()  # touch every page once
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        x.sum()
        best = min(best, time.perf_counter() - started)
    return x.numel() * x.element_size() / best


def cpu_threads() -> int:
    """The CPU cores this process may use (torch's default thread count; llama.cpp is given the same)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


@dataclass
class DecodeTiming:
    """One timed greedy generation: the prompt's forward pass (prefill), then ``new_tokens`` decoding steps."""

    prompt_tokens: int
    new_tokens: int
    prefill_s: float
    decode_s: float  # from the first new token to the last: new_tokens - 1 forward passes

    @property
    def tokens_per_second(self) -> float:
        return (self.new_tokens - 1) / self.decode_s if self.decode_s > 0 else float("nan")


def _step_clock():
    """A logits processor that notes the time of every step: the first call ends the prefill."""
    from transformers import LogitsProcessor

    class StepClock(LogitsProcessor):
        def __init__(self):
            self.times = []

        def __call__(self, input_ids, scores):
            self.times.append(time.perf_counter())
            return scores

    return StepClock()


def time_decode(model, tokenizer, messages=None, new_tokens: int = 128) -> tuple[DecodeTiming, list[int], list[int]]:
    """Greedy ``model.generate`` forced to ``new_tokens`` new tokens (end-of-turn ignored), timed step by step.

    Returns the timing, the prompt ids and the new ids.
    """
    import torch
    from transformers import LogitsProcessorList

    from helpers.chat.generation import GREEDY, build_inputs
    from helpers.seed import seed_messages

    if new_tokens < 2:
        raise ValueError("new_tokens must be at least 2: decoding speed needs two steps to time")
    inputs = build_inputs(messages or seed_messages(), tokenizer, model.device)
    clock = _step_clock()
    started = time.perf_counter()
    with torch.no_grad():
        output = model.generate(**inputs, **GREEDY, max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                                logits_processor=LogitsProcessorList([clock]))
    prompt_ids = inputs.input_ids[0].tolist()
    new_ids = output[0, len(prompt_ids):].tolist()
    timing = DecodeTiming(prompt_tokens=len(prompt_ids), new_tokens=len(new_ids),
                          prefill_s=clock.times[0] - started, decode_s=clock.times[-1] - clock.times[0])
    return timing, prompt_ids, new_ids


# --------------------------------------------------------------------------------------------------------------------
# llama.cpp (an optional extra: pip install llama-cpp-python)
# --------------------------------------------------------------------------------------------------------------------

def llama_cpp_available() -> bool:
    """Whether llama-cpp-python can be imported."""
    import importlib.util

    return importlib.util.find_spec("llama_cpp") is not None


def llama_cpp_prompt_ids(llm, messages=None) -> list[int]:
    """The prompt ids as llama.cpp makes them on its own: the chat template stored in the GGUF, rendered with
    llama-cpp-python's Jinja2 formatter, then llama.cpp's tokenizer (special tokens parsed)."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    from helpers.seed import seed_messages

    def text_of(token_id: int) -> str:
        return llm.detokenize([token_id], special=True).decode("utf-8") if token_id >= 0 else ""

    formatter = Jinja2ChatFormatter(llm.metadata["tokenizer.chat_template"], eos_token=text_of(llm.token_eos()),
                                   bos_token=text_of(llm.token_bos()))
    prompt = formatter(messages=messages or seed_messages()).prompt
    return llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)


def time_decode_llama_cpp(llm, prompt_ids: list[int], new_tokens: int = 128) -> tuple[DecodeTiming, list[int]]:
    """:func:`time_decode` for a ``llama_cpp.Llama``: greedy (temperature 0), end-of-turn ignored, timed token by
    token. Returns the timing and the new ids."""
    if new_tokens < 2:
        raise ValueError("new_tokens must be at least 2: decoding speed needs two steps to time")
    llm.reset()  # forget the previous run, so that its cached prompt is not reused
    new_ids, times = [], []
    started = time.perf_counter()
    for token in llm.generate(prompt_ids, temp=0.0, top_k=1, repeat_penalty=1.0, reset=True):
        times.append(time.perf_counter())
        new_ids.append(int(token))
        if len(new_ids) == new_tokens:
            break
    return DecodeTiming(len(prompt_ids), len(new_ids), times[0] - started, times[-1] - times[0]), new_ids
