"""The cosine-map explorer, driven from code."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from ccdistill.errors import InputError
from ccdistill.losses import cosine_map
from ccdistill.viz import CosineMapExplorer, plot_cosine_maps

from .conftest import SIZE


def one_each(streams):
    return {name: streams[name][0] for name in ("S_d", "S_n", "T_d", "T_n")}


def test_embeddings_of_the_query_image_give_cosine_one_at_the_query(model, streams):
    explorer = CosineMapExplorer(model, one_each(streams), query_xy=(37, 21))
    last = explorer.last
    assert last["space"] == "embeddings" and last["streams"] == ("S_d", "S_n")
    stride = model.deploy().output_stride
    assert last["cell"] == (21 // stride, 37 // stride)
    h, w = SIZE[0] // stride, SIZE[1] // stride
    assert last["day_map"].shape == (h, w) and last["day_image_map"].shape == SIZE
    assert last["at_query_day"] == pytest.approx(1.0, abs=1e-5)
    assert last["day_map"][last["cell"]] == pytest.approx(1.0, abs=1e-5)
    assert np.abs(last["night_image_map"]).max() <= 1 + 1e-5
    assert bytes(explorer.image.value).startswith(b"\x89PNG")


def test_moving_a_slider_recomputes_the_map_and_the_readout(model, streams):
    explorer = CosineMapExplorer(model, one_each(streams), query_xy=(5, 5))
    before_map, before_html = explorer.last["night_map"].copy(), explorer.readout.value
    explorer.controls["x"].value = 120  # as a user moving the slider
    assert explorer.last["query_xy"] == (120, 5)
    assert explorer.readout.value != before_html and "x=120" in explorer.readout.value
    assert not np.allclose(explorer.last["night_map"], before_map)


def test_features_of_the_target_pair_match_the_library_cosine_map(model, streams):
    explorer = CosineMapExplorer(model, one_each(streams))
    last = explorer.update(pair="target", space="features", x=100, y=50)
    assert last["streams"] == ("T_d", "T_n")
    with torch.inference_mode():
        f_day = model.forward_day(explorer_batch(streams["T_d"][:1])).features
        f_night = model.forward_night(explorer_batch(streams["T_n"][:1])).features
    expected = cosine_map(f_day, f_night, (100, 50), SIZE, model.deploy().output_stride)[0]
    np.testing.assert_allclose(last["night_map"], expected.numpy(), atol=1e-5)


def explorer_batch(images):
    from ccdistill.viz._common import images_to_batch

    return images_to_batch(images)


def test_update_rejects_values_outside_the_sliders_and_unknown_controls(model, streams):
    explorer = CosineMapExplorer(model, one_each(streams))
    with pytest.raises(InputError, match=r"x must be an integer from 0 to 127"):
        explorer.update(x=128)
    with pytest.raises(InputError, match="no control 'z'"):
        explorer.update(z=1)


def test_a_plain_segmenter_offers_features_only_and_one_pair(segmenters, streams):
    explorer = CosineMapExplorer(segmenters["before"], {"S_d": streams["S_d"][0], "S_n": streams["S_n"][0]})
    assert explorer.controls["space"].options == ("features",)
    assert explorer.controls["pair"].options == (("S_d → S_n", "source"),)
    assert explorer.last["at_query_day"] == pytest.approx(1.0, abs=1e-5)


def test_plot_cosine_maps_returns_and_saves_a_figure(model, streams, tmp_path):
    figure = plot_cosine_maps(model, one_each(streams), (10, 10), save=tmp_path / "cos.png")
    assert isinstance(figure, Figure)
    assert (tmp_path / "cos.png").read_bytes().startswith(b"\x89PNG")


def test_images_without_a_day_night_pair_are_refused(model, streams):
    with pytest.raises(InputError, match="day/night pair"):
        CosineMapExplorer(model, {"S_d": streams["S_d"][0], "T_n": streams["T_n"][0]})


def test_a_toy_streams_dict_is_taken_as_it_is(model):
    from ccdistill.viz import toy_streams

    explorer = CosineMapExplorer(model, toy_streams(n=1, size=SIZE), query_xy=(3, 4))
    assert explorer.last["at_query_day"] == pytest.approx(1.0, abs=1e-5)


def test_the_maps_share_one_colour_scale_fitted_to_their_values(model, streams):
    explorer = CosineMapExplorer(model, one_each(streams), query_xy=(37, 21), space="features")
    last, view = explorer.last, explorer.view
    low, high = last["colour_range"]
    values = np.concatenate([last["day_map"].ravel(), last["night_map"].ravel()])
    assert high == 1.0 and low <= values.min() < low + 0.1  # the lowest cosine, rounded down to 0.1
    assert low >= 0  # the tiny network's features are post-ReLU: no cosine below 0, no blue half
    assert all(image.get_clim() == (low, high) for image in view.maps)
    assert view.figure.dpi >= 100


def test_the_best_night_match_is_marked_where_the_readout_says(model, streams):
    explorer = CosineMapExplorer(model, one_each(streams), query_xy=(37, 21))
    bx, by = explorer.last["best_night_xy"]
    assert all(list(marker.get_xdata()) == [bx] and list(marker.get_ydata()) == [by] for marker in explorer.view.best)
    assert f"(x={bx}, y={by})" in explorer.readout.value
