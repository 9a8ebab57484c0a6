"""The chat widget's callbacks: send (button and Enter), empty message, stop, reset, settings, random seeds,
context overflow, errors and the template view; and its words in both languages (English, and Chinese under
``WORKBOOK_LANG=zh`` or in a kernel that runs in ``notebooks/zh/``).

Most tests use the real tokenizer with ``FakeModel``, which "generates" a fixed reply through the same streamer and
stopping criteria as ``model.generate``, so they run in milliseconds. The last tests use the real packaged model.
"""

import json
import re
import time
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from transformers import Qwen2Config

from helpers import SEED_PROMPT, SEED_PROMPT_IDS, SEED_SYSTEM_PROMPT, catalogue, seed_messages
from helpers.catalogue import CatalogueError
from helpers.chat import chat
from helpers.widget import LOOP_MIN_TOKENS, ChatWidget, find_loop, render_markdown

IM_END = 151645


class FakeModel:
    """Stands in for the model: streams ``reply`` token by token, or repeats it until Stop when ``endless``."""

    def __init__(self, tokenizer, reply="Hello! How can I help?", context=32768, delay=0.0, endless=False,
                 error=None, error_after=0):
        self.config = Qwen2Config(max_position_embeddings=context)  # a real config, as the kept KV cache reads it
        self.generation_config = SimpleNamespace(eos_token_id=[IM_END, 151643], temperature=0.7, top_p=0.8,
                                                 top_k=20, repetition_penalty=1.1)
        self.device = torch.device("cpu")
        self.reply_ids = tokenizer(reply).input_ids + ([] if endless else [IM_END])
        self.delay, self.endless, self.error, self.error_after = delay, endless, error, error_after
        self.calls = []

    def generate(self, input_ids, attention_mask, streamer, stopping_criteria, max_new_tokens, **settings):
        self.calls.append({"input_ids": input_ids[0].tolist(), "max_new_tokens": max_new_tokens,
                           "torch_seed": torch.initial_seed(), **settings})
        streamer.put(input_ids)  # the prompt, which the streamer skips
        ids = input_ids
        for step in range(max_new_tokens):
            if self.error is not None and step == self.error_after:
                raise self.error
            token = self.reply_ids[step % len(self.reply_ids)]
            ids = torch.cat([ids, torch.tensor([[token]])], dim=1)
            streamer.put(torch.tensor([token]))
            if token == IM_END or stopping_criteria(ids, None).all():
                break
            time.sleep(self.delay)
        streamer.end()
        return ids


@pytest.fixture(autouse=True)
def english_unless_a_test_says_otherwise(monkeypatch):
    """The tests below read the English texts; the Chinese ones set WORKBOOK_LANG=zh themselves."""
    monkeypatch.setenv("WORKBOOK_LANG", "en")


def wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.fixture
def make_widget(packaged_tokenizer):
    def make(**fake_options):
        widget_options = {k: fake_options.pop(k) for k in ("max_new_tokens", "context_length") if k in fake_options}
        return ChatWidget(FakeModel(packaged_tokenizer, **fake_options), packaged_tokenizer, **widget_options)
    return make


def test_send_button_adds_both_turns(make_widget):
    widget = make_widget()
    widget.input.value = SEED_PROMPT
    widget.send_button.click()
    assert widget.join(timeout=30)
    assert widget.messages == seed_messages() + [{"role": "assistant", "content": "Hello! How can I help?"}]
    assert widget.input.value == "" and widget.status_text.startswith("Done")
    assert "ended by end of turn" in widget.status_text
    assert not widget.send_button.disabled and widget.stop_button.disabled
    # the prompt the model received is the seed's 39 ids: the widget runs the same stages as notebooks 03-05
    assert widget.last_generation.prompt_ids == SEED_PROMPT_IDS
    html = widget.conversation.value
    assert html.index("qcw-user") < html.index("qcw-assistant") and "Hello! How can I help?" in html


def test_send_and_wait_returns_the_reply(make_widget):
    widget = make_widget()
    assert widget.send("Hi", wait=True) == "Hello! How can I help?"
    assert not widget.busy and [m["role"] for m in widget.messages] == ["system", "user", "assistant"]


def test_second_turn_sees_the_first(make_widget, packaged_tokenizer):
    widget = make_widget()
    widget.send("First question", wait=True)
    widget.send("Second question", wait=True)
    prompt = packaged_tokenizer.decode(widget.model.calls[-1]["input_ids"])
    assert prompt.index("First question") < prompt.index("Hello! How can I help?") < prompt.index("Second question")
    assert prompt.endswith("<|im_start|>assistant\n")
    assert len(widget.messages) == 5


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_message_is_a_message_not_an_error(make_widget, text):
    widget = make_widget()
    widget.input.value = text
    widget.send_button.click()
    assert widget.status_text.startswith("Type a message first")
    assert widget.model.calls == [] and widget.turns == [] and not widget.busy


