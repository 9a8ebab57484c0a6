"""Which of torch's CPU kernels do the arithmetic, and whether this machine's greedy text matches the stored notebooks.

A matrix product adds up hundreds of products. torch ships each kernel several times, compiled for several
instruction sets (scalar, AVX2, AVX-512), and each version adds the products in its own order and with its own
vector width. Floating-point addition is not associative, so the versions round differently in the last bits; greedy
decoding takes the argmax of the logits, and where the two best candidates are nearly tied those last bits can
change the chosen token, and every token after it.

Measured for the packaged model (``helpers/data/reference_greedy.json``; torch 2.13.0, transformers 5.24.0, torchao
0.18.0), greedy ids of int4, bfloat16 and float32 on two prompts:

- torch's **AVX-512** kernels (on a CPU with AVX-512 BF16) and its **scalar** kernels (``ATEN_CPU_CAPABILITY=default``
  on an AVX2-only CPU) give the same ids for all three formats;
- torch's **AVX2** kernels give other ids for int4 (from token 9 of the seed reply) and bfloat16 (from token 31 of the
  Chinese reply); float32 agrees everywhere;
- on an AVX-512 machine, asking for the AVX2 level (``ATEN_CPU_CAPABILITY=avx2``) does *not* reproduce an AVX2
  machine's ids, and neither do oneDNN's and MKL's instruction-set limits (``ONEDNN_MAX_CPU_ISA``,
  ``MKL_ENABLE_INSTRUCTIONS``): some of torch's choices follow the CPU's real features, not the requested level.

Hence the **reference setting**: torch's AVX-512 kernels on a CPU with AVX-512 BF16 (no variable to set: it is what
torch picks there), its scalar kernels everywhere else on x86-64. The stored notebooks are executed under it
(``python -m helpers store``), and ``make test`` compares generated text word for word when it runs under it.

Scalar kernels cost speed: about 12-15x for int4 decoding. So ``make test`` picks a **mode** (``WORKBOOK_NUMERICS``):

- ``reference``: apply the reference setting and compare every stored output, generated text included;
- ``native``: torch's own choice of kernels; outputs that are generated text (cells tagged ``generated-text``) are
  executed and must pass their own asserts (invariants that hold on any machine), but their words are not compared;
- ``auto`` (the default): ``reference`` where it costs nothing (AVX-512 BF16), ``native`` elsewhere.

``make lab`` kernels always run natively: on an AVX-512 BF16 CPU that *is* the reference setting, and elsewhere a
learner gets torch's fast kernels and may read other words than the stored notebook (notebook 15 shows why).
"""

from __future__ import annotations

import json
import os
import platform
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from .catalogue import text
from .errors import WorkbookError

MODE_VARIABLE = "WORKBOOK_NUMERICS"
MODES = ("auto", "reference", "native")
# Set by `python -m helpers test` for the pytest run (and the kernels nbval starts), so the mode is resolved once.
RESOLVED_VARIABLE = "WORKBOOK_NUMERICS_RESOLVED"
REASON_VARIABLE = "WORKBOOK_NUMERICS_REASON"
CAPABILITY_VARIABLE = "ATEN_CPU_CAPABILITY"
# The notebook cell tag for outputs that are generated text (or counts and ids derived from it).
GENERATED_TAG = "generated-text"

# The CPU features of the machine kind whose native kernels define the reference (see the module docstring).
AVX512_REFERENCE_FLAGS = frozenset({"avx512f", "avx512bw", "avx512vl", "avx512_bf16"})


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


def is_x86_64(machine: str | None = None) -> bool:
    return (machine or platform.machine()).lower() in ("x86_64", "amd64")


def reference_environment(flags: frozenset[str], machine: str) -> dict[str, str] | None:
    """The environment variables that give the reference setting on this CPU, or ``None`` where it cannot hold.

    ``{}`` on a CPU with AVX-512 BF16 (torch's own choice is the reference), ``{"ATEN_CPU_CAPABILITY": "default"}``
    on any other x86-64 CPU, ``None`` elsewhere (arm64, say: other kernels altogether).
    """
    if not is_x86_64(machine):
        return None
    if AVX512_REFERENCE_FLAGS <= flags:
        return {}
    return {CAPABILITY_VARIABLE: "default"}


