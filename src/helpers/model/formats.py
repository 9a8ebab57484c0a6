"""The workbook's faster generation path on a CPU: int4 weight-only linear layers (torchao), and the other weight
formats the benchmark compares.

:func:`helpers.load_model` calls :func:`speed_up` by default on a CPU; ``benchmarks/decode_benchmark.py`` measures
what each format costs and gains, and notebook 30 teaches why (and writes the int4 ``quantize_`` call out).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

TRANSFORMERS_FORMATS = ("float32", "bfloat16", "int8", "int4")

# The fastest maintained path measured with benchmarks/decode_benchmark.py on this project's CPUs
# (docs/performance.md); speed_up() gives it, and helpers.load_model() applies it by default on a CPU.
FAST_FORMAT = "int4"
# Groups of 32 weights share a scale and a zero point (5 bits a weight in all). Measured on the seed prompt against
# float32: groups of 128 agreed on the next token 79% of the time, groups of 32 91% (bfloat16: 97%), for about 3%
# less speed.
INT4_GROUP_SIZE = 32


class _DropMessages(logging.Filter):
    """A logging filter that drops records whose message starts with one of the given texts."""

    def __init__(self, *starts: str):
        super().__init__()
        self.starts = starts

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.starts)


def quiet_torchao() -> None:
    """Drop the start-up warnings torchao prints on a CPU-only torch, and nothing else: one "Failed to load" per
    CUDA kernel library it ships, and torch's note that the enums it registers no longer need registering.

    transformers imports torchao inside ``from_pretrained`` whenever torchao is installed, so these warnings would
    otherwise appear under any cell that loads a model. ``%load_ext helpers`` calls this; calling it again does
    nothing.
    """
    for name, starts in (("torchao", ("Failed to load",)), ("torch.utils._pytree", ("%s is an Enum subclass",))):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropMessages) for f in logger.filters):
            logger.addFilter(_DropMessages(*starts))



def torchao_available() -> bool:
    """Whether torchao can be imported (the int8 and int4 formats need it)."""
    import importlib.util

    return importlib.util.find_spec("torchao") is not None


def to_format(model, fmt: str):
    """Convert a loaded transformers model (in place where possible) to one of :data:`TRANSFORMERS_FORMATS`.

    ``int8`` and ``int4`` quantize the weights of every linear layer (the LM head included) with torchao, weight-only:
    activations stay bfloat16, and each matrix multiply reads the small integers and their scales.
    """
    import torch

    if fmt == "float32":
        return model.to(torch.float32)
    if fmt == "bfloat16":
        return model.to(torch.bfloat16)
    if fmt in ("int8", "int4"):
        model = model.to(torch.bfloat16)
        from torchao.prototype.quantization.int4.inference_workflow import PrototypeInt4WeightOnlyConfig
        from torchao.quantization import Int8WeightOnlyConfig, quantize_

        config = (Int8WeightOnlyConfig() if fmt == "int8"
                  else PrototypeInt4WeightOnlyConfig(group_size=INT4_GROUP_SIZE))
        quantize_(model, config)
        _give_back_memory(model)
        return model
    raise ValueError(f"unknown format {fmt!r}; the transformers formats are {', '.join(TRANSFORMERS_FORMATS)}")


def _give_back_memory(model) -> None:
    """After quantizing: copy the weights that stayed as they were (embedding table, norms, biases) out of the
    memory-mapped checkpoint, so that the mapping can close, and hand freed memory back to the system. The int4
    model then keeps under 1 GB resident instead of about 2.8 GB."""
    import gc

    import torch

    for parameter in model.parameters():
        if type(parameter.data) is torch.Tensor:  # a plain tensor, not a quantized subclass
            parameter.data = parameter.data.clone()
    gc.collect()
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):  # not glibc (musl, say)
            pass


def speed_up(model, folder=None):
    """Return ``model`` converted to the fastest maintained CPU path measured for this workbook (:data:`FAST_FORMAT`):
    int4 weight-only quantization of every linear layer with torchao, bfloat16 activations.

    The model still answers through ``model.generate``; greedy replies stay fluent but leave float32's words early
    (after 9 tokens on the seed prompt; bfloat16's keep all of the first 128). :func:`helpers.load_model` calls this
    by default on a CPU, with the model's ``folder``: quantizing takes 10 to 20 s on two cores, so the int4 weights are
    kept in :func:`int4_cache_file` and read back (about a second, the same numbers) by every later notebook. Needs
    ``torchao``, one of the workbook's pinned packages.
    """
    if folder is None:
        return to_format(model, FAST_FORMAT)
    import torch

    cache = int4_cache_file(folder)
    weights = _read_int4(cache, model)
    if weights is None:
        model = to_format(model, FAST_FORMAT)
        _write_int4(cache, {name: value for name, value in model.state_dict().items() if type(value) is not torch.Tensor})
        return model
    model = model.to(torch.bfloat16)
    model.load_state_dict(weights, strict=False, assign=True)
    _give_back_memory(model)
    return model


def int4_cache_file(folder) -> Path:
    """Where :func:`speed_up` keeps the int4 weights made from the model in ``folder``. The name changes with the model's
    files, the torch and torchao versions, the group size and the instruction set torch's kernels use here (int4
    weights are packed for the CPU they run on), so a file is only read back where it fits."""
    import hashlib

    import torch
    import torchao

    from helpers.model.paths import model_files_dir

    folder = Path(folder).resolve()
    files = sorted((f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in folder.glob("*.safetensors"))
    key = repr((files, torch.__version__, torchao.__version__, INT4_GROUP_SIZE,
                torch.backends.cpu.get_cpu_capability()))
    model_key = hashlib.sha256(str(folder).encode()).hexdigest()[:12]
    return model_files_dir() / "int4" / f"{model_key}-{hashlib.sha256(key.encode()).hexdigest()[:12]}.pt"


def _int4_class():
    from torchao.prototype.quantization.int4 import Int4OpaqueTensor

    return Int4OpaqueTensor


def _read_int4(cache: Path, model) -> dict | None:
    """The int4 weights kept in ``cache``, or None when there are none that fit ``model`` (none yet, or unreadable:
    then they are made again and the file replaced)."""
    import torch

    if not cache.is_file():
        return None
    try:
        with torch.serialization.safe_globals([_int4_class()]):  # weights only: no code runs while reading
            weights = torch.load(cache, mmap=True, weights_only=True)
    except Exception:  # a file cut short or from another torchao: quantize again instead
        return None
    linear = {f"{name}.weight" for name, module in model.named_modules() if isinstance(module, torch.nn.Linear)}
    if set(weights) != linear or not all(isinstance(w, _int4_class()) for w in weights.values()):
        return None
    return weights


def _write_int4(cache: Path, weights: dict) -> None:
    """Save ``weights`` to ``cache`` through a temporary file and a rename (a reader never sees half a file), and remove
    the same model's older files. A cache folder that cannot be written only costs the next load its 10 to 20 s."""
    import torch

    from helpers.model.paths import atomic_path

    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(cache) as temporary:
            torch.save(weights, temporary)
        for older in cache.parent.glob(f"{cache.name.split('-')[0]}-*.pt"):
            if older != cache:
                older.unlink(missing_ok=True)
    except OSError:
        pass
