"""Small inputs for the explorer tests: the tiny arch, 64×128 images, a ToyCity in a tmp folder."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest
import torch

from ccdistill.models import CCDistillModel, build_segmenter
from ccdistill.viz import toy_streams

SIZE = (64, 128)


@pytest.fixture(scope="module")
def model() -> CCDistillModel:
    torch.manual_seed(0)
    return CCDistillModel("tiny").eval()


@pytest.fixture(scope="module")
def segmenters() -> dict[str, torch.nn.Module]:
    torch.manual_seed(1)
    return {"before": build_segmenter("tiny"), "after": build_segmenter("tiny")}


@pytest.fixture(scope="module")
def streams() -> dict:
    return toy_streams(n=2, size=SIZE, seed=0)


@pytest.fixture(scope="session")
def toycity_root(tmp_path_factory) -> Path:
    from ccdistill.toycity import generate_toycity

    root = tmp_path_factory.mktemp("toycity_viz")
    generate_toycity(root, size=SIZE, seed=0, n_train=1, n_val=3, n_test=1, progress=False, workers=1)
    return root