def test_text_is_escaped_in_the_conversation(make_widget):
    widget = make_widget(reply="<script>x</script>")
    widget.send("<b>bold?</b>", wait=True)
    assert "&lt;b&gt;bold?&lt;/b&gt;" in widget.conversation.value
    assert "<script>" not in widget.conversation.value


def test_stop_keeps_the_partial_reply(make_widget):
    widget = make_widget(reply="tick", endless=True, delay=0.02, max_new_tokens=2000)
    widget.stop_loops.value = False  # "ticktick..." loops on purpose
    widget.send("Count forever")
    assert widget.busy and widget.send_button.disabled and not widget.stop_button.disabled
    wait_for(lambda: widget.turns and widget.turns[-1]["content"].count("tick") >= 3)
    widget.stop_button.click()
    assert widget.join(timeout=30)
    assert widget.status_text.startswith("Stopped") and "ended by Stop" in widget.status_text
    reply = widget.messages[-1]
    assert reply["role"] == "assistant" and reply["content"].startswith("ticktick")
    assert len(widget.last_generation.new_ids) < 2000
    assert not widget.send_button.disabled and widget.stop_button.disabled


def test_stop_when_idle_says_so(make_widget):
    widget = make_widget()
    widget.stop_button.click()
    assert widget.status_text.startswith("Nothing to stop")


def test_send_while_busy_is_refused(make_widget):
    widget = make_widget(reply="tick", endless=True, delay=0.02, max_new_tokens=2000)
    widget.stop_loops.value = False
    widget.send("one")
    widget.send("two", wait=True)
    assert widget.status_text.startswith("Wait for the reply")
    widget.stop()
    assert widget.join(timeout=30)
    assert [m["content"] for m in widget.messages if m["role"] == "user"] == ["one"]


def test_reset_clears_the_conversation_but_keeps_the_settings(make_widget):
    widget = make_widget()
    widget.system.value = "Answer in one word."
    widget.max_new_tokens.value = 7
    widget.send("Hi", wait=True)
    widget.reset_button.click()
    assert widget.messages == [{"role": "system", "content": "Answer in one word."}]
    assert widget.max_new_tokens.value == 7 and widget.last_generation is None
    assert "max_new_tokens 7" in widget.status_text  # the new conversation says which settings it uses
    assert "No messages yet" in widget.conversation.value


def test_reset_while_generating_stops_first(make_widget):
    widget = make_widget(reply="tick", endless=True, delay=0.02, max_new_tokens=2000)
    widget.stop_loops.value = False
    widget.send("Count forever")
    wait_for(lambda: widget.turns and widget.turns[-1]["content"])
    widget.reset_button.click()
    assert not widget.busy and widget.turns == []
    assert widget.status_text.startswith("New conversation")


def test_conversation_too_long_for_the_context(make_widget):
    widget = make_widget(context_length=60, max_new_tokens=20)
    widget.input.value = SEED_PROMPT  # 39 prompt tokens + 20 new ones fit in 60
    widget.send_button.click()
    assert widget.join(timeout=30) and widget.status_text.startswith("Done")
    widget.input.value = "And another thing?"
    widget.send_button.click()
    assert widget.status_text.startswith("This conversation no longer fits the context")
    assert "60 tokens" in widget.status_text and "Reset" in widget.status_text
    assert widget.input.value == "And another thing?"  # kept, so nothing typed is lost
    assert len(widget.turns) == 2 and len(widget.model.calls) == 1


def test_context_length_defaults_to_the_models(make_widget):
    assert make_widget(context=32768).context_length == 32768


@pytest.mark.parametrize("error_after", [0, 3])
def test_error_in_the_generation_thread_is_shown(make_widget, error_after):
    widget = make_widget(error=RuntimeError("the model broke"), error_after=error_after)
    widget.input.value = "Hi"
    widget.send_button.click()
    assert widget.join(timeout=30)
    assert widget.status_text.startswith("Generation failed: RuntimeError: the model broke")
    assert widget.turns == [] and widget.input.value == "Hi"  # the message is back in the box
    assert not widget.send_button.disabled


def test_error_with_wait_is_shown_not_raised(make_widget):
    widget = make_widget(error=ValueError("bad settings"))
    assert widget.send("Hi", wait=True) is None
    assert "ValueError: bad settings" in widget.status_text


