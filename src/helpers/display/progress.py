"""Progress display for the steps of preparing a model."""

from __future__ import annotations

import threading
from contextlib import contextmanager

from tqdm.auto import tqdm

from helpers.catalogue import text


@contextmanager
def ticking(desc: str, interval: float = 0.5):
    """Show a bar whose clock ticks while a step with no progress of its own runs (a tokenizer conversion, say)."""
    bar = tqdm(total=None, desc=desc, bar_format=text("progress.elapsed"), leave=True)
    stop = threading.Event()

    def tick():
        while not stop.wait(interval):
            bar.refresh()

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    try:
        yield bar
    finally:
        stop.set()
        thread.join()
        bar.bar_format = text("progress.done")
        bar.close()
