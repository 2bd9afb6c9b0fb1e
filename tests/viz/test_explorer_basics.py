"""What every explorer shares: display, PNG output, and one-sentence errors for missing packages."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ccdistill.errors import DependencyError
from ccdistill.viz import CosineMapExplorer, TranslationExplorer


def test_explorers_display_as_their_widget_box(model, streams):
    import ipywidgets  # in the test extra: the explorer tests need it

    explorer = TranslationExplorer(streams["S_d"][0], streams["T_n"][0])
    assert isinstance(explorer.widget, ipywidgets.VBox)
    assert isinstance(explorer.image, ipywidgets.Image) and isinstance(explorer.readout, ipywidgets.HTML)
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_missing_ipywidgets_is_one_sentence_with_the_install_command(model, streams, monkeypatch):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import ipywidgets now raises ImportError
    with pytest.raises(DependencyError) as caught:
        CosineMapExplorer(model, {"S_d": streams["S_d"][0], "S_n": streams["S_n"][0]})
    message = str(caught.value)
    assert "ipywidgets" in message and "pip install" in message and message.count(". ") == 0


def test_missing_matplotlib_is_one_sentence_at_import():
    code = "import sys; sys.modules['matplotlib'] = None; import ccdistill.viz"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode != 0
    last_line = done.stderr.strip().splitlines()[-1]
    assert last_line.startswith("ccdistill.errors.DependencyError") and "pip install" in last_line
