"""One list of pins (pyproject.toml), exact, with the test runners apart from what lessons need."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_every_dependency_and_extra_is_pinned_exactly():
    requirements = PROJECT["dependencies"] + [r for extra in PROJECT["optional-dependencies"].values() for r in extra]
    assert [r for r in requirements if "==" not in r] == []


def test_the_learners_install_has_no_test_runner():
    names = {r.split("==")[0].lower() for r in PROJECT["dependencies"]}
    assert not names & {"pytest", "pytest-xdist", "nbval", "playwright"}


def test_environment_yml_installs_the_package_instead_of_repeating_its_pins():
    pip_lines = [line.strip() for line in (ROOT / "environment.yml").read_text().splitlines()
                 if line.strip().startswith("- ") and "==" in line]
    assert pip_lines == []
    assert "- -e .[test]" in (ROOT / "environment.yml").read_text()


def test_transformers_serve_comes_through_transformers_own_extra_and_every_package_of_it_is_pinned():
    from importlib import metadata

    from packaging.requirements import Requirement

    assert any(Requirement(r).name == "transformers" and "serving" in Requirement(r).extras
               for r in PROJECT["dependencies"])
    serving = {Requirement(r).name.lower() for r in metadata.requires("transformers")
               if 'extra == "serving"' in r}
    pinned = {Requirement(r).name.lower() for r in PROJECT["dependencies"] if "==" in r}
    assert serving and serving <= pinned, f"pin these too: {sorted(serving - pinned)}"
