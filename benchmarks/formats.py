"""One weight format, benchmarked: load it, time greedy decoding of the seed prompt, count its bytes and memory.

    .venv/bin/python benchmarks/formats.py int4 --new-tokens 32 --repeats 1    # prints one JSON line

``benchmarks/decode_benchmark.py`` runs this file once per format, each in a fresh process
(:func:`benchmark_format_in_subprocess`), so that each format's peak memory is its own. The measuring itself is
:mod:`helpers.perf`'s, the conversions :mod:`helpers.model.formats`'s.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from helpers import perf
from helpers.model.formats import to_format, torchao_available
from helpers.model.sources import ModelSource

# The weight formats the benchmark knows, in the order it runs them, with what each one is.
FORMATS: dict[str, str] = {
    "float32": "transformers, float32 weights (the seed's CPU path)",
    "bfloat16": "transformers, bfloat16 weights (as the model is saved; load_model(fast=False))",
    "int8": "transformers + torchao int8 weight-only, one scale per output row",
    "int4": "transformers + torchao int4 weight-only, groups of 32 (torch's CPU int4 kernel; load_model()'s default)",
    "llama.cpp": "llama-cpp-python on the packaged Q4_K_M GGUF",
}


def available_formats() -> list[str]:
    """The formats this environment can run, in the benchmark's order."""
    found = ["float32", "bfloat16"]
    if torchao_available():
        found += ["int8", "int4"]
    if perf.llama_cpp_available():
        found.append("llama.cpp")
    return found


def rss_bytes() -> int:
    """This process's resident memory now."""
    import psutil

    return psutil.Process().memory_info().rss


def peak_rss_bytes() -> int:
    """This process's peak resident memory so far (Linux and macOS; on Windows, psutil's peak working set)."""
    try:
        import resource  # Unix only
    except ImportError:
        import psutil

        return psutil.Process().memory_info().peak_wset
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


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
        if not perf.llama_cpp_available():
            from helpers.errors import WorkbookError

            raise WorkbookError("llama.cpp needs the optional llama-cpp-python package, which is not installed: "
                                "`.venv/bin/pip install llama-cpp-python` (it builds from source, about 8 minutes "
                                "on 2 cores), or leave llama.cpp out of --formats.")
        # llama.cpp needs neither torch nor transformers: its peak memory is its own
        from llama_cpp import Llama

        gguf = perf.packaged_gguf_path()
        started = time.perf_counter()
        llm = Llama(model_path=str(gguf), n_ctx=512, n_threads=perf.cpu_threads(), verbose=False)
        result.load_s = time.perf_counter() - started
        prompt_ids = perf.llama_cpp_prompt_ids(llm)
        perf.time_decode_llama_cpp(llm, prompt_ids, 4)  # warm-up
        for _ in range(repeats):
            timing, new_ids = perf.time_decode_llama_cpp(llm, prompt_ids, new_tokens)
            timings.append(timing)
        counted = perf.gguf_weight_bytes(gguf)

        def decode(ids):
            return llm.detokenize(ids).decode("utf-8", errors="replace")
    else:
        from helpers.model.loading import load_model, load_tokenizer

        tokenizer = load_tokenizer(source)
        started = time.perf_counter()
        model = to_format(load_model(source, fast=False), fmt)
        result.load_s = time.perf_counter() - started
        perf.time_decode(model, tokenizer, new_tokens=4)  # warm-up: weights paged in, kernels chosen
        for _ in range(repeats):
            timing, prompt_ids, new_ids = perf.time_decode(model, tokenizer, new_tokens=new_tokens)
            timings.append(timing)
        counted = perf.weight_bytes(model)

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
    result.rss_bytes = rss_bytes()
    # the kernel's peak (getrusage) and psutil's resident size are counted apart, and can differ by a few pages
    result.peak_rss_bytes = max(peak_rss_bytes(), result.rss_bytes)
    if bandwidth_mb:
        result.bandwidth_bytes_per_s = perf.measure_bandwidth(bandwidth_mb)
    return result


def benchmark_format_in_subprocess(fmt: str, new_tokens: int = 128, repeats: int = 3,
                                   source: ModelSource | str | None = None, reply_tokens: int = 0,
                                   bandwidth_mb: int = 0, timeout: float = 900) -> FormatResult:
    """:func:`benchmark_format` in a fresh Python process (this file run as a script), so that its peak memory is its
    own. A failure comes back as a result whose ``error`` says what went wrong."""
    spec = source.spec if isinstance(source, ModelSource) else source
    command = [sys.executable, str(Path(__file__).resolve()), fmt, "--new-tokens", str(new_tokens),
               "--repeats", str(repeats), "--reply-tokens", str(reply_tokens), "--bandwidth-mb", str(bandwidth_mb)]
    if spec:
        command += ["--source", spec]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    lines = done.stdout.strip().splitlines()
    if done.returncode == 0 and lines:
        return FormatResult.from_json(lines[-1])
    why = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
    return FormatResult(format=fmt, error=why)


def main(argv: list[str] | None = None) -> int:
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
    sys.exit(main())
