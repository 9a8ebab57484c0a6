"""Lesson 31 (what int4 costs): check_perplexity takes the right answer and names each usual mistake."""

import math

import pytest

from helpers.exercises import check_perplexity

SCORED = [0.0, -0.42, -1.37, -4.05, -2.11, -1.66, -0.29, -0.93, -0.02, -0.01]  # the notebook's list; [0]: no prediction
MEAN = sum(SCORED[1:]) / (len(SCORED) - 1)
MEAN_ALL = sum(SCORED) / len(SCORED)


def test_the_right_answer_passes():
    feedback = check_perplexity(math.exp(-MEAN), SCORED)
    assert feedback and feedback.key == "perplexity.right"


def test_a_tensor_answer_passes():
    torch = pytest.importorskip("torch")
    assert check_perplexity(torch.tensor(SCORED[1:]).neg().mean().exp(), SCORED)


@pytest.mark.parametrize("answer, key", [
    (None, "no_answer"),
    ("3.3", "type.number"),
    (math.exp(-MEAN_ALL), "perplexity.first_token"),      # the first token's 0.0 counted in the mean
    (math.exp(MEAN), "perplexity.sign"),                  # the minus sign forgotten
    (2 ** -MEAN, "perplexity.base"),                      # natural logs undone with base 2
    (10 ** -MEAN, "perplexity.base"),
    (math.exp(-MEAN / math.log(2)), "perplexity.base"),   # turned into bits, then exp
    (math.exp(-sum(SCORED)), "perplexity.sum"),           # exp of the sum, not the mean
    (-MEAN, "perplexity.no_exp"),                         # the mean NLL itself
    (3.0, "perplexity.wrong"),
])
def test_each_usual_mistake_gets_its_own_feedback(answer, key):
    feedback = check_perplexity(answer, SCORED)
    assert not feedback
    assert feedback.key == key


def test_a_wrong_answer_never_prints_the_expected_value():
    expected = f"{math.exp(-MEAN):.2f}"
    for answer in (math.exp(-MEAN_ALL), 3.0, -MEAN):
        assert expected not in check_perplexity(answer, SCORED).message


def test_the_feedback_is_chinese_under_workbook_lang_zh(monkeypatch):
    monkeypatch.setenv("WORKBOOK_LANG", "zh")
    assert "困惑度" in check_perplexity(math.exp(-MEAN), SCORED).message or \
        "对数似然" in check_perplexity(math.exp(-MEAN), SCORED).message
