"""The seed's pipeline as functions: messages -> template -> inputs -> generate -> slice -> decode -> reply."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from .messages import validate_messages

# Greedy decoding: always the most likely next token, so a run is reproducible. The model's published defaults
# sample (temperature 0.7, top_p 0.8, top_k 20) and add a repetition penalty of 1.1; we switch both off, so that
# every step is a plain argmax over the model's scores.
GREEDY = {"do_sample": False, "repetition_penalty": 1.0}


def render_prompt(messages, tokenizer) -> str:
    """Stage 4: the chat template's text for ``messages``, ending with the assistant's turn opened."""
    return tokenizer.apply_chat_template(validate_messages(messages), tokenize=False, add_generation_prompt=True)


def build_inputs(messages, tokenizer, device="cpu"):
    """Stages 4-5: render the template, tokenize it as a batch of one, and move the tensors to ``device``."""
    return tokenizer([render_prompt(messages, tokenizer)], return_tensors="pt").to(device)


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


def generate(model, tokenizer, messages, max_new_tokens: int = 256, **generate_kwargs) -> Generation:
    """Stage 6: run ``model.generate`` on the messages (greedy unless told otherwise) and time it."""
    import torch

    inputs = build_inputs(messages, tokenizer, model.device)
    settings = {**GREEDY, **generate_kwargs}
    started = time.perf_counter()
    with torch.no_grad():
        output = model.generate(**inputs, max_new_tokens=max_new_tokens, **settings)
    seconds = time.perf_counter() - started
    eos = model.generation_config.eos_token_id
    return Generation(prompt_ids=inputs.input_ids[0].tolist(), full_ids=output[0].tolist(), seconds=seconds,
                      eos_ids=list(eos) if isinstance(eos, (list, tuple)) else [eos])


def chat(messages, model, tokenizer, max_new_tokens: int = 256, **generate_kwargs) -> str:
    """The whole pipeline: the assistant's reply to ``messages`` as plain text (stages 3 to 9)."""
    result = generate(model, tokenizer, messages, max_new_tokens=max_new_tokens, **generate_kwargs)
    return tokenizer.batch_decode([result.new_ids], skip_special_tokens=True)[0]
