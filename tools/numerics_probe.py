"""The numerics probe: does this machine compute what the stored notebooks show? Measured, not guessed from CPU flags.

The stored notebooks print numbers that come out of the model's floating-point arithmetic: generated text, but also
probabilities, logits and counts derived from them. torch's kernels round differently on different CPUs (notebook
15 shows why), so those outputs reproduce on another machine only if its kernels give the same results. The probe
runs, for every weight format the lessons use, what those outputs depend on:

- the prefill: the logits of the first reply token of the seed's English and Chinese prompts (top candidates and the
  log-sum-exp that turns logits into probabilities), and
- a short greedy continuation with ``generate`` (one token at a time, the other kernel shapes),

and compares them with the values committed in ``tools/data/numerics_probe.json`` (measured where the notebooks were
stored, re-measured by ``python -m tools store``). The machine reproduces the reference, or it does not; the verdict
says which format differed and where.

    python -m tools.numerics_probe            # measure here and compare (about 20 s)
    python -m tools.numerics_probe --record   # measure here and write the reference (what `store` does)
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

REFERENCE_FILE = Path(__file__).resolve().parent / "data" / "numerics_probe.json"
FORMATS = ("int4", "bfloat16", "float32")
NEW_TOKENS = 12  # the greedy continuation: enough for decode-step kernels to run, short enough to take seconds
TOP = 10  # candidates recorded per step
# Logits within this of the reference count as the same. The same kernels give bit-identical logits; other kernels
# move a bfloat16 logit by a rounding step (0.03-0.125 near 10-16) and a float32 logit by 1e-6 to 1e-4.
TOLERANCE = 2e-5


def _load(fmt: str):
    import torch

    from helpers import load_model

    if fmt == "int4":
        return load_model("packaged", fast=True)
    if fmt == "bfloat16":
        return load_model("packaged", fast=False)
    if fmt == "float32":
        return load_model("packaged", dtype=torch.float32)
    raise ValueError(f"unknown format {fmt!r}: the probe knows {', '.join(FORMATS)}")


def _prompts() -> dict[str, list[dict]]:
    from helpers import SEED_CHINESE_PROMPT, seed_messages

    return {"seed": seed_messages(), "zh": seed_messages(SEED_CHINESE_PROMPT)}


def measure(formats=FORMATS, progress=None) -> dict:
    """Greedy-decode ``NEW_TOKENS`` tokens of each prompt in each format, keeping each step's top logits."""
    import torch

    from helpers import load_tokenizer

    tokenizer = load_tokenizer("packaged")
    measured = {}
    for fmt in formats:
        if progress:
            progress(fmt)
        model = _load(fmt)
        measured[fmt] = {}
        for name, messages in _prompts().items():
            text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            inputs = tokenizer([text], return_tensors="pt")
            with torch.no_grad():
                out = model.generate(**inputs, do_sample=False, repetition_penalty=1.0, max_new_tokens=NEW_TOKENS,
                                     temperature=None, top_p=None, top_k=None, output_logits=True,
                                     return_dict_in_generate=True)
            steps = []
            for logits in out.logits:
                row = logits[0].float()
                top = row.topk(TOP)
                steps.append({"ids": top.indices.tolist(), "logits": [round(v, 6) for v in top.values.tolist()],
                              "logsumexp": round(torch.logsumexp(row, dim=-1).item(), 6)})
            measured[fmt][name] = {"ids": out.sequences[0, inputs.input_ids.shape[1]:].tolist(), "steps": steps}
        del model
    return measured


@dataclass(frozen=True)
class FormatVerdict:
    """One weight format's result: reproduced, or where it first differed."""

    fmt: str
    reproduced: bool
    where: str = ""  # "seed prompt, step 0 (the prefill): ..." when not reproduced

    def line(self) -> str:
        return f"{self.fmt} reproduces the reference" if self.reproduced else f"{self.fmt} differs: {self.where}"


def _step_name(step: int) -> str:
    return "step 0 (the prefill)" if step == 0 else f"decode step {step}"


def compare_format(fmt: str, measured: dict, reference: dict, tolerance: float = TOLERANCE) -> FormatVerdict:
    """Compare one format's measurement with the reference, prompt by prompt and step by step."""
    for prompt in reference:
        got, want = measured[prompt], reference[prompt]
        for step, (g, w) in enumerate(zip(got["steps"], want["steps"])):
            label = f"{prompt} prompt, {_step_name(step)}"
            if g["ids"][0] != w["ids"][0]:
                return FormatVerdict(fmt, False, f"{label}: greedy token id {g['ids'][0]}, reference "
                                                 f"{w['ids'][0]}")
            deltas = [abs(a - b) for a, b in zip(g["logits"], w["logits"])]
            deltas.append(abs(g["logsumexp"] - w["logsumexp"]))
            worst = max(deltas)
            if worst > tolerance or g["ids"] != w["ids"]:
                rank = deltas.index(worst)
                what = ("log-sum-exp" if rank == len(deltas) - 1 else f"logit of candidate {rank + 1} "
                        f"(id {w['ids'][rank]})")
                order = "" if g["ids"] == w["ids"] else "; the candidates come in another order"
                return FormatVerdict(fmt, False, f"{label}: {what} off by {worst:.2g} (tolerance "
                                                 f"{tolerance:g}){order}")
        if got["ids"] != want["ids"]:
            return FormatVerdict(fmt, False, f"{prompt} prompt: greedy ids differ ({got['ids']} vs {want['ids']})")
    return FormatVerdict(fmt, True)


def reference() -> dict:
    """The committed reference measurement (``tools/data/numerics_probe.json``)."""
    if not REFERENCE_FILE.exists():
        raise SystemExit(f"{REFERENCE_FILE} is missing: run `python -m tools.numerics_probe --record` on the machine "
                         "that stores the notebooks.")
    return json.loads(REFERENCE_FILE.read_text(encoding="utf-8"))


def verdicts(measured: dict, recorded: dict | None = None) -> list[FormatVerdict]:
    recorded = reference() if recorded is None else recorded
    return [compare_format(fmt, measured[fmt], recorded["formats"][fmt]) for fmt in recorded["formats"]]


def record(measured: dict) -> None:
    """Write ``measured`` as the new reference, atomically, with the machine it came from."""
    from helpers.numerics import avx_flags, torch_capability
    from helpers.model.paths import atomic_write_text

    import torch
    import transformers

    data = {
        "what": (f"Greedy decoding ({NEW_TOKENS} new tokens, repetition_penalty=1.0) of the packaged model on the "
                 f"seed's English and Chinese prompts: new ids, and per step the top {TOP} logits and the "
                 "log-sum-exp of all logits. Written by `python -m tools.numerics_probe --record` "
                 "(run by `python -m tools store`)."),
        "measured_on": {"avx_flags": avx_flags(), "torch_capability": torch_capability(),
                        "torch": torch.__version__, "transformers": transformers.__version__,
                        "threads": torch.get_num_threads()},
        "formats": measured,
    }
    REFERENCE_FILE.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(REFERENCE_FILE, json.dumps(data, indent=1, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    measured = measure(progress=lambda fmt: print(f"[probe] {fmt} ...", file=sys.stderr, flush=True))
    if "--record" in argv:
        record(measured)
        print(f"[probe] recorded {REFERENCE_FILE.name}", file=sys.stderr)
        return 0
    result = verdicts(measured)
    if "--json" in argv:
        print(json.dumps([asdict(v) for v in result]))
    else:
        for v in result:
            print(v.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
