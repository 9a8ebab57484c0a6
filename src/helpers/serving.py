"""The same messages over HTTP: an OpenAI-compatible chat server, started here or shared by a whole class.

The big chat APIs take the very list of ``{"role", "content"}`` dicts that notebooks 03 to 09 built. This module
gives a notebook a server to send that list to:

* by default, ``transformers serve`` in a subprocess on 127.0.0.1 and a free port, with the workbook's chosen
  model preloaded (so the first request does not wait ~50 s for a lazy load), no CORS, and its log in a temporary
  file;
* when ``WORKBOOK_API_BASE`` is set (e.g. ``http://gpu-box:8000/v1``), the OpenAI-compatible server it names, for
  instance vLLM on a GPU machine (see :data:`VLLM_COMMAND`) or llama.cpp's server, that every student's notebook
  talks to. Nothing is started then, and the same cells run unchanged; :func:`server_kind` tells the engines apart,
  and each gets the request fields that make it greedy.

``with chat_server() as server:`` yields a :class:`ChatServer` and stops a local one when the block ends, also when
it ends with an error. In a notebook, where a block cannot span cells, ``server = chat_server()`` then
``server.stop()`` does the same; a server whose notebook kernel exits is stopped too (at exit, and on Linux by
the kernel's death). Every HTTP call here has a timeout, so a dead or silent server gives an error, never a hang.

Every error and label a learner reads here comes from the message catalogue (``serving.*``, in
``helpers/locale/<lang>/LC_MESSAGES/workbook.po``), so the Chinese edition shows it in Chinese; the column names
of the tables stay as the code and the server name them.
"""

from __future__ import annotations

import atexit
import copy
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from helpers.catalogue import text
from helpers.errors import ServerError

API_BASE_VARIABLE = "WORKBOOK_API_BASE"
API_KEY_VARIABLE = "WORKBOOK_API_KEY"
HOST = "127.0.0.1"  # loopback only: nothing outside this machine can reach the server the notebook starts

READY_TIMEOUT_S = 180.0  # loading the model on a slow laptop; about 7 s on the project's test machine
PROBE_TIMEOUT_S = 5.0  # one health or model-list request
REQUEST_TIMEOUT_S = 300.0  # one chat request: a few hundred tokens at a few tokens per second
STOP_GRACE_S = 5.0  # between SIGTERM and SIGKILL

# What a teacher runs on a GPU machine so that a whole class can share one server (vLLM's OpenAI-compatible
# server; `transformers serve Qwen/Qwen2.5-0.5B-Instruct --host 0.0.0.0 --port 8000` works too).
VLLM_COMMAND = "vllm serve Qwen/Qwen2.5-0.5B-Instruct --host 0.0.0.0 --port 8000"

KINDS = ("transformers serve", "vllm", "llama.cpp", "openai-compatible")

_started: dict[int, subprocess.Popen] = {}  # pid -> process, for every server this Python process started


# ---------------------------------------------------------------------------------------------- the server handle

