"""Why decoding is slow on a CPU: the bandwidth ceiling, the weight formats, and a faster generation path.

Each decoded token is one forward pass for one position, and that pass reads every weight of the model once (the
embedding table is the exception: one row of it is looked up). A matrix-vector product does two floating-point
operations per weight it reads, far too little work to keep a CPU's arithmetic units busy, so decoding waits on
memory. Its speed is therefore bounded by

    ceiling tokens/s = memory read bandwidth (bytes/s) / bytes of weights read per token

and the one lever that moves the ceiling is the number of bytes per weight: float32 (4), bfloat16 (2), int8 (1 plus a
scale per row), int4 (half a byte plus a scale and a zero point per group), llama.cpp's Q4_K_M (about 6.2 bits: a mix
of 4-, 5-, 6- and 8-bit blocks).

The arithmetic is kept in small pure functions (:func:`bytes_per_token`, :func:`ceiling_tokens_per_second`,
:func:`share_of_ceiling`) so that tests can check it; the measuring functions (:func:`measure_bandwidth`,
:func:`weight_bytes`, :func:`time_decode`, :func:`benchmark_format`) use them. ``benchmarks/decode_benchmark.py``
and the notebook ``30_why_is_decoding_slow.ipynb`` print and plot what they measure.

The conversions themselves (:func:`to_format`, :func:`speed_up`) live in :mod:`helpers.model.formats`, which
:func:`helpers.load_model` uses; this module measures them.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from helpers.model.formats import (  # noqa: F401  (re-exported: notebook 30 and the benchmark use perf.*)
    FAST_FORMAT, INT4_GROUP_SIZE, TRANSFORMERS_FORMATS, quiet_torchao, speed_up, to_format, torchao_available)
from helpers.model.sources import ModelSource

# The weight formats the benchmark knows, in the order it runs them, with what each one is.
FORMATS: dict[str, str] = {
    "float32": "transformers, float32 weights (the seed's CPU path)",
    "bfloat16": "transformers, bfloat16 weights (as the model is saved; load_model(fast=False))",
    "int8": "transformers + torchao int8 weight-only, one scale per output row",
    "int4": "transformers + torchao int4 weight-only, groups of 32 (torch's CPU int4 kernel; load_model()'s default)",
    "llama.cpp": "llama-cpp-python on the packaged Q4_K_M GGUF",
}

GIGA = 1e9


# --------------------------------------------------------------------------------------------------------------------
# The arithmetic (pure functions)
# --------------------------------------------------------------------------------------------------------------------

def bytes_per_token(total_weight_bytes: int, embedding_bytes: int, embedding_rows: int, tied: bool = False) -> int:
    """Bytes of weights one decoding step reads: every weight once, but only one row of the embedding table.

    ``tied=True`` means the output layer (LM head) *is* the embedding table: then the head's matrix-vector product
    reads the whole table every token, and nothing is saved.

    >>> bytes_per_token(1000, 400, 100)  # 600 bytes of other weights + one 4-byte row
    604
    """
    if min(total_weight_bytes, embedding_bytes) < 0 or embedding_rows <= 0:
        raise ValueError("byte counts must be >= 0 and the embedding table must have at least one row")
    if embedding_bytes > total_weight_bytes:
        raise ValueError(f"the embedding table ({embedding_bytes} bytes) cannot be larger than all the weights "
                         f"({total_weight_bytes} bytes)")
    if tied:
        return total_weight_bytes
    return total_weight_bytes - embedding_bytes + embedding_bytes // embedding_rows


def ceiling_tokens_per_second(bandwidth_bytes_per_s: float, bytes_read_per_token: float) -> float:
    """The fastest decoding memory allows: bandwidth divided by the bytes every token must read.

    >>> ceiling_tokens_per_second(32e9, 2e9)
    16.0
    """
    if bandwidth_bytes_per_s <= 0 or bytes_read_per_token <= 0:
        raise ValueError("bandwidth and bytes per token must be positive")
    return bandwidth_bytes_per_s / bytes_read_per_token


def share_of_ceiling(tokens_per_second: float, ceiling: float) -> float:
    """Measured speed as a fraction of its ceiling (0.5 means half the speed memory would allow).

    >>> share_of_ceiling(8.0, 16.0)
    0.5
    """
    if ceiling <= 0 or tokens_per_second < 0:
        raise ValueError("the ceiling must be positive and the speed non-negative")
    return tokens_per_second / ceiling


def effective_bandwidth(tokens_per_second: float, bytes_read_per_token: float) -> float:
    """The bandwidth a decoding speed really used: tokens/s times bytes per token (bytes/s)."""
    return tokens_per_second * bytes_read_per_token


def bits_per_weight(weight_bytes: int, weights: int) -> float:
    """Average storage per weight in bits (scales and zero points included when ``weight_bytes`` counts them)."""
    if weights <= 0:
        raise ValueError("weights must be positive")
    return 8 * weight_bytes / weights


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
    tied: bool = False  # the output layer shares the embedding table

    @property
    def per_token(self) -> int:
        return bytes_per_token(self.total, self.embedding, self.embedding_rows, self.tied)

    @property
    def bits_per_weight(self) -> float:
        return bits_per_weight(self.total, self.weights)


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


def gguf_weight_bytes(path) -> WeightBytes:
    """The same count for a GGUF file, from its tensor table (``token_embd.weight`` is the embedding table; without
    an ``output.weight`` the file ties the head to it)."""
    from gguf import GGUFReader

    tensors = GGUFReader(str(path)).tensors
    by_name = {t.name: t for t in tensors}
    embedding = by_name["token_embd.weight"]
    return WeightBytes(total=sum(int(t.n_bytes) for t in tensors), embedding=int(embedding.n_bytes),
                       embedding_rows=int(embedding.shape[-1]), weights=sum(int(t.n_elements) for t in tensors),
                       tied="output.weight" not in by_name)


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


def time_decode_llama_cpp(llm, prompt_ids: list[int], new_tokens: int = 128) -> tuple[DecodeTiming, list[int]]:
    """The same measurement for a ``llama_cpp.Llama``: greedy (temperature 0), end-of-turn ignored, timed token by
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


