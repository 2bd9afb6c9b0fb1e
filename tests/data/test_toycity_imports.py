"""The dependency direction between the renderer and the data package (issue 12)."""

import subprocess
import sys


def test_toycity_renders_without_the_data_package():
    # ccdistill.data imports ccdistill.toycity (build, toycity_target_day); the reverse would be a loop.
    code = ("import sys, ccdistill.toycity as toy; toy.render(toy.sample_scene(0, size=(32, 64)), 1.0); "
            "print(sorted(m for m in sys.modules if m.startswith('ccdistill.data') or m == 'torch'))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", f"ccdistill.toycity pulled in: {result.stdout.strip()}"
