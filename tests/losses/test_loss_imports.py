"""The losses import on their own, whatever is imported first."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ccdistill import labels
from ccdistill.losses import _checks


@pytest.mark.parametrize(
    "first", ["ccdistill.losses", "ccdistill.losses.total", "ccdistill.config", "ccdistill.data", "ccdistill.train"]
)
def test_import_in_a_fresh_process(first):
    # ccdistill.data imports the config, which imports the losses: the losses take the label
    # space from ccdistill.labels, never from ccdistill.data, or `import ccdistill.losses` is circular.
    done = subprocess.run([sys.executable, "-c", f"import {first}; import ccdistill.losses"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_ignore_index_matches_the_label_space():
    assert _checks.IGNORE_INDEX == labels.IGNORE_INDEX