def test_default_decoding_is_the_models_published_sampling(make_widget):
    widget = make_widget()
    assert widget.mode.value == "sampling" and not widget.temperature.disabled and not widget.random_seed.disabled
    widget.send("Hi", wait=True)
    call = widget.model.calls[-1]
    assert call["do_sample"] is True and call["max_new_tokens"] == 512
    assert (call["temperature"], call["top_p"], call["top_k"], call["repetition_penalty"]) == (0.7, 0.8, 20, 1.1)
    assert "sampled with random seed" in widget.status_text


def test_greedy_and_changed_settings_reach_generate(make_widget):
    widget = make_widget()
    widget.mode.value = "greedy"
    assert widget.temperature.disabled and widget.top_p.disabled and widget.random_seed.disabled
    widget.send("Hi", wait=True)
    call = widget.model.calls[-1]
    assert call["do_sample"] is False and call["repetition_penalty"] == 1.1 and "temperature" not in call
    assert widget.last_random_seed is None and "greedy" in widget.status_text
    widget.mode.value = "sampling"
    widget.temperature.value, widget.top_p.value, widget.max_new_tokens.value = 1.2, 0.9, 30
    widget.repetition_penalty.value = 1.0
    widget.send("Again", wait=True)
    call = widget.model.calls[-1]
    assert call["do_sample"] is True and call["temperature"] == 1.2 and call["top_p"] == 0.9
    assert call["max_new_tokens"] == 30 and call["repetition_penalty"] == 1.0


def test_every_send_draws_a_new_random_seed_unless_one_is_typed(make_widget):
    widget = make_widget()
    random_seeds = []
    for _ in range(3):
        widget.send("Same question", wait=True)
        assert widget.model.calls[-1]["torch_seed"] == widget.last_random_seed  # generate ran with the announced seed
        assert f"random seed {widget.last_random_seed}" in widget.status_text
        random_seeds.append(widget.last_random_seed)
    assert len(set(random_seeds)) == 3
    widget.random_seed.value = " 42 "
    widget.send("Same question", wait=True)
    widget.send("Same question", wait=True)
    assert [c["torch_seed"] for c in widget.model.calls[-2:]] == [42, 42] and widget.last_random_seed == 42


def test_a_model_with_one_end_of_turn_id_ends_by_end_of_turn(make_widget):
    widget = make_widget()
    widget.model.generation_config.eos_token_id = IM_END  # one int, as some models' generation_config.json has it
    widget.send("Hi", wait=True)
    assert widget.last_generation.eos_ids == [IM_END] and widget.last_generation.stopped_by == "end of turn"


def test_a_random_seed_that_is_not_a_number_is_explained(make_widget):
    widget = make_widget()
    widget.random_seed.value = "forty-two"
    widget.input.value = "Hi"
    widget.send_button.click()
    assert widget.status_text.startswith("The random seed 'forty-two' is not a whole number")
    assert "empty the box" in widget.status_text
    assert widget.model.calls == [] and widget.turns == [] and widget.input.value == "Hi"


def test_enter_in_the_text_box_sends(make_widget):
    widget = make_widget()
    widget.input.value = "Sent with Enter"
    widget.input._handle_custom_msg({"event": "submit"}, [])  # what the browser sends when Enter is pressed
    assert widget.join(timeout=30)
    assert widget.messages[-2] == {"role": "user", "content": "Sent with Enter"}
    assert widget.messages[-1]["content"] == "Hello! How can I help?" and widget.input.value == ""


def test_reset_with_defaults_restores_what_the_widget_started_with(make_widget):
    widget = make_widget()
    start = widget.settings_summary()
    assert "temperature 0.7, top_p 0.8, top_k 20, a new random seed every Send" in start
    assert "max_new_tokens 512" in start
    widget.max_new_tokens.value, widget.mode.value, widget.random_seed.value = 40, "greedy", "3"
    widget.show_template.value, widget.stop_loops.value = True, False
    widget.reset()  # the Reset button keeps the learner's settings...
    assert widget.max_new_tokens.value == 40 and "greedy" in widget.status_text and "max_new_tokens 40" in \
        widget.status_text
    widget.reset(defaults=True)  # ...reset(defaults=True) puts back the ones the widget started with
    assert widget.max_new_tokens.value == 512 and widget.mode.value == "sampling" and widget.random_seed.value == ""
    assert not widget.show_template.value and widget.template.layout.display == "none"
    assert widget.stop_loops.value
    assert widget.status_text == f"New conversation ({start}): type a message and press Enter or Send."