def cpu_threads() -> int:
    """The CPU cores this process may use (torch's default thread count; llama.cpp is given the same)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def rss_bytes() -> int:
    """This process's resident memory now."""
    import psutil

    return psutil.Process().memory_info().rss


def wait_for_quiet(seconds: float, threshold: float = 10.0) -> bool:
    """Wait up to ``seconds`` until the whole machine's CPU use, over 3 s, is under ``threshold`` percent."""
    import psutil

    deadline = time.monotonic() + seconds
    while True:
        if psutil.cpu_percent(interval=3) < threshold:
            return True
        if time.monotonic() >= deadline:
            return False


def busy_cpu_seconds() -> float:
    """CPU seconds all processes on this machine have used since boot (every core, idle and I/O wait excluded)."""
    import psutil

    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0) - getattr(times, "guest", 0.0) - getattr(
        times, "guest_nice", 0.0)


def peak_rss_bytes() -> int:
    """This process's peak resident memory so far (Linux and macOS; on Windows, psutil's peak working set)."""
    try:
        import resource  # Unix only
    except ImportError:
        import psutil

        return psutil.Process().memory_info().peak_wset
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


# --------------------------------------------------------------------------------------------------------------------
# The weight formats
# --------------------------------------------------------------------------------------------------------------------

def llama_cpp_available() -> bool:
    """Whether llama-cpp-python can be imported (an optional extra: ``pip install llama-cpp-python``)."""
    import importlib.util

    return importlib.util.find_spec("llama_cpp") is not None


def available_formats() -> list[str]:
    """The formats this environment can run, in the benchmark's order."""
    found = ["float32", "bfloat16"]
    if torchao_available():
        found += ["int8", "int4"]
    if llama_cpp_available():
        found.append("llama.cpp")
    return found


def packaged_gguf_path() -> Path:
    """The packaged model's GGUF file (llama.cpp reads it directly), joined from the part packages once and kept in
    the cache next to the converted model."""
    from helpers.model.packaged import GGUF_NAME, GGUF_SIZE, join_gguf
    from helpers.model.paths import cache_dir

    path = cache_dir() / "gguf" / GGUF_NAME
    if path.is_file() and path.stat().st_size == GGUF_SIZE:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.partial")
    join_gguf(tmp)  # checks every sha256, deletes tmp on a mismatch
    os.replace(tmp, path)
    return path


# --------------------------------------------------------------------------------------------------------------------
# One format, measured (in this process, or in a fresh one for a clean peak memory)
# --------------------------------------------------------------------------------------------------------------------

@dataclass
class FormatResult:
    """What the benchmark measured for one format."""

    format: str
    load_s: float = float("nan")
    prefill_s: float = float("nan")
    tokens_per_second: float = float("nan")
    runs_tokens_per_second: list[float] = field(default_factory=list)
    peak_rss_bytes: int = 0
    rss_bytes: int = 0  # resident memory at the end, once loading and converting are over
    weight_bytes: int = 0
    bytes_per_token: int = 0
    bits_per_weight: float = float("nan")
    prompt_ids: list[int] = field(default_factory=list)
    new_ids: list[int] = field(default_factory=list)
    reply: str = ""
    bandwidth_bytes_per_s: float = float("nan")  # measured in the same process, after the timings
    error: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> FormatResult:
        return cls(**json.loads(text))


