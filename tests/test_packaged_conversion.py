"""The packaged model's cache: an old conversion is redone, and the tokenizer config gets the Hub's values.

The GGUF joining and conversion are replaced by small fakes here (the real conversion takes about a minute);
tests/test_packaged_model.py checks the real folder.
"""

import json

import pytest

from helpers.model import packaged
from helpers.model.folder import MANIFEST, check_folder, read_manifest, write_manifest

# What transformers 5.24 writes when it converts the GGUF's tokenizer (the folder of workbook version 1 had it)
CONVERTED = {"add_prefix_space": None, "backend": "tokenizers", "bos_token": "<|endoftext|>", "eos_token": "<|im_end|>",
             "model_max_length": 1000000000000000019884624838656, "pad_token": "<|endoftext|>",
             "tokenizer_class": "Qwen2Tokenizer", "unk_token": None}


@pytest.fixture
def fake_conversion(monkeypatch):
    calls = []

    def join(dest, *args, **kwargs):
        dest.write_bytes(b"GGUF")
        return dest

    def convert(folder, gguf_name):
        calls.append(folder)
        (folder / "config.json").write_text('{"model_type": "qwen2"}')
        (folder / "tokenizer_config.json").write_text(json.dumps(CONVERTED))
        packaged.match_hub_tokenizer_config(folder)

    monkeypatch.setattr(packaged, "join_gguf", join)
    monkeypatch.setattr(packaged, "convert_gguf", convert)
    return calls


def test_the_hubs_tokenizer_values_replace_the_converted_ones(tmp_path):
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(CONVERTED))
    saved = packaged.match_hub_tokenizer_config(tmp_path)
    assert saved == json.loads((tmp_path / "tokenizer_config.json").read_text())
    assert saved["bos_token"] is None and saved["model_max_length"] == 131072
    assert {k: v for k, v in saved.items() if k not in ("bos_token", "model_max_length")} == \
        {k: v for k, v in CONVERTED.items() if k not in ("bos_token", "model_max_length")}


def test_a_new_folder_records_its_version(tmp_path, fake_conversion):
    folder = packaged.ensure_packaged_model(tmp_path)
    assert folder == packaged.packaged_model_dir(tmp_path)
    assert read_manifest(folder)["format_version"] == packaged.FORMAT_VERSION
    assert json.loads((folder / "tokenizer_config.json").read_text())["bos_token"] is None
    packaged.ensure_packaged_model(tmp_path)
    assert len(fake_conversion) == 1  # a current folder is reused


def test_a_folder_converted_by_an_older_workbook_is_converted_again(tmp_path, fake_conversion, capsys):
    old = packaged.packaged_model_dir(tmp_path)
    old.mkdir(parents=True)
    (old / "tokenizer_config.json").write_text(json.dumps(CONVERTED))
    write_manifest(old, source="packaged")  # version 1 wrote no version
    assert check_folder(old) is None  # complete as version 1 knew it...
    folder = packaged.ensure_packaged_model(tmp_path)
    assert len(fake_conversion) == 1  # ...but converted again
    assert "written by another version of the workbook (format_version is missing" in capsys.readouterr().out
    assert read_manifest(folder)["format_version"] == packaged.FORMAT_VERSION
    assert json.loads((folder / "tokenizer_config.json").read_text())["model_max_length"] == 131072
    assert (folder / MANIFEST).is_file()
