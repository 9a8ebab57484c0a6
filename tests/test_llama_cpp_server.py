"""Notebook 40 against an engine that is not ours: llama.cpp's OpenAI-compatible server (llama-cpp-python's
``python -m llama_cpp.server``) on the packaged GGUF, as a teacher would start it, with ``WORKBOOK_API_BASE``.

It needs the ``server-test`` extra (``pip install -e '.[server-test]'``: llama-cpp-python is built from source, about
8 to 12 minutes on 2 cores); without it every test here is skipped, saying so. The notebook must run to its end on
this engine too: what holds on every engine is asserted in its cells, what depends on the engine (the words) is
printed with the engine named.
"""

from pathlib import Path

import pytest

pytest.importorskip("llama_cpp.server.app", reason="llama-cpp-python[server] is not installed: "
                    "pip install -e '.[server-test]' (it builds llama.cpp from source, about 10 minutes)")

from benchmarks.class_load import MODEL_ALIAS, llama_cpp_python_argv, local_server  # noqa: E402
from helpers import SEED_PROMPT_IDS, perf, seed_messages, serving  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = [ROOT / "notebooks" / "40_the_same_messages_over_http.ipynb",
             ROOT / "notebooks" / "zh" / "40_the_same_messages_over_http.ipynb"]


@pytest.fixture(scope="module")
def llama_server():
    with local_server(llama_cpp_python_argv(perf.packaged_gguf_path(), perf.cpu_threads()), "llama.cpp") as server:
        yield server


def test_the_body_notebook_40_sends_is_what_llama_cpp_reads_and_its_defaults_are_the_ones_shown():
    from llama_cpp.server.types import CreateChatCompletionRequest

    body = serving.chat_request(seed_messages(), model=MODEL_ALIAS, kind="llama.cpp", stream=True)
    parsed = CreateChatCompletionRequest(**body)
    assert set(body) <= set(CreateChatCompletionRequest.model_fields)  # no field it would drop
    assert (parsed.temperature, parsed.repeat_penalty, parsed.frequency_penalty, parsed.max_tokens) == (0, 1.0, 0, 100)
    fields = CreateChatCompletionRequest.model_fields
    shown = serving.engine_settings("llama.cpp", {}, None)
    assert shown["temperature"] == fields["temperature"].default and shown["top_p"] == fields["top_p"].default
    assert shown["top_k"] == fields["top_k"].default and shown["repetition_penalty"] == fields["repeat_penalty"].default
    assert shown["max_new_tokens"] is fields["max_tokens"].default is None


def test_the_helper_recognises_llama_cpp_and_its_greedy_reply_counts_the_seed_prompt(llama_server, monkeypatch):
    monkeypatch.setenv(serving.API_BASE_VARIABLE, llama_server.base_url)
    with serving.chat_server() as server:
        assert (server.kind, server.model, server.started_here) == ("llama.cpp", MODEL_ALIAS, False)
        answer = serving.post_chat(server, server.request(seed_messages(), max_tokens=8))
    assert answer["usage"]["prompt_tokens"] == len(SEED_PROMPT_IDS)  # the GGUF's chat template, the same ids
    assert answer["choices"][0]["finish_reason"] == "length" and answer["usage"]["completion_tokens"] == 8
    assert llama_server.process.poll() is None  # stop() left the shared server running


@pytest.mark.parametrize("path", NOTEBOOKS, ids=["en", "zh"])
def test_notebook_40_runs_to_its_end_against_llama_cpp_and_names_the_engine(llama_server, monkeypatch, path):
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv(serving.API_BASE_VARIABLE, llama_server.base_url)
    monkeypatch.setenv("WORKBOOK_MODEL", "packaged")
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()  # an error in a cell raises

    def output(cell_id: str) -> str:
        cell = next(c for c in notebook.cells if c.get("id") == cell_id)
        return "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in cell.outputs)

    from helpers.display.words import heading, say

    lang = "zh" if path.parent.name == "zh" else "en"   # the Chinese edition writes its sentences and headings in Chinese
    assert say("kind:     {kind}", lang, kind="llama.cpp") in output("c02") and MODEL_ALIAS in output("c02")
    assert heading("llama.cpp, this request", lang) in output("c08")
    assert heading("llama.cpp defaults", lang) in output("c08")
    assert '"repeat_penalty": 1.0' in output("c06")
    same_words = say("{kind}: the same words as the raw HTTP reply: {same}", lang, kind="llama.cpp", same="")
    assert same_words.strip() in output("c14")
    assert heading("same as local generate", lang) in output("c21")
