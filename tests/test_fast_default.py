"""load_model()'s default generation path: int4 weight-only on a CPU, with ways to keep the saved weights."""

import pytest
import torch

from helpers import describe_model, fast_by_default, load_model
from helpers.errors import WorkbookError
from helpers.model.loading import weights_format


def _linear_weight_types(model) -> set[str]:
    return {type(m.weight).__name__ for m in model.modules() if isinstance(m, torch.nn.Linear)}


def test_the_default_model_has_int4_linear_layers(packaged_model):
    assert all("Int4" in kind for kind in _linear_weight_types(packaged_model))
    assert describe_model(packaged_model, "packaged").weights.startswith("int4 weight-only, groups of 32")
    assert packaged_model.dtype == torch.bfloat16  # activations and the embedding table stay as saved


def test_fast_false_keeps_the_weights_as_saved():
    model = load_model("packaged", fast=False)
    assert _linear_weight_types(model) == {"Parameter"}
    assert weights_format(model) == "bfloat16, as loaded"


def test_an_explicit_dtype_is_kept_unquantized():
    model = load_model("packaged", dtype=torch.float32)
    assert model.dtype == torch.float32 and _linear_weight_types(model) == {"Parameter"}
    assert weights_format(model) == "float32, as loaded"


@pytest.mark.parametrize("value, expected", [("0", False), ("off", False), ("no", False), ("1", True), ("", True)])
def test_workbook_fast_switches_the_default(monkeypatch, value, expected):
    monkeypatch.setenv("WORKBOOK_FAST", value)
    assert fast_by_default() is expected


def test_a_misspelt_workbook_fast_is_refused_with_the_fix(monkeypatch):
    monkeypatch.setenv("WORKBOOK_FAST", "fastest")
    with pytest.raises(WorkbookError, match=r"WORKBOOK_FAST='fastest' is not understood: set it to 1 .* or 0"):
        fast_by_default()


def test_fast_true_without_torchao_says_how_to_fix(monkeypatch):
    from helpers.model import formats

    monkeypatch.setattr(formats, "torchao_available", lambda: False)
    with pytest.raises(WorkbookError, match="needs torchao"):
        load_model("packaged", fast=True)
