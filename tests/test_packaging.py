"""The skeleton: one source of dependencies, a thin environment.yml, the doctor command."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml

from ccdistill.cli import main
from ccdistill.runtime.doctor import known_mismatches

ROOT = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_environment_yml_installs_this_package_for_students():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [d for d in environment["dependencies"] if isinstance(d, str)]
    pip = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    assert sorted(c.split("=")[0] for c in conda) == ["pip", "python"]
    python = next(c for c in conda if c.startswith("python"))
    lowest = _pyproject()["project"]["requires-python"].split(",")[0].lstrip(">=")
    assert tuple(map(int, python.split("=")[1].split("."))) >= tuple(map(int, lowest.split(".")))
    # The student environment: the notebooks extra, not the test tooling (Playwright, ...).
    assert "notebooks" in _pyproject()["project"]["optional-dependencies"]
    assert pip == ["-e .[notebooks]"]


def test_every_dependency_has_a_bounded_range():
    project = _pyproject()["project"]
    requirements = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    for requirement in requirements:
        assert ">=" in requirement and "<" in requirement.split(">=")[1], requirement
    names = {r.split(">=")[0] for r in project["dependencies"]}
    assert {"torch", "torchvision", "numpy", "pillow", "matplotlib", "seaborn", "scikit-learn", "tqdm",
            "tensorboard"} <= names


def test_ci_calls_make_test_and_make_test_runs_pytest():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert "pytest tests notebooks --nbval-lax" in makefile


def test_doctor_prints_versions_and_device(capsys):
    assert main(["doctor"]) == 0
    printed = capsys.readouterr().out
    for name in ("python", "torch", "torchvision", "ipywidgets", "jupyterlab_widgets", "jupyterlab", "device"):
        assert name in printed


def test_doctor_warns_on_known_mismatches():
    warnings = known_mismatches({"ipywidgets": "8.1.0", "jupyterlab_widgets": "1.1.0", "jupyterlab": "3.6.0",
                                 "torch": "2.14.1", "torchvision": "0.21.0"})
    assert len(warnings) == 3
    assert not known_mismatches({"ipywidgets": "8.1.0", "jupyterlab_widgets": "3.0.9", "jupyterlab": "4.2.0",
                                 "torch": "2.14.1", "torchvision": "0.29.1"})