def test_template_view_shows_the_prompt_and_its_token_count(make_widget, packaged_tokenizer):
    widget = make_widget()
    assert not widget.show_template.value and widget.template.layout.display == "none"
    assert widget.show_template.description == "Show the chat template"
    widget.show_template.value = True
    assert widget.template.layout.display == "block" and widget.show_template.description == "Hide the chat template"
    assert widget.token_count() == 21  # the system message alone: the first 21 of the seed's 39 ids
    widget.send(SEED_PROMPT, wait=True)
    text = packaged_tokenizer.apply_chat_template(widget.messages, tokenize=False)
    assert widget.token_count() == len(packaged_tokenizer(text).input_ids)
    assert f"{widget.token_count()} tokens</b> of the model's 32,768-token context" in widget.template.value
    assert "&lt;|im_start|&gt;" in widget.template.value and "Hello! How can I help?" in widget.template.value
    assert "max-height:320px;overflow-y:auto" in widget.template.value  # a bounded panel that scrolls


def test_template_view_follows_the_reply_while_it_streams(make_widget):
    widget = make_widget(reply="tick", endless=True, delay=0.02, max_new_tokens=2000)
    widget.show_template.value = True
    widget.send("Count forever")
    wait_for(lambda: widget.template.value.count("tick") >= 5)  # the panel shows the reply as it grows
    assert widget.busy
    widget.stop()
    assert widget.join(timeout=30)
    assert widget.template.value.count("tick") == widget.messages[-1]["content"].count("tick")


def test_empty_system_prompt_gets_the_templates_default(make_widget):
    widget = make_widget()
    widget.system.value = ""
    widget.show_template.value = True
    assert widget.messages == [] and "nothing to render" in widget.template.value
    widget.send("Hi", wait=True)
    assert widget.messages[0]["role"] == "user"
    assert SEED_SYSTEM_PROMPT in widget.template.value  # Qwen's template adds its default system prompt


def test_plain_text_repr_says_how_to_show_the_conversation_again_or_that_it_is_gone(make_widget, monkeypatch):
    """What a notebook shows where the widget cannot be (a saved or refreshed page): with the notebook's name for it."""
    import IPython

    widget = make_widget()
    bundle = widget._repr_mimebundle_()
    assert bundle["text/plain"] == catalogue.text("widget.plain_text.unnamed", "en")
    assert "a cell with just the widget's name shows it again" in bundle["text/plain"]
    assert "application/vnd.jupyter.widget-view+json" in bundle
    monkeypatch.setattr(IPython, "get_ipython", lambda: SimpleNamespace(user_ns={"_": widget, "chat": widget}))
    plain = widget._repr_mimebundle_()["text/plain"]
    assert "a cell with just `chat` shows it again" in plain
    assert "After a kernel restart the conversation is gone" in plain


def test_every_control_has_a_css_class(make_widget):
    widget = make_widget()
    classes = {cls for w in (widget.input, widget.send_button, widget.stop_button, widget.reset_button,
                             widget.conversation, widget.status, widget.system, widget.mode, widget.temperature,
                             widget.top_p, widget.repetition_penalty, widget.random_seed, widget.max_new_tokens,
                             widget.show_template, widget.template, widget.stop_loops, widget.view)
               for cls in w._dom_classes}
    assert {"qcw-input", "qcw-send", "qcw-stop", "qcw-reset", "qcw-conversation", "qcw-status", "qcw-system",
            "qcw-mode", "qcw-temperature", "qcw-top-p", "qcw-repetition-penalty", "qcw-random-seed",
            "qcw-max-new-tokens",
            "qcw-show-template", "qcw-template", "qcw-stop-loops", "qcw-chat"} <= classes


# -- Markdown in replies, rendered safely ----------------------------------------------------------------------------

