"""The real packaged model: its cache, its tokenizer, a load and a short greedy generation."""

import json

import torch

from helpers import SEED_PROMPT_IDS, describe_model, model_path, seed_messages
from helpers.cache import check_folder
from helpers.packaged import GENERATION_CONFIG, packaged_model_dir


def test_the_cache_is_complete_and_carries_the_published_generation_defaults():
    folder = packaged_model_dir()
    assert model_path("packaged") == str(folder)
    assert check_folder(folder) is None
    saved = json.loads((folder / "generation_config.json").read_text())
    assert saved == GENERATION_CONFIG
    assert saved["eos_token_id"] == [151645, 151643]


def test_the_seed_messages_render_to_the_seed_ids(packaged_tokenizer):
    text = packaged_tokenizer.apply_chat_template(seed_messages(), tokenize=False, add_generation_prompt=True)
    ids = packaged_tokenizer([text], return_tensors="pt").input_ids[0].tolist()
    assert len(ids) == 39
    assert ids == SEED_PROMPT_IDS


def test_the_model_loads_in_bfloat16_on_the_cpu(packaged_model):
    info = describe_model(packaged_model, "packaged")
    assert (info.dtype, info.device, info.source) == ("bfloat16", "cpu", "packaged")
    assert info.parameters == 630_167_424
    assert packaged_model.config.num_key_value_heads == 2


def test_a_short_greedy_generation_answers_the_seed_prompt(packaged_model, packaged_tokenizer):
    text = packaged_tokenizer.apply_chat_template(seed_messages(), tokenize=False, add_generation_prompt=True)
    inputs = packaged_tokenizer([text], return_tensors="pt")
    with torch.no_grad():
        out = packaged_model.generate(**inputs, max_new_tokens=12, do_sample=False)
    new_ids = out[0, inputs.input_ids.shape[1]:]
    assert 0 < len(new_ids) <= 12
    reply = packaged_tokenizer.decode(new_ids, skip_special_tokens=True)
    assert reply.startswith("Large language model")