@dataclass(eq=False)
class ChatServer:
    """A chat server a notebook can send messages to: started here (``started_here``) or shared (external).

    ``base_url`` ends in ``/v1``, as OpenAI clients expect; ``model`` is the id the server wants in a request's
    ``"model"`` field; ``kind`` is one of :data:`KINDS` and decides which fields make a request greedy. ``port``,
    ``pid`` and ``log_path`` describe a local server (``pid`` and ``log_path`` are None for an external one);
    ``seconds_to_ready`` is how long the start (or the first probe of an external server) took.
    """

    base_url: str
    model: str
    kind: str
    port: int | None
    pid: int | None
    log_path: str | None
    seconds_to_ready: float
    _process: subprocess.Popen | None = field(default=None, repr=False, compare=False)
    _log_dir: str | None = field(default=None, repr=False, compare=False)

    @property
    def started_here(self) -> bool:
        return self.pid is not None

    @property
    def extra_body(self) -> dict:
        """Fields outside the OpenAI schema that greedy decoding also needs here (openai's ``extra_body``)."""
        return extra_greedy_settings(self.kind)

    def request(self, messages, max_tokens: int = 100, stream: bool = False) -> dict:
        """The JSON body of a greedy chat request for ``messages`` to this server (:func:`chat_request`)."""
        return chat_request(messages, model=self.model, max_tokens=max_tokens, kind=self.kind, stream=stream)

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of a local server's log ('' for an external server, or once the log is removed)."""
        return _tail(self.log_path, lines) if self.log_path else ""

    def leftover_pids(self) -> list[int]:
        """The processes of a local server's process group that are still alive: [] once it is stopped."""
        return _group_members(self.pid) if self.started_here else []

    def stop(self, keep_log: bool = False) -> None:
        """Stop a server started here and everything it started (its whole process group); remove its log unless
        ``keep_log``. Safe to call twice; does nothing for an external server."""
        process, self._process = self._process, None
        if process is not None:
            _stop_group(process)
            _started.pop(process.pid, None)
        if self._log_dir and not keep_log:
            shutil.rmtree(self._log_dir, ignore_errors=True)
            self._log_dir = None
            self.log_path = None

    def __enter__(self) -> ChatServer:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


# ---------------------------------------------------------------------------------------------- choosing a server

def api_base() -> str | None:
    """``WORKBOOK_API_BASE`` without a trailing slash, or None when it is unset (then a local server is used)."""
    value = os.environ.get(API_BASE_VARIABLE, "").strip().rstrip("/")
    if not value:
        return None
    if not value.startswith(("http://", "https://")):
        raise ServerError(text("serving.api_base.not_a_url", variable=API_BASE_VARIABLE, value=repr(value)))
    return value


def chat_server(model_dir: str | None = None, port: int | None = None, **start_options) -> ChatServer:
    """The server this notebook talks to: the one ``WORKBOOK_API_BASE`` names (nothing is started), else a local
    ``transformers serve`` with ``model_dir`` (default: the workbook's chosen model) on ``port`` (default: a free
    one). Use it as ``with chat_server() as server:``, or keep ``server`` and call ``server.stop()``.

    ``start_options`` go to :func:`start_server` (``ready_timeout``, ``progress``, ``device``, ``command``...).
    """
    base = api_base()
    if base is not None:
        return connect(base)
    return start_server(model_dir, port, **start_options)


def connect(base_url: str, timeout: float = PROBE_TIMEOUT_S) -> ChatServer:
    """A :class:`ChatServer` for an OpenAI-compatible server that is already running at ``base_url``.

    It asks ``/models`` which model the server serves, so a wrong address fails here, within ``timeout``,
    rather than in the middle of a lesson.
    """
    base_url = base_url.rstrip("/")
    started = time.perf_counter()
    try:
        models = list_models(base_url, timeout=timeout)
    except ServerError as error:
        origin = (text("serving.connect.origin", variable=API_BASE_VARIABLE)
                  if os.environ.get(API_BASE_VARIABLE, "").strip() else "")
        raise ServerError(text("serving.connect.no_server", base_url=base_url, origin=origin, error=error,
                               command=VLLM_COMMAND, variable=API_BASE_VARIABLE)) from None
    if not models:
        raise ServerError(text("serving.connect.no_model", base_url=base_url))
    return ChatServer(base_url=base_url, model=models[0]["id"], kind=server_kind(models), port=_port_of(base_url),
                      pid=None, log_path=None, seconds_to_ready=time.perf_counter() - started)