class Tags(HTMLParser):
    """Every element and attribute a browser would build from some HTML."""

    def __init__(self, markup: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(markup)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


ATTACKS = [
    "<script>alert('x')</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="#" onclick="alert(1)">click</a>',
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<style>body{display:none}</style>",
    '<svg onload="alert(1)"></svg>',
    "[click me](javascript:alert(1))",
    "[click me](JaVaScRiPt:alert(1))",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](https://example.com/x.png)",
    "```html\n<script>alert(1)</script>\n```",
    "`<img src=x onerror=alert(1)>`",
    "**bold <script>alert(1)</script>**",
]


def live_html_problems(markup: str) -> list[str]:
    """What in ``markup`` could run or fetch something: script-like elements, event handlers, dangerous URLs."""
    problems = []
    for tag, attrs in Tags(markup).tags:
        if tag in ("script", "iframe", "object", "embed", "img", "svg", "style", "link", "meta", "form"):
            problems.append(f"<{tag}>")
        for name, value in attrs.items():
            if name.startswith("on"):
                problems.append(f"{tag} {name}=")
            if name in ("href", "src") and re.match(r"\s*(javascript|vbscript|data):", value or "", re.I):
                problems.append(f"{tag} {name}={value}")
    return problems


def test_markdown_in_a_reply_is_rendered():
    shown = render_markdown("## Features\n\n1. **Fast** and *small*\n2. `generate`\n\n```python\nprint('hi')\n```\n\n"
                            "| a | b |\n|---|---|\n| 1 | 2 |\n\n[docs](https://huggingface.co/docs)")
    tags = [tag for tag, _ in Tags(shown).tags]
    for tag in ("h2", "ol", "li", "strong", "em", "code", "pre", "table", "td", "a"):
        assert tag in tags, f"no <{tag}> in {shown}"
    assert "**" not in shown and "```" not in shown and "##" not in shown
    assert '<pre><code class="language-python">print(&#x27;hi&#x27;)' in shown or \
        '<pre><code class="language-python">print(\'hi\')' in shown
    link = next(attrs for tag, attrs in Tags(shown).tags if tag == "a")
    assert link == {"href": "https://huggingface.co/docs", "target": "_blank", "rel": "noopener noreferrer"}


@pytest.mark.parametrize("attack", ATTACKS)
def test_html_in_a_reply_shows_as_text_and_never_runs(attack):
    shown = render_markdown(attack)
    assert live_html_problems(shown) == [], shown
    if attack.startswith("<script"):
        assert "&lt;script&gt;" in shown   # shown as text


def test_the_conversation_renders_replies_as_markdown_and_keeps_the_users_text_as_typed(make_widget):
    attack = " ".join(ATTACKS[:6])
    widget = make_widget(reply="**Hello** from `generate`:\n\n- one\n- two\n\n" + attack)
    widget.send("Use **stars** and <b>tags</b>", wait=True)
    shown = widget.conversation.value
    reply = shown[shown.index('class="qcw-turn qcw-assistant"'):]
    assert "<strong>Hello</strong>" in reply and "<code>generate</code>" in reply and "<li>one</li>" in reply
    assert "Use **stars** and &lt;b&gt;tags&lt;/b&gt;" in shown   # the user's words are shown as typed
    assert live_html_problems(shown.replace(shown[:shown.index("</style>") + 8], "")) == []
    assert shown.count("<style>") == 1   # the widget's own stylesheet for rendered replies, and nothing else


# -- tokens per second, and a reply that loops ------------------------------------------------------------------------

def test_the_status_line_gives_tokens_per_second(make_widget):
    widget = make_widget(reply="One two three four five six seven eight nine ten.")
    widget.send("Count to ten.", wait=True)
    generation = widget.last_generation
    rate = len(generation.new_ids) / generation.seconds
    assert f"{len(generation.new_ids)} new tokens in {generation.seconds:.1f} s ({rate:.1f} tokens/s)" \
        in widget.status_text


def test_while_a_reply_streams_the_status_line_counts_its_tokens_and_their_rate(make_widget):
    widget = make_widget(reply="tick", endless=True, delay=0.02, max_new_tokens=2000)
    widget.stop_loops.value = False
    seen = []
    widget.status.observe(lambda change: seen.append(widget.status_text), "value")
    widget.send("Count forever")
    wait_for(lambda: any("tokens so far" in line for line in seen))
    widget.stop()
    assert widget.join(timeout=30)
    counting = [line for line in seen if "tokens so far" in line]
    match = re.fullmatch(r"Generating\.\.\. (\d+) new tokens so far, (\d+\.\d) tokens/s \(Stop interrupts it\)",
                         counting[0])
    assert match and int(match[1]) >= 1 and float(match[2]) > 0, counting[0]


def notebook_09_find_loop():
    """Notebook 09's own find_loop, from its code cell."""
    cells = json.loads((Path(__file__).resolve().parents[1] / "notebooks" / "09_the_whole_pipeline.ipynb").read_text())
    source = next("".join(c["source"]) for c in cells["cells"] if "def find_loop" in "".join(c["source"]))
    definition = source[source.index("def find_loop"):]
    definition = definition[:definition.index("\n\n\n")]
    namespace: dict = {}
    exec(definition, namespace)
    return namespace["find_loop"]


LOOPING_ZH = ("iPhone 是 Apple 2014 年推出的一款智能手机，它以其出色的性能、出色的摄像头、出色的电池寿命"
              + "、出色的防水性能" * 8 + "、出色的防水")


@pytest.mark.parametrize("text", [LOOPING_ZH, "hello world", "hahaha", "ha ha ha ha", "...", "a\n\n\n", "",
                                  "1, 2, 3, 4, 5", "abcabcab", "The end. The end. The end.", "  x  x  x"])
def test_find_loop_is_notebook_09s_on_text(text):
    assert find_loop(text) == notebook_09_find_loop()(text)


def test_find_loop_on_token_ids_needs_the_repeats_to_be_long(packaged_tokenizer):
    ids = packaged_tokenizer(LOOPING_ZH).input_ids
    start, piece = find_loop(ids, 3, LOOP_MIN_TOKENS)
    assert packaged_tokenizer.decode(piece) in ("、出色的防水性能", "出色的防水性能、")
    assert len(ids) - start >= LOOP_MIN_TOKENS
    for fine in ["| a | b | c | d |\n|---|---|---|---|\n| 1 | 2 | 3 | 4 |", "Ha ha ha ha!", "Wait...... what?",
                 "for i in range(3):\n    print(i)\n    print(i)\n    print(i)\n"]:
        assert find_loop(packaged_tokenizer(fine).input_ids, 3, LOOP_MIN_TOKENS) is None, fine


def test_a_reply_that_loops_is_stopped_early_with_what_to_try(make_widget):
    widget = make_widget(reply=" the same clause again,", endless=True, max_new_tokens=500)
    widget.repetition_penalty.value = 1.0
    reply = widget.send("Tell me a long story.", wait=True)
    count = len(widget.last_generation.new_ids)
    assert LOOP_MIN_TOKENS <= count < 60, count
    assert reply.count(" the same clause again,") >= 3
    assert widget.status_text.startswith(f"Stopped: {count} new tokens in ")
    assert "ended by a loop (“ the same clause again,” " in widget.status_text
    assert "raise repetition_penalty (to 1.1, say) or temperature" in widget.status_text
    assert "#e65100" in widget.status.value   # shown as a warning
    widget.stop_loops.value = False   # switched off: the loop runs on to max_new_tokens
    widget.reset()
    widget.send("Tell me a long story.", wait=True)
    assert len(widget.last_generation.new_ids) == 500 and "ended by max_new_tokens" in widget.status_text


def test_a_long_reply_without_a_loop_is_not_stopped(make_widget):
    story = ("Once upon a time a small model lived on a laptop. Every morning it read the prompt, every evening it "
             "wrote a reply, and in between it counted tokens: one, two, three, four, five, six, seven, eight.")
    widget = make_widget(reply=story, max_new_tokens=500)
    assert widget.send("Tell me a story.", wait=True) == story
    assert "ended by end of turn" in widget.status_text


def test_a_chinese_widget_says_in_chinese_that_the_reply_looped(monkeypatch, make_widget):
    widget = chinese(monkeypatch, make_widget, reply="、出色的防水性能", endless=True, max_new_tokens=500)
    widget.send("请介绍一下iPhone", wait=True)
    assert "结束原因：陷入循环（结尾处“" in widget.status_text and "调高 repetition_penalty" in widget.status_text


# -- the widget's words in both languages ------------------------------------------------------------------------

HAN = re.compile(r"[\u4e00-\u9fff]")
# What the widget shows as it is in every language: the names of generate's arguments, code a learner types.
CODE_NAMES = {"temperature", "top_p", "repetition_penalty", "max_new_tokens"}


def visible_words(widget):
    """Every label, tooltip and placeholder the widget shows, by where it is shown."""
    shown = {"placeholder": widget.input.placeholder, "random seed placeholder": widget.random_seed.placeholder,
             "mode labels": " / ".join(widget.mode._options_labels)}
    for name in ("send_button", "stop_button", "reset_button", "system", "mode", "temperature", "top_p",
                 "repetition_penalty", "random_seed", "max_new_tokens", "show_template", "stop_loops"):
        part = getattr(widget, name)
        shown[f"{name}.description"] = part.description
        if getattr(part, "tooltip", None):
            shown[f"{name}.tooltip"] = part.tooltip
    return shown


def chinese(monkeypatch, make_widget, **options):
    monkeypatch.setenv("WORKBOOK_LANG", "zh")
    return make_widget(**options)


def test_under_workbook_lang_zh_every_label_is_chinese(monkeypatch, make_widget):
    widget = chinese(monkeypatch, make_widget)
    assert widget.language == "zh"
    left_in_english = {where: words for where, words in visible_words(widget).items()
                       if words not in CODE_NAMES and not HAN.search(words)}
    assert not left_in_english, f"labels of the Chinese widget without Chinese: {left_in_english}"
    assert (widget.send_button.description, widget.stop_button.description, widget.reset_button.description) == (
        "发送", "停止", "重新开始")
    assert widget.system.description == "系统提示词" and widget.show_template.description == "显示对话模板"
    assert widget.mode._options_labels == ("采样", "贪心") and widget.mode.value == "sampling"
    widget.mode.value = "greedy"  # code that drives the widget uses the same values in both languages
    assert widget.mode.label == "贪心" and widget.temperature.disabled
    assert HAN.search(widget._repr_mimebundle_()["text/plain"])
    assert "还没有消息" in widget.conversation.value


def test_under_workbook_lang_zh_the_status_line_is_chinese(monkeypatch, make_widget):
    widget = chinese(monkeypatch, make_widget)
    zh = lambda key, **values: catalogue.text(key, "zh", **values)  # noqa: E731
    assert widget.status_text == zh("widget.status.ready", settings=widget.settings_summary())
    assert widget.settings_summary().startswith("采样：temperature 0.7，top_p 0.8，top_k 20，每次发送都用新的随机种子")
    widget.send("   ")
    assert widget.status_text == zh("widget.status.empty")
    widget.stop()
    assert widget.status_text == zh("widget.status.nothing_to_stop")

    assert widget.send("你好", wait=True) == "Hello! How can I help?"
    assert widget.status_text.startswith(f"完成：{len(widget.last_generation.new_ids)} 个新词元，用时 ")
    ended, how = zh("widget.ended.end_of_turn"), zh("widget.how.sampled", random_seed=widget.last_random_seed)
    assert f"结束原因：{ended}；{how}" in widget.status_text and widget.status_text.endswith("。")
    html = widget.conversation.value
    assert "<b>系统</b>" in html and "<b>你</b>" in html and "<b>助手</b>" in html

    widget.show_template.value = True
    assert widget.show_template.description == "隐藏对话模板"
    assert f"<b>{widget.token_count()} 个词元</b>，占模型 32,768 个词元上下文的" in widget.template.value

    widget.random_seed.value = "四十二"
    widget.send("再说一遍")
    assert widget.status_text == zh("widget.status.bad_random_seed", typed="'四十二'")
    widget.reset()
    assert widget.status_text == zh("widget.status.new_conversation", settings=widget.settings_summary())
    assert "随机种子 四十二" in widget.status_text  # the settings name the typed random seed, as in English


def test_under_workbook_lang_zh_stop_and_errors_are_chinese(monkeypatch, make_widget):
    widget = chinese(monkeypatch, make_widget, reply="tick", endless=True, delay=0.02, max_new_tokens=2000)
    widget.stop_loops.value = False
    widget.send("一直数下去")
    wait_for(lambda: widget.turns and widget.turns[-1]["content"].count("tick") >= 3)
    widget.send("再来一条")
    assert widget.status_text == catalogue.text("widget.status.busy", "zh")
    widget.stop_button.click()
    assert widget.join(timeout=30)
    assert widget.status_text.startswith("已停止：") and "结束原因：点击了“停止”" in widget.status_text

    broken = chinese(monkeypatch, make_widget, error=RuntimeError("the model broke"))
    assert broken.send("你好", wait=True) is None
    assert broken.status_text == catalogue.text("widget.status.failed", "zh", error="RuntimeError: the model broke")

    short = chinese(monkeypatch, make_widget, context_length=30, max_new_tokens=20)
    short.send("你好", wait=True)
    assert short.status_text.startswith("这段对话已经放不进上下文了") and "30 个词元" in short.status_text
    assert short.status_text.endswith(catalogue.text("error.context.fix_widget", "zh"))


def test_without_workbook_lang_a_widget_made_in_notebooks_zh_speaks_chinese(monkeypatch, make_widget, tmp_path):
    """The kernel of a Chinese notebook runs in notebooks/zh/: that alone makes the widget Chinese."""
    monkeypatch.delenv("WORKBOOK_LANG")
    (tmp_path / "notebooks" / "zh").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "notebooks")
    assert make_widget().send_button.description == "Send"
    monkeypatch.chdir(tmp_path / "notebooks" / "zh")
    assert make_widget().send_button.description == "发送"


