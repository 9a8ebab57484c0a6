"""The model folder (helpers.model.folder): built once under a lock, atomically, and checked against its manifest."""

import contextlib
import json
import os
import stat
import tempfile
import threading
import time

import pytest
from filelock import FileLock

from helpers.model.folder import MANIFEST, build_atomically, check_folder, read_manifest, write_manifest


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
def test_a_partial_or_corrupt_model_folder_is_detected_and_rebuilt(tmp_path, damage, reason):
    calls, logged = [], []
    final = build_atomically(tmp_path / "m", tiny_build(calls))
    damage(final)
    assert reason in check_folder(final)
    build_atomically(tmp_path / "m", tiny_build(calls), log=logged.append)
    assert len(calls) == 2 and check_folder(final) is None
    assert "Rebuilding" in logged[0] and reason in logged[0]


def test_contents_are_parsed_only_when_changed_since_the_manifest(tmp_path):
    """A load checks sizes, and parses only files newer than the manifest (written last by the build): a same-size
    damage made after the build is found; the build's own check (every_file) parses every file."""
    final = build_atomically(tmp_path / "m", tiny_build([]))
    config = final / "config.json"
    written = (final / MANIFEST).stat().st_mtime_ns
    config.write_text("{not json at all}".ljust(len('{"model_type": "qwen2"}')))
    assert "config.json is damaged" in check_folder(final)          # changed after the manifest: parsed
    os.utime(config, ns=(written - 10**9, written - 10**9))         # as if it had been written so by the build
    assert check_folder(final) is None                               # same size, older than the manifest: not parsed
    assert "config.json is damaged" in check_folder(final, every_file=True)


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


# -- outdated folders, file modes, a waiting second process, a folder others can only read -------------------------

def versioned_build(calls, version):
    def build(folder):
        calls.append(folder)
        (folder / "config.json").write_text('{"model_type": "qwen2"}')
        if version is None:
            write_manifest(folder, source="test")
        else:
            write_manifest(folder, source="test", format_version=version)
    return build


@pytest.mark.parametrize("old_version, shown", [(None, "format_version is missing"), (1, "format_version is 1")])
def test_a_folder_written_by_an_older_workbook_is_rebuilt(tmp_path, old_version, shown):
    calls, logged = [], []
    final = build_atomically(tmp_path / "m", versioned_build(calls, old_version))
    assert check_folder(final) is None  # complete, but...
    problem = check_folder(final, {"format_version": 2})
    assert shown in problem and "this version needs 2" in problem
    build_atomically(tmp_path / "m", versioned_build(calls, 2), expect={"format_version": 2}, log=logged.append)
    assert len(calls) == 2 and read_manifest(final)["format_version"] == 2
    assert "Rebuilding" in logged[0] and shown in logged[0]
    build_atomically(tmp_path / "m", versioned_build(calls, 2), expect={"format_version": 2})
    assert len(calls) == 2  # the current version is reused


def test_a_build_that_forgets_the_expected_entry_is_refused(tmp_path):
    with pytest.raises(RuntimeError, match="format_version is missing"):
        build_atomically(tmp_path / "m", versioned_build([], None), expect={"format_version": 2})
    assert not (tmp_path / "m").exists()


@contextlib.contextmanager
def umask(value):
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


def private_build(folder):
    """Writes like save_pretrained's temporary files do: a private file renamed into place, and a private folder."""
    fd, name = tempfile.mkstemp(dir=folder)
    os.write(fd, b"weights")
    os.close(fd)
    os.rename(name, folder / "model.bin")
    (folder / "sub").mkdir(mode=0o700)
    (folder / "sub" / "note.txt").write_text("x")
    os.chmod(folder / "sub" / "note.txt", 0o600)
    write_manifest(folder, source="test")


@pytest.mark.parametrize("mask, file_mode, dir_mode", [(0o022, 0o644, 0o755), (0o002, 0o664, 0o775),
                                                        (0o077, 0o600, 0o700)])
def test_model_files_get_the_usual_modes_of_the_umask(tmp_path, mask, file_mode, dir_mode):
    with umask(mask):
        final = build_atomically(tmp_path / "m", private_build)
    assert stat.S_IMODE(os.stat(final / "model.bin").st_mode) == file_mode
    assert stat.S_IMODE(os.stat(final / MANIFEST).st_mode) == file_mode
    assert stat.S_IMODE(os.stat(final / "sub" / "note.txt").st_mode) == file_mode
    assert stat.S_IMODE(os.stat(final / "sub").st_mode) == dir_mode
    assert stat.S_IMODE(os.stat(final).st_mode) == dir_mode


def test_a_second_process_says_it_waits_for_the_first_and_ticks(tmp_path, capsys):
    calls, first_is_building = [], threading.Event()
    quick = tiny_build(calls)

    def slow_build(folder):
        first_is_building.set()
        time.sleep(1.2)
        quick(folder)

    first = threading.Thread(target=build_atomically, args=(tmp_path / "m", slow_build), kwargs={"log": print})
    first.start()
    assert first_is_building.wait(10)
    logged = []
    started = time.monotonic()
    final = build_atomically(tmp_path / "m", tiny_build(calls), log=logged.append, wait_interval=0.1)
    waited = time.monotonic() - started
    first.join()
    assert len(calls) == 1 and check_folder(final) is None  # it waited, then used the first one's build
    assert waited > 0.5
    assert len(logged) == 1 and "Another process (another kernel, say) is preparing m;" in logged[0]
    ticks = capsys.readouterr().err
    assert ticks.count("Waiting for the other process") >= 3, ticks  # the clock redraws while it waits
    assert "done in" in ticks


def test_a_held_lock_is_not_needed_to_use_a_complete_model_folder(tmp_path):
    final = build_atomically(tmp_path / "m", tiny_build([]))
    returned = []
    with FileLock(str(final) + ".lock"):  # another process preparing something, or a lock this user may not open
        reader = threading.Thread(target=lambda: returned.append(build_atomically(final, tiny_build([]))))
        reader.start()
        reader.join(timeout=5)
        assert not reader.is_alive(), "a complete model folder waited for the lock"
    assert returned == [final]
