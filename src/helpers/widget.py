"""A chat with the model inside a notebook: the stages of notebooks 03 to 09 behind a text box and a Send button.

``ChatWidget(model, tokenizer)`` shows the conversation, a text box with Send, Stop and Reset, a system-prompt
box, the decoding settings, and (on request) the chat template with the conversation's token count. Each Send
(the button, or Enter in the text box) runs the workbook's pipeline:

1. the system prompt, the turns so far and your message become a list of ``{"role", "content"}`` dicts, checked
   by :func:`helpers.validate_messages` (notebook 03);
2. the chat template turns that list into text ending with ``<|im_start|>assistant`` (04);
3. the tokenizer turns the text into ``input_ids`` and an ``attention_mask`` (05);
4. ``model.generate`` runs in a background thread (06) and hands each new token to a ``TextIteratorStreamer``,
   which skips the prompt (the slicing of 07) and decodes without control tokens (08); the widget shows each
   piece as it arrives. The conversation's key/value cache is kept between turns
   (:class:`helpers.chat.conversation_cache.ConversationCache`, notebook 14), so each turn reads only its new
   tokens and the first token comes as quickly on turn 5 as on turn 1;
5. the finished reply joins the conversation as an ``assistant`` message (09), so the next turn sees it.

Because ``generate`` runs in a thread, the notebook stays responsive: Stop sets a ``threading.Event`` that a
``StoppingCriteria`` checks after every new token. ``send(text, wait=True)`` does the same work but returns only
when the reply is complete, which is what tests and nbval use.

Replies are shown as chat applications show them, their Markdown rendered (headings, lists, **bold**, tables, code
blocks) by :func:`render_markdown`, safely: HTML written in a reply is shown as text, never run. The status line
counts the new tokens and their rate (tokens per second) while a reply streams and when it ends. A reply that goes
round in a loop (its end repeats one piece over and over, :func:`find_loop`) is stopped early, and the status line
says so and what to try; **stop a reply that loops** switches that off.

The conversation lives in the kernel, in the widget's ``turns``: a refreshed page shows the widget again, with its
conversation, once the notebook has been saved after the widget appeared; otherwise a cell with just the widget's
name shows it again. A restarted kernel has lost it.

Decoding starts as the model's own published sampling settings (``generation_config.json``: temperature 0.7,
top_p 0.8, top_k 20, repetition penalty 1.1), the settings the seed's ``generate`` call and chat UIs use: greedy
decoding of a 0.5B model falls into loops in long replies, Chinese ones above all. Each Send draws a new sample
(a fresh random seed, shown in the status line) unless a number is typed into the random seed box.

The widget speaks the notebook's language: every word it shows (labels, tooltips, role names, the status line, the
template panel) comes from the message catalogue (``widget.*`` in ``helpers/locale/{en,zh}/LC_MESSAGES/workbook.po``)
in the language of the process when the widget is created (:func:`helpers.catalogue.language`: ``WORKBOOK_LANG``,
else Chinese when the kernel runs in ``notebooks/zh/``), or the one passed as ``language=``. Its values stay the same
in every language (``mode.value`` is ``"sampling"`` or ``"greedy"``), so code that drives it works in both editions.
"""

from __future__ import annotations

import html
import random
import threading
import time
from functools import lru_cache

import ipywidgets as widgets
import torch
from markdown_it import MarkdownIt
from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

from helpers import catalogue
from helpers.chat.generation import Generation, build_inputs, end_of_turn_ids
from helpers.chat.conversation import context_problem, widget_fix
from helpers.chat.messages import validate_messages
from helpers.display.rendering import highlight_template
from helpers.seed import SEED_SYSTEM_PROMPT
from helpers.chat.conversation_cache import ConversationCache, Reuse

