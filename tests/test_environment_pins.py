"""environment.yml must list exactly the packages and pins of pyproject.toml."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _normalise(requirement: str) -> str:
    name, _, pin = requirement.strip().partition("==")
    return re.sub(r"[-_.]+", "-", name).lower() + "==" + pin


def pyproject_pins() -> set[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return {_normalise(r) for r in data["project"]["dependencies"]}


def environment_pins() -> set[str]:
    pins, in_pip = set(), False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        if re.match(r"^\s*- pip:\s*$", line):
            in_pip = True
        elif in_pip and re.match(r"^\s+- ", line):
            item = line.split("- ", 1)[1].strip()
            if item != "-e .":
                pins.add(_normalise(item))
    return pins


def test_every_dependency_is_pinned_exactly():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    unpinned = [r for r in data["project"]["dependencies"] if "==" not in r]
    assert unpinned == []


def test_environment_yml_matches_pyproject():
    assert environment_pins() == pyproject_pins()


def test_torch_is_pinned_to_the_cpu_wheel_version():
    assert "torch==2.13.0" in pyproject_pins()
