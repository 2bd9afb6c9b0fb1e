"""The correlation explorer: matrix shapes and L_CDC against the library."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from ccdistill.losses import cdc_loss, content_correlation
from ccdistill.viz import CorrelationExplorer, plot_correlations
from ccdistill.viz._common import images_to_batch

STREAMS = ("S_d", "S_n", "T_d", "T_n")


@pytest.fixture(scope="module")
def embeddings(model, streams):
    with torch.inference_mode():
        features = {
            s: (model.forward_day if s in ("S_d", "T_d") else model.forward_night)(images_to_batch(streams[s])).features
            for s in STREAMS
        }
        return model.embed_streams(features)


def test_image_granularity_gives_n_by_n_matrices_and_the_library_loss(model, streams, embeddings):
    explorer = CorrelationExplorer(model, streams)
    last = explorer.last
    for pair in ("Cor(S_d,T_d)", "Cor(S_n,T_n)", "Cor(S_d,S_n)", "Cor(T_d,T_n)"):
        assert last[pair].shape == (2, 2)
    torch.testing.assert_close(torch.from_numpy(last["Cor(S_d,T_d)"]),
                               content_correlation(embeddings["S_d"], embeddings["T_d"]))
    assert last["L_CDC"] == pytest.approx(float(cdc_loss(*(embeddings[s] for s in STREAMS))), abs=1e-6)


@pytest.mark.parametrize("grid", [1, 2, 4])
def test_token_granularity_gives_nk2_matrices_and_readout_follows(model, streams, embeddings, grid):
    explorer = CorrelationExplorer(model, streams)
    before = explorer.readout.value
    last = explorer.update(granularity="token", grid=grid, illumination_pairs="all")
    assert last["Cor(T_d,T_n)"].shape == (2 * grid * grid, 2 * grid * grid)
    expected = cdc_loss(*(embeddings[s] for s in STREAMS), granularity="token", grid=grid,
                        illumination_pairs="all")
    assert last["L_CDC"] == pytest.approx(float(expected), abs=1e-6)
    assert explorer.readout.value != before and "token" in explorer.readout.value


def test_plot_correlations_returns_a_figure(model, streams, tmp_path):
    figure = plot_correlations(model, streams, "token", 2, save=tmp_path / "cor.png")
    assert isinstance(figure, Figure) and (tmp_path / "cor.png").stat().st_size > 0


def test_the_illumination_term_reads_the_diagonal_and_the_figure_greys_the_rest(model, streams):
    explorer = CorrelationExplorer(model, streams)
    last, images = explorer.last, explorer.view.images
    np.testing.assert_array_equal(last["read"]["illumination"], np.eye(2, dtype=bool))
    assert last["read"]["inherent"].all()
    for col in range(3):
        shown = images[1, col].get_array()
        np.testing.assert_array_equal(np.ma.getmaskarray(shown), ~np.eye(2, dtype=bool))  # grey off the diagonal
        assert not np.ma.getmaskarray(images[0, col].get_array()).any()
    assert sum(last["term_loss"].values()) == pytest.approx(last["L_CDC"], abs=1e-6)
    explorer.update(illumination_pairs="all")
    assert not np.ma.getmaskarray(images[1, 0].get_array()).any()


def test_each_row_has_its_own_fitted_scale_and_the_difference_a_symmetric_one(model, streams):
    explorer = CorrelationExplorer(model, streams)
    last, images = explorer.last, explorer.view.images
    teacher, student = last["Cor(S_d,T_d)"], last["Cor(S_n,T_n)"]
    low, high = images[0, 0].get_clim()
    assert images[0, 1].get_clim() == (low, high) and high == 1.0
    assert low <= min(teacher.min(), student.min()) < low + 0.01
    spread = images[0, 2].get_clim()
    assert spread[0] == -spread[1] and np.abs(student - teacher).max() <= spread[1] < 2.5 * np.abs(student - teacher).max()