def list_models(base_url: str, timeout: float = PROBE_TIMEOUT_S) -> list[dict]:
    """The ``data`` of ``GET {base_url}/models``: the models the server serves, with their ``id``."""
    response = _get(f"{base_url.rstrip('/')}/models", timeout)
    if response.status_code in (401, 403):
        raise ServerError(text("serving.models.key_refused", status=response.status_code,
                               variable=API_KEY_VARIABLE))
    try:
        return list(response.json()["data"])
    except (ValueError, KeyError, TypeError):
        raise ServerError(text("serving.models.not_a_list", base_url=base_url, status=response.status_code,
                               body=repr(response.text[:200]))) from None


def server_kind(models: list[dict]) -> str:
    """Which server this is, read off its model list: vLLM says ``"owned_by": "vllm"``, llama.cpp's llama-server
    ``"llamacpp"``, llama-cpp-python's server ``"me"`` with a ``permissions`` list, and transformers serve adds a
    ``status`` (loaded or not); none of these is part of the OpenAI schema."""
    if any(m.get("owned_by") == "vllm" for m in models):
        return "vllm"
    if any(m.get("owned_by") == "llamacpp" or (m.get("owned_by") == "me" and "permissions" in m) for m in models):
        return "llama.cpp"
    if any(isinstance(m.get("status"), dict) for m in models):
        return "transformers serve"
    return "openai-compatible"


# ---------------------------------------------------------------------------------------------- a local server

def serve_command(model_name: str, port: int, host: str = HOST, device: str = "auto") -> list[str]:
    """The ``transformers serve`` command line, run from the model folder's parent so that ``model_name`` (the
    folder's name) is also the model id clients send: no path of this machine travels in requests or replies.

    The positional model is preloaded before the server answers ``/health`` and pins the server to it. CORS stays
    off (``--no-enable-cors``): no web page in a browser may call this server. ``device="auto"`` places the model as
    :func:`helpers.load_model` does (``device_map="auto"``), so both sides compute on the same device.
    """
    return [sys.executable, "-m", "transformers.cli.transformers", "serve", model_name, "--host", host,
            "--port", str(port), "--device", device, "--no-enable-cors"]


def start_server(model_dir: str | None = None, port: int | None = None, *, ready_timeout: float = READY_TIMEOUT_S,
                 progress: bool = True, device: str = "auto",
                 command: Callable[[str, int], list[str]] | None = None, env: dict | None = None) -> ChatServer:
    """Start ``transformers serve`` on 127.0.0.1 with ``model_dir`` preloaded and return once ``/health`` answers.

    ``port=None`` picks a free port; a given port must be free. While the model loads, a bar shows the elapsed
    time (``progress=False`` hides it). If the process exits early, or is not healthy within ``ready_timeout``
    seconds, it is stopped and a :class:`~helpers.errors.ServerError` shows why and the log's last lines.
    ``command(model_name, port)`` builds the command line (default :func:`serve_command`; tests pass fakes).
    """
    from helpers.display.progress import ticking

    folder = _model_folder(model_dir)
    port = _choose_port(port)
    build = command or (lambda name, p: serve_command(name, p, device=device))
    argv = build(folder.name, port)
    log_dir = tempfile.mkdtemp(prefix="workbook-serve-")
    log_path = os.path.join(log_dir, "server.log")
    started = time.perf_counter()
    try:
        with open(log_path, "wb") as log:
            process = subprocess.Popen(argv, cwd=folder.parent, env=_server_env(env), stdin=subprocess.DEVNULL,
                                       stdout=log, stderr=subprocess.STDOUT, **_new_group_options())
    except OSError as error:
        shutil.rmtree(log_dir, ignore_errors=True)
        raise ServerError(text("serving.start.cannot_run", program=argv[0], error=error)) from None
    server = ChatServer(base_url=f"http://{HOST}:{port}/v1", model=folder.name, kind="transformers serve",
                        port=port, pid=process.pid, log_path=log_path, seconds_to_ready=float("nan"),
                        _process=process, _log_dir=log_dir)
    _started[process.pid] = process
    try:
        bar = ticking(text("serving.start.progress", model=folder.name)) if progress else nullcontext()
        with bar:
            _wait_until_healthy(server, process, ready_timeout)
        server.seconds_to_ready = time.perf_counter() - started
        models = list_models(server.base_url)
        if models:
            server.model = models[0]["id"]
    except BaseException:
        server.stop(keep_log=True)  # the error message names the log; it stays for the learner to read
        raise
    return server


