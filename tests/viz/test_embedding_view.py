"""The embedding view: sampled night features in 2-D, before vs after."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure
from sklearn.decomposition import PCA

from ccdistill.labels import PALETTE
from ccdistill.viz import EmbeddingView, plot_embedding


@pytest.fixture(scope="module")
def inputs(streams):
    return {"S_n": streams["S_n"], "T_n": streams["T_n"]}, {"S_n": streams["label"], "T_n": streams["label_T_n"]}


def test_pca_points_per_model_and_colours_by_class_or_domain(segmenters, inputs):
    images, labels = inputs
    view = EmbeddingView(segmenters, images, labels, max_points=200)
    last = view.last
    for name in segmenters:
        points = last["points"][name]
        assert points.shape == (len(last["labels"]), 2) and len(points) <= 200
        x = view.samples[name]["x"]
        expected = PCA(n_components=2, random_state=0).fit_transform(x)
        np.testing.assert_allclose(np.abs(points), np.abs(expected), rtol=1e-4, atol=1e-5)
    assert set(last["domain"].tolist()) == {0, 1}
    np.testing.assert_allclose(last["colours"], PALETTE[last["labels"]] / 255.0, atol=1e-6)
    before = view.readout.value
    by_domain = view.update(colour="domain")
    np.testing.assert_array_equal(by_domain["points"]["after"], last["points"]["after"])
    assert len(np.unique(by_domain["colours"], axis=0)) == 2
    assert view.readout.value != before


def test_tsne_is_computed_once_and_cached(segmenters, inputs):
    images, labels = inputs
    view = EmbeddingView(segmenters, images, labels, max_points=60)
    first = view.update(method="tsne")["points"]["before"]
    assert first.shape[1] == 2 and "t-SNE" in view.readout.value
    view.update(colour="domain")
    assert view.last["points"]["before"] is first  # from the cache, not recomputed


def test_plot_embedding_returns_a_figure(segmenters, inputs, tmp_path):
    images, labels = inputs
    figure = plot_embedding(segmenters, images, labels, max_points=100, save=tmp_path / "e.png")
    assert isinstance(figure, Figure) and (tmp_path / "e.png").stat().st_size > 0
