"""load_model keeps the int4 weights it made (helpers.model.formats.speed_up with a folder): read back, they give the
same logits as quantizing again; a damaged file is made again; a folder that cannot be written costs only time.
A tiny random Qwen2 model stands in for the real one, so that quantizing takes a moment."""

import os

import pytest
import torch
from transformers import AutoModelForCausalLM, Qwen2Config

from helpers.model import formats


@pytest.fixture()
def tiny_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBOOK_MODEL_FILES", str(tmp_path / "cache"))
    torch.manual_seed(0)
    config = Qwen2Config(vocab_size=512, hidden_size=128, intermediate_size=256, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True)
    folder = tmp_path / "tiny"
    AutoModelForCausalLM.from_config(config).to(torch.bfloat16).save_pretrained(folder)
    return folder


def load(folder):
    return formats.speed_up(AutoModelForCausalLM.from_pretrained(folder, dtype=torch.bfloat16), folder)


def logits(model):
    with torch.no_grad():
        return model(input_ids=torch.tensor([[1, 5, 9, 200, 7]])).logits


def int4_weights(model):
    return {name for name, value in model.state_dict().items() if isinstance(value, formats._int4_class())}


def test_weights_read_back_give_the_same_logits_as_quantizing_again(tiny_folder):
    cache = formats.int4_cache_file(tiny_folder)
    assert not cache.exists()
    made = load(tiny_folder)
    assert cache.is_file(), "the first load keeps its int4 weights"
    written = cache.stat().st_mtime_ns
    read = load(tiny_folder)
    assert cache.stat().st_mtime_ns == written, "the second load reads the file instead of writing it again"
    linear = {f"{n}.weight" for n, m in read.named_modules() if isinstance(m, torch.nn.Linear)}
    assert int4_weights(read) == int4_weights(made) == linear
    assert torch.equal(logits(read), logits(made))
    assert torch.equal(logits(read), logits(formats.to_format(
        AutoModelForCausalLM.from_pretrained(tiny_folder, dtype=torch.bfloat16), "int4")))


def test_the_file_name_changes_with_the_model_files(tiny_folder):
    before = formats.int4_cache_file(tiny_folder)
    weights = tiny_folder / "model.safetensors"
    os.utime(weights, ns=(weights.stat().st_atime_ns, weights.stat().st_mtime_ns + 10**9))
    assert formats.int4_cache_file(tiny_folder) != before


def test_a_damaged_file_is_made_again(tiny_folder):
    cache = formats.int4_cache_file(tiny_folder)
    cache.parent.mkdir(parents=True)
    cache.write_bytes(b"not a torch file")
    model = load(tiny_folder)
    assert int4_weights(model), "the model was quantized anyway"
    assert cache.stat().st_size > 1000, "and the damaged file replaced by a good one"
    assert formats._read_int4(cache, model) is not None


def test_a_cache_folder_that_cannot_be_written_costs_only_time(tiny_folder, monkeypatch):
    cache = formats.int4_cache_file(tiny_folder)
    cache.parent.parent.mkdir(parents=True)
    cache.parent.write_text("a file where the folder should be")  # mkdir fails: the weights cannot be kept
    model = load(tiny_folder)
    assert int4_weights(model)
    assert cache.parent.is_file() and not list(cache.parent.parent.glob(".*tmp-*")), "nothing half-written is left"