def test_english_otherwise_with_the_texts_it_always_had(monkeypatch, make_widget, tmp_path):
    monkeypatch.delenv("WORKBOOK_LANG")
    monkeypatch.chdir(tmp_path)
    widget = make_widget()
    assert widget.language == "en"
    assert not [words for words in visible_words(widget).values() if HAN.search(words)]
    assert (widget.send_button.description, widget.stop_button.description, widget.reset_button.description) == (
        "Send", "Stop", "Reset")
    assert widget.mode._options_labels == ("sampling", "greedy") and widget.system.description == "System prompt"
    assert widget.input.placeholder == "Type a message, then press Enter or Send"
    assert widget.show_template.description == "Show the chat template"
    widget.show_template.value = True
    assert widget.show_template.description == "Hide the chat template"
    assert widget.random_seed.description == "random seed"
    plain = widget._repr_mimebundle_()["text/plain"]
    assert plain == catalogue.text("widget.plain_text.unnamed", "en") != \
        catalogue.text("widget.plain_text.unnamed", "zh")
    assert widget.status_text.startswith("Ready (sampling: temperature 0.7, top_p 0.8, top_k 20, a new random seed")
    widget.send("Hi", wait=True)
    assert "<b>You</b>" in widget.conversation.value and "<b>Assistant</b>" in widget.conversation.value