_BUBBLES = {
    "system": "margin:4px 0;color:#666;font-size:0.9em;font-style:italic",
    "user": "margin:6px 0 6px 15%;background:#e3f2fd;border-left:3px solid #1565c0",
    "assistant": "margin:6px 15% 6px 0;background:#f3f3f3;border-left:3px solid #2e7d32",
}
_STATUS_COLOURS = {"info": "#555", "warning": "#e65100", "error": "#c62828"}
CONVERSATION_HEIGHT_PX = 360  # the conversation's fixed height: it scrolls, and the buttons below never move
TEMPLATE_HEIGHT_PX = 320  # the chat-template panel scrolls past this height
TEMPLATE_REFRESH_S = 0.3  # while a reply streams, the template panel is redrawn at most this often
STATUS_REFRESH_S = 0.5  # while a reply streams, the status line's token count and rate are redrawn at most this often
# A reply loops when its end repeats one piece at least LOOP_REPEATS times in a row, over at least LOOP_MIN_TOKENS
# tokens (so that "...", a table's |---|---| or "ha ha ha" do not count); only its last LOOP_WINDOW tokens are searched.
LOOP_REPEATS = 3
LOOP_MIN_TOKENS = 24
LOOP_WINDOW = 400
# The settings reset(defaults=True) puts back: the controls of these names.
SETTINGS = ("mode", "temperature", "top_p", "repetition_penalty", "random_seed", "max_new_tokens", "show_template",
            "stop_loops")

# Markdown as CommonMark with tables and strikethrough. "html": False shows any HTML in a reply as text; images are
# off (a reply could point one at any address); links are checked by markdown-it (no javascript: or data: URLs).
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "breaks": True}).enable(["table", "strikethrough"]).disable("image")
_MARKDOWN_CSS = """<style>
.qcw-md p{margin:0 0 .45em} .qcw-md > :last-child{margin-bottom:0}
.qcw-md h1,.qcw-md h2,.qcw-md h3,.qcw-md h4,.qcw-md h5,.qcw-md h6{font-size:1.05em;margin:.5em 0 .3em;line-height:1.3}
.qcw-md ul,.qcw-md ol{margin:.15em 0 .45em;padding-left:1.6em}
.qcw-md pre{background:#f6f8fa;border:1px solid #e1e4e8;border-radius:4px;padding:6px 8px;margin:.3em 0 .5em;
  overflow-x:auto;white-space:pre;line-height:1.35}
.qcw-md code{font-family:var(--jp-code-font-family,monospace);font-size:.92em;background:#eef0f2;padding:0 3px;
  border-radius:3px}
.qcw-md pre code{background:none;padding:0}
.qcw-md table{border-collapse:collapse;margin:.3em 0 .5em} .qcw-md th,.qcw-md td{border:1px solid #ccc;padding:2px 6px}
.qcw-md blockquote{border-left:3px solid #ccc;margin:0 0 .45em;padding-left:8px;color:#555}
</style>"""


def _link_opens_a_new_tab(renderer, tokens, index, options, env):
    tokens[index].attrSet("target", "_blank")
    tokens[index].attrSet("rel", "noopener noreferrer")
    return renderer.renderToken(tokens, index, options, env)


_MARKDOWN.add_render_rule("link_open", _link_opens_a_new_tab)


@lru_cache(maxsize=512)
def render_markdown(text: str) -> str:
    """``text`` (a reply) as HTML: its Markdown rendered, any HTML in it escaped so that it shows as text and never
    runs (no ``<script>``, no ``onerror=``), images left out, and links opened in a new tab."""
    return _MARKDOWN.render(text)


