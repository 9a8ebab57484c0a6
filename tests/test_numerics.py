"""The numerics setting: which mode each kind of machine gets, the committed reference ids reproduced under the
reference setting, and nbval's native mode (generated text not compared, invariants still enforced)."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from helpers import numerics
from helpers.errors import WorkbookError

AVX512_BF16 = frozenset({"avx", "avx2", "avx512f", "avx512bw", "avx512vl", "avx512_bf16", "avx512dq"})
AVX512_NO_BF16 = frozenset({"avx", "avx2", "avx512f", "avx512bw", "avx512vl", "avx512dq"})
AVX2_ONLY = frozenset({"avx", "avx2", "fma"})


@pytest.mark.parametrize("flags, machine, mode, environment", [
    (AVX512_BF16, "x86_64", "reference", {}),
    (AVX2_ONLY, "x86_64", "native", {}),
    (AVX512_NO_BF16, "x86_64", "native", {}),
    (frozenset(), "arm64", "native", {}),
    (frozenset(), "aarch64", "native", {}),
])
def test_auto_mode_per_machine(flags, machine, mode, environment):
    plan = numerics.plan_numerics({}, flags, machine)
    assert (plan.mode, plan.environment) == (mode, environment)
    assert plan.reason


def test_auto_on_avx2_says_how_to_get_the_reference():
    plan = numerics.plan_numerics({}, AVX2_ONLY, "x86_64")
    assert "WORKBOOK_NUMERICS=reference" in plan.reason and "12x" in plan.reason


@pytest.mark.parametrize("flags, environment", [
    (AVX512_BF16, {}),
    (AVX2_ONLY, {"ATEN_CPU_CAPABILITY": "default"}),
    (AVX512_NO_BF16, {"ATEN_CPU_CAPABILITY": "default"}),
])
def test_reference_mode_sets_the_declared_kernels(flags, environment):
    plan = numerics.plan_numerics({"WORKBOOK_NUMERICS": "reference"}, flags, "x86_64")
    assert plan.mode == "reference" and plan.environment == environment
    assert plan.compares_generated_text


def test_reference_cannot_hold_on_arm():
    with pytest.raises(WorkbookError, match="cannot hold on this machine"):
        numerics.plan_numerics({"WORKBOOK_NUMERICS": "reference"}, frozenset(), "arm64")


def test_a_kernel_level_set_by_hand_turns_auto_into_native():
    plan = numerics.plan_numerics({"ATEN_CPU_CAPABILITY": "avx2"}, AVX512_BF16, "x86_64")
    assert plan.mode == "native" and "ATEN_CPU_CAPABILITY=avx2" in plan.reason


def test_native_can_be_forced_and_typos_are_explained():
    assert numerics.plan_numerics({"WORKBOOK_NUMERICS": "native"}, AVX512_BF16, "x86_64").mode == "native"
    with pytest.raises(WorkbookError, match="not understood"):
        numerics.plan_numerics({"WORKBOOK_NUMERICS": "refrence"}, AVX512_BF16, "x86_64")


def test_check_capability_demotes_a_reference_plan_that_did_not_take():
    plan = numerics.NumericsPlan("reference", {"ATEN_CPU_CAPABILITY": "default"}, "asked")
    assert numerics.check_capability(plan, "DEFAULT") is plan
    assert numerics.check_capability(plan, "AVX2").mode == "native"
    avx512 = numerics.NumericsPlan("reference", {}, "free")
    assert numerics.check_capability(avx512, "AVX512") is avx512


def test_first_difference():
    assert numerics.first_difference([1, 2, 3], [1, 2, 3]) is None
    assert numerics.first_difference([1, 2, 3], [1, 5, 3]) == 1
    assert numerics.first_difference([1, 2], [1, 2, 3]) == 2


def test_the_committed_reference_records_where_kernels_part():
    data = numerics.reference_ids()
    reference, avx2 = data["reference"]["formats"], data["avx2_native"]["formats"]
    # What the issue measured on an AVX2 machine: int4 parts at token 9 of the seed reply, bfloat16 at token 31 of
    # the Chinese one, float32 never.
    assert numerics.first_difference(reference["int4"]["seed"], avx2["int4"]["seed"]) == 9
    assert numerics.first_difference(reference["bfloat16"]["zh"], avx2["bfloat16"]["zh"]) == 31
    assert all(reference["float32"][p] == avx2["float32"][p] for p in ("seed", "zh"))


# The reference setting reproduces the committed greedy ids. 48 tokens reach past every place where other kernels
# part (tokens 9, 22 and 31 measured), at a fraction of the time of the full 128.
COMPARED_TOKENS = 48


@pytest.mark.parametrize("fmt", ["int4", "bfloat16", "float32"])
def test_greedy_ids_match_the_committed_reference(fmt, numerics_plan, packaged_tokenizer):
    import torch

    from helpers import SEED_CHINESE_PROMPT, load_model, seed_messages

    model = {"int4": lambda: load_model("packaged"),
             "bfloat16": lambda: load_model("packaged", fast=False),
             "float32": lambda: load_model("packaged", dtype=torch.float32)}[fmt]()
    expected = numerics.reference_ids()["reference"]["formats"][fmt]
    eos = packaged_tokenizer.convert_tokens_to_ids("<|im_end|>")
    for prompt, messages in (("seed", seed_messages()), ("zh", seed_messages(SEED_CHINESE_PROMPT))):
        text = packaged_tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        inputs = packaged_tokenizer([text], return_tensors="pt")
        out = model.generate(**inputs, do_sample=False, repetition_penalty=1.0, max_new_tokens=COMPARED_TOKENS,
                             temperature=None, top_p=None, top_k=None)
        new_ids = out[0, inputs.input_ids.shape[1]:].tolist()
        if numerics_plan.compares_generated_text:
            assert new_ids == expected[prompt][:COMPARED_TOKENS], (
                f"{fmt} {prompt}: parts from the reference at token "
                f"{numerics.first_difference(new_ids, expected[prompt][:COMPARED_TOKENS])} under {numerics_plan}")
        else:  # native mode: other kernels may choose other words; what holds anywhere
            assert len(new_ids) == COMPARED_TOKENS or new_ids[-1] == eos
            assert eos not in new_ids[:-1]


def _run_nbval(tmp_path, cell_source, stored_text, mode):
    notebook = {
        "cells": [{
            "cell_type": "code", "execution_count": 1, "id": "c1",
            "metadata": {"tags": [numerics.GENERATED_TAG]},
            "outputs": [{"name": "stdout", "output_type": "stream", "text": [stored_text]}],
            "source": cell_source,
        }],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    path = tmp_path / "generated.ipynb"
    path.write_text(json.dumps(notebook))
    env = {**os.environ, numerics.RESOLVED_VARIABLE: mode, numerics.REASON_VARIABLE: "test"}
    env.pop("ATEN_CPU_CAPABILITY", None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "helpers.nbval_numerics", "--nbval",
         "--nbval-current-env", "--rootdir", str(tmp_path), "-c", os.devnull, str(path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


# A stand-in for a generated reply: other words than the stored ones, and the invariant the cell asserts.
OTHER_WORDS = textwrap.dedent("""\
    reply = "Words another CPU chose."
    assert reply.endswith("."), "a reply that stopped by itself ends a sentence"
    print(reply)
