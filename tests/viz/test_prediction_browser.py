"""The prediction browser over a ToyCity split generated in a tmp folder."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from ccdistill.errors import DataError
from ccdistill.evaluation import ConfusionMatrix, predict
from ccdistill.viz import PredictionBrowser, load_toycity_split, plot_predictions
from ccdistill.viz._common import images_to_batch


@pytest.fixture(scope="module")
def split(toycity_root):
    return load_toycity_split(toycity_root, "val")


def test_per_image_iou_matches_a_confusion_matrix_of_that_image(segmenters, split):
    browser = PredictionBrowser(segmenters, split)
    assert browser.controls["index"].max == 2
    last = browser.update(index=2, domain="night")
    for name, model in segmenters.items():
        probabilities = predict(model, images_to_batch(split["night"][2:3]), output_size=split["label"].shape[1:])
        matrix = ConfusionMatrix()
        matrix.update(probabilities.argmax(dim=1), torch.from_numpy(split["label"][2:3].astype(np.int64)))
        np.testing.assert_array_equal(last["predictions"][name], probabilities.argmax(dim=1)[0].numpy())
        assert last["miou"][name] == pytest.approx(matrix.compute()["miou"])
    assert "image 2" in browser.readout.value


def test_day_images_are_shown_but_not_scored_and_the_readout_says_so(segmenters, split):
    browser = PredictionBrowser(segmenters, split)
    night_html = browser.readout.value
    last = browser.update(domain="day")
    assert last["miou"] == {} and last["label"] is None
    assert browser.readout.value != night_html and "not scored" in browser.readout.value
    np.testing.assert_array_equal(last["image"], split["day"][0])


def test_missing_dataset_says_what_to_run(tmp_path):
    with pytest.raises(DataError, match=r"run `ccdistill data toy --root .*missing` first\.$"):
        load_toycity_split(tmp_path / "missing")


def test_plot_predictions_returns_a_figure(segmenters, split, tmp_path):
    figure = plot_predictions(segmenters, split, index=1, save=tmp_path / "p.png")
    assert isinstance(figure, Figure) and len(figure.axes) == 2 + len(segmenters)
