"""`pip install .` works without the source tree: the configs and profiles ship in the wheel."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_a_wheel_in_a_fresh_venv_loads_the_cpu_profile_from_an_unrelated_folder(tmp_path):
    wheels, venv, elsewhere = tmp_path / "wheels", tmp_path / "venv", tmp_path / "elsewhere"
    elsewhere.mkdir()
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(wheels), str(ROOT)], check=True, timeout=300)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (wheel,) = wheels.glob("ccdistill-*.whl")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
                   check=True, timeout=300)
    # The heavy dependencies (torch, ...) come from this test's environment, appended after the
    # fresh venv's own site-packages, so the installed ccdistill wins over the checkout.
    (site / "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    script = textwrap.dedent("""
        import ccdistill
        from ccdistill.config import load_config
        config = load_config("toycity", ["profile=cpu"])
        assert config.profile == "cpu" and config.data.dataset == "toycity"
        load_config("configs/toycity.yaml", ["profile=ci"])
        print(ccdistill.__file__, config.model.arch)
    """)
    result = subprocess.run([python, "-c", script], cwd=elsewhere, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert str(site) in result.stdout and str(ROOT) not in result.stdout.split()[0]
