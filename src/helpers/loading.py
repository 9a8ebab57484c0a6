"""Loading the chosen model and tokenizer the way the seed article does, and saying what was loaded."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import asdict, dataclass

from .sources import ModelSource, chosen_source, model_path, parse_model_spec


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


def load_model(source: ModelSource | str | None = None, dtype="auto"):
    """``AutoModelForCausalLM.from_pretrained(..., dtype="auto", device_map="auto")`` on the chosen model's folder.

    Pass ``dtype=torch.float32`` (say) to load the weights in another format than the one they were saved in.
    """
    from transformers import AutoModelForCausalLM

    path = model_path(_as_source(source))
    with _quiet_weights_bar():
        return AutoModelForCausalLM.from_pretrained(path, dtype=dtype, device_map="auto", trust_remote_code=False)


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
    device: str
    parameters: int

    def to_frame(self):
        import pandas as pd

        rows = asdict(self)
        rows["parameters"] = f"{self.parameters:,}"
        return pd.DataFrame({"value": rows})


def describe_model(model, source: ModelSource | str | None = None) -> ModelInfo:
    """A :class:`ModelInfo` for a loaded model (``source`` defaults to the workbook's chosen one)."""
    source = _as_source(source)
    return ModelInfo(
        model=source.description,
        source=source.spec,
        dtype=str(model.dtype).removeprefix("torch."),
        device=str(model.device),
        parameters=sum(p.numel() for p in model.parameters()),
    )
