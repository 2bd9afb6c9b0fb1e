"""Issue 18, item 4: the command-line papercuts, each with its test."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ccdistill.cli import main
from ccdistill.runtime.doctor import extra_requirements, missing_extras
from tests.data.fixtures import make_darkzurich
from tests.reliability.faults import assert_clear, deploy_checkpoint, run_cli

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_experiments_help_is_the_registry_help(capsys, flag):
    with pytest.raises(SystemExit) as exit_:
        main(["experiments", flag])
    printed = capsys.readouterr().out
    assert exit_.value.code == 0
    assert printed.startswith("usage: ccdistill experiments") and "figures" in printed


def test_experiments_help_through_the_console_module():
    done = subprocess.run([sys.executable, "-m", "ccdistill", "experiments", "--help"], cwd=REPO,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: ccdistill experiments") and "run" in done.stdout and "status" in done.stdout


def test_experiments_run_with_a_row_name_uses_it_as_a_row(capsys, tmp_path):
    status, err = run_cli(["experiments", "run", "no_such_row", "--runs-dir", tmp_path / "runs",
                           "--results-dir", tmp_path / "results"], capsys)
    assert_clear(status, err, "ccdistill experiments run: error:", "has no row 'no_such_row'", "rows: source_only")
    assert "python -m" not in err and "unrecognized arguments" not in err


def test_experiments_errors_carry_the_console_program_name(capsys):
    status, err = run_cli(["experiments", "table", "--bogus"], capsys)
    assert status == 2 and err.startswith("usage: ccdistill experiments") and "unrecognized arguments: --bogus" in err


def test_experiments_status_takes_rows_as_arguments_too(capsys, tmp_path):
    assert main(["experiments", "status", "source_only", "--seeds", "0", "--runs-dir", str(tmp_path / "runs"),
                 "--results-dir", str(tmp_path / "results")]) == 0
    printed = capsys.readouterr().out
    assert "source_only__seed0" in printed and "full__seed0" not in printed


def test_export_without_force_names_the_option(capsys, tmp_path):
    deploy = deploy_checkpoint(tmp_path / "deploy.pt")
    out = tmp_path / "submission"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    root = make_darkzurich(tmp_path / "dz", pairs=1, val=1, test=1)
    status, err = run_cli(["export", "darkzurich", "--checkpoint", deploy, "--root", root, "--out", out,
                           "--device", "cpu"], capsys)
    assert_clear(status, err, "is not empty", "--force")
    assert (out / "notes.txt").read_text() == "mine"


def test_doctor_names_a_missing_notebook_extra(monkeypatch, capsys):
    from ccdistill.runtime import doctor

    real = doctor.installed_version
    monkeypatch.setattr(doctor, "installed_version",
                        lambda name: None if name in ("ipywidgets", "jupyterlab", "nbval") else real(name))
    assert doctor.doctor() == 0
    printed = capsys.readouterr().out
    assert "no known mismatches" not in printed
    assert "the notebooks extra is not (fully) installed: jupyterlab, ipywidgets missing" in printed
    assert "pip install -e '.[notebooks]'" in printed and "nbval" in printed


def test_doctor_reads_the_extras_from_the_package_metadata():
    requires = ['torch>=2.3', 'jupyterlab<5,>=4.0; extra == "notebooks"', 'nbval<0.12; extra == "test"']
    assert extra_requirements("notebooks", requires) == ["jupyterlab"]
    assert extra_requirements("test", requires) == ["nbval"]
    assert missing_extras(lambda name: None, requires)[0].startswith("the notebooks extra is not (fully) installed")
    assert missing_extras(lambda name: "1.0", requires) == []
