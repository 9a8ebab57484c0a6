"""Shared test setup: tests never touch the network and always use the packaged model. The numerics mode (whether
nbval compares generated text) is the plugin helpers.nbval_numerics, loaded from pyproject.toml's pytest options."""

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("WORKBOOK_MODEL", "packaged")


@pytest.fixture(scope="session")
def numerics_plan():
    from helpers import nbval_numerics

    return nbval_numerics.plan()


@pytest.fixture(scope="session")
def packaged_tokenizer():
    from helpers import load_tokenizer

    return load_tokenizer("packaged")


@pytest.fixture(scope="session")
def packaged_model():
    from helpers import load_model

    return load_model("packaged")
