"""The numerics of the suite: the probe that measures whether this machine reproduces the stored notebooks, the mode
it decides, and what nbval compares in each mode (tools/numerics_probe.py, numerics_mode.py, nbval_numerics.py);
and the committed greedy replies notebook 15 reads (helpers.numerics)."""

import copy
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from helpers import numerics
from tools import numerics_mode, numerics_probe
from tools.nbval_numerics import CPU_TAG, TIMING_TAG

ROOT = Path(__file__).resolve().parents[1]


# -- helpers.numerics: the committed replies of two kinds of machine (notebook 15) --

def test_first_difference():
    assert numerics.first_difference([1, 2, 3], [1, 2, 3]) is None
    assert numerics.first_difference([1, 2, 3], [1, 5, 3]) == 1
    assert numerics.first_difference([1, 2], [1, 2, 3]) == 2


def test_the_committed_reference_records_where_kernels_part():
    data = numerics.reference_ids()
    reference, avx2 = data["reference"]["formats"], data["avx2_native"]["formats"]
    # What was measured on an AVX2 machine: int4 parts at token 9 of the seed reply, bfloat16 at token 31 of the
    # Chinese one, float32 never.
    assert numerics.first_difference(reference["int4"]["seed"], avx2["int4"]["seed"]) == 9
    assert numerics.first_difference(reference["bfloat16"]["zh"], avx2["bfloat16"]["zh"]) == 31
    assert all(reference["float32"][p] == avx2["float32"][p] for p in ("seed", "zh"))


def test_the_probe_reference_and_the_committed_replies_come_from_the_same_setting():
    probe = numerics_probe.reference()["formats"]
    replies = numerics.reference_ids()["reference"]["formats"]
    for fmt in numerics_probe.FORMATS:
        for prompt in ("seed", "zh"):
            ids = probe[fmt][prompt]["ids"]
            assert ids == replies[fmt][prompt][:len(ids)], (fmt, prompt)


# -- the probe's comparison --

def _measurement(ids=(7, 8, 9), logits=(16.0, 15.5, 15.0)) -> dict:
    step = {"ids": list(ids), "logits": list(logits), "logsumexp": 17.25}
    return {"seed": {"ids": [ids[0]] * 3, "steps": [copy.deepcopy(step) for _ in range(3)]}}


def test_the_same_numbers_reproduce_the_reference():
    verdict = numerics_probe.compare_format("int4", _measurement(), _measurement())
    assert verdict.reproduced and verdict.line() == "int4 reproduces the reference"


def test_a_logit_one_bfloat16_step_off_is_reported_with_where():
    measured = _measurement()
    measured["seed"]["steps"][0]["logits"][1] += 0.0625
    verdict = numerics_probe.compare_format("bfloat16", measured, _measurement())
    assert not verdict.reproduced
    assert verdict.where == "seed prompt, step 0 (the prefill): logit of candidate 2 (id 8) off by 0.062 " \
                            "(tolerance 2e-05)"


def test_a_probability_change_shows_in_the_log_sum_exp_at_a_decode_step():
    measured = _measurement()
    measured["seed"]["steps"][2]["logsumexp"] += 0.01
    verdict = numerics_probe.compare_format("float32", measured, _measurement())
    assert "decode step 2: log-sum-exp off by 0.01" in verdict.where


def test_another_greedy_token_is_reported_first():
    measured = _measurement()
    measured["seed"]["steps"][1]["ids"] = [8, 7, 9]
    verdict = numerics_probe.compare_format("int4", measured, _measurement())
    assert verdict.where == "seed prompt, decode step 1: greedy token id 8, reference 7"


def test_differences_under_the_tolerance_still_reproduce():
    measured = _measurement()
    measured["seed"]["steps"][0]["logits"][0] += numerics_probe.TOLERANCE / 2
    assert numerics_probe.compare_format("float32", measured, _measurement()).reproduced


# -- the mode: decided by the probe, or forced --

def _verdicts(*differing):
    return lambda: [numerics_probe.FormatVerdict(f, f not in differing, "seed prompt, step 0 (the prefill): x"
                                                 if f in differing else "") for f in numerics_probe.FORMATS]


