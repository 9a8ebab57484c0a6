"""helpers.serving: starting, waiting for, talking to and stopping a chat server, and every way that can fail.

Most tests run ``tests/fake_chat_server.py`` in place of ``transformers serve`` (``start_server`` takes the command
line as an argument), so each takes well under a second or two. The last test, marked REAL SERVER, starts the real
``transformers serve`` with the packaged model (about 30 s) and checks its greedy reply against local ``generate``.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import re

import psutil
import pytest

from helpers import SEED_PROMPT_IDS, seed_messages
from helpers import serving
from helpers.catalogue import text
from helpers.errors import ServerError, WorkbookError
from helpers.model.packaged import GENERATION_CONFIG

FAKE = str(Path(__file__).with_name("fake_chat_server.py"))


@pytest.fixture
def model_dir(tmp_path):
    """A folder that passes the helper's check (it holds a config.json); the fake server never reads it."""
    folder = tmp_path / "fake-model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    return str(folder)


@pytest.fixture(autouse=True)
def no_api_base(monkeypatch):
    monkeypatch.delenv(serving.API_BASE_VARIABLE, raising=False)
    monkeypatch.delenv(serving.API_KEY_VARIABLE, raising=False)
    monkeypatch.delenv("WORKBOOK_LANG", raising=False)  # English, unless a test asks for Chinese


HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


def fake(modes="ok", pid_file=None, calls=None):
    """A ``command`` for start_server that runs the fake server in ``modes`` (and records each call)."""
    def command(model_name, port):
        if calls is not None:
            calls.append((model_name, port))
        return [sys.executable, FAKE, str(port), modes] + ([str(pid_file)] if pid_file else [])
    return command


def read_pids(pid_file, count):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if pid_file.exists():
            pids = [int(line) for line in pid_file.read_text().split()]
            if len(pids) == count:
                return pids
        time.sleep(0.02)
    raise AssertionError("the fake server did not write its pids")


def gone(pid):
    """True once ``pid`` has exited (a zombie awaiting its parent counts as gone: it runs no code)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_gone(pid, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not gone(pid):
        assert time.monotonic() < deadline, f"process {pid} is still running"
        time.sleep(0.05)
    return True


@pytest.fixture
def listening_socket():
    """A port where something listens but never answers: taken for the helper, silent for a client."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield sock.getsockname()[1]
    sock.close()


def server_at(port, kind="transformers serve"):
    return serving.ChatServer(base_url=f"http://127.0.0.1:{port}/v1", model="m", kind=kind, port=port, pid=None,
                              log_path=None, seconds_to_ready=0.0)


# ---------------------------------------------------------------------------------------------- start and stop

def test_start_waits_for_health_reads_the_model_id_and_stops_everything(model_dir, tmp_path):
    pid_file = tmp_path / "pids"
    calls = []
    server = serving.start_server(model_dir, command=fake("ok,child", pid_file, calls), progress=False)
    leader, child = read_pids(pid_file, 2)
    assert calls == [("fake-model", server.port)]  # the folder's name is the model id: no path travels
    assert server.pid == leader and not gone(leader) and server.started_here
    assert server.base_url == f"http://127.0.0.1:{server.port}/v1"
    assert server.model == "fake-model" and server.kind == "transformers serve"
    assert 0 < server.seconds_to_ready < 30
    assert "fake server on port" in server.log_tail()
    assert set(server.leftover_pids()) == {leader, child}
    assert serving.running_servers() == [leader]
    log_dir = Path(server.log_path).parent

    server.stop()
    assert gone(leader) and wait_gone(child)  # the child ignores SIGTERM: the group's SIGKILL ended it
    assert server.leftover_pids() == [] and serving.running_servers() == []
    assert server.log_path is None and not log_dir.exists()
    server.stop()  # twice is fine


def test_a_healthy_answer_counts_only_from_our_own_process(model_dir, listening_socket):
    with serving.start_server(model_dir, command=fake(), progress=False) as server:
        assert serving._is_ours(server.pid, server.port)
        assert not serving._is_ours(server.pid, listening_socket)  # this test process listens there, not the server


