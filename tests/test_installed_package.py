"""`pip install` works without the source tree: a wheel built from this checkout, installed into a
fresh venv and used from an unrelated folder, loads its configs and profiles and gives a student
the notebooks (`ccdistill notebooks copy DIR`), which run there under the `ci` profile.

The fresh venv gets the wheel alone (`pip --python VENV install --no-deps`, so its console script
is VENV/bin/ccdistill). The heavy dependencies (torch, JupyterLab, ...) come from this test's
environment, appended after the venv's own site-packages by a .pth file: nothing is downloaded,
and the checkout's ccdistill cannot be imported there (the editable install's finder is a .pth
of this environment, which a path appended this way does not run), as each test checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

from ccdistill.notebook import COPY_MARKER
from ccdistill.notebook.files import solution_notebooks, student_path

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> dict[str, Path]:
    """{"bin", "site", "elsewhere"} of a fresh venv holding the wheel of this checkout."""
    base = tmp_path_factory.mktemp("installed")
    wheels, venv, elsewhere = base / "wheels", base / "venv", base / "elsewhere"
    elsewhere.mkdir()
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(wheels), str(ROOT)], check=True, timeout=300)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    (wheel,) = wheels.glob("ccdistill-*.whl")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
                   check=True, timeout=300)
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return {"bin": venv / "bin", "site": site, "elsewhere": elsewhere}


def _run(venv: dict[str, Path], *command: str, cwd: Path | None = None) -> str:
    """Run VENV/bin/COMMAND in the unrelated folder (or `cwd`); its stdout."""
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "CCDISTILL_DATA")}
    # A Jupyter data folder of its own: the kernel `python3` is then the venv's Python itself.
    env.update(OMP_NUM_THREADS="1", JUPYTER_DATA_DIR=str(venv["elsewhere"] / ".jupyter"))
    result = subprocess.run([str(venv["bin"] / command[0]), *command[1:]], cwd=cwd or venv["elsewhere"], env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result.stdout


def _imported_from(venv: dict[str, Path], cwd: Path | None = None) -> Path:
    return Path(_run(venv, "python", "-c", "import ccdistill; print(ccdistill.__file__)", cwd=cwd).strip())


@pytest.mark.slow
def test_a_wheel_in_a_fresh_venv_loads_the_cpu_profile_from_an_unrelated_folder(venv):
    script = textwrap.dedent("""
        from ccdistill.config import load_config
        config = load_config("toycity", ["profile=cpu"])
        assert config.profile == "cpu" and config.data.dataset == "toycity"
        load_config("configs/toycity.yaml", ["profile=ci"])
        print(config.model.arch)
    """)
    assert _run(venv, "python", "-c", script).strip() == "efficientnet_lite0"
    assert _imported_from(venv).is_relative_to(venv["site"])


@pytest.mark.slow
def test_a_wheel_gives_the_notebooks_with_one_command_and_00_setup_runs_there(venv):
    course = venv["elsewhere"] / "course"
    _run(venv, "ccdistill", "notebooks", "copy", str(course))
    for notebook in solution_notebooks(ROOT / "notebooks"):
        assert (course / notebook.name).read_bytes() == notebook.read_bytes()
        assert student_path(course / notebook.name).read_bytes() == student_path(notebook).read_bytes()
    assert (course / COPY_MARKER).is_file()
    assert _imported_from(venv, cwd=course).is_relative_to(venv["site"])
    # The student copies keep their data in the course folder too.
    where = _run(venv, "python", "-c", "from ccdistill.notebook import project_root; print(project_root())",
                 cwd=course / "students")
    assert Path(where.strip()) == course

    _run(venv, "ccdistill", "notebooks", "execute", str(course / "00_setup.ipynb"), "--profile", "ci", "--timeout", "300")
    cells = [c for c in json.loads((course / "00_setup.ipynb").read_text())["cells"] if c["cell_type"] == "code"]
    printed = "".join("".join(o.get("text", "")) for c in cells for o in c["outputs"])
    assert not any(o["output_type"] == "error" for c in cells for o in c["outputs"])
    assert [c["execution_count"] for c in cells] == list(range(1, len(cells) + 1))
    assert str(venv["bin"] / "python") in printed  # the kernel is the fresh venv's Python
    # setup() generated ToyCity and made its runs folder in the course folder.
    assert (course / "data" / "toycity-ci" / "manifest.json").is_file()
    assert (course / "runs" / "notebooks" / "ci").is_dir()
