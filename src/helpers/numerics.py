"""Why another CPU can print other numbers: the CPU's flags, torch's kernel level, and the committed greedy replies of
two kinds of machine (notebook 15).

A matrix product adds up hundreds of products. torch ships each kernel several times, compiled for several
instruction sets (scalar, AVX2, AVX-512), and each version adds the products in its own order and with its own
vector width. Floating-point addition is not associative, so the versions round differently in the last bits; greedy
decoding takes the argmax of the logits, and where the two best candidates are nearly tied those last bits can
change the chosen token, and every token after it. Probabilities move too, in the second or third decimal.

``helpers/data/reference_greedy.json`` holds greedy ids of int4, bfloat16 and float32 on two prompts, measured on an
Intel Xeon with AMX and on an AVX2-only EPYC forced to scalar kernels, which agree (``reference``), and on that EPYC
with its AVX2 kernels (``avx2_native``). Whether a machine reproduces
the stored notebooks is measured, not guessed from its flags: ``make test`` runs a probe first (``tools/``).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources


def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags as Linux lists them in /proc/cpuinfo (empty where there is no such file)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def avx_flags(flags: frozenset[str] | None = None) -> str:
    """The AVX flags, as ``grep -o 'avx[0-9a-z_]*' /proc/cpuinfo | sort -u`` prints them, on one line."""
    flags = cpu_flags() if flags is None else flags
    return " ".join(sorted(f for f in flags if f.startswith("avx"))) or "none"


def torch_capability() -> str:
    """The instruction-set level torch's own kernels run at in this process (``AVX512``, ``AVX2``, ``DEFAULT``...)."""
    import torch

    return torch.backends.cpu.get_cpu_capability()


@lru_cache(maxsize=1)
def reference_ids() -> dict:
    """The committed greedy ids (``helpers/data/reference_greedy.json``): the reference setting's and an AVX2
    machine's native ones, for int4, bfloat16 and float32 on the seed's English and Chinese prompts."""
    text = resources.files("helpers").joinpath("data/reference_greedy.json").read_text(encoding="utf-8")
    return json.loads(text)


def first_difference(a: list[int], b: list[int]) -> int | None:
    """The first position where two id lists differ (the shorter one's length if one is a prefix of the other), or
    ``None`` when they are equal. Notebooks 11 and 15, the exercise checks and the kept conversation cache use it."""
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return None if len(a) == len(b) else min(len(a), len(b))
