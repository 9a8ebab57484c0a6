"""Notebook 12 writes temperature, top-k, top-p and the repetition penalty out by hand; helpers.chat.sampling.reshape
runs transformers' own logits processors (what generate(do_sample=True) uses). The two must agree."""

import json
from pathlib import Path

import pytest
import torch

from helpers.chat.sampling import reshape
from helpers.display.words import say

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "12_sampling.ipynb"


@pytest.fixture(scope="module")
def lesson():
    """The notebook's own functions, taken from the cells that define them (no model needed)."""
    cells = ["".join(c["source"]) for c in json.loads(NOTEBOOK.read_text())["cells"] if c["cell_type"] == "code"]
    namespace = {"torch": torch, "say": say}   # say: the notebook's sentences in its language (first cell)
    defining = [source for source in cells if source.lstrip().startswith("def ")]
    for source in defining:
        exec(compile(source, str(NOTEBOOK), "exec"), namespace)
    names = {"apply_temperature", "apply_top_k", "apply_top_p", "apply_repetition_penalty", "reshape_by_hand"}
    assert names <= set(namespace), f"notebook 12 no longer defines {sorted(names - set(namespace))}"
    return namespace


SETTINGS = [
    dict(temperature=0.7),
    dict(temperature=1.5),
    dict(top_k=1),
    dict(top_k=5),
    dict(top_p=0.5),
    dict(top_p=0.9),
    dict(top_p=1.0),
    dict(repetition_penalty=1.1, previous_ids=[3, 7, 7, 42, 99]),
    dict(repetition_penalty=0.8, previous_ids=[1, 2]),
    dict(temperature=0.7, top_k=20, top_p=0.8, repetition_penalty=1.1, previous_ids=list(range(0, 300, 7))),
]


@pytest.mark.parametrize("settings", SETTINGS, ids=lambda s: ",".join(f"{k}={v}" for k, v in s.items()
                                                                      if k != "previous_ids"))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_notebooks_code_gives_transformers_probabilities(lesson, settings, seed):
    generator = torch.Generator().manual_seed(seed)
    logits = torch.randn(1000, generator=generator) * 3          # a spread like a model's, negative scores included
    by_hand = lesson["reshape_by_hand"](logits, **settings)
    by_transformers = reshape(logits, **settings)
    assert torch.equal(by_hand > 0, by_transformers > 0), "the kept tokens differ"
    assert torch.allclose(by_hand, by_transformers, atol=1e-6)


def test_each_step_alone_matches_and_rejects_a_zero_temperature(lesson):
    logits = torch.randn(500, generator=torch.Generator().manual_seed(3))
    plain = torch.softmax(logits, dim=-1)
    assert torch.allclose(torch.softmax(lesson["apply_top_k"](logits, 4), -1), reshape(logits, top_k=4), atol=1e-7)
    assert int((torch.softmax(lesson["apply_top_p"](logits, 0.3), -1) > 0).sum()) == int((reshape(logits, top_p=0.3) > 0).sum())
    assert torch.allclose(torch.softmax(lesson["apply_temperature"](logits, 1.0), -1), plain)
    with pytest.raises(ValueError, match="temperature must be > 0"):
        lesson["apply_temperature"](logits, 0)


def _cell(prefix):
    cells = ["".join(c["source"]) for c in json.loads(NOTEBOOK.read_text())["cells"] if c["cell_type"] == "code"]
    [source] = [s for s in cells if s.startswith(prefix)]
    return source


@pytest.mark.parametrize("temperatures", ["[1.0, 2.0]", "[0.2]", "[1.0]", "[0.5, 1.5]"])
def test_try_it_temperatures_keep_the_asserts_and_title_the_charts(lesson, temperatures):
    """Issue 14: temperature 1.0 ended in a bare AssertionError, and titles did not follow the values."""
    source = _cell("temperatures =")
    assert source.startswith("temperatures = [0.5, 1.5]")
    titles = []
    namespace = dict(lesson, logits=torch.randn(5000, generator=torch.Generator().manual_seed(0)) * 3,
                     tokenizer=None, compare_distributions=lambda before, after, tokenizer: None,
                     plot_comparisons=lambda tables, title="": titles.extend(tables))
    namespace["plain"] = torch.softmax(namespace["logits"], dim=-1)
    exec(source.replace("[0.5, 1.5]", temperatures, 1), namespace)
    assert titles == [f"temperature {t}" for t in eval(temperatures)]


@pytest.mark.parametrize("k_and_p", ["3, 0.8", "5, 0.5", "1, 0.99", "40, 0.3", "2, 0.05", "1, 1.0"])
@pytest.mark.parametrize("seed", [0, 1])
def test_try_it_top_k_and_top_p_keep_the_asserts(lesson, k_and_p, seed):
    """Issue 14: top_k=5 failed an assert written for 3."""
    source = _cell("k, p =")
    assert source.startswith("k, p = 3, 0.8")
    titles = []
    namespace = dict(lesson, logits=torch.randn(5000, generator=torch.Generator().manual_seed(seed)) * 3,
                     tokenizer=None, compare_distributions=lambda before, after, tokenizer: None,
                     plot_comparisons=lambda tables, title="": titles.extend(tables))
    namespace["plain"] = torch.softmax(namespace["logits"], dim=-1)
    exec(source.replace("3, 0.8", k_and_p, 1), namespace)
    k, p = (x.strip() for x in k_and_p.split(","))
    assert titles == [f"top_k = {k}", f"top_p = {p}"]


def test_the_asserts_catch_a_wrong_implementation(lesson):
    """The cells' asserts check the rules: a top-k that keeps everything, or a temperature that does nothing, fails."""
    logits = torch.randn(5000, generator=torch.Generator().manual_seed(0)) * 3
    namespace = dict(lesson, logits=logits, plain=torch.softmax(logits, dim=-1), tokenizer=None,
                     compare_distributions=lambda *args: None, plot_comparisons=lambda *args: None)
    with pytest.raises(AssertionError, match=r"top_k=3 keeps the 3 best \(and ties\)"):
        exec(_cell("k, p ="), dict(namespace, apply_top_k=lambda scores, k: scores))
    with pytest.raises(AssertionError, match="temperature 0.5 < 1 should sharpen"):
        exec(_cell("temperatures ="), dict(namespace, apply_temperature=lambda scores, t: scores))