def _model_folder(model_dir: str | None) -> Path:
    if model_dir is None:
        from helpers.model.sources import model_path

        model_dir = model_path()
    folder = Path(model_dir).expanduser().resolve()
    if not (folder / "config.json").is_file():
        key = "serving.folder.no_folder" if not folder.exists() else "serving.folder.no_config"
        raise ServerError(text(key, folder=folder, fix=text("serving.folder.fix")))
    return folder


def _choose_port(port: int | None) -> int:
    if port is None:
        return free_port()
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        raise ServerError(text("serving.port.not_a_port", port=repr(port)))
    if not port_is_free(port):
        raise ServerError(text("serving.port.in_use", port=port, host=HOST, free=free_port()))
    return port


def free_port(host: str = HOST) -> int:
    """A TCP port on ``host`` that nothing listens on now (the operating system picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def port_is_free(port: int, host: str = HOST) -> bool:
    """Whether a server could listen on ``host:port`` now. SO_REUSEADDR, as uvicorn sets it, so a port that only
    has closed connections waiting out their TIME_WAIT counts as free."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _server_env(extra: dict | None) -> dict:
    """The child's environment: the model is a local folder, so the Hub is never needed (and never waited for)."""
    return {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_UPDATE_CHECK": "1", "PYTHONUNBUFFERED": "1",
            **(extra or {})}


def _wait_until_healthy(server: ChatServer, process: subprocess.Popen, timeout: float) -> None:
    import requests

    deadline = time.monotonic() + timeout
    url = server.base_url.removesuffix("/v1") + "/health"
    while True:
        if process.poll() is not None:
            raise ServerError(_early_exit_message(server, process.returncode))
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ServerError(text("serving.health.timeout", timeout=timeout, url=url, log_path=server.log_path,
                                   log=server.log_tail(15)))
        try:
            answer = requests.get(url, timeout=min(2.0, max(remaining, 0.1)))
            if answer.status_code == 200 and _is_ours(process.pid, server.port):
                return
        except requests.RequestException:
            pass  # not listening yet: the model loads before uvicorn binds the port
        time.sleep(0.2)


def _is_ours(pid: int, port: int) -> bool:
    """Whether the process group ``pid`` leads listens on ``port``: a healthy answer from another program that
    took the port in the meantime must not pass for our server."""
    import psutil

    for member in [pid, *_group_members(pid)]:
        try:
            for conn in psutil.Process(member).net_connections(kind="tcp"):
                if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
                    return True
        except psutil.AccessDenied:
            return True  # cannot look (some systems hide sockets): trust the health answer
        except psutil.NoSuchProcess:
            continue
    return False


# What a log that ends early says (lower-cased), and the catalogue key of the diagnosis; the first match wins.
_DIAGNOSES = [
    (("address already in use", "errno 98", "errno 48", "error while attempting to bind"), "serving.exit.port_in_use"),
    (("missing dependencies for serving", "no module named 'fastapi'", "no module named 'uvicorn'"),
     "serving.exit.no_serving_extras"),
    (("no module named",), "serving.exit.no_module"),
    (("out of memory", "memoryerror", "cannot allocate memory"), "serving.exit.out_of_memory"),
    (("does not appear to have a file", "not a valid model identifier", "can't load", "no such file or directory",
      "is not a local folder"), "serving.exit.cannot_load"),
]


