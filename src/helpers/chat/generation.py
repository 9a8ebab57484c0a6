"""The seed's pipeline as functions: messages -> template -> inputs -> generate -> slice -> decode -> reply."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from helpers.catalogue import text
from helpers.chat.conversation import check_fits_context, context_length as model_context_length
from helpers.errors import ArgumentError
from helpers.chat.messages import validate_messages
from helpers.display.progress import GenerationProgress

# Greedy decoding: always the most likely next token, so a run is reproducible. The model's published defaults
# sample (temperature 0.7, top_p 0.8, top_k 20) and add a repetition penalty of 1.1; we switch both off, so that
# every step is a plain argmax over the model's scores.
GREEDY = {"do_sample": False, "repetition_penalty": 1.0}


def render_prompt(messages, tokenizer) -> str:
    """Stage 4: the chat template's text for ``messages``, ending with the assistant's turn opened."""
    return tokenizer.apply_chat_template(validate_messages(messages), tokenize=False, add_generation_prompt=True)


def build_inputs(messages, tokenizer, device="cpu", *, max_new_tokens: int | None = None,
                 context_length: int | None = None):
    """Stages 4-5: render the template, tokenize it as a batch of one, and move the tensors to ``device``.

    Given ``context_length`` (and the ``max_new_tokens`` the reply may use, default 0), it raises
    :class:`helpers.errors.PromptTooLong` when the prompt would not fit, before anything is sent to the model.
    """
    _check_tokenizer(tokenizer)
    inputs = tokenizer([render_prompt(messages, tokenizer)], return_tensors="pt")
    if context_length is not None:
        check_int("context_length", context_length, minimum=1)
        new = 0 if max_new_tokens is None else check_int("max_new_tokens", max_new_tokens, minimum=1)
        check_fits_context(inputs.input_ids.shape[1], new, context_length)
    return inputs.to(device)


@dataclass
class Generation:
    """What one ``generate`` call produced, with the prompt and the new ids kept apart."""

    prompt_ids: list[int]
    full_ids: list[int]
    seconds: float
    eos_ids: list[int] = field(default_factory=list)

    @property
    def new_ids(self) -> list[int]:
        """Stage 7: the full ids with the prompt sliced off."""
        return self.full_ids[len(self.prompt_ids):]

    @property
    def tokens_per_second(self) -> float:
        return len(self.new_ids) / self.seconds if self.seconds > 0 else float("nan")

    @property
    def stopped_by(self) -> str:
        """Why generation ended: the model closed its turn, or it ran out of ``max_new_tokens``."""
        return "end of turn" if self.new_ids and self.new_ids[-1] in self.eos_ids else "max_new_tokens"


def end_of_turn_ids(model) -> list[int]:
    """The ids that end the model's turn, as a list: ``generation_config.eos_token_id`` may be one id or a list
    (Qwen2.5-Instruct: ``[151645, 151643]``, ``<|im_end|>`` and ``<|endoftext|>``)."""
    eos = model.generation_config.eos_token_id
    return list(eos) if isinstance(eos, (list, tuple)) else [eos]


def generate(model, tokenizer, messages, max_new_tokens: int = 256, **generate_kwargs) -> Generation:
    """Stage 6: run ``model.generate`` on the messages (greedy unless told otherwise) and time it.

    While it runs, JupyterLab shows the new tokens so far and their speed (:class:`GenerationProgress`; pass
    ``streamer=`` to stream otherwise).

    Bad arguments fail at once with a message that names them: a ``max_new_tokens`` that is not a positive int
    (:class:`helpers.errors.ArgumentError`), a model and a tokenizer in each other's places, bad messages
    (:class:`helpers.MessagesError`), or a prompt that with ``max_new_tokens`` more tokens would not fit the
    model's context (:class:`helpers.errors.PromptTooLong`, raised before the model computes anything).
    """
    import torch

    check_int("max_new_tokens", max_new_tokens, minimum=1)
    _check_model(model, tokenizer)
    inputs = build_inputs(messages, tokenizer, model.device, max_new_tokens=max_new_tokens,
                          context_length=model_context_length(model))
    settings = {**GREEDY, "streamer": GenerationProgress(), **generate_kwargs}
    started = time.perf_counter()
    with torch.no_grad():
        output = model.generate(**inputs, max_new_tokens=max_new_tokens, **settings)
    seconds = time.perf_counter() - started
    return Generation(prompt_ids=inputs.input_ids[0].tolist(), full_ids=output[0].tolist(), seconds=seconds,
                      eos_ids=end_of_turn_ids(model))


def chat(messages, model, tokenizer, max_new_tokens: int = 256, **generate_kwargs) -> str:
    """The whole pipeline: the assistant's reply to ``messages`` as plain text (stages 3 to 9).

    It checks its arguments and the prompt's length first, as :func:`generate` does.
    """
    result = generate(model, tokenizer, messages, max_new_tokens=max_new_tokens, **generate_kwargs)
    return tokenizer.batch_decode([result.new_ids], skip_special_tokens=True)[0]


def check_int(name: str, value, minimum: int | None = None) -> int:
    """``value`` if it is an int (not a bool) of at least ``minimum``; else an :class:`ArgumentError` naming it."""
    if isinstance(value, bool) or not isinstance(value, int):
        hint = ""
        if isinstance(value, str) and value.strip().isdigit():
            hint = text("error.argument.hint_quotes", name=name, number=int(value))
        elif isinstance(value, float) and value.is_integer():
            hint = text("error.argument.hint_float", name=name, number=int(value))
        raise ArgumentError(text("error.argument.not_int", name=name, type=type(value).__name__, value=repr(value),
                                 hint=hint))
    if minimum is not None and value < minimum:
        raise ArgumentError(text("error.argument.minimum", name=name, minimum=minimum, value=value))
    return value


def _check_tokenizer(tokenizer) -> None:
    if not hasattr(tokenizer, "apply_chat_template"):
        swapped = text("error.argument.tokenizer_is_model") if hasattr(tokenizer, "generate") else ""
        raise ArgumentError(text("error.argument.tokenizer", type=type(tokenizer).__name__, swapped=swapped))


def _check_model(model, tokenizer) -> None:
    if not (hasattr(model, "generate") and hasattr(model, "config")):
        swapped = text("error.argument.model_is_tokenizer") if hasattr(model, "apply_chat_template") else ""
        raise ArgumentError(text("error.argument.model", type=type(model).__name__, swapped=swapped))
    _check_tokenizer(tokenizer)
