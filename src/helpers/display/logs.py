"""Catching what transformers logs, to show a warning as data instead of letting it spill onto stderr."""

from __future__ import annotations

import logging
import warnings
from contextlib import contextmanager


class _Collect(logging.Handler):
    def __init__(self, sink: list[str]):
        super().__init__(level=logging.WARNING)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(record.getMessage())


@contextmanager
def captured_warnings():
    """Collect transformers' log warnings and Python warnings raised inside the block into a list of strings."""
    messages: list[str] = []
    logger = logging.getLogger("transformers")
    handler = _Collect(messages)
    saved_handlers, saved_propagate = logger.handlers[:], logger.propagate
    logger.handlers, logger.propagate = [handler], False
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield messages
        messages.extend(str(w.message) for w in caught)
    finally:
        logger.handlers, logger.propagate = saved_handlers, saved_propagate