def _early_exit_message(server: ChatServer, returncode: int) -> str:
    log = server.log_tail(15)
    lowered = _tail(server.log_path, 200).lower()
    why = next((text(key, port=server.port) for needles, key in _DIAGNOSES if any(n in lowered for n in needles)),
               None)
    if why is None:
        why = text("serving.exit.killed") if returncode < 0 else text("serving.exit.code", code=returncode)
    return text("serving.exit.message", why=why, log_path=server.log_path, log=log)


def _tail(path: str | None, lines: int) -> str:
    try:
        content = Path(path).read_text(encoding="utf-8", errors="replace")
    except (OSError, TypeError):
        return ""
    return "\n".join(content.splitlines()[-lines:])


# ---------------------------------------------------------------------------------------------- stopping, for sure

def _new_group_options() -> dict:
    """Popen options that give the server a process group of its own, so that stopping it reaches everything it
    started, and (on Linux) that end it if this process dies without a chance to stop it (a killed kernel)."""
    if os.name == "nt":
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    options = {"start_new_session": True}
    if _prctl is not None:
        parent = os.getpid()

        def die_with_parent():
            _prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
            if os.getppid() != parent:  # the parent died between fork and prctl
                os._exit(1)

        options["preexec_fn"] = die_with_parent
    return options


