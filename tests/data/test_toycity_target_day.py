"""The labelled target-day split of ToyCity: day references with labels re-sampled from the seed."""

from __future__ import annotations

import numpy as np
import pytest

from ccdistill.data.io import read_image
from ccdistill.data.toycity_target_day import ToyCityTargetDay, frame_index
from ccdistill.errors import DataError, InputError
from ccdistill.toycity import generate_toycity
from ccdistill.toycity.generate import _Item, _strengths, target_day_scene
from ccdistill.toycity.render import render
from ccdistill.toycity.shift import PRESETS

SIZE = (32, 64)
SEED = 3


@pytest.fixture(scope="module")
def toycity(tmp_path_factory):
    root = tmp_path_factory.mktemp("toycity")
    generate_toycity(root, size=SIZE, seed=SEED, n_train=1, n_val=2, n_test=2, progress=False, workers=1)
    return root


@pytest.fixture(scope="module")
def hard_toycity(tmp_path_factory):
    root = tmp_path_factory.mktemp("hard")
    generate_toycity(root, size=SIZE, seed=SEED, n_train=1, n_val=2, n_test=2, progress=False, workers=1,
                     shift=PRESETS["hard"])
    return root


@pytest.mark.parametrize("preset, split", [("default", "val"), ("default", "test"), ("hard", "test")])
def test_the_day_label_belongs_to_the_day_reference_on_disk(toycity, hard_toycity, preset, split):
    # The hard preset's target city differs (camera, colours, traffic): its labels must come from it.
    root, shift = (toycity, PRESETS["default"]) if preset == "default" else (hard_toycity, PRESETS["hard"])
    dataset = ToyCityTargetDay(root, split)
    assert len(dataset) == 2
    for index in range(len(dataset)):
        sample = dataset.load(index)
        frame = frame_index(dataset.samples[index].image.name)
        # The re-sampled scene renders to the very bytes of the reference file: same scene, same label.
        day_strength, _, day_noise, _ = _strengths(SEED, _Item(f"target_{split}", frame))
        scene = target_day_scene(SEED, split, frame, SIZE, shift)
        np.testing.assert_array_equal(render(scene, day_strength, noise_seed=day_noise), sample["image"])
        np.testing.assert_array_equal(sample["label"], scene.label)
        assert sample["image"].shape[:2] == sample["label"].shape == SIZE
        np.testing.assert_array_equal(read_image(dataset.samples[index].image_ref), sample["image"])
    item = dataset[0]
    assert item["image"].shape == (3, *SIZE) and item["label"].shape == SIZE


def test_day_labels_differ_from_the_night_labels_of_the_same_frame(toycity):
    from ccdistill.data.darkzurich import DarkZurichEval

    day, night = ToyCityTargetDay(toycity, "test").load(0), DarkZurichEval(toycity / "target", "test").load(0)
    assert not np.array_equal(day["label"], night["label"])  # the camera moved: night labels do not fit


def test_errors_name_the_problem(tmp_path, toycity):
    with pytest.raises(InputError, match="val.*test"):
        ToyCityTargetDay(toycity, "train")
    with pytest.raises(DataError, match="manifest"):
        ToyCityTargetDay(tmp_path, "test")
    with pytest.raises(DataError, match="frame"):
        frame_index("no_number_here.png")
