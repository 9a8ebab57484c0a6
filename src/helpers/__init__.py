"""The Qwen Chat Workbook's helpers: what the lessons import, grouped like the pipeline.

* :mod:`helpers.model`: where the weights come from and how they load;
* :mod:`helpers.chat`: messages, generation, stepping, sampling, conversation;
* :mod:`helpers.display`: the tables and highlighted text the lessons show;
* one module per later lesson: :mod:`~helpers.widget` (20), :mod:`~helpers.perf` (30), :mod:`~helpers.serving` (40),
  :mod:`~helpers.numerics` (15); :mod:`~helpers.exercises` checks every lesson's "Try it".

Importing ``helpers`` changes nothing and loads nothing heavy: each name below loads its module on first use.
``%load_ext helpers`` (every lesson's first line) switches on the notebook conveniences: see
:func:`load_ipython_extension`.
"""

import importlib

_EXPORTS = {
    "helpers.errors": ["MessagesError", "ModelSourceError", "PackagedModelError", "ServerError", "WorkbookError"],
    "helpers.model.loading": ["ModelInfo", "describe_model", "fast_by_default", "load_model",
                              "load_model_and_tokenizer", "load_tokenizer"],
    "helpers.model.sources": ["ModelSource", "chosen_source", "model_path", "parse_model_spec"],
    "helpers.chat.messages": ["ROLES", "validate_messages"],
    "helpers.seed": ["SEED_CHINESE_PROMPT", "SEED_MODEL", "SEED_PROMPT", "SEED_PROMPT_IDS", "SEED_SYSTEM_PROMPT",
                     "seed_messages"],
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = sorted(_MODULE_OF)


def __getattr__(name):
    if name in _MODULE_OF:
        return getattr(importlib.import_module(_MODULE_OF[name]), name)
    raise AttributeError(f"module 'helpers' has no attribute {name!r}")


def __dir__():
    return __all__


def load_ipython_extension(ipython):
    """``%load_ext helpers``: a hint under a NameError for a name an earlier cell defines (:mod:`helpers.hints`),
    no torchao start-up warnings under the cells that load a model (:func:`helpers.model.formats.quiet_torchao`), and
    tables' headings and charts' Chinese characters in the notebook's language (:func:`helpers.display.words.install`)."""
    from helpers import hints
    from helpers.display import words
    from helpers.model.formats import quiet_torchao

    hints.install(ipython)
    quiet_torchao()
    words.install(ipython)
