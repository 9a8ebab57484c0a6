"""The hosted-runner workflow (.github/workflows/test.yml): actionlint finds nothing, and it runs exactly the README's
test command, so that what a hosted runner does is what .ci/run does here."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "test.yml"


def _workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def _run_commands() -> list[str]:
    return [step["run"].strip() for job in _workflow()["jobs"].values() for step in job["steps"] if "run" in step]


def test_actionlint_finds_nothing():
    actionlint = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which("actionlint")
    if actionlint is None and sys.platform == "darwin":
        pytest.skip("actionlint has no macOS wheel on PyPI (see pyproject.toml); the Linux runs lint the workflow")
    assert actionlint, "actionlint is missing: run `python3 bootstrap.py test` (it installs the test extra)"
    done = subprocess.run([actionlint, "-no-color", str(WORKFLOW)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_workflow_runs_the_readme_test_command_and_only_that():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", readme, flags=re.S)
    readme_commands = {line.strip() for block in blocks for line in block.splitlines() if line.strip()}
    assert "make test" in readme_commands
    assert _run_commands() == ["make test"]
    assert (ROOT / ".ci" / "run").read_text().strip().endswith("make test")


def test_it_runs_on_push_and_pull_request_on_x86_64_linux_and_arm64_macos():
    workflow = _workflow()
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` key as True
    assert {"push", "pull_request"} <= set(triggers)
    runners = {entry["os"] for job in workflow["jobs"].values() for entry in job["strategy"]["matrix"]["include"]}
    assert any(r.startswith("ubuntu") for r in runners) and any(r.startswith("macos-14") for r in runners)


def test_it_caches_pip_downloads_and_the_converted_model():
    steps = [s for job in _workflow()["jobs"].values() for s in job["steps"]]
    assert any(s.get("with", {}).get("cache") == "pip" for s in steps)
    cached = [s for s in steps if str(s.get("uses", "")).startswith("actions/cache@")]
    assert cached and cached[0]["with"]["path"] == ".workbook-model-files"
    env = next(iter(_workflow()["jobs"].values()))["env"]
    assert env["WORKBOOK_MODEL_FILES"].endswith("/.workbook-model-files")
