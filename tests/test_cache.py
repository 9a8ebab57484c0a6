import json
import threading
import time

import pytest

from helpers.cache import MANIFEST, build_atomically, check_folder, write_manifest


def tiny_build(calls):
    def build(folder):
        calls.append(folder)
        header = json.dumps({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).encode()
        (folder / "model.safetensors").write_bytes(len(header).to_bytes(8, "little") + header + b"\0" * 4)
        (folder / "config.json").write_text('{"model_type": "qwen2"}')
        write_manifest(folder, source="test")
    return build


def test_builds_once_then_reuses(tmp_path):
    calls = []
    final = build_atomically(tmp_path / "m", tiny_build(calls))
    assert check_folder(final) is None
    build_atomically(tmp_path / "m", tiny_build(calls))
    assert len(calls) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m", "m.lock"]


@pytest.mark.parametrize("damage, reason", [
    (lambda f: (f / MANIFEST).unlink(), "no workbook-manifest.json"),
    (lambda f: (f / MANIFEST).write_text("{"), "unreadable"),
    (lambda f: (f / "config.json").unlink(), "config.json is missing"),
    (lambda f: (f / "model.safetensors").write_bytes(b"short"), "bytes instead of"),
    (lambda f: (f / "config.json").write_text("{bad json!!!}"[:len('{"model_type": "qwen2"}')].ljust(23)), "damaged"),
])
def test_a_partial_or_corrupt_cache_is_detected_and_rebuilt(tmp_path, damage, reason):
    calls, logged = [], []
    final = build_atomically(tmp_path / "m", tiny_build(calls))
    damage(final)
    assert reason in check_folder(final)
    build_atomically(tmp_path / "m", tiny_build(calls), log=logged.append)
    assert len(calls) == 2 and check_folder(final) is None
    assert "Rebuilding" in logged[0] and reason in logged[0]


def test_a_failing_build_leaves_nothing_half_written(tmp_path):
    def broken(folder):
        (folder / "model.safetensors").write_bytes(b"partial")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        build_atomically(tmp_path / "m", broken)
    assert [p.name for p in tmp_path.iterdir()] == ["m.lock"]


def test_a_failing_rebuild_keeps_the_old_folder(tmp_path):
    final = build_atomically(tmp_path / "m", tiny_build([]))
    (final / MANIFEST).unlink()

    def broken(folder):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_atomically(tmp_path / "m", broken)
    assert (final / "model.safetensors").exists()
    assert not list(tmp_path.glob("m.tmp-*"))


def test_a_build_without_manifest_is_refused(tmp_path):
    with pytest.raises(RuntimeError, match="incomplete"):
        build_atomically(tmp_path / "m", lambda folder: (folder / "x.bin").write_bytes(b"1"))
    assert not (tmp_path / "m").exists()


def test_leftovers_of_a_killed_build_are_cleaned(tmp_path):
    (tmp_path / "m.tmp-abc").mkdir()
    (tmp_path / "m.tmp-abc" / "junk").write_text("x")
    build_atomically(tmp_path / "m", tiny_build([]))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m", "m.lock"]


def test_two_concurrent_builders_build_once(tmp_path):
    calls = []
    slow = tiny_build(calls)

    def build(folder):
        time.sleep(0.3)
        slow(folder)

    threads = [threading.Thread(target=build_atomically, args=(tmp_path / "m", build)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and check_folder(tmp_path / "m") is None
