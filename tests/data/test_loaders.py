"""Real-dataset loaders on fixture trees with the official file-name patterns (docs/DATA.md, Part 2)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from fixtures import (
    DZ_DAY_SEQ,
    DZ_NIGHT_SEQ,
    block_scene,
    dz_pair_rows,
    make_acdc,
    make_cityscapes,
    make_darkzurich,
    make_nightdriving,
    night_of,
    truncate,
    write_pair_csv,
    write_png,
)

from ccdistill.data import (
    ACDCNight,
    CityscapesDataset,
    DarkZurichEval,
    DarkZurichPairs,
    NighttimeDrivingTest,
    read_image,
    read_label,
)
from ccdistill.labels import IGNORE_INDEX
from ccdistill.data.transforms import tensor_to_image
from ccdistill.errors import DataError, InputError


# ---------------------------------------------------------------------------------------------
# Cityscapes


def test_cityscapes_finds_sorted_images_with_mapped_labels(tmp_path):
    make_cityscapes(tmp_path, {"train": 4, "val": 1}, cities=("bochum", "aachen"))
    dataset = CityscapesDataset(tmp_path, "train")
    assert len(dataset) == 4 and dataset.has_labels
    names = [files.name for files in dataset.samples]
    assert names == sorted(names) and names[0] == "aachen_000001_000020_leftImg8bit"
    assert all(files.label_kind == "labelIds" for files in dataset.samples)
    sample = dataset[0]
    expected_image, expected_ids = block_scene(1)
    assert sample["image"].shape == (3, 32, 64) and sample["image"].dtype == torch.float32
    np.testing.assert_array_equal(tensor_to_image(sample["image"]), expected_image)
    # The fixture wrote labelIds; the loader must give back the trainIds they came from.
    np.testing.assert_array_equal(sample["label"].numpy(), expected_ids)
    assert len(CityscapesDataset(tmp_path, "val")) == 1


def test_cityscapes_prefers_label_train_ids_files(tmp_path):
    make_cityscapes(tmp_path, {"train": 1}, cities=("aachen",), label_kinds=("labelIds", "trainIds"))
    label_file = tmp_path / "gtFine/train/aachen/aachen_000000_000019_gtFine_labelTrainIds.png"
    write_png(label_file, np.full((32, 64), 5, np.uint8))
    dataset = CityscapesDataset(tmp_path)
    assert dataset.samples[0].label == label_file
    assert (dataset[0]["label"] == 5).all()


def test_cityscapes_test_split_has_no_labels(tmp_path):
    make_cityscapes(tmp_path, {"test": 2})
    sample = CityscapesDataset(tmp_path, "test")[1]
    assert "label" not in sample and sample["image"].shape == (3, 32, 64)


def test_label_ids_are_mapped_to_train_ids(tmp_path):
    label_ids = np.array([[7, 8, 26, 33], [0, 1, 255, 24]], np.uint8)
    path = write_png(tmp_path / "x_gtFine_labelIds.png", label_ids)
    np.testing.assert_array_equal(read_label(path, "labelIds"), [[0, 1, 13, 18], [255, 255, 255, 11]])
    train_ids = write_png(tmp_path / "x_gtFine_labelTrainIds.png", np.array([[0, 18, 255]], np.uint8))
    np.testing.assert_array_equal(read_label(train_ids), [[0, 18, 255]])
    with pytest.raises(InputError, match="kind"):
        read_label(train_ids, "colour")


# ---------------------------------------------------------------------------------------------
# Dark Zurich


def test_dark_zurich_pairs_follow_corresp_rows(tmp_path):
    make_darkzurich(tmp_path, pairs=4)
    dataset = DarkZurichPairs(tmp_path)
    assert len(dataset) == 4 and dataset.has_refs and not dataset.has_labels
    for index, files in enumerate(dataset.samples):
        assert files.image.parent == tmp_path / "rgb_anon/train/night" / DZ_NIGHT_SEQ
        # Fixture rows pair night frame i with day frame i // 2.
        assert files.image_ref.name == f"{DZ_DAY_SEQ}_frame_{200 + index // 2:06d}_rgb_anon.png"
    raw = dataset.load(3)
    day, _ = block_scene(100 + 3 // 2)
    np.testing.assert_array_equal(raw["image"], night_of(day))
    sample = dataset[3]
    assert set(sample) == {"image", "image_ref", "name"}
    assert sample["name"] == f"{DZ_NIGHT_SEQ}_frame_000103_rgb_anon"


def test_dark_zurich_pairs_from_a_single_pair_list(tmp_path, monkeypatch):
    make_darkzurich(tmp_path, pairs=4, corresp=False)
    rows = dz_pair_rows(4)[::-1][:3]  # a subset, unsorted, with a header row
    pair_list = write_pair_csv(tmp_path / "lists" / "pairs.csv", [("night", "day"), *rows])
    dataset = DarkZurichPairs(tmp_path, corresp=str(pair_list))
    assert [files.image.name for files in dataset.samples] == [
        f"{DZ_NIGHT_SEQ}_frame_{100 + i:06d}_rgb_anon.png" for i in (1, 2, 3)
    ]
    assert dataset.samples[0].image_ref.name == f"{DZ_DAY_SEQ}_frame_000200_rgb_anon.png"
    # A relative path is also looked up under the root.
    monkeypatch.chdir(tmp_path.parent)
    assert len(DarkZurichPairs(tmp_path, corresp="lists/pairs.csv")) == 3


def test_dark_zurich_pair_row_with_missing_file_names_csv_row_and_file(tmp_path):
    make_darkzurich(tmp_path, pairs=3)
    missing = tmp_path / f"rgb_anon/train/day/{DZ_DAY_SEQ}/{DZ_DAY_SEQ}_frame_000201_rgb_anon.png"
    missing.unlink()
    with pytest.raises(DataError) as error:
        DarkZurichPairs(tmp_path)
    message = str(error.value)
    assert f"{DZ_NIGHT_SEQ}.csv" in message and "row 3" in message and str(missing) in message
    assert "Dark_Zurich_train_anon.zip" in message


def test_dark_zurich_malformed_or_absent_pair_list(tmp_path):
    make_darkzurich(tmp_path, pairs=2, corresp=False)
    bad = write_pair_csv(tmp_path / "bad.csv", [dz_pair_rows(1)[0], ("train/night/only_one_field",)])
    with pytest.raises(DataError, match=r"bad.csv, row 2: expected 2 fields"):
        DarkZurichPairs(tmp_path, corresp=str(bad))
    with pytest.raises(DataError, match="corresp/train/night/<SEQ>.csv"):
        DarkZurichPairs(tmp_path)
    with pytest.raises(DataError, match="nowhere.csv does not exist"):
        DarkZurichPairs(tmp_path, corresp=str(tmp_path / "nowhere.csv"))


def test_dark_zurich_train_labels_are_loaded_when_present(tmp_path):
    make_darkzurich(tmp_path, pairs=2, train_labels=True)
    sample = DarkZurichPairs(tmp_path)[1]
    _, train_ids = block_scene(100 + 1 // 2)
    np.testing.assert_array_equal(sample["label"].numpy(), train_ids)


def test_dark_zurich_val_and_test(tmp_path):
    make_darkzurich(tmp_path, pairs=1, val=2, test=3)
    val = DarkZurichEval(tmp_path, "val")
    assert len(val) == 2 and val.has_refs and val.has_labels
    sample = val[0]
    _, train_ids = block_scene(300)
    np.testing.assert_array_equal(sample["label"].numpy(), train_ids)
    assert sample["image_ref"].shape == sample["image"].shape
    test = DarkZurichEval(tmp_path, "test")
    assert len(test) == 3 and not test.has_labels and "label" not in test[2]
    with pytest.raises(InputError, match="val"):
        DarkZurichEval(tmp_path, "train")


def test_dark_zurich_test_labels_when_present(tmp_path):
    make_darkzurich(tmp_path, pairs=1, test=2, test_labels=True)
    assert DarkZurichEval(tmp_path, "test").has_labels


# ---------------------------------------------------------------------------------------------
# ACDC, Nighttime Driving


def test_acdc_night_splits(tmp_path):
    make_acdc(tmp_path, {"train": 3, "val": 2, "test": 2})
    train = ACDCNight(tmp_path, "train")
    assert len(train) == 3 and train.has_refs and train.has_labels
    assert train.samples[0].image_ref.name.endswith("_rgb_ref_anon.png")
    assert train.samples[0].image_ref.parent.parent.name == "train_ref"
    test = ACDCNight(tmp_path, "test")
    assert test.has_refs and not test.has_labels
    _, train_ids = block_scene(400)
    np.testing.assert_array_equal(ACDCNight(tmp_path, "val")[0]["label"].numpy(), train_ids)


def test_nighttime_driving(tmp_path):
    make_nightdriving(tmp_path, count=3)
    dataset = NighttimeDrivingTest(tmp_path)
    assert [files.name for files in dataset.samples] == [f"{i}_frame_{i + 1:04d}_leftImg8bit" for i in range(3)]
    _, train_ids = block_scene(502)
    np.testing.assert_array_equal(dataset[2]["label"].numpy(), train_ids)


# ---------------------------------------------------------------------------------------------
# Errors that tell the user what to do


@pytest.mark.parametrize(
    "build, pattern, archive",
    [
        (lambda root: CityscapesDataset(root), "leftImg8bit/train/<city>/<city>_<seq>_<frame>_leftImg8bit.png", "leftImg8bit_trainvaltest.zip"),
        (lambda root: DarkZurichPairs(root), "rgb_anon/train/night/<SEQ>/<SEQ>_frame_<6 digits>_rgb_anon.png", "Dark_Zurich_train_anon.zip"),
        (lambda root: DarkZurichEval(root, "val"), "rgb_anon/val/night/<SEQ>/", "Dark_Zurich_val_anon.zip"),
        (lambda root: DarkZurichEval(root, "test"), "rgb_anon/test/night/<SEQ>/", "Dark_Zurich_test_anon_withoutGt.zip"),
        (lambda root: ACDCNight(root, "val"), "rgb_anon/night/val/<SEQ>/<stem>_rgb_anon.png", "rgb_anon_trainvaltest.zip"),
        (lambda root: NighttimeDrivingTest(root), "leftImg8bit/test/night/<NN>_frame_<4 digits>_leftImg8bit.png", "NighttimeDrivingTest.zip"),
    ],
)
def test_missing_folder_names_pattern_and_archive(tmp_path, build, pattern, archive):
    with pytest.raises(DataError) as error:
        build(tmp_path)
    message = str(error.value)
    assert "does not exist" in message and pattern in message and archive in message
    assert str(tmp_path) in message


def test_empty_folder_is_reported(tmp_path):
    (tmp_path / "leftImg8bit/train/aachen").mkdir(parents=True)
    with pytest.raises(DataError, match=r"holds no file matching \*/\*_leftImg8bit.png.*leftImg8bit_trainvaltest.zip"):
        CityscapesDataset(tmp_path)


def test_missing_label_names_the_file_and_archive(tmp_path):
    make_cityscapes(tmp_path, {"train": 2}, cities=("aachen",))
    label = tmp_path / "gtFine/train/aachen/aachen_000001_000020_gtFine_labelIds.png"
    label.unlink()
    with pytest.raises(DataError) as error:
        CityscapesDataset(tmp_path)
    assert str(label) in str(error.value) and "gtFine_trainvaltest.zip" in str(error.value)


def test_missing_val_reference_or_label_is_reported(tmp_path):
    make_darkzurich(tmp_path, pairs=1, val=2)
    ref = next((tmp_path / "rgb_anon/val_ref/day").rglob("*_frame_000301_ref_rgb_anon.png"))
    ref.unlink()
    with pytest.raises(DataError, match=r"000301_ref_rgb_anon.png does not exist.*Dark_Zurich_val_anon.zip"):
        DarkZurichEval(tmp_path, "val")


def test_corrupt_png_names_the_file(tmp_path):
    make_cityscapes(tmp_path, {"train": 2}, cities=("aachen",))
    image = truncate(tmp_path / "leftImg8bit/train/aachen/aachen_000001_000020_leftImg8bit.png")
    dataset = CityscapesDataset(tmp_path)
    dataset[0]  # the intact sample still loads
    with pytest.raises(DataError, match=f"{image}.*cannot be decoded.*corrupt or truncated"):
        dataset[1]
    garbage = tmp_path / "garbage.png"
    garbage.write_bytes(b"not a png at all")
    with pytest.raises(DataError, match="garbage.png"):
        read_image(garbage)
    with pytest.raises(DataError, match="missing.png does not exist"):
        read_image(tmp_path / "missing.png")


def test_label_with_unknown_ids_names_file_and_ids(tmp_path):
    path = write_png(tmp_path / "a_gt_labelTrainIds.png", np.array([[0, 19, 40], [255, 3, 19]], np.uint8))
    with pytest.raises(DataError) as error:
        read_label(path)
    assert str(path) in str(error.value) and "[19, 40]" in str(error.value)
    bad_label_ids = write_png(tmp_path / "b_gtFine_labelIds.png", np.array([[7, 34, 200]], np.uint8))
    with pytest.raises(DataError, match=r"b_gtFine_labelIds.png contains ids \[34, 200\]"):
        read_label(bad_label_ids, "labelIds")
    rgb = write_png(tmp_path / "c_gtFine_color.png", np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(DataError, match="single-channel"):
        read_label(rgb)


def test_image_label_size_mismatch_names_both_files(tmp_path):
    make_nightdriving(tmp_path, count=1)
    label = tmp_path / "gtCoarse_daytime_trainvaltest/test/night/0_frame_0001_gtCoarse_labelTrainIds.png"
    write_png(label, np.zeros((16, 64), np.uint8))
    with pytest.raises(DataError) as error:
        NighttimeDrivingTest(tmp_path)[0]
    message = str(error.value)
    assert "size mismatch" in message and str(label) in message and "0_frame_0001_leftImg8bit.png" in message
    assert "64×32" in message and "64×16" in message


def test_day_night_size_mismatch_is_reported(tmp_path):
    make_darkzurich(tmp_path, pairs=1)
    day = next((tmp_path / "rgb_anon/train/day").rglob("*.png"))
    write_png(day, np.zeros((30, 64, 3), np.uint8))
    with pytest.raises(DataError, match=f"size mismatch.*{day.name}"):
        DarkZurichPairs(tmp_path)[0]


def test_label_values_stay_in_range(tmp_path):
    make_darkzurich(tmp_path, pairs=1, val=1)
    label = DarkZurichEval(tmp_path, "val")[0]["label"]
    values = set(label.unique().tolist())
    assert values <= set(range(19)) | {IGNORE_INDEX} and IGNORE_INDEX in values
