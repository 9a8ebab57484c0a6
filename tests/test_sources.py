import builtins
import json
import re

import pytest

from helpers import ModelSourceError, model_path, parse_model_spec
from helpers.model import sources


@pytest.fixture
def isolated_choice(tmp_path, monkeypatch):
    """Record choices in a temporary file instead of the checkout's."""
    target = tmp_path / ".workbook-model.json"
    monkeypatch.setattr(sources, "choice_file", lambda: target)
    return target


@pytest.mark.parametrize("spec, kind, name", [
    ("packaged", "packaged", "packaged"),
    ("Packaged", "packaged", "packaged"),
    ("Qwen/Qwen2.5-0.5B-Instruct", "hub", "Qwen/Qwen2.5-0.5B-Instruct"),
    ("modelscope:Qwen/Qwen2.5-0.5B-Instruct", "modelscope", "Qwen/Qwen2.5-0.5B-Instruct"),
])
def test_the_four_forms_parse(spec, kind, name):
    source = parse_model_spec(spec)
    assert (source.kind, source.name) == (kind, name)
    assert parse_model_spec(source.spec) == source


def test_an_existing_folder_is_a_local_source(tmp_path):
    source = parse_model_spec(str(tmp_path))
    assert source.kind == "local" and source.name == str(tmp_path.resolve())


@pytest.mark.parametrize("spec", ["", "   ", "qwen", "Qwen/Qwen2.5/extra", "hf://Qwen/x"])
def test_unknown_forms_list_the_accepted_ones(spec):
    with pytest.raises(ModelSourceError) as caught:
        parse_model_spec(spec)
    message = str(caught.value)
    assert "packaged" in message and "modelscope:" in message


@pytest.mark.parametrize("spec", ["modelscope:", "modelscope:qwen", "modelscope:a/b/c"])
def test_a_malformed_modelscope_id_shows_the_right_form(spec):
    with pytest.raises(ModelSourceError, match="write modelscope:OWNER/NAME"):
        parse_model_spec(spec)


def test_a_missing_folder_is_reported_as_a_folder(tmp_path):
    with pytest.raises(ModelSourceError, match="does not exist"):
        parse_model_spec(str(tmp_path / "nope"))


def test_a_folder_without_config_is_not_a_model(tmp_path):
    with pytest.raises(ModelSourceError, match="no config.json"):
        model_path(str(tmp_path))