def test_a_server_that_ignores_sigterm_is_killed(model_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(serving, "STOP_GRACE_S", 0.5)
    pid_file = tmp_path / "pids"
    server = serving.start_server(model_dir, command=fake("ok,stubborn", pid_file), progress=False)
    (leader,) = read_pids(pid_file, 1)
    started = time.monotonic()
    server.stop()
    assert gone(leader) and server.leftover_pids() == []
    assert time.monotonic() - started < 5


def test_the_context_manager_stops_the_server_when_the_block_fails(model_dir, tmp_path):
    pid_file = tmp_path / "pids"
    with pytest.raises(ZeroDivisionError):
        with serving.chat_server(model_dir, command=fake("ok,child", pid_file), progress=False) as server:
            leader, child = read_pids(pid_file, 2)
            assert not gone(server.pid)
            1 / 0
    assert gone(leader) and wait_gone(child) and serving.running_servers() == []


def test_the_server_is_stopped_when_its_python_process_exits(model_dir, tmp_path):
    """A notebook kernel that exits (atexit), or is killed outright (Linux: the child's parent-death signal),
    takes its server with it."""
    script = (f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); from test_serving import fake; "
              f"from helpers import serving; s = serving.start_server({model_dir!r}, command=fake('ok', {{pid}}), "
              "progress=False); print(s.pid, flush=True); {end}")
    for end, pid_name in [("", "exits"), ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", "killed")]:
        pid_file = tmp_path / pid_name
        parent = subprocess.run([sys.executable, "-c", script.format(pid=repr(str(pid_file)), end=end)],
                                capture_output=True, text=True, timeout=60)
        (server_pid,) = read_pids(pid_file, 1)
        if end and serving._prctl is None:  # no parent-death signal outside Linux: only atexit protects there
            os.killpg(server_pid, signal.SIGKILL)
        assert wait_gone(server_pid), parent.stderr


# ---------------------------------------------------------------------------------------------- bad input

def test_a_port_the_caller_asked_for_that_is_taken(model_dir, listening_socket):
    calls = []
    started = time.monotonic()
    with pytest.raises(ServerError) as error:
        serving.start_server(model_dir, port=listening_socket, command=fake(calls=calls), progress=False)
    message = str(error.value)
    assert f"Port {listening_socket} on 127.0.0.1 is already in use" in message
    assert "port=None" in message and "such as" in message
    assert calls == [] and time.monotonic() - started < 2  # nothing was started


def test_port_none_picks_a_free_port_beside_a_taken_one(model_dir, listening_socket):
    with serving.start_server(model_dir, port=None, command=fake(), progress=False) as server:
        assert server.port != listening_socket and not gone(server.pid)


@pytest.mark.parametrize("port", [0, 70000, "8000", True])
def test_a_port_that_is_not_a_port(model_dir, port):
    with pytest.raises(ServerError, match="not a TCP port"):
        serving.start_server(model_dir, port=port, command=fake(), progress=False)


def test_a_missing_model_folder_or_one_without_config(tmp_path):
    with pytest.raises(ServerError, match="does not exist"):
        serving.start_server(str(tmp_path / "nowhere"), command=fake(), progress=False)
    with pytest.raises(ServerError, match="holds no config.json"):
        serving.start_server(str(tmp_path), command=fake(), progress=False)
    assert issubclass(ServerError, WorkbookError)


@pytest.mark.parametrize("script, why", [
    ("print('loading the model'); print('ERROR: [Errno 98] error while attempting to bind on address: "
     "address already in use', file=sys.stderr); sys.exit(1)", "is already in use: another program took it"),
    ("print('loading the model'); print('ImportError: Missing dependencies for serving', file=sys.stderr); "
     "sys.exit(1)", "pip install 'transformers[serving]'"),
    ("print('loading the model'); sys.exit(3)", "it exited with code 3"),
])
def test_a_server_that_exits_early_shows_why_and_its_log(model_dir, script, why):
    command = lambda name, port: [sys.executable, "-c", "import sys; " + script]  # noqa: E731
    started = time.monotonic()
    with pytest.raises(ServerError) as error:
        serving.start_server(model_dir, command=command, progress=False)
    message = str(error.value)
    assert message.startswith("transformers serve stopped before it was ready: ") and why in message
    assert "Last lines of its log" in message and "loading the model" in message
    assert time.monotonic() - started < 10 and serving.running_servers() == []


def test_a_command_that_cannot_run(model_dir):
    with pytest.raises(ServerError, match="Could not run /no/such/python"):
        serving.start_server(model_dir, command=lambda name, port: ["/no/such/python"], progress=False)


def test_a_server_that_never_gets_healthy_times_out_and_is_stopped(model_dir, tmp_path):
    pid_file = tmp_path / "pids"
    started = time.monotonic()
    with pytest.raises(ServerError) as error:
        serving.start_server(model_dir, command=fake("unhealthy,child", pid_file), ready_timeout=1.5,
                             progress=False)
    assert "did not become healthy within 1.5 s" in str(error.value) and "ready_timeout" in str(error.value)
    assert "fake server on port" in str(error.value)  # the log's last lines
    assert time.monotonic() - started < 10
    leader, child = read_pids(pid_file, 2)
    assert gone(leader) and wait_gone(child) and serving.running_servers() == []


def test_a_request_that_gets_no_answer_times_out(listening_socket):
    server = server_at(listening_socket)
    started = time.monotonic()
    with pytest.raises(ServerError, match=r"sent no reply within 0.5 s.*max_tokens"):
        serving.post_chat(server, server.request(seed_messages()), timeout=0.5)
    assert time.monotonic() - started < 3

    import openai

    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        serving.openai_client(server, timeout=0.5).chat.completions.create(model="m", messages=seed_messages())
    assert time.monotonic() - started < 3  # no silent retries


def test_a_request_to_a_stopped_server_says_so():
    with pytest.raises(ServerError, match="connection refused.*still running"):
        serving.post_chat(server_at(serving.free_port()), {"messages": seed_messages()}, timeout=2)


def test_api_base_pointing_nowhere_fails_fast_naming_the_url_and_the_variable(monkeypatch):
    url = f"http://127.0.0.1:{serving.free_port()}/v1"
    monkeypatch.setenv(serving.API_BASE_VARIABLE, url + "/")
    started = time.monotonic()
    with pytest.raises(ServerError) as error:
        serving.chat_server()
    message = str(error.value)
    assert f"at {url} (from WORKBOOK_API_BASE)" in message and "connection refused" in message
    assert "vllm serve" in message and "unset WORKBOOK_API_BASE" in message
    assert time.monotonic() - started < 2 and serving.running_servers() == []


def test_api_base_that_is_not_a_url(monkeypatch):
    monkeypatch.setenv(serving.API_BASE_VARIABLE, "gpu-box:8000")
    with pytest.raises(ServerError, match="WORKBOOK_API_BASE='gpu-box:8000' is not a URL"):
        serving.chat_server()


@contextmanager
def shared_server(modes):
    """A fake shared server, started by the test (as a teacher would), not by the helper: yields its /v1 URL."""
    port = serving.free_port()
    shared = subprocess.Popen([sys.executable, FAKE, str(port), modes], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while serving.port_is_free(port):  # until the fake server listens
            assert time.monotonic() < deadline
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/v1", shared
    finally:
        shared.kill()
        shared.wait()


def test_api_base_uses_the_shared_server_and_starts_nothing(monkeypatch):
    with shared_server("vllm") as (url, shared):
        monkeypatch.setenv(serving.API_BASE_VARIABLE, url)
        with serving.chat_server() as server:
            assert not server.started_here and server.pid is None and server.base_url == url
            assert server.model == "fake-model" and server.kind == "vllm"
            assert server.extra_body == {"repetition_penalty": 1.0}
            assert server.request(seed_messages())["repetition_penalty"] == 1.0
        assert shared.poll() is None  # not ours to stop
        assert serving.running_servers() == []


def test_a_shared_server_that_wants_a_key_gets_workbook_api_key(monkeypatch):
    with shared_server("vllm,locked") as (url, _):
        with pytest.raises(ServerError, match="refused the API key.*WORKBOOK_API_KEY"):
            serving.connect(url)
        monkeypatch.setenv(serving.API_KEY_VARIABLE, "secret")
        assert serving.connect(url).model == "fake-model"


# ---------------------------------------------------------------------------------------------- in Chinese

def test_errors_speak_chinese_under_workbook_lang_zh_and_still_name_the_fix(model_dir, listening_socket,
                                                                           monkeypatch):
    """The Chinese edition's learner meets the same errors in Chinese; the variable, command or argument that
    fixes each stays as it is."""
    monkeypatch.setenv("WORKBOOK_LANG", "zh")
    url = f"http://127.0.0.1:{serving.free_port()}/v1"
    monkeypatch.setenv(serving.API_BASE_VARIABLE, url)
    with pytest.raises(ServerError) as nowhere:
        serving.chat_server()
    monkeypatch.setenv(serving.API_BASE_VARIABLE, "gpu-box:8000")
    with pytest.raises(ServerError) as not_a_url:
        serving.chat_server()
    monkeypatch.delenv(serving.API_BASE_VARIABLE)
    with pytest.raises(ServerError) as taken:
        serving.start_server(model_dir, port=listening_socket, command=fake(), progress=False)
    with pytest.raises(ServerError) as exited:
        serving.start_server(model_dir, command=lambda name, port: [sys.executable, "-c", "import sys; "
                             "print('Missing dependencies for serving'); sys.exit(1)"], progress=False)
    with pytest.raises(ServerError) as silent:
        serving.post_chat(server_at(listening_socket), {"messages": seed_messages()}, timeout=0.3)
    with pytest.raises(ServerError) as kind:
        serving.extra_greedy_settings("ollama")

    fixes = [
        (nowhere, [url, "WORKBOOK_API_BASE", serving.VLLM_COMMAND, text("serving.reason.refused", lang="zh")]),
        (not_a_url, ["WORKBOOK_API_BASE='gpu-box:8000'", "http://gpu-box:8000/v1", "/v1"]),
        (taken, [str(listening_socket), "port=None"]),
        (exited, ["pip install 'transformers[serving]'", "Missing dependencies for serving"]),  # the log's lines
        (silent, ["max_tokens", "timeout", "0.3"]),
        (kind, ["'ollama'", "transformers serve, vllm, llama.cpp, openai-compatible"]),
    ]
    for caught, names in fixes:
        message = str(caught.value)
        assert HAN.search(message), message
        assert not re.search(r"\b(the|is|to|or|and)\b", message.replace(serving.VLLM_COMMAND, "")), message
        missing = [name for name in names if name not in message]
        assert not missing, f"{message!r} lacks {missing}"
    assert str(nowhere.value).startswith(f"{url}（来自 WORKBOOK_API_BASE）") and "连接被拒绝" in str(nowhere.value)
    assert str(exited.value).startswith("transformers serve 在就绪之前就停止了：缺少 serving 扩展")


def test_errors_and_the_progress_label_are_english_otherwise(model_dir, listening_socket, monkeypatch, tmp_path):
    """Without WORKBOOK_LANG, outside notebooks/zh, every message is the English one (the label of the loading bar
    too), and under WORKBOOK_LANG=zh the label is Chinese."""
    monkeypatch.chdir(tmp_path)
    import helpers.display.progress

    labels = []

    @contextmanager
    def recording(desc, interval=0.5):
        labels.append(desc)
        yield

    monkeypatch.setattr(helpers.display.progress, "ticking", recording)
    for lang in ("", "zh"):
        monkeypatch.setenv("WORKBOOK_LANG", lang)
        serving.start_server(model_dir, command=fake(), progress=True).stop()
    assert labels == ["Starting transformers serve with fake-model", "正在启动 transformers serve（模型 fake-model）"]

    monkeypatch.delenv("WORKBOOK_LANG")
    with pytest.raises(ServerError) as taken:
        serving.start_server(model_dir, port=listening_socket, command=fake(), progress=False)
    with pytest.raises(ServerError) as kind:
        serving.extra_greedy_settings("ollama")
    for caught in (taken, kind):
        assert not HAN.search(str(caught.value))
    assert str(kind.value) == ("Unknown server kind 'ollama': use one of transformers serve, vllm, llama.cpp, "
                               "openai-compatible.")


# ---------------------------------------------------------------------------------------------- pure helpers

def test_the_command_listens_on_loopback_without_cors():
    argv = serving.serve_command("my-model", 8123)
    assert argv[argv.index("serve") + 1] == "my-model"
    assert argv[argv.index("--host") + 1] == "127.0.0.1" and argv[argv.index("--port") + 1] == "8123"
    assert "--no-enable-cors" in argv and "--enable-cors" not in argv


def test_a_greedy_request_and_what_transformers_serve_makes_of_it():
    from transformers import GenerationConfig

    defaults = GenerationConfig(**GENERATION_CONFIG)
    request = serving.chat_request(seed_messages(), max_tokens=100)
    assert request == {"messages": seed_messages(), "max_tokens": 100, "temperature": 0, "frequency_penalty": 0}
    config = serving.server_generation_config(request, defaults)
    assert (config.do_sample, config.repetition_penalty, config.max_new_tokens) == (False, 1.0, 100)
    # without the two fields the server samples, with the penalty: the reply would not match local GREEDY
    bare = serving.server_generation_config({"messages": seed_messages()}, defaults)
    assert (bare.do_sample, bare.repetition_penalty, bare.temperature) == (True, 1.1, 0.7)
    assert defaults.do_sample is True  # the model's defaults are left as they were

    table = serving.settings_table(defaults, request)
    assert list(table.columns) == ["generation_config.json", "transformers serve defaults",
                                   "transformers serve, this request", "local generate, GREEDY"]
    assert table.loc["do_sample"].tolist() == ["True", "True", "False", "False"]
    assert table.loc["repetition_penalty"].tolist() == ["1.1", "1.1", "1.0", "1.0"]
    assert table.loc["max_new_tokens", "local generate, GREEDY"] == "100"


@pytest.mark.parametrize("kind, defaults_column, penalty_field", [
    ("vllm", {"do_sample": "True", "temperature": "0.7", "top_k": "20", "repetition_penalty": "1.1"},
     "repetition_penalty"),
    ("llama.cpp", {"do_sample": "True", "temperature": "0.8", "top_k": "40", "repetition_penalty": "1.1"},
     "repeat_penalty"),
])
def test_each_engine_gets_its_own_penalty_field_and_its_documented_defaults(kind, defaults_column, penalty_field):
    """vLLM starts from the model's generation_config.json, llama.cpp from its own defaults; both keep a repetition
    penalty of 1.1 at temperature 0 unless the request sends their own field, and the table says so."""
    from transformers import GenerationConfig

    defaults = GenerationConfig(**GENERATION_CONFIG)
    request = serving.chat_request(seed_messages(), model="m", kind=kind)
    assert request[penalty_field] == 1.0 and request["temperature"] == 0
    table = serving.settings_table(defaults, request, kind)
    for name, value in defaults_column.items():
        assert table.loc[name, f"{kind} defaults"] == value, name
    ours, local = table[f"{kind}, this request"], table["local generate, GREEDY"]
    for name in ("do_sample", "repetition_penalty", "max_new_tokens"):
        assert ours[name] == local[name], name
    without = {k: v for k, v in request.items() if k != penalty_field}
    assert serving.engine_settings(kind, without, defaults)["repetition_penalty"] == 1.1


def test_an_engine_the_workbook_does_not_know_shows_only_what_the_request_sets():
    from transformers import GenerationConfig

    request = serving.chat_request(seed_messages(), model="m", kind="openai-compatible")
    settings = serving.engine_settings("openai-compatible", request, GenerationConfig(**GENERATION_CONFIG))
    assert settings["do_sample"] is False and settings["max_new_tokens"] == 100
    assert settings["repetition_penalty"] == settings["top_k"] == serving.UNKNOWN


def test_request_fields_per_server_kind():
    assert serving.chat_request(seed_messages(), model="x", kind="vllm", stream=True) == {
        "model": "x", "messages": seed_messages(), "max_tokens": 100, "temperature": 0, "frequency_penalty": 0,
        "repetition_penalty": 1.0, "stream": True}
    assert serving.extra_greedy_settings("llama.cpp") == {"repeat_penalty": 1.0}
    assert serving.extra_greedy_settings("openai-compatible") == {}
    serving.extra_greedy_settings("vllm")["repetition_penalty"] = 2.0  # a copy: the next request is not changed
    assert serving.extra_greedy_settings("vllm") == {"repetition_penalty": 1.0}
    with pytest.raises(ServerError, match="Unknown server kind"):
        serving.extra_greedy_settings("ollama")
    with pytest.raises(WorkbookError):
        serving.chat_request([{"role": "robot", "content": "hi"}])
    assert serving.server_kind([{"id": "a", "owned_by": "vllm"}]) == "vllm"
    assert serving.server_kind([{"id": "a", "owned_by": "me", "permissions": []}]) == "llama.cpp"  # llama-cpp-python
    assert serving.server_kind([{"id": "a", "owned_by": "llamacpp"}]) == "llama.cpp"  # llama.cpp's llama-server
    assert serving.server_kind([{"id": "a", "owned_by": "local", "status": {"value": "loaded"}}]) == \
        "transformers serve"
    assert serving.server_kind([{"id": "gpt", "owned_by": "openai"}]) == "openai-compatible"


# What vLLM's POST /v1/chat/completions reads (vllm/entrypoints/openai/protocol.py, ChatCompletionRequest: the
# OpenAI fields, then "chat-completion-sampling-params"), with the JSON type each takes. vLLM cannot run here (its
# wheels need a GPU), so its schema is copied: vLLM accepts other fields too, and only logs "ignored" for them, so
# a misspelt field would fail silently there.
VLLM_CHAT_FIELDS = {"messages": list, "model": str, "frequency_penalty": (int, float), "max_tokens": int,
                    "max_completion_tokens": int, "presence_penalty": (int, float), "seed": int, "stream": bool,
                    "temperature": (int, float), "top_p": (int, float), "top_k": int, "min_p": (int, float),
                    "repetition_penalty": (int, float)}


def test_the_body_sent_to_vllm_fits_vllms_documented_schema():
    body = serving.chat_request(seed_messages(), model="Qwen/Qwen2.5-0.5B-Instruct", kind="vllm", stream=True)
    for name, value in body.items():
        assert name in VLLM_CHAT_FIELDS, f"vLLM would ignore {name!r}"
        expected = VLLM_CHAT_FIELDS[name]
        assert isinstance(value, expected) and (expected is bool or not isinstance(value, bool)), name
    assert body["repetition_penalty"] == 1.0 and body["temperature"] == 0  # below vLLM's 1e-5: greedy
    assert {"role", "content"} >= set().union(*body["messages"])


def test_where_two_replies_part_counts_words():
    assert serving.words_part("a b c", "a b c") is None
    assert serving.words_part("a b  c\n", "a b c") is None  # the same words, other white space
    assert serving.words_part("a b x", "a b c") == 2 and serving.words_part("a b", "a b c") == 2
    table = serving.replies_table({"local": "a b c d", "server": "a b x d", "again": "a b c d"}, "local")
    assert table["same as local"].tolist() == [True, False, True]
    assert table.loc["server", "parts at word"] == 2 and table.loc["server", "there"] == "x d"


def test_usage_table_compares_server_and_local_counts():
    table = serving.usage_table({"prompt_tokens": 39, "completion_tokens": 68, "total_tokens": 107}, 39, 68)
    assert table["same"].all() and table.loc["total_tokens", "local count"] == 107
    assert not serving.usage_table({"prompt_tokens": 40, "completion_tokens": 68, "total_tokens": 108}, 39, 68)[
        "same"].all()


def chunk(content=None, role=None, finish=None, usage=None):
    delta = SimpleNamespace(content=content, role=role)
    return SimpleNamespace(choices=[SimpleNamespace(delta=delta, finish_reason=finish)],
                           usage=SimpleNamespace(model_dump=lambda: usage) if usage else None)


def test_read_stream_joins_the_pieces_and_times_the_first_one(capsys):
    def stream():
        yield chunk(role="assistant")
        time.sleep(0.05)
        for piece in ["Large", " language", " model"]:
            yield chunk(piece)
        yield chunk(finish="length", usage={"prompt_tokens": 39, "completion_tokens": 3, "total_tokens": 42})

    started = time.perf_counter()
    reply = serving.read_stream(stream(), started)
    assert capsys.readouterr().out == "Large language model\n"
    assert reply.text == "Large language model" and reply.content_chunks == 3
    assert reply.finish_reason == "length" and reply.usage["completion_tokens"] == 3
    assert 0.05 <= reply.seconds_to_first_token <= reply.seconds
    frame = reply.to_frame()
    assert frame["content"].tolist() == ["", "Large", " language", " model", ""]
    assert frame["role"].iloc[0] == "assistant" and frame["finish_reason"].iloc[-1] == "length"


# ---------------------------------------------------------------------------------------------- REAL SERVER

def test_real_server_listens_on_loopback_only_without_cors_and_leaves_nothing_behind():
    """REAL SERVER (about 10 s): `transformers serve` with the packaged model answers on 127.0.0.1 only, refuses a
    cross-origin preflight, and leaves no process when stopped. That its greedy reply (plain HTTP and streamed
    through openai) is the local bfloat16 greedy reply, token counts included, notebook 40 asserts in both editions."""
    import requests

    with serving.chat_server(progress=False) as server:
        pid = server.pid
        listening = [c for c in psutil.Process(pid).net_connections("tcp") if c.status == psutil.CONN_LISTEN]
        assert [(c.laddr.ip, c.laddr.port) for c in listening] == [("127.0.0.1", server.port)]
        preflight = requests.options(f"{server.base_url}/chat/completions", timeout=5,
                                     headers={"Origin": "http://evil.example",
                                              "Access-Control-Request-Method": "POST"})
        assert "access-control-allow-origin" not in preflight.headers
        answer = serving.post_chat(server, server.request(seed_messages(), max_tokens=2))
        assert answer["usage"]["prompt_tokens"] == len(SEED_PROMPT_IDS)
    assert wait_gone(pid) and server.leftover_pids() == [] and serving.running_servers() == []