@dataclass(frozen=True)
class NumericsPlan:
    """What a test run (or a re-execution of the notebooks) does about the CPU's rounding, and why."""

    mode: str  # "reference" or "native"
    environment: dict[str, str] = field(default_factory=dict)  # variables to set for the kernels
    reason: str = ""  # in the language of the process that planned it (notebook 00 shows it)

    @property
    def compares_generated_text(self) -> bool:
        return self.mode == "reference"

    def summary(self) -> str:
        """One line for make test's header (developers read it: English, with the reason as planned)."""
        settings = " ".join(f"{k}={v}" for k, v in self.environment.items()) or "torch's own kernel choice"
        what = ("generated text compared word for word" if self.compares_generated_text
                else f"cells tagged {GENERATED_TAG!r} run their own invariant asserts, their words are not compared")
        return f"numerics: {self.mode} ({settings}); {what}. Why: {self.reason}"


def plan_numerics(environ: dict[str, str] | None = None, flags: frozenset[str] | None = None,
                  machine: str | None = None) -> NumericsPlan:
    """Resolve ``WORKBOOK_NUMERICS`` (``auto``, ``reference`` or ``native``) for this machine into a plan."""
    environ = os.environ if environ is None else environ
    flags = cpu_flags() if flags is None else flags
    machine = machine or platform.machine()
    wanted = environ.get(MODE_VARIABLE, "auto").strip().lower() or "auto"
    if wanted not in MODES:
        raise WorkbookError(text("numerics.unknown_mode", variable=MODE_VARIABLE, value=repr(wanted)))
    where = text("numerics.where", machine=machine, flags=avx_flags(flags))
    reference = reference_environment(flags, machine)
    user_level = environ.get(CAPABILITY_VARIABLE)

    if wanted == "native":
        return NumericsPlan("native", {}, text("numerics.native_asked", variable=MODE_VARIABLE, where=where))
    if reference is None:
        if wanted == "reference":
            raise WorkbookError(text("numerics.reference_impossible", variable=MODE_VARIABLE, where=where))
        return NumericsPlan("native", {}, text("numerics.not_x86", where=where))
    if wanted == "reference":
        return NumericsPlan("reference", reference, text("numerics.reference_asked", variable=MODE_VARIABLE,
                                                         where=where))
    # auto
    if user_level is not None and reference.get(CAPABILITY_VARIABLE) != user_level:
        return NumericsPlan("native", {}, text("numerics.level_set", capability=CAPABILITY_VARIABLE,
                                               level=user_level))
    if reference:
        return NumericsPlan("native", {}, text("numerics.scalar_slow", where=where, capability=CAPABILITY_VARIABLE,
                                               variable=MODE_VARIABLE))
    return NumericsPlan("reference", {}, text("numerics.avx512", where=where))


def apply(plan: NumericsPlan, environ: dict | None = None) -> None:
    """Write the plan into an environment (``os.environ`` by default) so that child processes, the Jupyter kernels
    nbval starts included, inherit it. It must happen before torch is imported in those processes."""
    environ = os.environ if environ is None else environ
    environ.update(plan.environment)
    environ[RESOLVED_VARIABLE] = plan.mode
    environ[REASON_VARIABLE] = plan.reason


def current_plan() -> NumericsPlan:
    """The plan a parent process resolved (``python -m helpers test``), else one resolved now."""
    mode = os.environ.get(RESOLVED_VARIABLE)
    if mode in ("reference", "native"):
        environment = {}
        if mode == "reference" and CAPABILITY_VARIABLE in os.environ:
            environment = {CAPABILITY_VARIABLE: os.environ[CAPABILITY_VARIABLE]}
        return NumericsPlan(mode, environment, os.environ.get(REASON_VARIABLE, ""))
    return plan_numerics()


def torch_capability() -> str:
    """The instruction-set level torch's own kernels run at in this process (``AVX512``, ``AVX2``, ``DEFAULT``...)."""
    import torch

    return torch.backends.cpu.get_cpu_capability()


def check_capability(plan: NumericsPlan, capability: str) -> NumericsPlan:
    """Demote a reference plan to native if torch did not pick the level the reference needs in this process."""
    if plan.mode != "reference":
        return plan
    expected = "DEFAULT" if plan.environment.get(CAPABILITY_VARIABLE) == "default" else "AVX512"
    if capability.upper() == expected:
        return plan
    return NumericsPlan("native", {}, text("numerics.demoted", expected=expected, capability=capability))


@lru_cache(maxsize=1)
def reference_ids() -> dict:
    """The committed greedy ids (``helpers/data/reference_greedy.json``): the reference setting's and an AVX2
    machine's native ones, for int4, bfloat16 and float32 on the seed's English and Chinese prompts."""
    text = resources.files("helpers").joinpath("data/reference_greedy.json").read_text(encoding="utf-8")
    return json.loads(text)


def first_difference(a: list[int], b: list[int]) -> int | None:
    """The first position where two id lists differ (the shorter one's length if one is a prefix of the other), or
    ``None`` when they are equal."""
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return None if len(a) == len(b) else min(len(a), len(b))