def test_a_local_model_folder_is_used_as_it_is(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    assert model_path(str(tmp_path)) == str(tmp_path.resolve())


def test_hub_id_offline_and_not_cached_says_how_to_go_on(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(ModelSourceError) as caught:
        model_path("Qwen/Qwen2.5-0.5B-Instruct")
    message = str(caught.value)
    assert "HF_HUB_OFFLINE" in message and "WORKBOOK_MODEL=packaged" in message and "HF_ENDPOINT" in message


def test_hub_id_with_unreachable_hub_fails_fast_and_says_how_to_go_on(tmp_path, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens on the discard port
    monkeypatch.setattr(sources, "in_hub_cache", lambda repo: False)
    with pytest.raises(ModelSourceError) as caught:
        model_path("Qwen/Qwen2.5-0.5B-Instruct")
    message = str(caught.value)
    assert "did not answer" in message and "127.0.0.1:9" in message and "WORKBOOK_MODEL=packaged" in message


@pytest.fixture
def without_modelscope(monkeypatch):
    """Imports of the modelscope package fail, as where it is not installed."""
    real_import = builtins.__import__

    def no_modelscope(name, *args, **kwargs):
        if name == "modelscope" or name.startswith("modelscope."):
            raise ImportError("No module named 'modelscope'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_modelscope)


def test_modelscope_without_the_package_gives_the_install_command(without_modelscope):
    with pytest.raises(ModelSourceError, match=r"pip install -e '\.\[modelscope\]'"):
        model_path("modelscope:Qwen/Qwen2.5-0.5B-Instruct")


def test_default_is_packaged_when_the_hub_is_out_of_reach(monkeypatch):
    monkeypatch.setattr(sources, "in_hub_cache", lambda repo: False)
    monkeypatch.setattr(sources, "hub_answers", lambda repo, timeout=3.0: False)
    assert sources.choose_default().kind == "packaged"


def test_default_is_the_seed_model_when_it_is_cached(monkeypatch):
    monkeypatch.setattr(sources, "in_hub_cache", lambda repo: True)
    assert sources.choose_default().spec == "Qwen/Qwen2.5-0.5B-Instruct"


def test_env_beats_the_recorded_choice_which_beats_the_default(isolated_choice, monkeypatch):
    monkeypatch.setattr(sources, "choose_default", lambda: sources.ModelSource("packaged", "packaged"))
    monkeypatch.delenv("WORKBOOK_MODEL", raising=False)
    assert sources.chosen_source().kind == "packaged"
    sources.record_choice(parse_model_spec("Qwen/Qwen2.5-0.5B-Instruct"))
    assert json.loads(isolated_choice.read_text()) == {"model": "Qwen/Qwen2.5-0.5B-Instruct"}
    assert sources.chosen_source().kind == "hub"
    monkeypatch.setenv("WORKBOOK_MODEL", "packaged")
    assert sources.chosen_source().kind == "packaged"


def test_an_unknown_workbook_model_env_is_an_error(monkeypatch):
    monkeypatch.setenv("WORKBOOK_MODEL", "gpt-5")
    with pytest.raises(ModelSourceError, match="Unknown model source 'gpt-5'"):
        sources.chosen_source()


def test_a_damaged_record_falls_back_to_the_default(isolated_choice, monkeypatch):
    monkeypatch.delenv("WORKBOOK_MODEL", raising=False)
    isolated_choice.write_text("{not json")
    assert sources.read_choice() is None


def test_remote_code_is_never_trusted():
    from pathlib import Path

    import helpers

    sources_text = "\n".join(p.read_text() for p in Path(helpers.__file__).parent.rglob("*.py"))
    assert "trust_remote_code=True" not in sources_text
    assert sources_text.count("trust_remote_code=False") >= 2  # both from_pretrained calls say so explicitly


# -- the notebook's language: model-source errors in Chinese in the Chinese edition (helpers.catalogue) ----------

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def test_in_chinese_an_unreachable_hub_names_the_same_three_ways_on(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    messages = {}
    for lang in ("zh", "en"):
        monkeypatch.setenv("WORKBOOK_LANG", lang)
        with pytest.raises(ModelSourceError) as caught:
            model_path("Qwen/Qwen2.5-0.5B-Instruct")
        messages[lang] = str(caught.value)
    for fix in ("HF_HUB_OFFLINE", "WORKBOOK_MODEL=packaged", "HF_ENDPOINT=https://hf-mirror.com",
                "WORKBOOK_MODEL=modelscope:Qwen/Qwen2.5-0.5B-Instruct"):
        assert fix in messages["zh"] and fix in messages["en"], fix
    assert CHINESE.search(messages["zh"]) and not CHINESE.search(messages["en"])
    # a reader in mainland China meets the mirrors first
    assert messages["zh"].index("modelscope:") < messages["zh"].index("WORKBOOK_MODEL=packaged")


@pytest.mark.parametrize("spec, fix", [
    ("qwen", "modelscope:Qwen/Qwen2.5-0.5B-Instruct"),
    ("modelscope:qwen", "modelscope:OWNER/NAME"),
    ("/no/such/folder", "'/no/such/folder'"),
])
def test_in_chinese_a_bad_model_source_is_explained_in_chinese(spec, fix, monkeypatch):
    monkeypatch.setenv("WORKBOOK_LANG", "zh")
    with pytest.raises(ModelSourceError) as caught:
        parse_model_spec(spec)
    assert CHINESE.search(str(caught.value)) and fix in str(caught.value)


def test_in_chinese_modelscope_without_the_package_gives_the_same_install_command(without_modelscope, monkeypatch):
    monkeypatch.setenv("WORKBOOK_LANG", "zh")
    with pytest.raises(ModelSourceError) as caught:
        model_path("modelscope:Qwen/Qwen2.5-0.5B-Instruct")
    assert "pip install -e '.[modelscope]'" in str(caught.value) and "魔搭" in str(caught.value)


def test_the_description_of_each_source_follows_the_language(monkeypatch):
    packaged = parse_model_spec("packaged")
    monkeypatch.setenv("WORKBOOK_LANG", "en")
    assert packaged.description == ("Qwen2.5-Coder-0.5B-Instruct, the packaged model from PyPI (Q4_K_M GGUF converted "
                                    "to bfloat16)")
    monkeypatch.setenv("WORKBOOK_LANG", "zh")
    assert packaged.description.startswith("Qwen2.5-Coder-0.5B-Instruct，") and "bfloat16" in packaged.description
    hub = parse_model_spec("Qwen/Qwen2.5-0.5B-Instruct")
    assert "Qwen/Qwen2.5-0.5B-Instruct" in hub.description and CHINESE.search(hub.description)