""")


def test_native_mode_runs_generated_cells_without_comparing_their_words(tmp_path):
    result = _run_nbval(tmp_path, OTHER_WORDS, "Words this CPU chose.\n", "native")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "numerics: native" in result.stdout and "1 passed" in result.stdout


def test_reference_mode_compares_the_same_cell_word_for_word(tmp_path):
    result = _run_nbval(tmp_path, OTHER_WORDS, "Words this CPU chose.\n", "reference")
    assert result.returncode == 1 and "1 failed" in result.stdout, result.stdout


def test_native_mode_still_fails_a_broken_invariant(tmp_path):
    broken = OTHER_WORDS.replace('"Words another CPU chose."', '"Words cut mid"')
    result = _run_nbval(tmp_path, broken, "Words cut mid\n", "native")
    assert result.returncode == 1 and "a reply that stopped by itself ends a sentence" in result.stdout, result.stdout


# -- the notebook's language: notebook 00 shows the reason in Chinese in the Chinese edition (helpers.catalogue) --

def test_in_chinese_the_reason_is_chinese_and_keeps_the_settings(monkeypatch):
    monkeypatch.setenv("WORKBOOK_LANG", "zh")
    plan = numerics.plan_numerics({}, AVX2_ONLY, "x86_64")
    assert "WORKBOOK_NUMERICS=reference" in plan.reason and "ATEN_CPU_CAPABILITY=default" in plan.reason
    assert "12 倍" in plan.reason and "avx avx2" in plan.reason
    assert "参考设置" in numerics.plan_numerics({}, AVX512_BF16, "x86_64").reason
    with pytest.raises(WorkbookError, match="auto.*reference.*native") as caught:
        numerics.plan_numerics({"WORKBOOK_NUMERICS": "refrence"}, AVX512_BF16, "x86_64")
    assert "无法识别" in str(caught.value) and "'refrence'" in str(caught.value)
    monkeypatch.setenv("WORKBOOK_LANG", "en")
    assert numerics.plan_numerics({}, AVX2_ONLY, "x86_64").reason.startswith("on this machine (x86_64, AVX flags:")
