"""The Gram/style explorer on ToyCity scenes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from ccdistill.losses import cds_loss, gram_difference, gram_matrix
from ccdistill.toycity import render, sample_scene
from ccdistill.viz import GramExplorer, plot_gram_differences
from ccdistill.viz._common import images_to_batch

from .conftest import SIZE

NIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)


def test_gram_difference_to_day_grows_monotonically_with_night_strength(model):
    explorer = GramExplorer(model, size=SIZE, seed=0)
    norms = [explorer.update(night=t)["norm_S"] for t in NIGHTS]
    assert norms[0] == 0.0  # t = 0 renders the day image itself
    assert all(b > a for a, b in zip(norms, norms[1:])), norms
    assert sorted(explorer.last["history"]) == list(NIGHTS)
    assert explorer.last["norm_cities_day"] > 0  # the two cities differ in style by day


def test_values_match_the_library_on_the_rendered_images(model):
    scene, other = sample_scene(3, "source", SIZE), sample_scene(3, "target", SIZE)
    explorer = GramExplorer(model, scene, other, night=0.8, mode="difference")
    last = explorer.last
    images = {"S_d": render(scene, 0.0), "S_n": render(scene, 0.8),
              "T_d": render(other, 0.0), "T_n": render(other, 0.8)}
    np.testing.assert_array_equal(last["images"]["S_n"], images["S_n"])
    with torch.inference_mode():
        f = {s: (model.forward_day if s.endswith("_d") else model.forward_night)(images_to_batch(images[s][None])).features
             for s in images}
    delta_S = gram_difference(gram_matrix(f["S_d"]), gram_matrix(f["S_n"]))[0]
    np.testing.assert_allclose(last["delta_S"], delta_S.numpy(), rtol=1e-5, atol=1e-9)
    expected = cds_loss(f["S_d"], f["S_n"], f["T_d"], f["T_n"], mode="difference")
    assert last["L_CDS"] == pytest.approx(float(expected), rel=1e-5)
    before = explorer.readout.value
    explorer.update(mode="cosine")
    assert explorer.readout.value != before and "cosine" in explorer.readout.value


def test_plot_gram_differences_returns_a_figure(segmenters, tmp_path):
    figure = plot_gram_differences(segmenters["after"], (0.0, 1.0), size=SIZE, save=tmp_path / "g.png")
    assert isinstance(figure, Figure) and (tmp_path / "g.png").stat().st_size > 0


def test_the_gram_differences_are_shown_on_the_channels_that_change_most(model):
    from ccdistill.viz.style import CROP, changed_channels

    explorer = GramExplorer(model, size=SIZE, seed=0, night=1.0)
    last = explorer.last
    channels = last["channels"]
    energy = np.abs(last["delta_S"]).sum(axis=1)
    assert len(channels) == CROP and energy[channels[0]] == energy.max()
    assert np.all(np.diff(energy[channels]) <= 0) and list(channels) == list(changed_channels(last["delta_S"]))
    for city in ("S", "T"):
        np.testing.assert_array_equal(explorer.view.images[f"delta_{city}"].get_array(),
                                      last[f"delta_{city}"][np.ix_(channels, channels)])
    low, high = explorer.view.images["delta_S"].get_clim()
    assert low == -high and high >= np.abs(last["delta_S"][np.ix_(channels, channels)]).max()
    assert " ".join(str(c) for c in channels[:3]).replace(" ", ", ") in explorer.readout.value
