"""Time to first token over a five-turn conversation, with and without the key/value cache kept between turns,
and prefill speed of a long prompt for each weight format.

    .venv/bin/python benchmarks/ttft_benchmark.py                  # both parts (about 3 minutes on 2 quiet cores)
    .venv/bin/python benchmarks/ttft_benchmark.py --skip-prefill   # only the turn-by-turn table
    .venv/bin/python benchmarks/ttft_benchmark.py --wait-for-quiet 300

Part 1 has a conversation of five questions, greedy, with replies of up to --reply-tokens tokens, on the
workbook's default model (what ``load_model()`` gives). At each turn the time to first token is measured both ways,
back to back, so that both see the same load on the machine:

- *whole prompt*: ``generate(max_new_tokens=1)`` reads the whole conversation again, as notebooks 06-14 do;
- *kept cache*: a :class:`helpers.chat.conversation_cache.ConversationCache` keeps the key/value cache from the turns before,
  so ``generate`` reads only the tokens that are new (this turn's question, and the end of the previous reply);
  the time runs from the ``generate`` call to the first call of a ``StoppingCriteria`` (once the first new token
  is chosen). Tokenizing is not included in either.

Part 2 times one forward pass over a prompt of --prefill-tokens tokens (the prefill a turn pays without the kept
cache) and over --short-tokens tokens (about what one turn adds with it), for each weight format, each in a fresh
process: median of --repeats runs after a warm-up.

Timings move with any other work on the machine (2 cores: one busy core slows everything down several times), so
the script prints how many cores other processes kept busy while it ran.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: import tools from the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.quiet import OtherLoad, wait_for_quiet  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")

QUESTIONS = [
    "Give me a short introduction to large language model.",
    "Now say it in one sentence, in Chinese.",
    "What is a token, and how many tokens does a short English sentence take?",
    "Why do models have a maximum context length?",
    "Summarise our conversation so far in three bullet points.",
]


def interleaved_turns(model, tokenizer, reply_tokens: int) -> list[dict]:
    """Five greedy turns; at each, the time to first token both ways, measured back to back (same machine load).

    *whole*: ``generate(max_new_tokens=1)`` on the whole prompt, no cache (what every turn costs without the kept
    cache); *kept*: the turn itself, generated with the :class:`ConversationCache` of the turns before.

    Not :func:`helpers.chat.conversation_cache.time_turns` (notebook 14's): that one times a whole conversation one
    way, so the two ways of one turn would be a whole conversation apart (under another load, on replies that can
    part), and it cannot start from another turn's messages and cache.
    """
    import torch
    from transformers import StoppingCriteriaList

    from helpers import SEED_SYSTEM_PROMPT
    from helpers.chat import GREEDY, build_inputs
    from helpers.chat.conversation_cache import ConversationCache, FirstTokenTimer

    messages, kept, rows = [{"role": "system", "content": SEED_SYSTEM_PROMPT}], ConversationCache(model), []
    for turn, question in enumerate(QUESTIONS, start=1):
        messages.append({"role": "user", "content": question})
        inputs = build_inputs(messages, tokenizer, model.device)
        started = time.perf_counter()
        with torch.no_grad():
            model.generate(**inputs, max_new_tokens=1, **GREEDY)
        whole = time.perf_counter() - started
        reuse = kept.prepare(inputs.input_ids)
        timer = FirstTokenTimer()
        started = time.perf_counter()
        with torch.no_grad():
            output = model.generate(**inputs, cache=kept.cache, max_new_tokens=reply_tokens, **GREEDY,
                                    stopping_criteria=StoppingCriteriaList([timer]))
        kept.update(output)
        new_ids = output[0, inputs.input_ids.shape[1]:].tolist()
        messages.append({"role": "assistant", "content": tokenizer.decode(new_ids, skip_special_tokens=True)})
        rows.append({"turn": turn, "prompt tokens": reuse.prompt_tokens, "whole": whole, "read": reuse.computed,
                     "kept": timer.at - started})
    return rows


def ttft_table(reply_tokens: int) -> None:
    import torch

    from helpers import load_model_and_tokenizer
    from helpers.model.loading import weights_format

    model, tokenizer = load_model_and_tokenizer()
    print(f"model weights: {weights_format(model)}; torch threads: {torch.get_num_threads()}")
    interleaved_turns(model, tokenizer, reply_tokens=2)  # warm-up
    load = OtherLoad()
    rows = interleaved_turns(model, tokenizer, reply_tokens=reply_tokens)
    other = load.cores()
    print(f"\nTime to first token per turn (greedy, replies of up to {reply_tokens} tokens; both ways measured back "
          f"to back at each turn; other load {other:.2f} cores):\n")
    print("| turn | prompt tokens | whole prompt: read | TTFT | vs turn 1 | kept cache: read | TTFT | vs turn 1 |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['turn']} | {row['prompt tokens']} | {row['prompt tokens']} | {row['whole']:.2f} s "
              f"| {row['whole'] / rows[0]['whole']:.2f}x | {row['read']} | {row['kept']:.2f} s "
              f"| {row['kept'] / rows[0]['kept']:.2f}x |")
    ratio = rows[-1]["kept"] / rows[0]["kept"]
    print(f"\nWith the kept cache, turn {len(rows)} took {ratio:.2f}x turn 1's time to first token (target 1.5x: "
          f"{'met' if ratio <= 1.5 else 'missed'}); without it {rows[-1]['whole'] / rows[0]['whole']:.2f}x.")


def prefill_one(fmt: str, lengths: list[int], repeats: int) -> dict:
    """In this process: load the model in ``fmt`` and time one forward pass over prompts of ``lengths`` tokens."""
    import torch

    from helpers import load_model, load_tokenizer
    from helpers.model.formats import to_format

    tokenizer = load_tokenizer()
    model = load_model(fast=False) if fmt != "int4" else load_model()
    if fmt != "int4":
        model = to_format(model, fmt)
    text = " ".join(QUESTIONS) * 40
    ids = tokenizer(text, return_tensors="pt").input_ids
    result = {"format": fmt}
    with torch.no_grad():
        model(input_ids=ids[:, :16])  # warm-up
        for length in lengths:
            times = []
            for _ in range(repeats):
                started = time.perf_counter()
                model(input_ids=ids[:, :length])
                times.append(time.perf_counter() - started)
            result[length] = statistics.median(times)
    return result


def prefill_table(formats: list[str], lengths: list[int], repeats: int) -> None:
    rows, load = [], OtherLoad()
    for fmt in formats:
        command = [sys.executable, __file__, "--prefill-format", fmt, "--repeats", str(repeats),
                   "--prefill-lengths", ",".join(map(str, lengths))]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"{fmt}: failed\n{done.stderr[-2000:]}")
            continue
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    other = load.cores()
    print(f"\nPrefill: one forward pass over the prompt, median of {repeats} after a warm-up, each format in a fresh "
          f"process (other load {other:.2f} cores):\n")
    header = " | ".join(f"{n} tokens | tok/s" for n in lengths)
    print(f"| format | {header} |")
    print("|---|" + "---|---|" * len(lengths))
    for row in rows:
        cells = " | ".join(f"{row[str(n)]:.2f} s | {n / row[str(n)]:.0f}" for n in lengths)
        print(f"| {row['format']} | {cells} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reply-tokens", type=int, default=64, help="max_new_tokens of each reply (default 64)")
    parser.add_argument("--formats", default="int4,bfloat16,float32", help="formats for the prefill table")
    parser.add_argument("--prefill-lengths", default="300,50", help="prompt lengths to prefill (default 300,50)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-prefill", action="store_true")
    parser.add_argument("--skip-ttft", action="store_true")
    parser.add_argument("--wait-for-quiet", type=float, default=0, metavar="SECONDS")
    parser.add_argument("--prefill-format", help=argparse.SUPPRESS)  # internal: one format, in a child process
    args = parser.parse_args(argv)
    os.environ.setdefault("WORKBOOK_MODEL", "packaged")
    lengths = [int(n) for n in args.prefill_lengths.split(",")]
    if args.prefill_format:
        print(json.dumps(prefill_one(args.prefill_format, lengths, args.repeats)))
        return 0
    from helpers.model.formats import quiet_torchao

    quiet_torchao()
    if args.wait_for_quiet and not wait_for_quiet(args.wait_for_quiet):
        print(f"(the machine was still busy after {args.wait_for_quiet:.0f} s of waiting)")
    if not args.skip_ttft:
        ttft_table(args.reply_tokens)
    if not args.skip_prefill:
        prefill_table(args.formats.split(","), lengths, args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