def test_auto_is_reference_only_where_every_format_reproduces():
    assert numerics_mode.plan({}, probe=_verdicts()).mode == "reference"
    plan = numerics_mode.plan({}, probe=_verdicts("bfloat16"))
    assert plan.mode == "native"
    assert "bfloat16 differs: seed prompt, step 0 (the prefill): x;" in plan.reason
    assert "int4 reproduces the reference" in plan.reason


def test_native_can_be_forced_without_running_the_probe():
    def no_probe():
        raise AssertionError("the probe ran")

    assert numerics_mode.plan({"WORKBOOK_NUMERICS": "native"}, probe=no_probe).mode == "native"


def test_reference_can_be_forced_and_still_says_what_the_probe_found():
    plan = numerics_mode.plan({"WORKBOOK_NUMERICS": "reference"}, probe=_verdicts("int4"))
    assert plan.mode == "reference" and "int4 differs" in plan.reason


def test_a_typo_in_the_mode_is_explained():
    with pytest.raises(numerics_mode.ModeError, match="auto.*reference.*native"):
        numerics_mode.plan({"WORKBOOK_NUMERICS": "refrence"}, probe=_verdicts())


def test_a_resolved_mode_is_passed_on_and_not_measured_again():
    environ = {}
    numerics_mode.apply(numerics_mode.Plan("native", "measured once"), environ)
    assert numerics_mode.plan(environ, probe=None) == numerics_mode.Plan("native", "measured once")


# -- what nbval compares in each mode: one notebook, run in each mode --

# A stand-in for a generated reply: other words than the stored ones, and the invariant the cell asserts.
OTHER_WORDS = textwrap.dedent("""\
    reply = "Words another CPU chose."
    assert reply.endswith("."), "a reply that stopped by itself ends a sentence"
    print(reply)
""")
BROKEN = OTHER_WORDS.replace('"Words another CPU chose."', '"Words cut mid"')
CELLS = [  # (tag, source, stored output)
    (CPU_TAG, OTHER_WORDS, "Words this CPU chose.\n"),
    (CPU_TAG, BROKEN, "Words cut mid\n"),
    (TIMING_TAG, 'print("61 tokens in 2.3 s")', "61 tokens in 91.7 s\n"),
    (None, 'print("compared everywhere")', "compared in every mode\n"),
]


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """Each mode's pytest output and the outcome of each cell (nbval's "Cell N" items)."""
    folder = tmp_path_factory.mktemp("nbval")
    notebook = {
        "cells": [{"cell_type": "code", "execution_count": i + 1, "id": f"c{i}",
                   "metadata": {"tags": [tag]} if tag else {},
                   "outputs": [{"name": "stdout", "output_type": "stream", "text": [stored]}], "source": source}
                  for i, (tag, source, stored) in enumerate(CELLS)],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    path = folder / "cells.ipynb"
    path.write_text(json.dumps(notebook))
    results = {}
    for mode in ("native", "reference"):
        env = {**os.environ, numerics_mode.RESOLVED_VARIABLE: mode, numerics_mode.REASON_VARIABLE: "test",
               "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "tools.nbval_numerics", "--nbval",
             "--nbval-current-env", "--rootdir", str(folder), "-c", os.devnull, "-rA", str(path)],
            cwd=folder, env=env, capture_output=True, text=True, timeout=120)
        cells = {int(n): outcome for outcome, n in re.findall(r"^(PASSED|FAILED) \S+::Cell (\d+)", run.stdout, re.M)}
        results[mode] = (run.stdout, cells)
    return results


def test_native_mode_runs_cpu_dependent_cells_without_comparing_their_output(outcomes):
    stdout, cells = outcomes["native"]
    assert "numerics: native" in stdout
    assert cells == {0: "PASSED", 1: "FAILED", 2: "PASSED", 3: "FAILED"}, stdout


def test_native_mode_still_fails_a_broken_invariant(outcomes):
    stdout, cells = outcomes["native"]
    assert cells[1] == "FAILED" and "a reply that stopped by itself ends a sentence" in stdout


def test_reference_mode_compares_cpu_dependent_cells_but_never_timings(outcomes):
    stdout, cells = outcomes["reference"]
    assert "numerics: reference" in stdout
    assert cells == {0: "FAILED", 1: "FAILED", 2: "PASSED", 3: "FAILED"}, stdout
