"""Loading the chosen model and tokenizer the way the seed article does, and saying what was loaded."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import asdict, dataclass

from helpers.errors import WorkbookError
from helpers.model.sources import ModelSource, chosen_source, model_path, parse_model_spec

# WORKBOOK_FAST=0 makes load_model() keep the weights as saved (see fast_by_default).
FAST_VARIABLE = "WORKBOOK_FAST"
_FAST_ON = ("1", "true", "yes", "on", "")
_FAST_OFF = ("0", "false", "no", "off")


def _as_source(source: ModelSource | str | None) -> ModelSource:
    if source is None:
        return chosen_source()
    return parse_model_spec(source) if isinstance(source, str) else source


@contextmanager
def _quiet_weights_bar():
    """Hide transformers' per-tensor 'Loading weights' bar: from a local folder it finishes in a blink."""
    from transformers.utils import logging

    was_enabled = logging.is_progress_bar_enabled()
    logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            logging.enable_progress_bar()


def load_tokenizer(source: ModelSource | str | None = None):
    """``AutoTokenizer.from_pretrained`` on the chosen model's folder."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(model_path(_as_source(source)), trust_remote_code=False)


def fast_by_default() -> bool:
    """Whether :func:`load_model` quantizes by default: yes, unless ``WORKBOOK_FAST`` is ``0`` (or ``false``, ``no``,
    ``off``) or torchao is not installed."""
    import os

    from helpers.model.formats import torchao_available

    value = os.environ.get(FAST_VARIABLE, "1").strip().lower()
    if value not in _FAST_ON + _FAST_OFF:
        raise WorkbookError(f"{FAST_VARIABLE}={value!r} is not understood: set it to 1 (int4 weights, the default) "
                            "or 0 (keep the weights as they were saved).")
    return value in _FAST_ON and torchao_available()


def load_model(source: ModelSource | str | None = None, dtype="auto", fast: bool | None = None):
    """``AutoModelForCausalLM.from_pretrained(..., dtype="auto", device_map="auto")`` on the chosen model's folder,
    then, on a CPU, the workbook's faster generation path (:func:`helpers.model.formats.speed_up`): every linear layer's
    weights become int4 (torchao, weight-only, groups of 32), so that ``generate`` reads about a third of the bytes
    per token and decodes over 2x faster than bfloat16 (notebook 30 measures it).

    ``fast=False`` (or ``WORKBOOK_FAST=0``) keeps the weights exactly as saved. Passing a ``dtype`` other than
    ``"auto"`` (``torch.float32``, say) also keeps them unquantized, in that format, unless ``fast=True``.
    """
    from transformers import AutoModelForCausalLM

    from helpers.model.formats import speed_up, torchao_available

    if fast and not torchao_available():
        raise WorkbookError("fast=True needs torchao, which is not installed: run `python3 bootstrap.py which` "
                            "to install the workbook's pinned packages, or pass fast=False.")
    path = model_path(_as_source(source))
    with _quiet_weights_bar():
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, device_map="auto", trust_remote_code=False)
    if fast is None:
        fast = dtype == "auto" and model.device.type == "cpu" and fast_by_default()
    return speed_up(model, path) if fast else model


def load_model_and_tokenizer(source: ModelSource | str | None = None):
    """The model and its tokenizer, from the same source."""
    source = _as_source(source)
    return load_model(source), load_tokenizer(source)


@dataclass(frozen=True)
class ModelInfo:
    """What is loaded: which model, from which source, in which dtype, on which device."""

    model: str
    source: str
    dtype: str
    weights: str
    device: str
    parameters: int

    def to_frame(self):
        import pandas as pd

        rows = asdict(self)
        rows["parameters"] = f"{self.parameters:,}"
        return pd.DataFrame({"value": rows})


def weights_format(model) -> str:
    """How the linear layers' weights are stored: a dtype, or the quantized format :func:`load_model` made."""
    from helpers.model.formats import INT4_GROUP_SIZE

    dtype = str(model.dtype).removeprefix("torch.")
    kinds = {type(m.weight).__name__ for m in model.modules() if type(m).__name__ == "Linear"}
    if any("Int4" in kind for kind in kinds):
        return f"int4 weight-only, groups of {INT4_GROUP_SIZE} (torchao); embeddings {dtype}"
    if any("Int8" in kind or "AffineQuantized" in kind for kind in kinds):
        return f"int8 weight-only (torchao); embeddings {dtype}"
    return f"{dtype}, as loaded"


def describe_model(model, source: ModelSource | str | None = None) -> ModelInfo:
    """A :class:`ModelInfo` for a loaded model (``source`` defaults to the workbook's chosen one)."""
    source = _as_source(source)
    return ModelInfo(
        model=source.description,
        source=source.spec,
        dtype=str(model.dtype).removeprefix("torch."),
        weights=weights_format(model),
        device=str(model.device),
        parameters=sum(p.numel() for p in model.parameters()),
    )
