"""What one server holds for a class: N simulated learners (1, 2, 4, 8) send the seed question at the same moment
and stream the greedy reply, against each OpenAI-compatible server this machine can run.

    .venv/bin/python benchmarks/class_load.py                            # every engine found, 1 2 4 8 learners
    .venv/bin/python benchmarks/class_load.py --engines llama-cpp-python --learners 1,2
    LLAMA_SERVER=/path/to/llama-server .venv/bin/python benchmarks/class_load.py --wait-for-quiet 300

The engines, each started on 127.0.0.1 with the packaged model and stopped afterwards (process group and all):

- ``transformers serve``: the bfloat16 folder notebook 40 serves; ``transformers serve --continuous-batching`` the
  same with transformers' continuous batching (paged attention, requests scheduled together);
- ``llama-cpp-python``: ``python -m llama_cpp.server`` on the packaged GGUF (the ``server-test`` extra). It answers
  one request at a time; ``--interrupt_requests False``, or each new request would cut off the one being streamed;
- ``llama-server``: llama.cpp's own server with ``--parallel`` slots as many as learners, where ``LLAMA_SERVER`` names
  its binary (built from llama.cpp's source: ``cmake --build build --target llama-server``).

For each number of learners: the time to first token of each learner (from the moment all requests are sent), its
speed (pieces after the first, over the time since the first), and the total pieces per second of all learners
together (a piece is one streamed chunk of text: one token, as notebook 40 shows). Every server gets a warm-up
request first. The machine's load (``uptime``) and the cores other processes kept busy are printed with the table:
on 2 cores, one busy core halves every figure. Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: import helpers' siblings from the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.quiet import busy_cpu_seconds, own_cpu_seconds, wait_for_quiet  # noqa: E402

MODEL_ALIAS = "Qwen/Qwen2.5-0.5B-Instruct"  # the id a llama.cpp server lists, as a teacher would start it
READY_TIMEOUT_S = 300.0
ENGINES = ("transformers serve", "transformers serve --continuous-batching", "llama-cpp-python", "llama-server")
# A class is served "at a readable speed" when every learner's reply starts within MAX_WAIT_S and then grows at
# READABLE_TOKENS_PER_S or more: about 4 English words a second (a token is about 3/4 of a word), a brisk reader.
READABLE_TOKENS_PER_S = 5.0
MAX_WAIT_S = 5.0


# ---------------------------------------------------------------------------------------------- servers

@dataclass
class Server:
    base_url: str  # ends in /v1
    model: str
    kind: str  # serving.KINDS: which fields make a request greedy
    process: subprocess.Popen
    log_path: str


@contextmanager
def local_server(argv: list[str], kind: str, cwd: str | None = None, env: dict | None = None,
                 ready_timeout: float = READY_TIMEOUT_S):
    """Run ``argv`` (a server that takes ``{port}`` in its arguments) on a free port of 127.0.0.1, in a process
    group of its own; yield a :class:`Server` once ``GET /v1/models`` answers, and stop the whole group afterwards.
    ``/v1/models`` rather than ``/health``: llama-cpp-python's server has no health route."""
    import requests

    from helpers.serving import free_port

    port = free_port()
    log_dir = tempfile.mkdtemp(prefix="workbook-class-load-")
    log_path = os.path.join(log_dir, "server.log")
    with open(log_path, "wb") as log:
        process = subprocess.Popen([a.format(port=port) for a in argv], cwd=cwd, stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                   env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})})
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + ready_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{argv[0]} exited with code {process.returncode}:\n{_tail(log_path)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{argv[0]} was not ready within {ready_timeout:.0f} s:\n{_tail(log_path)}")
            try:
                answer = requests.get(f"{base}/models", timeout=2)
                if answer.status_code == 200 and answer.json().get("data"):
                    break
            except (requests.RequestException, ValueError):
                pass
            time.sleep(0.25)
        yield Server(base_url=base, model=answer.json()["data"][0]["id"], kind=kind, process=process,
                     log_path=log_path)
    finally:
        stop_group(process)
        shutil.rmtree(log_dir, ignore_errors=True)


def stop_group(process: subprocess.Popen, grace: float = 5.0) -> None:
    """SIGTERM to the process group, SIGKILL to what is left after ``grace`` seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        try:
            process.wait(grace)
            return
        except subprocess.TimeoutExpired:
            continue


def _tail(path: str, lines: int = 15) -> str:
    return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])


def llama_cpp_python_argv(gguf: Path, threads: int) -> list[str]:
    """llama-cpp-python's OpenAI-compatible server on ``gguf``, as the test and a teacher start it."""
    return [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1",
            "--port", "{port}", "--model_alias", MODEL_ALIAS, "--n_threads", str(threads),
            "--interrupt_requests", "False"]


def engine_server(engine: str, learners: int, threads: int):
    """The context manager that runs ``engine`` for up to ``learners`` learners at once."""
    from helpers import perf, serving
    from helpers.model.sources import model_path

    if engine.startswith("transformers serve"):
        folder = Path(model_path())
        argv = serving.serve_command(folder.name, 0) + (["--continuous-batching"] if "continuous" in engine else [])
        argv[argv.index("--port") + 1] = "{port}"
        return local_server(argv, "transformers serve", cwd=str(folder.parent))
    gguf = perf.packaged_gguf_path()
    if engine == "llama-cpp-python":
        return local_server(llama_cpp_python_argv(gguf, threads), "llama.cpp")
    binary = os.environ.get("LLAMA_SERVER")
    argv = [binary, "-m", str(gguf), "--host", "127.0.0.1", "--port", "{port}", "--alias", MODEL_ALIAS,
            "-t", str(threads), "--parallel", str(learners), "-c", str(512 * learners)]
    return local_server(argv, "llama.cpp")


def available_engines() -> list[str]:
    from helpers import perf

    found = ["transformers serve", "transformers serve --continuous-batching"]
    if perf.llama_cpp_available():
        found.append("llama-cpp-python")
    if os.environ.get("LLAMA_SERVER") and Path(os.environ["LLAMA_SERVER"]).is_file():
        found.append("llama-server")
    return found


# ---------------------------------------------------------------------------------------------- learners

@dataclass
class Learner:
    first_s: float  # seconds from the moment every request was sent to this learner's first piece of text
    end_s: float
    pieces: int
    text: str

    @property
    def tokens_per_second(self) -> float:
        """Pieces after the first, over the time since the first: the speed the learner watches the reply grow."""
        return (self.pieces - 1) / (self.end_s - self.first_s) if self.pieces > 1 else float("nan")


def stream_reply(server: Server, body: dict, started: float) -> Learner:
    """One learner: POST the streamed request and read its server-sent events to the end."""
    import requests

    first, pieces, text = None, 0, []
    with requests.post(f"{server.base_url}/chat/completions", json=body, stream=True, timeout=600,
                       headers={"Authorization": "Bearer not-needed"}) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if not line.startswith(b"data: ") or line == b"data: [DONE]":
                continue
            choices = json.loads(line[6:]).get("choices") or [{}]
            piece = (choices[0].get("delta") or {}).get("content") or ""
            if piece:
                first = time.perf_counter() - started if first is None else first
                pieces += 1
                text.append(piece)
    return Learner(first_s=first or float("nan"), end_s=time.perf_counter() - started, pieces=pieces,
                   text="".join(text))


def class_of(server: Server, learners: int, max_tokens: int) -> tuple[list[Learner], float]:
    """``learners`` learners sending the seed question at the same moment; their results and the wall time."""
    from helpers import seed_messages, serving

    body = serving.chat_request(seed_messages(), model=server.model, max_tokens=max_tokens, kind=server.kind,
                                stream=True)
    results: list[Learner | BaseException] = [None] * learners
    gate = threading.Barrier(learners + 1)

    def learner(i: int) -> None:
        gate.wait()
        try:
            results[i] = stream_reply(server, body, started)
        except BaseException as error:  # noqa: BLE001 - reported below, with the others' results
            results[i] = error

    threads = [threading.Thread(target=learner, args=(i,), daemon=True) for i in range(learners)]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    gate.wait()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    failed = [r for r in results if isinstance(r, BaseException)]
    if failed:
        raise RuntimeError(f"{len(failed)} of {learners} learners failed: {failed[0]!r}")
    return results, wall


def row(engine: str, learners: list[Learner], wall: float) -> dict:
    firsts = [r.first_s for r in learners]
    speeds = [r.tokens_per_second for r in learners]
    return {"engine": engine, "learners": len(learners),
            "ttft_median_s": statistics.median(firsts), "ttft_max_s": max(firsts),
            "tokens_per_s_median": statistics.median(speeds), "tokens_per_s_min": min(speeds),
            "total_tokens_per_s": sum(r.pieces for r in learners) / wall,
            "distinct_replies": len({r.text for r in learners})}


def markdown(rows: list[dict]) -> str:
    lines = ["| engine | learners | first token: median (slowest) | tokens/s per learner: median (slowest) "
             "| total tokens/s | distinct replies |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['engine']} | {r['learners']} | {r['ttft_median_s']:.2f} s ({r['ttft_max_s']:.2f} s) "
                     f"| {r['tokens_per_s_median']:.1f} ({r['tokens_per_s_min']:.1f}) "
                     f"| {r['total_tokens_per_s']:.1f} | {r['distinct_replies']} |")
    return "\n".join(lines)


def group_cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by the process group ``pid`` leads (the server and what it started)."""
    import psutil

    total = 0.0
    for proc in psutil.process_iter():
        try:
            if os.getpgid(proc.pid) == pid:
                total += sum(proc.cpu_times()[:2])
        except (ProcessLookupError, PermissionError, psutil.Error):
            continue
    return total


def machine() -> str:
    """The CPU's model name, its cores and its AVX flags (Linux; elsewhere what platform knows)."""
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []
    name = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")),
                platform.processor() or platform.machine())
    flags = sorted({f for line in cpuinfo if line.startswith("flags") for f in line.split(":", 1)[1].split()
                    if f.startswith("avx")})
    return f"{name}, {os.cpu_count()} cores, CPU flags: {' '.join(flags) or '?'}"


