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


@pytest.fixture(scope="session")
def split(toycity_root) -> dict:
    from ccdistill.viz import load_toycity_split

    return load_toycity_split(toycity_root, "val")


def one_each(streams: dict) -> dict:
    """One image of each stream: the cosine-map explorer's input."""
    return {name: streams[name][0] for name in ("S_d", "S_n", "T_d", "T_n")}


def build_explorer(name: str, model, segmenters, streams, split):
    """Each of the six explorers on the small inputs, at its default state."""
    from ccdistill import viz

    night = {"S_n": streams["S_n"], "T_n": streams["T_n"]}
    night_labels = {"S_n": streams["label"], "T_n": streams["label_T_n"]}
    builders = {
        "cosine": lambda: viz.CosineMapExplorer(model, one_each(streams), query_xy=(37, 21)),
        "correlation": lambda: viz.CorrelationExplorer(model, streams),
        "gram": lambda: viz.GramExplorer(model, size=SIZE, night=0.5),
        "translation": lambda: viz.TranslationExplorer(streams["S_d"][0], streams["T_n"][0],
                                                       true_night=streams["S_n"][0]),
        "prediction": lambda: viz.PredictionBrowser(segmenters, split),
        "embedding": lambda: viz.EmbeddingView(segmenters, night, night_labels, max_points=120),
    }
    return builders[name]()


EXPLORERS = ("cosine", "correlation", "gram", "translation", "prediction", "embedding")