def _load_prctl():
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return ctypes.CDLL("libc.so.6", use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_prctl = _load_prctl()  # looked up once here: the child calls it between fork and exec, where importing is unsafe


def _stop_group(process: subprocess.Popen) -> None:
    """SIGTERM to the whole group, SIGKILL to what is left after :data:`STOP_GRACE_S`, and reap the child."""
    _signal_group(process, signal.SIGTERM)
    try:
        process.wait(STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        _signal_group(process, signal.SIGKILL if os.name != "nt" else signal.SIGTERM)
        process.wait(STOP_GRACE_S)
    if os.name != "nt":
        deadline = time.monotonic() + STOP_GRACE_S
        while _group_members(process.pid) and time.monotonic() < deadline:  # grandchildren outliving the leader
            _signal_group(process, signal.SIGKILL)
            time.sleep(0.05)


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    try:
        if os.name == "nt":
            process.send_signal(sig)
        else:
            os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _group_members(pgid: int) -> list[int]:
    """The live processes (not zombies) whose process group is ``pgid``."""
    import psutil

    if os.name == "nt":
        return [pgid] if psutil.pid_exists(pgid) else []
    members = []
    for proc in psutil.process_iter(["status"]):
        try:
            if proc.info["status"] != psutil.STATUS_ZOMBIE and os.getpgid(proc.pid) == pgid:
                members.append(proc.pid)
        except (ProcessLookupError, PermissionError, psutil.Error):
            continue
    return members


@atexit.register
def _stop_all() -> None:
    """Stop the servers a notebook forgot, when its kernel exits."""
    for pid, process in list(_started.items()):
        _stop_group(process)
        _started.pop(pid, None)


# ---------------------------------------------------------------------------------------------- greedy requests

# The standard OpenAI fields that make every kind of server decode greedily, as helpers.chat.GREEDY does locally.
# temperature 0 turns sampling off (transformers serve sets do_sample=False; vLLM and llama.cpp take the argmax).
# frequency_penalty 0 matters for transformers serve, which otherwise keeps the model's repetition_penalty of 1.1
# from generation_config.json: it maps the field to 1 + frequency_penalty.
GREEDY_SETTINGS = {"temperature": 0, "frequency_penalty": 0}

# The fields outside the OpenAI schema that switch each engine's own repetition penalty off. vLLM applies the
# model's generation_config.json (its --generation-config auto), 1.1 included, and reads `repetition_penalty`;
# llama-cpp-python's server applies its own `repeat_penalty` of 1.1 even at temperature 0. transformers serve
# rejects unknown fields (HTTP 422): it gets none. Sources: docs/classroom.md.
_EXTRA_GREEDY = {"vllm": {"repetition_penalty": 1.0}, "llama.cpp": {"repeat_penalty": 1.0}}

# What an engine decodes with where a request says nothing, when it does not read generation_config.json:
# llama-cpp-python 0.3.36's server (llama_cpp/server/types.py; it has no max_tokens limit but the context).
# vLLM's own values fill in what generation_config.json leaves out (ChatCompletionRequest._DEFAULT_SAMPLING_PARAMS).
_OWN_DEFAULTS = {
    "llama.cpp": {"temperature": 0.8, "top_p": 0.95, "top_k": 40, "repetition_penalty": 1.1, "max_new_tokens": None},
    "vllm": {"temperature": 1.0, "top_p": 1.0, "top_k": 0, "repetition_penalty": 1.0, "max_new_tokens": None},
}
_REQUEST_FIELDS = {"temperature": "temperature", "top_p": "top_p", "top_k": "top_k", "max_tokens": "max_new_tokens",
                   "repetition_penalty": "repetition_penalty", "repeat_penalty": "repetition_penalty"}
UNKNOWN = "?"  # a setting of an engine whose defaults the workbook does not know


def extra_greedy_settings(kind: str = "transformers serve") -> dict:
    """Fields outside the OpenAI schema that greedy decoding also needs on ``kind`` of server (one of :data:`KINDS`):
    ``repetition_penalty`` for vLLM, ``repeat_penalty`` for llama.cpp, none for the others."""
    if kind not in KINDS:
        raise ServerError(text("serving.kind.unknown", kind=repr(kind), kinds=", ".join(KINDS)))
    return dict(_EXTRA_GREEDY.get(kind, {}))


def chat_request(messages, model: str | None = None, max_tokens: int = 100, kind: str = "transformers serve",
                 stream: bool = False) -> dict:
    """The JSON body of a ``POST /v1/chat/completions`` that asks ``kind`` of server for a greedy reply.

    ``model`` may be None for a server pinned to one model (transformers serve with a preloaded model), and is
    required by vLLM and the hosted APIs.
    """
    from helpers.chat.messages import validate_messages

    body = {"model": model, "messages": validate_messages(messages), "max_tokens": max_tokens,
            **GREEDY_SETTINGS, **extra_greedy_settings(kind)}
    if stream:
        body["stream"] = True
    return {k: v for k, v in body.items() if v is not None}


def server_generation_config(request: dict, defaults):
    """The ``GenerationConfig`` transformers serve builds for ``request`` on a model whose defaults are
    ``defaults`` (its ``generation_config``), computed by transformers' own server code, so it cannot drift from
    what the server really does."""
    from types import SimpleNamespace

    from transformers.cli.serving.chat_completion import ChatCompletionHandler

    handler = ChatCompletionHandler(model_manager=None, generation_state=SimpleNamespace(_compile=False))
    return handler._build_generation_config(copy.deepcopy(request), defaults)


SETTINGS = ("do_sample", "temperature", "top_p", "top_k", "repetition_penalty", "max_new_tokens")


def engine_settings(kind: str, request: dict, defaults) -> dict:
    """The decoding settings ``kind`` of server runs for ``request`` (``{}`` for no request: its defaults).

    transformers serve: its own code. vLLM: the model's ``defaults`` (generation_config.json), its own values where
    they say nothing. llama.cpp: its own defaults. Then the request's fields; ``do_sample`` is ``temperature > 0``.
    Another engine: only what the request sets is known, the rest is :data:`UNKNOWN`.
    """
    if kind == "transformers serve":
        config = server_generation_config(request, defaults)
        return {name: getattr(config, name) for name in SETTINGS}
    extra_greedy_settings(kind)  # an unknown kind is refused here
    settings = dict.fromkeys(SETTINGS, UNKNOWN)
    settings.update(_OWN_DEFAULTS.get(kind, {}))
    if kind == "vllm":
        settings.update({name: getattr(defaults, name) for name in ("temperature", "top_p", "top_k",
                                                                   "repetition_penalty")
                         if getattr(defaults, name, None) is not None})
    settings.update({_REQUEST_FIELDS[field]: value for field, value in request.items() if field in _REQUEST_FIELDS})
    if settings["temperature"] != UNKNOWN:
        settings["do_sample"] = settings["temperature"] > 0
    return settings


def settings_table(defaults, request: dict, kind: str = "transformers serve",
                   local_max_new_tokens: int | None = None):
    """The decoding settings four ways: the model's defaults (generation_config.json), what ``kind`` of server uses
    where a request says nothing, what it runs for ``request``, and what the local ``helpers.chat.generate`` runs
    (defaults + ``helpers.chat.GREEDY``)."""
    import pandas as pd

    from helpers.chat.generation import GREEDY

    local = {**{name: getattr(defaults, name) for name in SETTINGS}, **GREEDY,
             "max_new_tokens": local_max_new_tokens or request.get("max_tokens")}
    columns = {
        "generation_config.json": {name: getattr(defaults, name) for name in SETTINGS},
        f"{kind} defaults": engine_settings(kind, {}, defaults),
        f"{kind}, this request": engine_settings(kind, request, defaults),
        "local generate, GREEDY": local,
    }
    return pd.DataFrame({label: {name: str(values[name]) for name in SETTINGS} for label, values in columns.items()}
                        ).rename_axis("setting")


def usage_table(usage: dict, prompt_tokens: int, completion_tokens: int):
    """The server's ``usage`` beside the local counts (the prompt's ids, the reply's new ids)."""
    import pandas as pd

    local = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
             "total_tokens": prompt_tokens + completion_tokens}
    return pd.DataFrame({
        "server usage": {k: usage.get(k) for k in local},
        "local count": local,
        "same": {k: usage.get(k) == v for k, v in local.items()},
    }).rename_axis("tokens")


def words_part(reply: str, other: str) -> int | None:
    """The first word (counted from 0, split at white space) where two replies differ, or None when their words are
    the same."""
    from helpers.numerics import first_difference

    return first_difference(reply.split(), other.split())


def replies_table(replies: dict[str, str], reference: str):
    """Each reply beside ``replies[reference]``: its words, whether they are the same, and where they part."""
    import pandas as pd

    base = replies[reference]
    rows = {}
    for name, reply in replies.items():
        at = words_part(reply, base)
        words = reply.split()
        rows[name] = {"words": len(words), f"same as {reference}": at is None,
                      "parts at word": "" if at is None else at,
                      "there": "" if at is None else " ".join(words[at:at + 4])}
    return pd.DataFrame(rows).T.rename_axis("reply")


# ---------------------------------------------------------------------------------------------- talking to it

def api_key() -> str:
    """``WORKBOOK_API_KEY`` (a shared server may require one, e.g. vLLM's ``--api-key``), else a placeholder:
    a server started here checks no key, but OpenAI clients insist on sending one."""
    return os.environ.get(API_KEY_VARIABLE, "").strip() or "not-needed"


def post_chat(server: ChatServer, body: dict, timeout: float = REQUEST_TIMEOUT_S) -> dict:
    """``POST {base_url}/chat/completions`` with ``requests``: the reply's JSON, or a ServerError saying what went
    wrong (no answer within ``timeout`` seconds, nothing listening, or the server's own error message)."""
    import requests

    url = f"{server.base_url}/chat/completions"
    try:
        response = requests.post(url, json=body, timeout=timeout,
                                 headers={"Authorization": f"Bearer {api_key()}"})
    except requests.Timeout:
        raise ServerError(text("serving.post.timeout", url=url, timeout=timeout)) from None
    except requests.RequestException as error:
        raise ServerError(text("serving.post.unreachable", url=url, reason=_reason(error))) from None
    if response.status_code != 200:
        raise ServerError(text("serving.post.http_error", url=url, status=response.status_code,
                               body=response.text[:300]))
    return response.json()


def openai_client(server: ChatServer, timeout: float = REQUEST_TIMEOUT_S):
    """An ``openai.OpenAI`` client for ``server``, with a timeout on every call and no silent retries (a retry
    of a slow generation would only double the wait)."""
    from openai import OpenAI

    return OpenAI(base_url=server.base_url, api_key=api_key(), timeout=timeout, max_retries=0)


@dataclass
class StreamedReply:
    """What a streamed chat completion delivered: its chunks in order, the text they add up to, and when the
    first piece of text arrived."""

    chunks: list[dict]
    text: str
    seconds_to_first_token: float
    seconds: float
    usage: dict | None
    finish_reason: str | None

    @property
    def content_chunks(self) -> int:
        return sum(1 for chunk in self.chunks if chunk["content"])

    def to_frame(self, head: int = 6, tail: int = 3):
        """The chunks as a table (the first ``head`` and last ``tail``): role, text piece, finish reason."""
        import pandas as pd

        frame = pd.DataFrame(self.chunks).rename_axis("chunk")
        frame = frame.drop(columns=["seconds"])
        if len(frame) <= head + tail:
            return frame
        gap = pd.DataFrame([{c: "…" for c in frame.columns}], index=pd.Index(["…"], name="chunk"))
        return pd.concat([frame.head(head), gap, frame.tail(tail)])


def read_stream(stream, started: float | None = None, show: bool = True) -> StreamedReply:
    """Read an openai chat-completion stream to its end, printing each piece of text as it arrives (``show``).

    ``started`` is the ``time.perf_counter()`` taken before the request was sent, so that the time to the first
    token includes the request itself.
    """
    started = time.perf_counter() if started is None else started
    chunks, usage, finish, first = [], None, None, None
    for chunk in stream:
        now = time.perf_counter() - started
        choice = chunk.choices[0] if chunk.choices else None
        delta = choice.delta if choice else None
        content = (delta.content if delta else None) or ""
        if content and first is None:
            first = now
        if content and show:
            print(content, end="", flush=True)
        if choice and choice.finish_reason:
            finish = choice.finish_reason
        if getattr(chunk, "usage", None):
            usage = chunk.usage.model_dump()
        chunks.append({"role": (delta.role if delta else None) or "", "content": content,
                       "finish_reason": (choice.finish_reason if choice else None) or "", "seconds": now})
    if show:
        print()
    return StreamedReply(chunks=chunks, text="".join(chunk["content"] for chunk in chunks),
                         seconds_to_first_token=first or float("nan"), seconds=time.perf_counter() - started,
                         usage=usage, finish_reason=finish)


def _get(url: str, timeout: float):
    import requests

    try:
        return requests.get(url, timeout=timeout, headers={"Authorization": f"Bearer {api_key()}"})
    except requests.Timeout:
        raise ServerError(text("serving.get.timeout", url=url, timeout=timeout)) from None
    except requests.RequestException as error:
        raise ServerError(text("serving.get.failed", reason=_reason(error))) from None


def _reason(error) -> str:
    """Why a request failed, in the learner's language; an error we cannot name is shown as Python wrote it."""
    said = str(error)
    if "Connection refused" in said or "Errno 111" in said or "Errno 61" in said:
        return text("serving.reason.refused")
    if "Name or service not known" in said or "nodename nor servname" in said or "getaddrinfo" in said:
        return text("serving.reason.unknown_host")
    return f"{type(error).__name__}: {said[:200]}"


def _port_of(base_url: str) -> int | None:
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    return parts.port or {"http": 80, "https": 443}.get(parts.scheme)


def running_servers() -> list[int]:
    """The process ids of the servers this Python process started that are still running: [] once each was
    stopped."""
    return [pid for pid, process in list(_started.items()) if process.poll() is None]