def find_loop(sequence, min_repeats: int = 3, min_length: int = 1):
    """``(start, piece)`` for the shortest piece that the end of ``sequence`` (a text, or a list of token ids) repeats
    at least ``min_repeats`` times in a row (the last time perhaps cut short), the repeats covering at least
    ``min_length`` items; None when it does not end in such a loop. With ``min_length=1`` this is notebook 09's
    ``find_loop``; the widget asks for ``LOOP_MIN_TOKENS`` tokens."""
    for size in range(1, len(sequence) // min_repeats + 1):
        run = 0  # how many items at the end equal the item `size` places before them
        while run < len(sequence) - size and sequence[-1 - run] == sequence[-1 - run - size]:
            run += 1
        if (run >= size * (min_repeats - 1) and run + size >= min_length
                and (not isinstance(sequence, str) or sequence[-size:].strip())):
            start = len(sequence) - run - size
            return start, sequence[start:start + size]
    return None


class StopOnEvent(StoppingCriteria):
    """A ``StoppingCriteria`` that ends ``generate`` after the current token once ``event`` is set."""

    def __init__(self, event: threading.Event):
        self.event = event

    def __call__(self, input_ids, scores, **kwargs):
        return torch.full((input_ids.shape[0],), self.event.is_set(), dtype=torch.bool, device=input_ids.device)


class WatchReply(StoppingCriteria):
    """A ``StoppingCriteria`` that watches the reply grow: ``count`` new tokens so far, and (when ``stop_loops``) ends
    ``generate`` once the reply ends in a loop (:func:`find_loop`), keeping it in ``loop`` as (piece ids, repeats)."""

    def __init__(self, prompt_length: int, stop_loops: bool):
        self.prompt_length, self.stop_loops = prompt_length, stop_loops
        self.count = 0
        self.loop: tuple[list[int], int] | None = None

    def __call__(self, input_ids, scores, **kwargs):
        reply = input_ids[0, self.prompt_length:]
        self.count = reply.shape[0]
        if self.stop_loops and self.loop is None:
            tail = reply[-LOOP_WINDOW:].tolist()
            found = find_loop(tail, LOOP_REPEATS, LOOP_MIN_TOKENS)
            if found is not None:
                start, piece = found
                self.loop = piece, (len(tail) - start) // len(piece)
        return torch.full((input_ids.shape[0],), self.loop is not None, dtype=torch.bool, device=input_ids.device)


def _scrolling(inner_html: str, height_px: int, css_class: str = "", fixed: bool = False) -> str:
    """``inner_html`` in a box that scrolls past ``height_px`` and keeps its newest (last) line in view; a ``fixed``
    box is always ``height_px`` tall, so what lies below it stays in place while the text grows."""
    height = f"height:{height_px}px" if fixed else f"max-height:{height_px}px"
    return (f'<div class="{css_class}" style="{height};overflow-y:auto;display:flex;'
            f'flex-direction:column-reverse;line-height:1.45"><div>{inner_html}</div></div>')


class ChatWidget:
    """An interactive chat with ``model``; display it in a notebook cell and type.

    The parts are ordinary ipywidgets you can also drive from code: ``input`` (the text box; Enter sends),
    ``send_button``, ``stop_button``, ``reset_button``, ``system`` (the system prompt), ``mode`` (sampling or
    greedy), ``temperature``, ``top_p``, ``repetition_penalty``, ``random_seed`` (empty: a new sample on every
    Send), ``max_new_tokens``, ``show_template``, ``stop_loops`` (stop a reply that loops), and the read-only
    ``conversation``, ``status`` and ``template``.
    ``messages`` is the conversation as the model sees it, ``status_text`` the last status line,
    ``last_generation`` the ids of the last reply (a :class:`helpers.chat.Generation`), ``last_reuse`` how many
    prompt tokens the kept key/value cache saved, ``last_random_seed`` the random seed of the last sampled reply.

    Problems (an empty message, a conversation too long for the context, a random seed that is not a number, an
    error while generating) are shown in the status line, never raised.

    ``language`` (``"en"``, ``"zh"``) picks the language of its labels and status line; by default the notebook's
    (:func:`helpers.catalogue.language`), fixed when the widget is created.
    """

    def __init__(self, model, tokenizer, system_prompt: str = SEED_SYSTEM_PROMPT, max_new_tokens: int = 512,
                 context_length: int | None = None, mode: str = "sampling", language: str | None = None):
        self.language = catalogue.language() if language is None else language
        catalogue.messages(self.language)  # an unknown language fails here, with the languages there are
        self.model, self.tokenizer = model, tokenizer
        self.context_length = context_length or model.config.max_position_embeddings
        self.turns: list[dict] = []  # the user and assistant messages; the system prompt lives in its own box
        self.status_text = ""
        self.last_generation: Generation | None = None
        self.last_reuse: Reuse | None = None
        self.last_random_seed: int | None = None
        self.kv_cache = ConversationCache(model)  # kept between turns: each turn reads only its new tokens
        self._stop_event = threading.Event()
        self._busy = False
        self._thread: threading.Thread | None = None
        self._template_drawn = 0.0

        # the model's own sampling settings (generation_config.json; Qwen2.5-Instruct: 0.7, 0.8, 20, 1.05-1.1)
        published = {name: getattr(model.generation_config, name, None) or fallback for name, fallback
                     in (("temperature", 0.7), ("top_p", 0.8), ("top_k", 20), ("repetition_penalty", 1.1))}
        self.top_k = published["top_k"]
        wide = {"description_width": "initial"}

        def slider(kind, name: str, value, low, high, step):
            return kind(value=value, min=low, max=high, step=step, description=name, style=wide).add_class(
                "qcw-" + name.replace("_", "-"))

        self.conversation = widgets.HTML().add_class("qcw-conversation")
        self.input = widgets.Text(placeholder=self.text("widget.placeholder"),
                                  layout=widgets.Layout(flex="1 1 auto", width="auto")).add_class("qcw-input")
        self.input.on_msg(self._on_input_message)  # Enter in the box: the browser sends {"event": "submit"}
        self.send_button = widgets.Button(description=self.text("widget.send"), button_style="primary",
                                          tooltip=self.text("widget.send_tooltip")).add_class("qcw-send")
        self.stop_button = widgets.Button(description=self.text("widget.stop"), disabled=True).add_class("qcw-stop")
        self.reset_button = widgets.Button(description=self.text("widget.reset"),
                                           tooltip=self.text("widget.reset_tooltip")).add_class("qcw-reset")
        self.status = widgets.HTML().add_class("qcw-status")
        self.system = widgets.Textarea(value=system_prompt, description=self.text("widget.system_prompt"), rows=2,
                                       style=wide,
                                       layout=widgets.Layout(width="98%")).add_class("qcw-system")
        # (label, value) pairs: the label in the widget's language, the value the same in every language
        self.mode = widgets.ToggleButtons(options=[(self.text(f"widget.mode.{name}"), name)
                                                   for name in ("sampling", "greedy")], value=mode,
                                          description=self.text("widget.decoding"), style=wide).add_class("qcw-mode")
        self.temperature = slider(widgets.FloatSlider, "temperature", published["temperature"], 0.05, 2.0, 0.05)
        self.top_p = slider(widgets.FloatSlider, "top_p", published["top_p"], 0.05, 1.0, 0.05)
        self.repetition_penalty = slider(widgets.FloatSlider, "repetition_penalty", published["repetition_penalty"],
                                         1.0, 1.5, 0.01)
        self.max_new_tokens = slider(widgets.IntSlider, "max_new_tokens", max_new_tokens, 1, 2048, 1)
        self.random_seed = widgets.Text(value="", placeholder=self.text("widget.random_seed_placeholder"),
                                        description=self.text("widget.random_seed"), style=wide,
                                        layout=widgets.Layout(width="260px")).add_class("qcw-random-seed")
        self.stop_loops = widgets.Checkbox(value=True, description=self.text("widget.stop_loops"), indent=False,
                                           layout=widgets.Layout(width="auto")).add_class("qcw-stop-loops")
        self.show_template = widgets.ToggleButton(value=False, description=self.text("widget.template.show"),
                                                  icon="code",
                                                  layout=widgets.Layout(width="240px")).add_class("qcw-show-template")
        self.template = widgets.HTML(layout=widgets.Layout(display="none")).add_class("qcw-template")

        self.send_button.on_click(lambda _: self.send())
        self.stop_button.on_click(lambda _: self.stop())
        self.reset_button.on_click(lambda _: self.reset())
        self.mode.observe(lambda _: self._enable_sampling_controls(), "value")
        self.system.observe(lambda _: self._refresh(), "value")
        self.show_template.observe(lambda _: self._refresh(), "value")

        self.view = widgets.VBox([
            self.conversation,
            widgets.HBox([self.input, self.send_button, self.stop_button, self.reset_button]),
            self.status,
            self.system,
            widgets.HBox([self.mode, self.max_new_tokens]),
            widgets.HBox([self.temperature, self.top_p]),
            widgets.HBox([self.repetition_penalty, self.random_seed]),
            widgets.HBox([self.show_template, self.stop_loops]),
            self.template,
        ], layout=widgets.Layout(border="1px solid #ddd", padding="6px")).add_class("qcw-chat")
        self.defaults = {name: getattr(self, name).value for name in SETTINGS}
        self._enable_sampling_controls()
        self._refresh()
        self._say(self.text("widget.status.ready", settings=self.settings_summary()))

    # -- what a notebook shows -------------------------------------------------------------------------------

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.view._repr_mimebundle_(**kwargs)
        name = self._name()
        bundle["text/plain"] = (self.text("widget.plain_text", name=name) if name
                                else self.text("widget.plain_text.unnamed"))
        return bundle

    def _name(self) -> str | None:
        """The notebook's name for this widget (``chat``), so that the saved notebook can say how to show it again."""
        try:
            from IPython import get_ipython
        except ImportError:
            return None
        shell = get_ipython()
        names = [] if shell is None else [name for name, value in shell.user_ns.items()
                                          if value is self and not name.startswith("_")]
        return names[0] if names else None

    def text(self, key: str, **values) -> str:
        """The message ``key`` of the catalogue in the widget's language, its fields filled in."""
        return catalogue.text(key, self.language, **values)

    @property
    def messages(self) -> list[dict]:
        """The conversation as a list of ``{"role", "content"}`` dicts: the system prompt (if any), then the turns."""
        system = [{"role": "system", "content": self.system.value}] if self.system.value.strip() else []
        return system + [dict(turn) for turn in self.turns]

    @property
    def busy(self) -> bool:
        """True while a reply is being generated."""
        return self._busy

    def token_count(self) -> int:
        """How many tokens the conversation so far takes once the chat template has rendered it."""
        return len(self.tokenizer(self._template_text()).input_ids) if self.messages else 0

    def settings_summary(self) -> str:
        """The decoding settings the next Send will use, in one line (shown when a conversation starts)."""
        if self.mode.value == "greedy":
            decoding = self.text("widget.settings.greedy")
        else:
            typed = self.random_seed.value.strip()
            decoding = self.text("widget.settings.sampling", temperature=self.temperature.value,
                                 top_p=self.top_p.value, top_k=self.top_k,
                                 random_seed=self.text("widget.settings.random_seed", random_seed=typed) if typed
                                 else self.text("widget.settings.new_random_seed"))
        return self.text("widget.settings.summary", decoding=decoding,
                         repetition_penalty=self.repetition_penalty.value, max_new_tokens=self.max_new_tokens.value)

    # -- the buttons -------------------------------------------------------------------------------------------

    def send(self, text: str | None = None, wait: bool = False) -> str | None:
        """Send ``text`` (by default what is in the text box) and stream the model's reply into the conversation.

        Returns at once and generates in a background thread, so Stop stays usable. With ``wait=True`` it
        returns only when the reply is complete, and returns the reply; otherwise it returns None
        (``join()`` waits for a reply started this way).
        """
        if self._busy:
            return self._say(self.text("widget.status.busy"), "warning")
        text = self.input.value if text is None else text
        if not text.strip():
            return self._say(self.text("widget.status.empty"), "warning")
        try:
            settings, random_seed = self._settings()
        except ValueError as exc:
            return self._say(str(exc), "error")
        messages = self.messages + [{"role": "user", "content": text}]
        try:
            inputs = build_inputs(validate_messages(messages), self.tokenizer, self.model.device)
        except Exception as exc:  # a bad message or a template error: say so in the widget
            return self._say(self.text("widget.status.no_prompt", error=f"{type(exc).__name__}: {exc}"), "error")
        prompt_tokens, max_new = inputs.input_ids.shape[1], settings["max_new_tokens"]
        problem = context_problem(prompt_tokens, max_new, self.context_length, widget_fix(self.language),
                                  self.language)
        if problem is not None:
            return self._say(problem, "warning")

        self.input.value = ""
        self.turns += [{"role": "user", "content": text}, {"role": "assistant", "content": ""}]
        self._stop_event.clear()
        self._set_busy(True)
        self._say(self.text("widget.status.generating"))
        if wait:
            return self._stream(inputs, settings, random_seed)
        self._thread = threading.Thread(target=self._stream, args=(inputs, settings, random_seed), daemon=True)
        self._thread.start()
        return None

    def stop(self) -> None:
        """Ask the running ``generate`` to end after its current token (the reply so far is kept)."""
        if not self._busy:
            self._say(self.text("widget.status.nothing_to_stop"))
            return
        self._stop_event.set()
        self._say(self.text("widget.status.stopping"))

    def reset(self, defaults: bool = False) -> None:
        """Stop any running reply and start a new conversation.

        The system prompt and the settings stay as you set them, unless ``defaults=True``, which also puts every
        setting back to what the widget started with. The status line says which settings the new conversation
        uses.
        """
        if self._busy:
            self._stop_event.set()
            self.join(timeout=60)
        if defaults:
            for name, value in self.defaults.items():
                getattr(self, name).value = value
        self.turns = []
        self.last_generation = self.last_reuse = None
        self.kv_cache.reset()
        self._refresh()
        self._say(self.text("widget.status.new_conversation", settings=self.settings_summary()))

    def join(self, timeout: float | None = None) -> bool:
        """Wait for a reply started by ``send()`` (or the Send button) to finish; True if none is running now."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self._busy

    # -- generation ----------------------------------------------------------------------------------------------

    def _settings(self) -> tuple[dict, int | None]:
        """``generate``'s keyword arguments from the controls, and the random seed to sample with (None when greedy).

        A number typed into the random seed box makes every Send draw the same sample; an empty box draws a fresh one.
        """
        settings = {"max_new_tokens": self.max_new_tokens.value,
                    "repetition_penalty": self.repetition_penalty.value}
        if self.mode.value == "greedy":
            return {**settings, "do_sample": False}, None
        typed = self.random_seed.value.strip()
        if typed:
            try:
                random_seed = int(typed)
            except ValueError:
                raise ValueError(self.text("widget.status.bad_random_seed", typed=repr(typed))) from None
        else:
            random_seed = random.SystemRandom().randrange(2**31)
        return {**settings, "do_sample": True, "temperature": self.temperature.value, "top_p": self.top_p.value,
                "top_k": self.top_k}, random_seed

    def _stream(self, inputs, settings: dict, random_seed: int | None) -> str | None:
        """Run ``generate`` in a thread and add each streamed piece of text to the last (assistant) turn.

        Returns the reply, or None when there is none (an error, or Stop before the first piece of text).
        """
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        watch = WatchReply(inputs.input_ids.shape[1], self.stop_loops.value)
        outcome: dict = {}
        reuse = None

        def generate():
            nonlocal reuse
            try:
                reuse = self.kv_cache.prepare(inputs.input_ids)
                if random_seed is not None:
                    torch.manual_seed(random_seed)
                with torch.no_grad():
                    outcome["ids"] = self.model.generate(
                        **inputs, streamer=streamer, **settings, cache=self.kv_cache.cache,
                        stopping_criteria=StoppingCriteriaList([StopOnEvent(self._stop_event), watch]))
            except Exception as exc:  # shown in the widget by _finish
                outcome["error"] = exc
                streamer.end()  # wakes up the loop below

        user, reply = self.turns[-2], self.turns[-1]
        started, first = time.perf_counter(), None
        status_drawn = started
        try:
            worker = threading.Thread(target=generate, daemon=True)
            worker.start()
            for piece in streamer:
                now = time.perf_counter()
                if first is None and piece:
                    first = now - started
                reply["content"] += piece
                self.conversation.value = self._conversation_html(streaming=True)
                if self.show_template.value and now - self._template_drawn > TEMPLATE_REFRESH_S:
                    self._draw_template()
                if now - status_drawn > STATUS_REFRESH_S and not self._stop_event.is_set():
                    status_drawn = now
                    self._say(self.text("widget.status.generating_rate", count=watch.count,
                                        rate=watch.count / (now - started)))
            worker.join()
        except Exception as exc:
            outcome.setdefault("error", exc)
        if "ids" in outcome:
            self.kv_cache.update(outcome["ids"])
        else:
            self.kv_cache.reset()  # an error mid-way: the cache may hold positions nobody recorded
        try:
            return self._finish(inputs, outcome, user, reply, time.perf_counter() - started, first, reuse,
                                random_seed, watch.loop)
        finally:
            self._set_busy(False)  # whatever happened, Send works again

    def _finish(self, inputs, outcome: dict, user: dict, reply: dict, seconds: float, first: float | None,
                reuse: Reuse | None, random_seed: int | None,
                loop: tuple[list[int], int] | None = None) -> str | None:
        stopped, error = self._stop_event.is_set(), outcome.get("error")
        usable = error is None and bool(reply["content"])
        if not usable:
            # no reply to keep: take the message back out of the conversation and put it back in the box
            self.turns = [turn for turn in self.turns if turn is not user and turn is not reply]
            self.input.value = user["content"]
        if error is not None:
            self._say(self.text("widget.status.failed", error=f"{type(error).__name__}: {error}"), "error")
        elif "ids" in outcome:
            self.last_generation = Generation(
                prompt_ids=inputs.input_ids[0].tolist(), full_ids=outcome["ids"][0].tolist(), seconds=seconds,
                eos_ids=end_of_turn_ids(self.model))
            self.last_reuse, self.last_random_seed = reuse, random_seed
            count = len(self.last_generation.new_ids)
            tokens = self.text("widget.tokens.one" if count == 1 else "widget.tokens.many", count=count)
            if loop is not None:
                piece, repeats = loop
                shown = self.tokenizer.decode(piece, skip_special_tokens=True).replace("\n", "⏎")
                ended = self.text("widget.ended.loop", piece=shown if len(shown) <= 40 else shown[:39] + "…",
                                  repeats=repeats)
            else:
                ended = self.text("widget.ended." + ("stop" if stopped else
                                                     self.last_generation.stopped_by.replace(" ", "_")))
            rate = count / seconds if seconds > 0 else 0.0
            timing = (self.text("widget.timing", seconds=seconds, rate=rate) if first is None
                      else self.text("widget.timing.first", seconds=seconds, rate=rate, first=first))
            prompt = len(self.last_generation.prompt_ids)
            read = (self.text("widget.read", computed=reuse.computed, prompt=prompt, reused=reuse.reused)
                    if reuse is not None and reuse.reused else "")
            how = (self.text("widget.how.greedy") if random_seed is None
                   else self.text("widget.how.sampled", random_seed=random_seed))
            if not reply["content"]:
                self._say(self.text("widget.status.no_text", tokens=tokens, ended=ended), "warning")
            elif loop is not None:
                penalty = min(round(self.repetition_penalty.value + 0.1, 2), self.repetition_penalty.max)
                self._say(self.text("widget.status.stopped", tokens=tokens, timing=timing, ended=ended, how=how,
                                    read=read) + " " + self.text("widget.status.loop", penalty=penalty), "warning")
            else:
                self._say(self.text("widget.status.stopped" if stopped else "widget.status.done", tokens=tokens,
                                    timing=timing, ended=ended, how=how, read=read))
        self._refresh()
        return reply["content"] if usable else None

    # -- showing it ----------------------------------------------------------------------------------------------

    def _on_input_message(self, _widget, content, _buffers) -> None:
        if isinstance(content, dict) and content.get("event") == "submit":
            self.send()

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.send_button.disabled = busy
        self.stop_button.disabled = not busy

    def _enable_sampling_controls(self) -> None:
        greedy = self.mode.value == "greedy"
        self.temperature.disabled = self.top_p.disabled = self.random_seed.disabled = greedy

    def _say(self, text: str, kind: str = "info") -> None:
        """Show ``text`` in the status line (and keep it in ``status_text``)."""
        self.status_text = text
        self.status.value = f'<span style="color:{_STATUS_COLOURS[kind]}">{html.escape(text)}</span>'

    def _template_text(self) -> str:
        return self.tokenizer.apply_chat_template(validate_messages(self.messages), tokenize=False)

    def _conversation_html(self, streaming: bool = False) -> str:
        """The conversation as HTML: the user's and the system's words as typed (escaped), the replies' Markdown
        rendered by :func:`render_markdown`."""
        turns = []
        for i, message in enumerate(self.messages):
            role = message["role"]
            cursor = "▌" if streaming and i == len(self.messages) - 1 else ""
            body = (f'<div class="qcw-text qcw-md">{render_markdown(message["content"])}</div>' if role == "assistant"
                    else f'<div class="qcw-text" style="white-space:pre-wrap">{html.escape(message["content"])}</div>')
            turns.append(
                f'<div class="qcw-turn qcw-{role}" style="padding:4px 8px;border-radius:6px;{_BUBBLES[role]}">'
                f'<b>{html.escape(self.text("widget.role." + role))}</b>{body}{cursor}</div>')
        if not self.turns:
            turns.append(f'<div style="color:#999;margin:6px 0">{html.escape(self.text("widget.no_messages"))}</div>')
        return _MARKDOWN_CSS + _scrolling("".join(turns), CONVERSATION_HEIGHT_PX, fixed=True)

    def _draw_template(self) -> None:
        """The chat template of the conversation as it is now (a streaming reply included), with its token count."""
        self._template_drawn = time.perf_counter()
        if not self.messages:
            self.template.value = f"<i>{html.escape(self.text('widget.template.empty'))}</i>"
            return
        count = self.token_count()
        self.template.value = (
            '<div class="qcw-template-count" style="line-height:1.45">'
            + self.text("widget.template.count", count=count, context_length=self.context_length,
                        share=count / self.context_length) + "</div>"
            + _scrolling(highlight_template(self._template_text())._repr_html_(), TEMPLATE_HEIGHT_PX,
                         "qcw-template-text"))

    def _refresh(self) -> None:
        """Redraw the conversation and, when it is switched on, the chat template with its token count."""
        self.conversation.value = self._conversation_html()
        shown = self.show_template.value
        self.show_template.description = self.text("widget.template.hide" if shown else "widget.template.show")
        self.template.layout.display = "block" if shown else "none"
        if shown:
            self._draw_template()
