"""What a course needs around the notebooks: `ccdistill notebooks copy`, the student and
developer installs of the Makefile and environment.yml, the licence, the citation and the
project URLs. (The wheel outside a clone: tests/test_installed_package.py; the course site:
tests/notebooks/test_book.py.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from ccdistill.cli import main
from ccdistill.errors import InputError
from ccdistill.notebook import COPY_MARKER, project_root
from ccdistill.notebook.files import copy_notebooks, packaged_folder, solution_notebooks, student_path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
PAPER = "Cross-Domain Correlation Distillation for Unsupervised Domain Adaptation in Nighttime Semantic Segmentation"


def test_the_package_carries_the_notebooks_folder_itself():
    # In a clone ccdistill/course is a link to notebooks/, so there is one copy of each notebook.
    assert packaged_folder().resolve() == (ROOT / "notebooks").resolve()
    assert [p.name for p in solution_notebooks(packaged_folder())] == [p.name for p in solution_notebooks(ROOT / "notebooks")]


def test_copy_gives_the_notebooks_and_student_copies_and_keeps_a_students_work(tmp_path, capsys):
    target = tmp_path / "course"
    assert main(["notebooks", "copy", str(target)]) == 0
    assert "next: cd" in capsys.readouterr().out
    for notebook in solution_notebooks(ROOT / "notebooks"):
        assert (target / notebook.name).read_bytes() == notebook.read_bytes()
        assert student_path(target / notebook.name).read_bytes() == student_path(notebook).read_bytes()
    # The student copies one folder down keep their ToyCity and runs in the course folder.
    assert project_root(target / "students") == target.resolve()

    edited = target / "students" / "00_setup.ipynb"
    edited.write_text("a student's work")
    with pytest.raises(InputError, match="--force"):
        copy_notebooks(target)
    assert main(["notebooks", "copy", str(target)]) == 2
    assert edited.read_text() == "a student's work"
    copy_notebooks(target, force=True)
    assert edited.read_bytes() == (ROOT / "notebooks" / "students" / "00_setup.ipynb").read_bytes()


def test_outside_a_clone_and_a_copy_the_data_stays_beside_the_notebook(tmp_path):
    assert project_root(tmp_path) == tmp_path.resolve()
    (tmp_path / COPY_MARKER).write_text("")
    (tmp_path / "a" / "b").mkdir(parents=True)
    assert project_root(tmp_path / "a" / "b") == tmp_path.resolve()


def _make(*args: str) -> str:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    # -n: print the commands only; -B: as if nothing were built yet (the install lines show).
    result = subprocess.run(["make", "-n", "-B", "-C", str(ROOT), *args], capture_output=True, text=True,
                            timeout=60, check=True)
    return result.stdout


def test_make_lab_installs_no_test_tooling_and_make_test_does():
    lab, test = _make("lab"), _make("test")
    assert 'pip install -e ".[notebooks]"' in lab and "test" not in lab.split("pip install")[1].split("\n")[0]
    assert 'pip install -e ".[notebooks,test,book]"' in test


def test_make_lab_registers_the_kernel_and_passes_allow_root_only_to_root():
    lab = _make("lab")
    assert "ipykernel install --user --name ccdistill" in lab
    assert ("--allow-root" in lab) == (os.geteuid() == 0)
    assert "--allow-root" not in _make("lab", "ALLOW_ROOT=")


def test_the_licence_is_the_one_pyproject_declares():
    licence = (ROOT / "LICENSE").read_text()
    assert PROJECT["license"]["text"] == "MIT" and licence.startswith("MIT License")
    assert "Copyright (c)" in licence and "the ccdistill authors" in licence


def test_the_citation_file_cites_the_package_and_the_paper():
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0" and citation["type"] == "software"
    assert citation["version"] == PROJECT["version"] and citation["license"] == "MIT"
    paper = citation["preferred-citation"]
    assert paper["title"] == PAPER and paper["year"] == 2022 and "CVPR" in paper["collection-title"]
    assert [a["family-names"] for a in paper["authors"]] == ["Gao", "Guo", "Wang", "Zhang"]
    assert "2205.00858" in paper["url"]


def test_project_urls_are_absolute_and_name_the_paper():
    urls = PROJECT["urls"]
    assert all(url.startswith("https://") for url in urls.values())
    assert "2205.00858" in urls["Paper"]
