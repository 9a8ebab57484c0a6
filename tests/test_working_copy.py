"""The learner's working copy (``make lab``, ``make restore LESSON=06``; helpers/__main__.py), made and restored in a
temporary checkout that holds the real lessons: every lesson of both editions is copied once, the learner's edits
survive the next start, links and the folder's language keep working, and restore puts back exactly one lesson,
refusing bad names and never leaving a half-written file."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

import helpers.__main__ as commands
from helpers import catalogue
from helpers.__main__ import (LAB_CONFIG, LINKED_FILES, WORKING_COPY, WorkingCopyError, find_lesson, lessons,
                              make_working_copy, restore)

REPO = Path(__file__).resolve().parents[1]
LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.fixture
def root(tmp_path, monkeypatch):
    """A checkout with the real lessons and the files they link to; English unless a test says otherwise."""
    monkeypatch.delenv("WORKBOOK_LANG", raising=False)
    monkeypatch.chdir(tmp_path)
    checkout = tmp_path / "checkout"
    shutil.copytree(REPO / "notebooks", checkout / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for name in LINKED_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, checkout / name)
        else:
            shutil.copy(source, checkout / name)
    return checkout


def copied(root: Path, lesson: str) -> Path:
    return root / WORKING_COPY / "notebooks" / lesson


def snapshot(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*"))
            if path.is_file()}


def test_the_first_start_copies_every_lesson_of_both_editions_as_published(root):
    made = make_working_copy(root)
    published = lessons(root / "notebooks")
    assert len(published) == 2 * len(list((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))) >= 40
    assert made.copied == published and made.kept == [] and made.republished == []
    for lesson in published:
        assert copied(root, lesson.as_posix()).read_bytes() == (root / "notebooks" / lesson).read_bytes(), lesson
    assert (made.folder / "notebooks" / "90_solutions.ipynb").is_file()
    assert (made.folder / "notebooks" / "zh" / "90_solutions.ipynb").is_file()
    page_config = json.loads((made.folder / LAB_CONFIG / "labconfig" / "page_config.json").read_text())
    assert page_config["disabledExtensions"]["@jupyterlab/apputils-extension:announcements"] is True


def test_every_relative_link_of_a_copied_lesson_finds_its_file_in_the_copy(root):
    made = make_working_copy(root)
    checked, broken = 0, []
    for notebook in sorted((made.folder / "notebooks").rglob("[0-9][0-9]_*.ipynb")):
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] != "markdown":
                continue
            for target in LINK.findall("".join(cell["source"])):
                path = target.split("#")[0]
                if not path or re.match(r"[a-z]+:", path):
                    continue
                checked += 1
                resolved = (notebook.parent / path).resolve()
                if not resolved.is_file() or made.folder.resolve() not in resolved.parents:
                    broken.append(f"{notebook.relative_to(made.folder)}: {target}")
    assert checked > 100, "the scan found almost no links"
    assert not broken, broken


def test_a_copied_chinese_lesson_speaks_chinese_and_an_english_one_english(root, monkeypatch):
    made = make_working_copy(root)
    monkeypatch.chdir(made.folder / "notebooks" / "zh")   # where JupyterLab starts the Chinese lesson's kernel
    assert catalogue.language() == "zh"
    monkeypatch.chdir(made.folder / "notebooks")
    assert catalogue.language() == "en"


def test_a_later_start_keeps_the_learners_edits_and_says_which_lessons_were_published_anew(root):
    make_working_copy(root)
    edited = copied(root, "06_generate.ipynb")
    edited.write_text(edited.read_text(encoding="utf-8").replace("greedy", "GREEDY-EDIT"), encoding="utf-8")
    mine = edited.read_bytes()
    copied(root, "zh/07_slicing.ipynb").unlink()                 # a deleted copy comes back as published
    republished = root / "notebooks" / "09_the_whole_pipeline.ipynb"
    republished.write_text(republished.read_text(encoding="utf-8") + "\n", encoding="utf-8")

    again = make_working_copy(root)
    assert edited.read_bytes() == mine
    assert again.copied == [Path("zh/07_slicing.ipynb")]
    assert again.republished == [Path("09_the_whole_pipeline.ipynb")]
    assert copied(root, "zh/07_slicing.ipynb").read_bytes() == (root / "notebooks/zh/07_slicing.ipynb").read_bytes()


@pytest.mark.parametrize("name, lang, lesson", [
    ("06", None, "06_generate.ipynb"),
    ("6", None, "06_generate.ipynb"),
    ("06_generate", None, "06_generate.ipynb"),
    ("06_generate.ipynb", None, "06_generate.ipynb"),
    ("notebooks/06_generate.ipynb", None, "06_generate.ipynb"),
    (" zh/06 ", None, "zh/06_generate.ipynb"),
    ("my-work/notebooks/zh/06_generate.ipynb", None, "zh/06_generate.ipynb"),
    ("my-work\\notebooks\\zh\\06_generate.ipynb", None, "zh/06_generate.ipynb"),
    ("06", "zh", "zh/06_generate.ipynb"),   # WORKBOOK_LANG=zh make lab opens the Chinese lessons
    ("en/06", "zh", "06_generate.ipynb"),
    ("90", None, "90_solutions.ipynb"),
])
def test_a_lesson_is_found_by_its_number_name_or_path(root, monkeypatch, name, lang, lesson):
    if lang:
        monkeypatch.setenv("WORKBOOK_LANG", lang)
    assert find_lesson(root, name) == Path(lesson)


def test_an_absolute_path_to_a_copied_lesson_names_it(root):
    assert find_lesson(root, str(copied(root, "zh/12_sampling.ipynb"))) == Path("zh/12_sampling.ipynb")


def test_restore_puts_back_one_lesson_and_keeps_the_learners_version(root):
    make_working_copy(root)
    target = copied(root, "zh/06_generate.ipynb")
    target.write_text("{}", encoding="utf-8")   # the learner's (here broken) version
    other = copied(root, "06_generate.ipynb")
    other.write_text(other.read_text(encoding="utf-8") + " ", encoding="utf-8")
    before = other.read_bytes()

    done = restore(root, "zh/06")
    assert done.lesson == Path("zh/06_generate.ipynb") and done.path == target
    assert target.read_bytes() == (root / "notebooks/zh/06_generate.ipynb").read_bytes()
    assert done.kept is not None and done.kept.read_text(encoding="utf-8") == "{}"
    assert done.kept.parent == root / WORKING_COPY / "replaced" / "zh"
    assert re.fullmatch(r"06_generate\.\d{8}-\d{6}\.ipynb", done.kept.name)
    assert other.read_bytes() == before   # only the lesson named
    again = restore(root, "zh/06")        # already as published: nothing to keep
    assert again.kept is None
    assert make_working_copy(root).republished == []


@pytest.mark.parametrize("name, says", [
    ("99", "There is no lesson “99” in notebooks. The lessons there: 00, 01,"),
    ("zh/99", "There is no lesson “zh/99” in notebooks/zh."),
    ("06_generation", "There is no lesson “06_generation”"),
    ("generate", "“generate” does not name a lesson"),
    ("fr/06", "“fr/06” does not name a lesson"),
    ("06 07", "“06 07” does not name a lesson"),
    ("", "“” does not name a lesson"),
])
def test_restore_refuses_a_bad_name_and_changes_nothing(root, name, says):
    make_working_copy(root)
    copy = root / WORKING_COPY
    before = snapshot(copy)
    with pytest.raises(WorkingCopyError) as refused:
        restore(root, name)
    assert says in str(refused.value)
    assert "make restore LESSON=06" in str(refused.value) or "90" in str(refused.value)
    assert snapshot(copy) == before


def test_restore_without_a_working_copy_says_how_to_make_one(root):
    with pytest.raises(WorkingCopyError, match=r"no working copy yet .*`make lab`"):
        restore(root, "06")
    assert not (root / WORKING_COPY).exists()


def test_a_restore_that_fails_half_way_leaves_the_learners_lesson_whole(root, monkeypatch):
    make_working_copy(root)
    target = copied(root, "06_generate.ipynb")
    target.write_text('{"mine": true}', encoding="utf-8")
    real_copyfile = shutil.copyfile

    def half_then_fail(source, destination):
        if Path(source) == root / "notebooks" / "06_generate.ipynb":
            Path(destination).write_bytes(Path(source).read_bytes()[:1000])   # the disk filled up, say
            raise OSError(28, "No space left on device")
        return real_copyfile(source, destination)

    monkeypatch.setattr(commands.shutil, "copyfile", half_then_fail)
    with pytest.raises(OSError):
        restore(root, "06")
    assert target.read_text(encoding="utf-8") == '{"mine": true}'
    assert not [path for path in (root / WORKING_COPY).rglob("*") if ".tmp-" in path.name]


def test_the_restore_command_says_what_it_did_or_what_was_wrong(root, monkeypatch, capsys):
    monkeypatch.setattr(commands, "checkout_root", lambda: root)
    assert commands.main(["restore"]) == 1
    assert "make restore LESSON=06" in capsys.readouterr().err
    make_working_copy(root)
    copied(root, "12_sampling.ipynb").write_text("{}", encoding="utf-8")
    assert commands.main(["restore", "12"]) == 0
    said = capsys.readouterr().out
    assert f"Restored 12_sampling.ipynb as published: {copied(root, '12_sampling.ipynb')}" in said
    assert "Your version is kept in" in said and "Reload Notebook from Disk" in said
    assert commands.main(["restore", "13x"]) == 1
    assert "“13x” does not name a lesson" in capsys.readouterr().err


def test_make_lab_starts_jupyterlab_in_the_copy_with_the_news_popup_off(root, monkeypatch):
    started = {}
    monkeypatch.setattr(commands, "checkout_root", lambda: root)
    monkeypatch.setattr(commands, "prepare", lambda: 0)
    monkeypatch.setattr(commands.subprocess, "call",
                        lambda command, cwd, env: started.update(command=command, cwd=cwd, env=env) or 0)
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", "/somewhere/else")
    assert commands.main(["lab", "--no-browser"]) == 0
    copy = root / WORKING_COPY
    assert f"--ServerApp.root_dir={copy}" in started["command"] and "--no-browser" in started["command"]
    assert "--LabApp.default_url=/lab/tree/notebooks" in started["command"] and started["cwd"] == copy
    paths = started["env"]["JUPYTER_CONFIG_PATH"].split(os.pathsep)
    assert paths == [str(copy / LAB_CONFIG), "/somewhere/else"]
    page_config = subprocess.run(
        [commands.sys.executable, "-c", "from jupyterlab_server.config import get_static_page_config as g; "
                                        "import json; print(json.dumps(g(level='all')))"],
        env=started["env"], capture_output=True, text=True, check=True).stdout
    assert json.loads(page_config)["disabledExtensions"]["@jupyterlab/apputils-extension:announcements"] is True


def test_the_copy_is_git_ignored_and_never_collected_as_a_test():
    ignored = subprocess.run(["git", "check-ignore", "-q", f"{WORKING_COPY}/notebooks/06_generate.ipynb"], cwd=REPO)
    assert ignored.returncode == 0, f"{WORKING_COPY}/ is not git-ignored"
    testpaths = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["testpaths"]
    assert not any(Path(WORKING_COPY) == Path(p) or Path(WORKING_COPY) in Path(p).parents for p in testpaths)
    namespace: dict = {}
    exec((REPO / "conftest.py").read_text(), namespace)   # `pytest .` would otherwise collect the learner's edits
    assert WORKING_COPY in namespace["collect_ignore"]