def test_the_language_is_fixed_when_the_widget_is_made(monkeypatch, make_widget):
    widget = chinese(monkeypatch, make_widget)
    monkeypatch.setenv("WORKBOOK_LANG", "en")
    widget.reset()
    assert widget.status_text.startswith("新的对话（") and widget.send_button.description == "发送"


def test_the_language_can_be_given_and_an_unknown_one_is_refused(packaged_tokenizer):
    model = FakeModel(packaged_tokenizer)
    assert ChatWidget(model, packaged_tokenizer, language="zh").send_button.description == "发送"
    assert ChatWidget(model, packaged_tokenizer, language="en").send_button.description == "Send"
    with pytest.raises(CatalogueError, match="no catalogue for 'fr': the workbook has en, zh"):
        ChatWidget(model, packaged_tokenizer, language="fr")


# -- the real packaged model ---------------------------------------------------------------------------------------

def greedy_widget(model, tokenizer, **options):
    """A widget set to the plain greedy decoding of notebooks 06-09 (no repetition penalty), so replies match chat()."""
    widget = ChatWidget(model, tokenizer, mode="greedy", **options)
    widget.repetition_penalty.value = 1.0
    return widget


def test_real_model_streams_the_same_reply_as_chat(packaged_model, packaged_tokenizer):
    widget = greedy_widget(packaged_model, packaged_tokenizer, max_new_tokens=8)
    pieces = []
    widget.conversation.observe(lambda change: pieces.append(change["new"]), "value")
    reply = widget.send(SEED_PROMPT, wait=True)
    assert reply == chat(seed_messages(), packaged_model, packaged_tokenizer, max_new_tokens=8)
    assert reply.startswith("Large language model")
    assert widget.last_generation.prompt_ids == SEED_PROMPT_IDS and len(widget.last_generation.new_ids) == 8
    assert widget.status_text.startswith("Done: 8 new tokens") and "ended by max_new_tokens" in widget.status_text
    assert len(pieces) >= 3  # the conversation was redrawn as pieces arrived, not once at the end


