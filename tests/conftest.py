"""Shared test setup: tests never touch the network and always use the packaged model. Which notebook outputs nbval
compares is the plugin tools.nbval_numerics, registered by the repository's conftest.py."""

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("WORKBOOK_MODEL", "packaged")


@pytest.fixture(scope="session")
def packaged_tokenizer():
    from helpers import load_tokenizer

    return load_tokenizer("packaged")


@pytest.fixture(scope="session")
def packaged_model():
    from helpers import load_model

    return load_model("packaged")
