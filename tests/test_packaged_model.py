"""The real packaged model: its converted folder, its tokenizer, a load and a short greedy generation."""

import json
import os
import stat

import torch

from helpers import SEED_PROMPT_IDS, describe_model, model_path, seed_messages
from helpers.model.folder import check_folder, current_umask, read_manifest
from helpers.model.packaged import FORMAT_VERSION, EXPECTED_MANIFEST, GENERATION_CONFIG, packaged_model_dir


def test_the_converted_folder_is_complete_and_carries_the_published_generation_defaults():
    folder = packaged_model_dir()
    assert model_path("packaged") == str(folder)
    assert check_folder(folder, EXPECTED_MANIFEST) is None
    assert read_manifest(folder)["format_version"] == FORMAT_VERSION
    saved = json.loads((folder / "generation_config.json").read_text())
    assert saved == GENERATION_CONFIG
    assert saved["eos_token_id"] == [151645, 151643]


def test_the_tokenizer_has_the_hubs_special_tokens_and_length(packaged_tokenizer):
    # Qwen/Qwen2.5-0.5B-Instruct's tokenizer_config.json: no BOS token, model_max_length 131072
    saved = json.loads((packaged_model_dir() / "tokenizer_config.json").read_text())
    assert saved["bos_token"] is None and saved["model_max_length"] == 131072
    tok = packaged_tokenizer
    assert (tok.bos_token, tok.bos_token_id, tok.model_max_length) == (None, None, 131072)
    assert (tok.eos_token, tok.pad_token, tok.pad_token_id) == ("<|im_end|>", "<|endoftext|>", 151643)
    assert tok("Hello")["input_ids"] == tok.convert_tokens_to_ids(["Hello"])  # nothing is added around a text


def test_the_converted_files_are_readable_as_the_umask_allows():
    # the conversion's temporary files are private (0o600); the finished folder must follow the umask instead
    folder = packaged_model_dir()
    for path in folder.iterdir():
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~current_umask(), path.name


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