def benchmark_format(fmt: str, new_tokens: int = 128, repeats: int = 3, source: ModelSource | str | None = None,
                     reply_tokens: int = 0, bandwidth_mb: int = 0) -> FormatResult:
    """Load the model in ``fmt``, then time ``repeats`` greedy generations of ``new_tokens`` forced tokens on the seed
    prompt after a short warm-up; report the medians.

    ``reply_tokens`` > 0 also decodes the first that many new ids as text (to see that the reply is still fluent).
    ``bandwidth_mb`` > 0 then measures this process's memory bandwidth too: on virtual machines it can differ by a
    third from one process to the next (where the process's memory lands), and this is the process whose weights
    were timed.
    """
    result = FormatResult(format=fmt)
    timings = []
    if fmt == "llama.cpp":
        if not llama_cpp_available():
            from helpers.errors import WorkbookError

            raise WorkbookError("llama.cpp needs the optional llama-cpp-python package, which is not installed: "
                                "`.venv/bin/pip install llama-cpp-python` (it builds from source, about 8 minutes "
                                "on 2 cores), or leave llama.cpp out of --formats.")
        # llama.cpp needs neither torch nor transformers: its peak memory is its own
        from llama_cpp import Llama

        gguf = packaged_gguf_path()
        started = time.perf_counter()
        llm = Llama(model_path=str(gguf), n_ctx=512, n_threads=cpu_threads(), verbose=False)
        result.load_s = time.perf_counter() - started
        prompt_ids = llama_cpp_prompt_ids(llm)
        time_decode_llama_cpp(llm, prompt_ids, 4)  # warm-up
        for _ in range(repeats):
            timing, new_ids = time_decode_llama_cpp(llm, prompt_ids, new_tokens)
            timings.append(timing)
        counted = gguf_weight_bytes(gguf)

        def decode(ids):
            return llm.detokenize(ids).decode("utf-8", errors="replace")
    else:
        from helpers.model.loading import load_model, load_tokenizer

        tokenizer = load_tokenizer(source)
        started = time.perf_counter()
        model = to_format(load_model(source, fast=False), fmt)
        result.load_s = time.perf_counter() - started
        time_decode(model, tokenizer, new_tokens=4)  # warm-up: weights paged in, kernels chosen
        for _ in range(repeats):
            timing, prompt_ids, new_ids = time_decode(model, tokenizer, new_tokens=new_tokens)
            timings.append(timing)
        counted = weight_bytes(model)

        def decode(ids):
            return tokenizer.decode(ids, skip_special_tokens=True)
    result.prefill_s = statistics.median(t.prefill_s for t in timings)
    result.runs_tokens_per_second = [t.tokens_per_second for t in timings]
    result.tokens_per_second = statistics.median(result.runs_tokens_per_second)
    result.weight_bytes, result.bytes_per_token = counted.total, counted.per_token
    result.bits_per_weight = counted.bits_per_weight
    result.prompt_ids, result.new_ids = prompt_ids, new_ids
    if reply_tokens:
        result.reply = decode(new_ids[:reply_tokens])
    result.peak_rss_bytes = peak_rss_bytes()
    result.rss_bytes = rss_bytes()
    if bandwidth_mb:
        result.bandwidth_bytes_per_s = measure_bandwidth(bandwidth_mb)
    return result


def benchmark_format_in_subprocess(fmt: str, new_tokens: int = 128, repeats: int = 3,
                                   source: ModelSource | str | None = None, reply_tokens: int = 0,
                                   bandwidth_mb: int = 0, timeout: float = 900) -> FormatResult:
    """:func:`benchmark_format` in a fresh Python process, so that its peak memory is its own. A failure comes back
    as a result whose ``error`` says what went wrong."""
    spec = source.spec if isinstance(source, ModelSource) else source
    command = [sys.executable, "-m", "helpers.perf", fmt, "--new-tokens", str(new_tokens), "--repeats", str(repeats),
               "--reply-tokens", str(reply_tokens), "--bandwidth-mb", str(bandwidth_mb)]
    if spec:
        command += ["--source", spec]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    lines = done.stdout.strip().splitlines()
    if done.returncode == 0 and lines:
        return FormatResult.from_json(lines[-1])
    why = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
    return FormatResult(format=fmt, error=why)


def _main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Benchmark one weight format; print the result as one JSON line.")
    parser.add_argument("format", choices=list(FORMATS))
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--reply-tokens", type=int, default=0)
    parser.add_argument("--bandwidth-mb", type=int, default=0)
    parser.add_argument("--source", default=None)
    args = parser.parse_args(argv)
    result = benchmark_format(args.format, args.new_tokens, args.repeats, args.source, args.reply_tokens,
                              args.bandwidth_mb)
    print(result.to_json(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_main())
