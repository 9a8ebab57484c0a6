"""Progress that shows while something slow runs: the steps of preparing a model, and generation."""

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


class GenerationProgress:
    """A ``generate`` streamer that shows, in place, how many new tokens so far and how fast, and leaves nothing.

    ``model.generate(**inputs, streamer=GenerationProgress())``: while the call runs, JupyterLab shows one line,
    "generating: 23 new · 9.8 tokens per second", updated twice a second; when it ends, the line is emptied,
    so the stored notebook holds the same (empty) output on every machine. One object can serve several calls in
    a cell, on one line. Outside a Jupyter kernel it shows nothing.
    """

    def __init__(self, every: float = 0.5):
        self.every = every
        self.count = 0
        self._seen_prompt = False
        self._handle = None
        self._started = self._shown = 0.0

    def _show(self, data: dict) -> None:
        if self._handle is not None:
            self._handle.update(data, raw=True)

    def put(self, value) -> None:
        """transformers calls this with the prompt's ids first, then with each new token."""
        import time

        from IPython import get_ipython
        from IPython.display import display

        if not self._seen_prompt:   # the prompt: start the clock (and the line, on the first call)
            self._seen_prompt, self.count = True, 0
            self._started = time.perf_counter()
            if self._handle is None and get_ipython() is not None and hasattr(get_ipython(), "kernel"):
                self._handle = display({"text/plain": ""}, raw=True, display_id=True)
            return
        self.count += 1
        now = time.perf_counter()
        if now - self._shown >= self.every:
            self._shown = now
            rate = self.count / max(now - self._started, 1e-9)
            self._show({"text/plain": text("progress.generating", count=self.count, rate=rate)})

    def end(self) -> None:
        """transformers calls this when generation stops: empty the line (the next call starts it again)."""
        self._seen_prompt = False
        self._show({"text/plain": ""})
