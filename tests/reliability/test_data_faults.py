"""Issue 11, item 6 (and the data part of 8): no silent input corruption. Every broken file or
tree is named, with what was expected and what to do; nothing is half-written."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ccdistill.config import DataConfig
from ccdistill.data import build_datasets, check_layout, read_image, read_label
from ccdistill.data.darkzurich import DarkZurichPairs, DuplicatePairWarning
from ccdistill.errors import DataError
from ccdistill.toycity import generate_toycity, verify_toycity
from ccdistill.toycity import generate as toy_generate
from tests.data.fixtures import (
    dz_pair_rows, make_acdc, make_cityscapes, make_darkzurich, truncate, write_pair_csv, write_png,
)
from tests.reliability.faults import run_cli

SIZE = (32, 64)


def _toy(root: Path, **kwargs) -> dict:
    return generate_toycity(root, size=SIZE, n_train=2, n_val=1, n_test=1, progress=False, workers=1, **kwargs)


# ------------------------------------------------------------------------------ bit depth
def test_sixteen_bit_grey_images_keep_their_range(tmp_path):
    ramp = (np.arange(64 * 64, dtype=np.uint32).reshape(64, 64) * 16).astype(np.uint16)  # 0..65520
    Image.fromarray(ramp).save(tmp_path / "grey16.png")
    image = read_image(tmp_path / "grey16.png")
    assert image.shape == (64, 64, 3) and image.dtype == np.uint8
    assert (image == 255).mean() < 0.01  # PIL's convert("RGB") makes 99.6 % of these pixels 255
    assert np.abs(image[..., 0].astype(int) - np.round(ramp / 257)).max() <= 1


def test_sixteen_bit_labels_are_read_with_their_values_or_refused(tmp_path):
    ids = np.tile(np.arange(19, dtype=np.uint16), (4, 1))
    Image.fromarray(ids).save(tmp_path / "ok_labelTrainIds.png")
    assert (read_label(tmp_path / "ok_labelTrainIds.png") == ids).all()
    Image.fromarray(ids * 257).save(tmp_path / "scaled_labelTrainIds.png")  # 16-bit rescaled ids
    with pytest.raises(DataError, match=r"scaled_labelTrainIds.png holds values outside 0..255; expected 8-bit"):
        read_label(tmp_path / "scaled_labelTrainIds.png")


# ------------------------------------------------------------------------------ ToyCity roots
def test_toycity_half_swapped_deleted_or_replaced_files_are_diagnosed(tmp_path, capsys):
    root = tmp_path / "toy"
    _toy(root)
    config = DataConfig(root=str(root))
    assert len(build_datasets(config).evaluation) == 1
    label = root / "target/gt/val/night/TOY0003/TOY0003_frame_000000_gt_labelTrainIds.png"
    saved = label.read_bytes()
    label.write_bytes(saved[: len(saved) // 2])
    with pytest.raises(DataError, match=r"replaced or truncated, e\.g\. target/gt/val/.*bytes, manifest .*ccdistill data toy --root"):
        build_datasets(config)
    label.unlink()
    with pytest.raises(DataError, match=r"1 file\(s\) missing, e\.g\. target/gt/val/night/TOY0003/.*--force"):
        build_datasets(config)
    label.write_bytes(saved)
    (root / "manifest.json").unlink()  # what an interruption between the folder swaps leaves
    with pytest.raises(DataError, match=r"not a complete ToyCity: .*manifest.json .*missing.*ccdistill data toy"):
        build_datasets(config)
    status, err = run_cli(["data", "toy", "--root", root, "--size", "32x64", "--quiet"], capsys)
    assert status == 2 and "interrupted while swapping" in err and "--force" in err


def test_interrupted_regeneration_keeps_the_old_toycity(tmp_path, monkeypatch):
    root = tmp_path / "toy"
    first = _toy(root)
    calls = {"n": 0}
    real_render = toy_generate.render

    def crash_midway(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt
        return real_render(*args, **kwargs)

    monkeypatch.setattr(toy_generate, "render", crash_midway)
    with pytest.raises(KeyboardInterrupt):
        _toy(root, seed=1, force=True)
    assert verify_toycity(root)["files"] == first["files"]  # the old one, complete
    assert not (root / toy_generate.PARTIAL).exists()


# ------------------------------------------------------------------------------ data check
def test_check_reads_every_header_a_half_size_label_mid_split(tmp_path):
    make_cityscapes(tmp_path, {"train": 4})
    labels = sorted((tmp_path / "gtFine/train").rglob("*_gtFine_labelIds.png"))
    write_png(labels[2], np.zeros((SIZE[0] // 2, SIZE[1] // 2), np.uint8))
    report = check_layout("cityscapes", tmp_path)
    assert not report.usable
    assert any("size mismatch" in p and labels[2].name in p and "pixel-aligned" in p for p in report.splits[0].problems)


def test_check_finds_a_truncated_image_mid_split(tmp_path):
    make_darkzurich(tmp_path, pairs=2, val=4, test=1)
    images = sorted((tmp_path / "rgb_anon/val/night").rglob("*.png"))
    truncate(images[3], keep_bytes=200)  # the header survives; the end marker does not
    report = check_layout("darkzurich", tmp_path)
    val = report.splits[1]
    assert not report.usable and any(images[3].name in p and "truncated" in p and "extract it again" in p
                                     for p in val.problems)


def test_acdc_without_labels_is_not_usable_for_validation(tmp_path):
    make_acdc(tmp_path, {"train": 2, "val": 2})
    shutil.rmtree(tmp_path / "gt")
    report = check_layout("acdc", tmp_path)
    text = report.format()
    assert not report.usable and "usable: no" in text
    assert "2 of 2 val images have no label" in text and "gt/night/val" in text and "gt_trainval.zip" in text


def test_root_one_level_too_high_or_too_low(tmp_path):
    make_darkzurich(tmp_path / "datasets/dark_zurich", pairs=2, val=1)
    high = check_layout("darkzurich", tmp_path / "datasets")
    assert f"did you mean --root {tmp_path / 'datasets/dark_zurich'}" in high.format()
    low = check_layout("darkzurich", tmp_path / "datasets/dark_zurich/rgb_anon")
    assert f"did you mean --root {tmp_path / 'datasets/dark_zurich'}" in low.format()
    assert not high.usable and not low.usable


def test_archives_still_zipped(tmp_path):
    for name in ("Dark_Zurich_train_anon.zip", "Dark_Zurich_val_anon.zip"):
        (tmp_path / name).write_bytes(b"PK\x05\x06" + bytes(18))
    text = check_layout("darkzurich", tmp_path).format()
    assert "Dark_Zurich_train_anon.zip, Dark_Zurich_val_anon.zip still zipped: unzip them into" in text


def test_root_that_is_a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    report = check_layout("acdc", tmp_path / "file")
    assert not report.usable and "is a file, expected a folder" in report.format()


def test_check_a_single_pair_list_csv(tmp_path):
    make_darkzurich(tmp_path, pairs=3, val=1, corresp=False)
    pairs = write_pair_csv(tmp_path / "my_pairs.csv", dz_pair_rows(3))
    report = check_layout("darkzurich", tmp_path, corresp=pairs)
    assert report.usable, report.format()
    assert report.splits[0].counts["pairs"] == 3


def test_data_check_cli_on_missing_pair_list(tmp_path, capsys):
    make_darkzurich(tmp_path, pairs=2, val=1, corresp=False)
    from ccdistill.cli import main

    assert main(["data", "check", "--dataset", "darkzurich", "--root", str(tmp_path), "--corresp",
                 str(tmp_path / "nowhere.csv")]) == 1
    assert f"pair list {tmp_path / 'nowhere.csv'} does not exist" in capsys.readouterr().out


def test_night_frame_listed_twice_is_kept_once(tmp_path):
    make_darkzurich(tmp_path, pairs=3, val=1)
    rows = dz_pair_rows(3)
    write_pair_csv(tmp_path / "corresp/train/night/GOPR0351.csv", rows + [rows[1]])
    with pytest.warns(DuplicatePairWarning, match=r"row 4: night frame .*frame_000101 is already listed at GOPR0351.csv row 2"):
        pairs = DarkZurichPairs(tmp_path)
    assert len(pairs) == 3 and len({files.image for files in pairs.samples}) == 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        write_pair_csv(tmp_path / "corresp/train/night/GOPR0351.csv", rows)
        assert len(DarkZurichPairs(tmp_path)) == 3


def test_eval_split_test_without_labels_fails_before_training(tmp_path):
    make_cityscapes(tmp_path / "cs", {"train": 2})
    make_darkzurich(tmp_path / "dz", pairs=2, val=1, test=1)
    config = DataConfig(dataset="cityscapes_darkzurich", source_root=str(tmp_path / "cs"),
                        target_root=str(tmp_path / "dz"), eval_split="test")
    with pytest.raises(DataError, match=r"data.eval_split='test': .* no test labels .*withheld; use data.eval_split=val"):
        build_datasets(config)
