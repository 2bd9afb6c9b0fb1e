"""A notebook whose kernel lacks a dependency, or that is pointed at a missing dataset, shows
one sentence saying what to do, not a traceback (`ccdistill.notebook.setup`)."""

from __future__ import annotations

import io
import os
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from ccdistill.errors import ConfigError, DataError, DependencyError
from ccdistill.notebook import TOYCITY, profile_name, require, require_toycity, setup

REPO = Path(__file__).resolve().parents[2]


def test_require_missing_module_is_one_sentence():
    with pytest.raises(DependencyError) as caught:
        require("no_such_module_xyz", "the explorers")
    message = str(caught.value)
    assert "\n" not in message and "pip install" in message and "restart the kernel" in message


def test_missing_dataset_is_one_sentence(tmp_path):
    with pytest.raises(DataError) as caught:
        require_toycity(tmp_path / "nowhere", "CCDISTILL_DATA")
    message = str(caught.value)
    assert "\n" not in message and "does not exist" in message and "ccdistill data toy --root" in message


def test_profile_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("CCDISTILL_PROFILE", "ci")
    assert profile_name() == "ci"
    monkeypatch.delenv("CCDISTILL_PROFILE")
    assert profile_name() == "cpu"
    monkeypatch.setenv("CCDISTILL_PROFILE", "fast")
    with pytest.raises(ConfigError, match="CCDISTILL_PROFILE"):
        profile_name()


def test_setup_prepares_the_ci_profile(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no repository above: data and runs go beside the notebook
    monkeypatch.delenv("CCDISTILL_DATA", raising=False)
    nb = setup("ci")
    assert nb.profile == "ci" and nb.config.model.arch == "tiny"
    assert nb.root == tmp_path / TOYCITY["ci"]["folder"] and (nb.root / "manifest.json").is_file()
    assert nb.config.data.root == str(nb.root) and nb.runs.is_dir()
    with pytest.raises(DataError, match="setup"):
        setup("ci", root=tmp_path / "missing")


def test_handler_prints_one_line_in_ipython():
    from IPython.core.interactiveshell import InteractiveShell

    from ccdistill.notebook import one_sentence

    shell = InteractiveShell.instance()
    shell.set_custom_exc((DataError,), one_sentence)
    try:
        out = io.StringIO()
        with redirect_stdout(out):
            result = shell.run_cell("from ccdistill.errors import DataError\nraise DataError('no data at X: run Y.')")
    finally:
        shell.set_custom_exc((), None)
    assert not result.success
    assert out.getvalue().strip() == "DataError: no data at X: run Y."


def test_notebook_cells_show_one_sentence(tmp_path, monkeypatch):
    """A real kernel (nbclient): setup(), then a missing dependency and a missing dataset."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("CCDISTILL_PROFILE", "ci")
    cells = [
        "from ccdistill.notebook import require, setup\nnb = setup()",
        "require('no_such_module_xyz', 'this exercise')",
        f"setup(root={str(tmp_path / 'no_toycity')!r})",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    first, dependency, dataset = ([o for o in c.outputs if o.output_type == "error"] for c in notebook.cells)
    assert first == []
    for errors, name, words in ((dependency, "DependencyError", "pip install"),
                                (dataset, "DataError", "ccdistill data toy --root")):
        assert len(errors) == 1
        assert len(errors[0].traceback) == 1, errors[0].traceback  # one line, no frames
        line = errors[0].traceback[0]
        assert line.startswith(f"{name}: ") and words in line and "\n" not in line


def test_notebook_runs_use_the_notebook_budget(tmp_path):
    """Under cpu, the notebooks' own runs train the NOTEBOOK_ITERATIONS budget (stage one, stage
    two), not the registry's; explicit overrides still win; ci keeps its profile's iterations."""
    from ccdistill.notebook import NOTEBOOK_ITERATIONS, NotebookSession

    first, second = NOTEBOOK_ITERATIONS["cpu"]
    assert first < 600 and second < 600
    cpu = NotebookSession(profile="cpu", config=None, root=tmp_path, runs=tmp_path / "runs", project=tmp_path)
    assert cpu.run_config("source_only").train.max_iterations == first
    assert cpu.run_config("full").train.max_iterations == second
    assert cpu.run_config("pseudo", warm_start=False).train.max_iterations == second
    assert cpu.run_config("full", "train.max_iterations=7").train.max_iterations == 7
    ci = NotebookSession(profile="ci", config=None, root=tmp_path, runs=tmp_path / "runs", project=tmp_path)
    from ccdistill.config import load_config

    profile_iterations = load_config("toycity", ["profile=ci"]).train.max_iterations
    assert ci.run_config("full").train.max_iterations == profile_iterations
