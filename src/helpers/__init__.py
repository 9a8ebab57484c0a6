"""Helpers for the Qwen Chat Workbook: model sources and loading, messages, tables and rendering.

The notebooks import what they need from here, so each lesson stays short. ``help(helpers.<name>)`` explains any of
them.
"""

from . import fastpath  # noqa: F401  (importing it silences torchao's start-up warnings in every from_pretrained)
from .errors import MessagesError, ModelSourceError, PackagedModelError, ServerError, WorkbookError
from .loading import ModelInfo, describe_model, fast_by_default, load_model, load_model_and_tokenizer, load_tokenizer
from .messages import ROLES, validate_messages
from .seed import SEED_CHINESE_PROMPT, SEED_MODEL, SEED_PROMPT, SEED_PROMPT_IDS, SEED_SYSTEM_PROMPT, seed_messages
from .sources import ModelSource, chosen_source, model_path, parse_model_spec

__all__ = [
    "MessagesError", "ModelSourceError", "PackagedModelError", "ServerError", "WorkbookError",
    "ModelInfo", "describe_model", "fast_by_default", "load_model", "load_model_and_tokenizer", "load_tokenizer",
    "ROLES", "validate_messages",
    "SEED_CHINESE_PROMPT", "SEED_MODEL", "SEED_PROMPT", "SEED_PROMPT_IDS", "SEED_SYSTEM_PROMPT", "seed_messages",
    "ModelSource", "chosen_source", "model_path", "parse_model_spec",
]

# Inside a Jupyter kernel, a NameError for a variable that an earlier cell defines gets a hint to run the cells
# above (see helpers.kernel_hints); outside a kernel this does nothing.
from . import kernel_hints as _kernel_hints  # noqa: E402

_kernel_hints.install()
