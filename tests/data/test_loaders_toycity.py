"""The real loaders, the layout checker and build_datasets on a tiny generated ToyCity."""

from __future__ import annotations

import numpy as np
import pytest

from ccdistill.config import DataConfig
from ccdistill.data import build_datasets, check_layout, read_image
from ccdistill.data.transforms import tensor_to_image
from ccdistill.toycity import generate_toycity

SIZE = (32, 64)


@pytest.fixture(scope="module")
def toycity(tmp_path_factory):
    root = tmp_path_factory.mktemp("toycity")
    generate_toycity(root, size=SIZE, n_train=2, n_val=1, n_test=1, progress=False, workers=1)
    return root


def test_toycity_passes_the_layout_checks(toycity):
    for dataset, folder in (("cityscapes", "source"), ("darkzurich", "target")):
        report = check_layout(dataset, toycity / folder, deep=True)
        assert report.usable, report.format()


def test_oracle_translation_pairs_each_source_image_with_its_true_night(toycity):
    # Scale 1 and a full-size crop leave only the flip, so S_n must be the night file (mirrored with S_d).
    cfg = DataConfig(root=str(toycity), translation="folder", source_scale=(1.0, 1.0), source_crop=SIZE,
                     target_crop=(28, 28), target_size=(16, 16), eval_split="test")
    bundle = build_datasets(cfg)
    for index, files in enumerate(bundle.source.source.samples):
        sample = bundle.source[index]
        day, night = tensor_to_image(sample["S_d"]), tensor_to_image(sample["S_n"])
        true_day = read_image(files.image)
        true_night = read_image(toycity / "source/leftImg8bit_night/train/toysource" / files.image.name)
        flipped = np.array_equal(day, true_day[:, ::-1])
        assert flipped or np.array_equal(day, true_day)
        np.testing.assert_array_equal(night, true_night[:, ::-1] if flipped else true_night)
    target, evaluation = bundle.target[0], bundle.evaluation[0]
    assert target["T_n"].shape == target["T_d"].shape == (3, 16, 16) and target["label_T_n"].shape == (16, 16)
    assert evaluation["label"].shape == SIZE and int(evaluation["label"].max()) <= 255
