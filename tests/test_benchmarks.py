"""The benchmark harness (benchmarks/formats.py, benchmarks/decode_benchmark.py) and the quiet-machine measures
(tools/quiet.py) it shares with ``python -m tools store``. No timing is asserted: speed belongs in the benchmark's
output."""

import math
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import pytest

from benchmarks import decode_benchmark
from benchmarks.formats import FORMATS, FormatResult, available_formats, benchmark_format, \
    benchmark_format_in_subprocess
from helpers import SEED_PROMPT_IDS, perf
from tools import quiet

ROOT = Path(__file__).resolve().parents[1]


def test_a_format_result_survives_its_json_line():
    result = FormatResult(format="int4", load_s=4.7, tokens_per_second=29.4, runs_tokens_per_second=[29.4, 30.6],
                          peak_rss_bytes=3_800_000_000, prompt_ids=[1, 2, 3], reply="Large language model")
    line = result.to_json()
    assert "\n" not in line  # the parent process reads the child's last line of output
    back = FormatResult.from_json(line)
    for name, value in asdict(result).items():  # NaN (not measured) stays NaN, and NaN != NaN
        again = getattr(back, name)
        assert again == value or (math.isnan(value) and math.isnan(again)), name


def test_the_available_formats_are_known_and_in_order():
    found = available_formats()
    assert found[:4] == ["float32", "bfloat16", "int8", "int4"]  # torchao is a pinned dependency
    assert ("llama.cpp" in found) is perf.llama_cpp_available()
    assert list(FORMATS)[:len(found)] == found


def test_llama_cpp_without_its_package_says_how_to_install_it():
    if perf.llama_cpp_available():
        pytest.skip("llama-cpp-python is installed")
    from helpers.errors import WorkbookError

    with pytest.raises(WorkbookError, match=r"pip install llama-cpp-python"):
        benchmark_format("llama.cpp", new_tokens=2, repeats=1)


def test_a_format_in_a_fresh_process_comes_back_measured():
    result = benchmark_format_in_subprocess("bfloat16", new_tokens=3, repeats=1, source="packaged", reply_tokens=3)
    assert not result.error, result.error
    assert result.prompt_ids == SEED_PROMPT_IDS and len(result.new_ids) == 3 and result.reply.strip()
    assert result.bytes_per_token < result.weight_bytes and round(result.bits_per_weight) == 16
    assert result.peak_rss_bytes >= result.rss_bytes > 0 and result.tokens_per_second > 0


def test_a_failing_format_process_comes_back_as_an_error():
    result = benchmark_format_in_subprocess("int3", new_tokens=2, repeats=1)
    assert result.format == "int3" and "invalid choice" in result.error


def _measured(fmt, tokens_per_second, bytes_per_token=1e9, bandwidth=float("nan")):
    return FormatResult(format=fmt, tokens_per_second=tokens_per_second, bytes_per_token=bytes_per_token,
                        bandwidth_bytes_per_s=bandwidth)


def test_each_ceiling_uses_its_own_processs_bandwidth():
    assert decode_benchmark._ceiling(_measured("int4", 10, bandwidth=40e9), 30e9) == (40e9, 40.0)
    assert decode_benchmark._ceiling(_measured("int4", 10), 30e9) == (30e9, 30.0)  # not measured there: this one


def test_the_verdict_on_the_default_path():
    results = {"float32": (_measured("float32", 6.5), 0.0), "int4": (_measured("int4", 29.4, 0.3e9), 0.0)}
    verdict = decode_benchmark._default_verdict("int4", results, 30e9)
    assert "29.4 tok/s, 29% of its ceiling" in verdict and "4.52x the seed's float32 path (target 2x: met)" in verdict
    assert "not measured" in decode_benchmark._default_verdict("bfloat16", results, 30e9)


@pytest.mark.parametrize("script", ["decode_benchmark.py", "ttft_benchmark.py", "formats.py"])
def test_each_benchmark_runs_as_a_script(script):
    """Run from anywhere as ``python benchmarks/<script>``: each finds tools/ and benchmarks/ by itself."""
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), "--help"], capture_output=True,
                          text=True, cwd=ROOT / "benchmarks", timeout=120)
    assert done.returncode == 0 and "usage:" in done.stdout, done.stderr[-2000:]


def test_other_load_leaves_out_this_processs_own_work():
    load, own = quiet.OtherLoad(), quiet.own_cpu_seconds()
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:  # keep this process busy
        pass
    assert quiet.own_cpu_seconds() - own >= 0.25
    assert load.cores() >= 0.0
    assert quiet.busy_cpu_seconds() > 0


# ---------------------------------------------------------------------------------------------- class load

FAKE_SERVER = ROOT / "tests" / "fake_chat_server.py"


def test_class_load_streams_every_learner_at_once_and_tables_what_each_saw():
    """benchmarks/class_load.py against the fake server (two pieces, 0.05 s apart): every learner gets the whole
    reply, and the learners are served side by side, not one after another."""
    from benchmarks import class_load

    with class_load.local_server([sys.executable, str(FAKE_SERVER), "{port}", "ok"], "transformers serve") as server:
        assert server.model == "fake-model" and server.process.poll() is None
        learners, wall = class_load.class_of(server, 4, max_tokens=5)
    assert server.process.poll() is not None  # stopped with the block
    assert [(r.pieces, r.text) for r in learners] == [(2, "fake reply")] * 4
    assert all(0.05 <= r.first_s <= r.end_s <= wall for r in learners)
    assert wall < 4 * 0.2  # four replies of 0.2 s of sleeps each: one after another would take 0.8 s at least

    row = class_load.row("fake", learners, wall)
    assert row["learners"] == 4 and row["distinct_replies"] == 1
    assert row["total_tokens_per_s"] == pytest.approx(8 / wall)
    assert row["tokens_per_s_min"] <= row["tokens_per_s_median"]
    line = class_load.markdown([row]).splitlines()[-1]
    assert line.startswith("| fake | 4 | ") and line.endswith(" | 1 |")


def test_class_load_says_what_is_wrong_with_its_arguments(capsys):
    from benchmarks import class_load

    with pytest.raises(SystemExit):
        class_load.main(["--engines", "ollama"])
    assert "unknown engine 'ollama'" in capsys.readouterr().err
    if not perf.llama_cpp_available():
        with pytest.raises(SystemExit):
            class_load.main(["--engines", "llama-cpp-python"])
        assert "pip install -e '.[server-test]'" in capsys.readouterr().err


def test_a_server_that_exits_before_it_is_ready_shows_its_log():
    from benchmarks import class_load

    argv = [sys.executable, "-c", "import sys; print('no model here'); sys.exit(3)", "{port}"]
    with pytest.raises(RuntimeError, match=r"exited with code 3:\nno model here"):
        with class_load.local_server(argv, "llama.cpp"):
            pass
