"""A small ToyCity dataset generated once per test session (128×256, a few scenes)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def toycity_root(tmp_path_factory) -> Path:
    from ccdistill.toycity import generate_toycity

    root = tmp_path_factory.mktemp("toycity")
    generate_toycity(root, size=(128, 256), seed=0, n_train=8, n_val=4, n_test=4, progress=False)
    return root
