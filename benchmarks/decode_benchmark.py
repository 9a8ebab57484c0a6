"""How fast does the workbook's model decode on this machine, in each weight format, against its memory ceiling?

    .venv/bin/python benchmarks/decode_benchmark.py                 # every available format, 128 new tokens, 3 runs
    .venv/bin/python benchmarks/decode_benchmark.py --quick         # 32 new tokens, 1 run (about a minute)
    .venv/bin/python benchmarks/decode_benchmark.py --formats float32,bfloat16 --new-tokens 64

In one run it measures the machine's memory read bandwidth, then, for each weight format (each in a fresh process so
that its peak memory is its own): load time, prefill time of the seed prompt, greedy decoding speed over N forced new
tokens (end-of-turn ignored), peak and final memory, and the share of the format's bandwidth ceiling
(bandwidth / bytes of weights read per token). It also checks that every format got the same prompt ids, and says for
how many tokens each greedy reply agrees with float32's.

Timings move with whatever else the machine runs: the "other load" column says how many cores other processes kept
busy during each format's run. Compare formats within one run, and run it more than once.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from dataclasses import asdict
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

if __package__ in (None, ""):  # run as a script: import benchmarks and tools from the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.formats import FORMATS, FormatResult, available_formats, benchmark_format_in_subprocess  # noqa: E402
from helpers import SEED_PROMPT_IDS, fast_by_default, numerics, perf  # noqa: E402
from helpers.chat.conversation_cache import common_prefix_length  # noqa: E402
from helpers.model.formats import FAST_FORMAT  # noqa: E402
from tools.quiet import OtherLoad, wait_for_quiet  # noqa: E402

GIGA = 1e9


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def run_one(fmt: str, args) -> tuple[FormatResult, float]:
    """One format in a fresh process; also returns how many cores other processes kept busy meanwhile."""
    load = OtherLoad()
    result = benchmark_format_in_subprocess(fmt, args.new_tokens, args.repeats, args.source,
                                            reply_tokens=args.reply_tokens, bandwidth_mb=args.bandwidth_mb)
    return result, load.cores()


def _ceiling(r: FormatResult, bandwidth: float) -> tuple[float, float]:
    """(bandwidth, ceiling tokens/s) for one format: the bandwidth its own process measured, else this process's.
    The ceiling is bandwidth / bytes read per token."""
    own = r.bandwidth_bytes_per_s if r.bandwidth_bytes_per_s > 0 else bandwidth  # NaN compares False
    return own, own / r.bytes_per_token


def _default_verdict(default: str, results: dict, bandwidth: float) -> str:
    """One sentence on the workbook's default path (what load_model() gives): its speed against float32's (the
    issue's target: at least 2x), its share of its own ceiling, and its ratio to llama.cpp."""
    ran = {fmt: r for fmt, (r, _) in results.items() if not r.error}
    if default not in ran:
        return f"workbook default ({default}, what load_model() gives): not measured in this run."
    r = ran[default]
    share = r.tokens_per_second / _ceiling(r, bandwidth)[1]
    parts = [f"workbook default ({default}, what load_model() gives): {r.tokens_per_second:.1f} tok/s, "
             f"{share:.0%} of its ceiling"]
    if "float32" in ran:
        ratio = r.tokens_per_second / ran["float32"].tokens_per_second
        parts.append(f"{ratio:.2f}x the seed's float32 path (target 2x: {'met' if ratio >= 2 else 'NOT met'})")
    if "llama.cpp" in ran:
        parts.append(f"{r.tokens_per_second / ran['llama.cpp'].tokens_per_second:.2f}x llama.cpp's speed")
    return "; ".join(parts) + "."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--formats", default=",".join(available_formats()),
                        help=f"comma-separated, from {', '.join(FORMATS)} (default: every available one)")
    parser.add_argument("--new-tokens", type=int, default=128, help="new tokens per timed generation (default 128)")
    parser.add_argument("--repeats", type=int, default=3, help="timed generations per format; the median counts")
    parser.add_argument("--quick", action="store_true", help="32 new tokens, 1 run: a rough figure in a minute")
    parser.add_argument("--bandwidth-mb", type=int, default=1024, help="size of the tensor summed for bandwidth")
    parser.add_argument("--source", default=None,
                        help="model for the transformers formats (default: the workbook's choice; llama.cpp always "
                             "runs the packaged GGUF)")
    parser.add_argument("--reply-tokens", type=int, default=24, help="new tokens of each reply to print")
    parser.add_argument("--json", default=None, help="also write every figure to this JSON file")
    parser.add_argument("--wait-for-quiet", type=float, default=0, metavar="SECONDS",
                        help="before each measurement, wait up to this long for the machine's other work to stop")
    args = parser.parse_args(argv)
    if args.quick:
        args.new_tokens, args.repeats = 32, 1
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        parser.error(f"unknown format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}")

    import torch

    print(f"machine: {_cpu_name()}, {perf.cpu_threads()} cores, AVX flags: {numerics.avx_flags()}; "
          f"torch kernels: {numerics.torch_capability()}")
    print(f"torch {torch.__version__} "
          f"({torch.get_num_threads()} threads), transformers {_version('transformers')}, "
          f"torchao {_version('torchao')}, llama-cpp-python {_version('llama_cpp_python')}")
    print(f"run: seed prompt, {args.new_tokens} new tokens forced (greedy, end-of-turn ignored), "
          f"median of {args.repeats} run(s) after a warm-up, each format in a fresh process", flush=True)

    if args.wait_for_quiet:
        wait_for_quiet(args.wait_for_quiet)
    bandwidth = perf.measure_bandwidth(args.bandwidth_mb)
    print(f"memory read bandwidth: {bandwidth / GIGA:.1f} GB/s in this process (torch sum over "
          f"{args.bandwidth_mb} MB, best of 7).\nEach format's process measures it again after its timings ('bw' "
          f"column): on a virtual machine it can differ by a third between processes, so each ceiling uses its own "
          f"process's figure.\n", flush=True)

    default = FAST_FORMAT if fast_by_default() else "bfloat16"
    rows, results = [], {}
    for fmt in formats:
        if args.wait_for_quiet and not wait_for_quiet(args.wait_for_quiet):
            print(f"  (still busy after {args.wait_for_quiet:.0f} s of waiting)")
        print(f"  measuring {fmt} ...", end="", flush=True)
        result, other = run_one(fmt, args)
        results[fmt] = (result, other)
        print(" failed: " + result.error if result.error else f" {result.tokens_per_second:.1f} tok/s", flush=True)

    base = results.get("float32", (None,))[0]
    print()
    header = ("format", "load s", "prefill s", "decode tok/s (runs)", "vs fp32", "peak RSS GB", "RSS GB",
              "weights GB", "bits/w", "GB/token", "bw GB/s", "ceiling tok/s", "share", "= fp32 ids", "other load")
    for fmt in formats:
        r, other = results[fmt]
        if r.error:
            rows.append((fmt, "failed: " + r.error) + ("",) * (len(header) - 2))
            continue
        own, ceiling = _ceiling(r, bandwidth)
        speedup = (f"{r.tokens_per_second / base.tokens_per_second:.2f}x"
                   if base is not None and not base.error else "-")
        same = (f"{common_prefix_length(r.new_ids, base.new_ids)}/{len(r.new_ids)}"
                if base is not None and not base.error else "-")
        rows.append((fmt + (" (default)" if fmt == default else ""), f"{r.load_s:.1f}", f"{r.prefill_s:.2f}",
                     f"{r.tokens_per_second:.1f} ({', '.join(f'{t:.1f}' for t in r.runs_tokens_per_second)})",
                     speedup, f"{r.peak_rss_bytes / GIGA:.2f}", f"{r.rss_bytes / GIGA:.2f}",
                     f"{r.weight_bytes / GIGA:.3f}", f"{r.bits_per_weight:.1f}",
                     f"{r.bytes_per_token / GIGA:.3f}", f"{own / GIGA:.1f}", f"{ceiling:.1f}",
                     f"{r.tokens_per_second / ceiling:.0%}", same, f"{other:.2f} cores"))
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths)).rstrip())

    print()
    busy = [fmt for fmt, (_, other) in results.items() if other > 0.1]
    if busy:
        print(f"WARNING: other processes used the CPU while {', '.join(busy)} ran (see 'other load'). With as many "
              "threads as cores, a\nsingle busy core can cut decoding speed several times over: rerun on a quiet "
              "machine (--wait-for-quiet 300 helps).\n")
    ok = [r for r, _ in results.values() if not r.error]
    same_prompt = all(r.prompt_ids == ok[0].prompt_ids for r in ok) if ok else False
    print(f"prompt ids: {len(ok[0].prompt_ids) if ok else 0} per format, identical in every format: {same_prompt}; "
          f"equal to the seed article's: {bool(ok) and ok[0].prompt_ids == SEED_PROMPT_IDS}")
    print(_default_verdict(default, results, bandwidth))
    if args.reply_tokens:
        print(f"first {args.reply_tokens} new tokens of each greedy reply:")
        for r in ok:
            print(f"  {r.format:10} {r.reply!r}")
    print("\nGB/token: every weight once, but one row of the embedding table. ceiling = bw / GB per token; share ="
          "\nmeasured / ceiling. peak RSS includes loading and converting; RSS is what stays. '= fp32 ids': leading new"
          "\nids equal to float32's. 'other load': cores other processes kept busy meanwhile (0 = quiet machine).")

    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"bandwidth_bytes_per_s": bandwidth, "new_tokens": args.new_tokens, "repeats": args.repeats,
                       "results": {fmt: {**asdict(r), "other_load_cores": other}
                                   for fmt, (r, other) in results.items()}}, f, indent=1)
    return 0 if ok and len(ok) == len(formats) else 1


if __name__ == "__main__":
    sys.exit(main())
