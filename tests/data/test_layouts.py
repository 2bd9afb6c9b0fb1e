"""The layout table: a made-up dataset of the same structure is loaded and checked from its
table entry alone, and the real entries are consistent."""

from __future__ import annotations

import numpy as np
import pytest
from fixtures import block_scene, night_of, write_png

from ccdistill.data import LAYOUTS, DatasetLayout, LayoutDataset, check_layout
from ccdistill.labels import train_ids_to_label_ids
from ccdistill.data.layouts import Files
from ccdistill.errors import DataError, InputError

# A foggy-city dataset laid out like ACDC, with Dark Zurich's "<SEQ>_clear" reference folders,
# labelIds as its main label files and one archive per split.
FOGGY = DatasetLayout(
    key="foggytown", name="Foggy Town", splits=("train", "val"), required=("train", "val"),
    image=Files("{split} foggy images", "foggy/{split}", "_foggy.png", stem="<SEQ>_<frame>"),
    ref=Files("{split} clear references", "clear/{split}", "_clear.png", sequence="{seq}_clear"),
    label=Files("{split} labels", "labels/{split}", "_labelIds.png", ids="labelIds", alt_suffix="_labelTrainIds.png"),
    archive={"train": "foggy_train.zip", "val": "foggy_val.zip"},
    download_hint="ask the Foggy Town authors",
    official={"train": {"images": 100}, "val": {"images": 20, "labels": 20}},
    must_label=("val",), scored=("val",),
)
SEQUENCES = ("SEQ01", "SEQ02")


def make_foggy(root, counts=None):
    """Foggy images, clear references and labels (labelIds in train; both encodings in val)."""
    scenes = {}
    for split, count in (counts or {"train": 3, "val": 2}).items():
        for index in range(count):
            seq = SEQUENCES[index % 2]
            stem = f"{seq}_{index:04d}"
            image, train_ids = block_scene(700 + index + (50 if split == "val" else 0))
            write_png(root / "foggy" / split / seq / f"{stem}_foggy.png", night_of(image))
            write_png(root / "clear" / split / f"{seq}_clear" / f"{stem}_clear.png", image)
            write_png(root / "labels" / split / seq / f"{stem}_labelIds.png", train_ids_to_label_ids(train_ids))
            if split == "val":
                write_png(root / "labels" / split / seq / f"{stem}_labelTrainIds.png", train_ids)
            scenes[(split, stem)] = (image, train_ids)
    return scenes


def test_a_new_table_entry_loads_with_no_new_code(tmp_path):
    scenes = make_foggy(tmp_path)
    train, val = LayoutDataset(FOGGY, tmp_path, "train"), LayoutDataset(FOGGY, tmp_path, "val")
    assert len(train) == 3 and len(val) == 2 and train.has_refs and train.has_labels
    assert [files.label_kind for files in train.samples] == ["labelIds"] * 3
    assert [files.label_kind for files in val.samples] == ["trainIds"] * 2  # trainIds preferred
    for dataset in (train, val):
        for index, files in enumerate(dataset.samples):
            sample = dataset.load(index)
            image, train_ids = scenes[(dataset.split, files.name.removesuffix("_foggy"))]
            np.testing.assert_array_equal(sample["label"], train_ids)  # labelIds mapped to trainIds
            np.testing.assert_array_equal(sample["image_ref"], image)
            np.testing.assert_array_equal(sample["image"], night_of(image))
    assert dataset[0]["image"].shape == (3, 32, 64)
    with pytest.raises(InputError, match=r"Foggy Town split must be one of \('train', 'val'\), got 'test'"):
        LayoutDataset(FOGGY, tmp_path, "test")


def test_a_new_table_entry_is_checked_with_no_new_code(tmp_path):
    make_foggy(tmp_path)
    report = check_layout(FOGGY, tmp_path, deep=True)
    assert report.usable, report.format()
    train, _ = report.splits
    assert train.counts == {"images": 3, "day references": 3, "labels": 3}
    text = report.format()
    assert text.startswith("foggytown at ") and "images 2 (official 20)" in text and "labels 2 (official 20)" in text


def test_a_new_table_entry_names_its_patterns_and_archives(tmp_path):
    make_foggy(tmp_path)
    for label in (tmp_path / "labels/val").rglob("SEQ02_0001_*.png"):
        label.unlink()
    expected = "expected labels/val/<SEQ>/<stem>_labelIds.png (or _labelTrainIds.png) from foggy_val.zip"
    with pytest.raises(DataError, match="Foggy Town val labels: .*SEQ02_0001_labelIds.png does not exist") as error:
        LayoutDataset(FOGGY, tmp_path, "val")
    assert expected in str(error.value) and "ask the Foggy Town authors" in str(error.value)
    next((tmp_path / "clear/train").rglob("*.png")).unlink()
    report = check_layout(FOGGY, tmp_path)
    assert not report.usable
    assert "clear/train/<SEQ>_clear/<stem>_clear.png from foggy_train.zip" in report.splits[0].problems[0]
    assert expected in report.splits[1].problems[0]
    # Without the val split, the required split is reported missing with its own archive.
    empty = check_layout(FOGGY, tmp_path / "labels")
    assert "foggy/val/<SEQ>/<SEQ>_<frame>_foggy.png from foggy_val.zip" in empty.format()


@pytest.mark.parametrize("key", sorted(LAYOUTS))
def test_real_entries_are_consistent(key):
    layout = LAYOUTS[key]
    assert layout.key == key
    named = set(layout.required) | set(layout.must_label) | set(layout.scored) | set(layout.paired) | set(layout.official)
    assert named <= set(layout.splits), f"{key} names splits it does not have"
    for split in layout.splits:
        kinds = [layout.image_kind(split), layout.label_kind(split)]
        assert all(kind.archive and kind.pattern.startswith(kind.folder + "/") for kind in kinds)
        assert layout.image.suffix in kinds[0].glob