def test_real_model_stops_after_one_token(packaged_model, packaged_tokenizer):
    widget = greedy_widget(packaged_model, packaged_tokenizer, max_new_tokens=32)
    widget.send(SEED_PROMPT)
    widget.stop()  # set before the first token is out: generate stops right after it
    assert widget.join(timeout=300)
    assert widget.status_text.startswith("Stopped: 1 new token ")
    assert widget.messages[-1] == {"role": "assistant", "content": "Large"}


def test_real_model_second_turn_reads_only_its_new_tokens(packaged_model, packaged_tokenizer):
    widget = greedy_widget(packaged_model, packaged_tokenizer, max_new_tokens=12)
    widget.send(SEED_PROMPT, wait=True)
    assert widget.last_reuse.reused == 0 and widget.last_reuse.computed == 39
    first = widget.last_generation
    widget.send("Say it in one sentence.", wait=True)
    reuse, prompt = widget.last_reuse, widget.last_generation.prompt_ids
    # the kept cache holds turn 1's prompt and reply (all but the last generated token); turn 2 shares that prefix
    assert 39 <= reuse.reused <= len(first.full_ids) - 1 and reuse.reused + reuse.computed == len(prompt)
    assert prompt[:reuse.reused] == first.full_ids[:reuse.reused]
    assert f"read {reuse.computed} of {len(prompt)} prompt tokens, {reuse.reused} from the kept cache" \
        in widget.status_text
    widget.reset()
    assert widget.kv_cache.ids == [] and widget.kv_cache.cache is None  # a new conversation: an empty cache


def test_real_model_same_random_seed_same_sample(packaged_model, packaged_tokenizer):
    widget = ChatWidget(packaged_model, packaged_tokenizer, max_new_tokens=12)
    widget.random_seed.value = "7"
    first = widget.send("Name a colour.", wait=True)
    widget.reset()
    assert widget.send("Name a colour.", wait=True) == first and widget.last_random_seed == 7


def test_real_model_answers_a_chinese_message_in_a_chinese_widget(packaged_model, packaged_tokenizer, monkeypatch):
    monkeypatch.setenv("WORKBOOK_LANG", "zh")
    widget = greedy_widget(packaged_model, packaged_tokenizer, max_new_tokens=8)
    reply = widget.send("请介绍一下iPhone", wait=True)
    assert reply == chat([{"role": "system", "content": SEED_SYSTEM_PROMPT},
                          {"role": "user", "content": "请介绍一下iPhone"}],
                         packaged_model, packaged_tokenizer, max_new_tokens=8)
    assert widget.status_text.startswith("完成：8 个新词元，用时 ")
    assert f"结束原因：{catalogue.text('widget.ended.max_new_tokens', 'zh')}；贪心解码。" in widget.status_text