def main(argv: list[str] | None = None) -> int:
    from helpers import perf

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default=",".join(available_engines()),
                        help=f"comma-separated, of: {', '.join(ENGINES)} (default: every one found here)")
    parser.add_argument("--learners", default="1,2,4,8", help="numbers of learners (default 1,2,4,8)")
    parser.add_argument("--max-tokens", type=int, default=100, help="max_tokens of each reply (default 100)")
    parser.add_argument("--wait-for-quiet", type=float, default=0, metavar="SECONDS")
    args = parser.parse_args(argv)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = [e for e in engines if e not in ENGINES]
    if unknown:
        parser.error(f"unknown engine {unknown[0]!r}: use {', '.join(ENGINES)}")
    if "llama-cpp-python" in engines and not perf.llama_cpp_available():
        parser.error("llama-cpp-python is not installed: pip install -e '.[server-test]' (builds it, ~10 min)")
    if "llama-server" in engines and "llama-server" not in available_engines():
        parser.error("set LLAMA_SERVER to llama.cpp's llama-server binary")
    counts = [int(n) for n in args.learners.split(",")]
    threads = perf.cpu_threads()
    if args.wait_for_quiet and not wait_for_quiet(args.wait_for_quiet):
        print(f"the machine did not get quiet within {args.wait_for_quiet:.0f} s; measuring anyway")

    rows, load_before = [], os.getloadavg()
    busy, own, servers_cpu, started = busy_cpu_seconds(), own_cpu_seconds(), 0.0, time.monotonic()
    for engine in engines:
        try:
            with engine_server(engine, max(counts), threads) as server:
                group_before = group_cpu_seconds(server.process.pid)
                class_of(server, 1, 8)  # warm-up
                for n in counts:
                    learners, wall = class_of(server, n, args.max_tokens)
                    label = f"{engine} --parallel {max(counts)}" if engine == "llama-server" else engine
                    rows.append(row(label, learners, wall))
                    print(markdown(rows[-1:]).splitlines()[-1], flush=True)
                servers_cpu += group_cpu_seconds(server.process.pid) - group_before
        except RuntimeError as error:  # a server that would not start, or learners that failed: say so, go on
            print(f"{engine}: not measured: {error}", flush=True)
    wall = time.monotonic() - started
    other = max(busy_cpu_seconds() - busy - (own_cpu_seconds() - own) - servers_cpu, 0.0) / wall
    print(f"\nThe seed question, greedy, max_tokens {args.max_tokens}, streamed; {threads} threads per server.")
    print(f"{machine()}")
    print(f"load average (uptime) before: {' '.join(f'{x:.2f}' for x in load_before)}, after: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; other processes kept {other:.2f} cores busy\n")
    print(markdown(rows))
    readable = {}
    for r in rows:
        if r["tokens_per_s_min"] >= READABLE_TOKENS_PER_S and r["ttft_max_s"] <= MAX_WAIT_S:
            readable[r["engine"]] = max(readable.get(r["engine"], 0), r["learners"])
    for engine in dict.fromkeys(r["engine"] for r in rows):   # the rows' labels ("llama-server --parallel 8")
        print(f"{engine}: every learner's reply started within {MAX_WAIT_S:.0f} s and grew at "
              f"{READABLE_TOKENS_PER_S:.0f}+ tokens/s with up to {readable.get(engine, 0)} learners "
              f"(of {', '.join(map(str, counts))})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
