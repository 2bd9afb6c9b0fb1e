"""ToyCity on disk: the exact Cityscapes / Dark Zurich layout, determinism, safe writing, CLI."""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ccdistill.labels import KNOWN_TRAIN_IDS, label_ids_to_train_ids
from ccdistill.cli.args import parse_size
from ccdistill.cli.data_toy import register as register_toy
from ccdistill.errors import DataError, InputError
from ccdistill.toycity import generate_toycity
from ccdistill.toycity.generate import PARTIAL

SIZE = (64, 128)
COUNTS = {"n_train": 3, "n_val": 2, "n_test": 2}


def _generate(root: Path, seed: int = 0, **overrides) -> dict:
    settings = {"size": SIZE, "seed": seed, "progress": False, **COUNTS, **overrides}
    return generate_toycity(root, **settings)


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("toy") / "toycity"
    return root, _generate(root)


def _files(root: Path, pattern: str) -> list[Path]:
    return sorted(root.glob(pattern))


def test_layout_matches_cityscapes_and_dark_zurich(toy):
    root, manifest = toy
    n_train, n_val, n_test = COUNTS["n_train"], COUNTS["n_val"], COUNTS["n_test"]
    city = "toysource"
    for split, count in (("train", n_train), ("val", n_val)):
        days = _files(root, f"source/leftImg8bit/{split}/{city}/{city}_[0-9]*_[0-9]*_leftImg8bit.png")
        assert len(days) == count
        for day in days:
            prefix = day.name.removesuffix("_leftImg8bit.png")
            _, seq, frame = prefix.split("_")
            assert len(seq) == 6 and len(frame) == 6
            for suffix in ("_gtFine_labelIds.png", "_gtFine_labelTrainIds.png"):
                assert (root / f"source/gtFine/{split}/{city}/{prefix}{suffix}").is_file()
            assert (root / f"source/leftImg8bit_night/{split}/{city}/{day.name}").is_file()
    assert len(_files(root, "target/rgb_anon/train/day/TOY0001/TOY0001_frame_[0-9]*_rgb_anon.png")) == n_train
    nights = _files(root, "target/rgb_anon/train/night/TOY0002/TOY0002_frame_[0-9]*_rgb_anon.png")
    assert len(nights) == n_train
    for night in nights:
        stem = night.name.removesuffix("_rgb_anon.png")
        assert (root / f"target/gt/train/night/TOY0002/{stem}_gt_labelTrainIds.png").is_file()
    for split, seq, count in (("val", "TOY0003", n_val), ("test", "TOY0004", n_test)):
        images = _files(root, f"target/rgb_anon/{split}/night/{seq}/{seq}_frame_[0-9]*_rgb_anon.png")
        assert len(images) == count
        for image in images:
            stem = image.name.removesuffix("_rgb_anon.png")
            assert (root / f"target/rgb_anon/{split}_ref/day/{seq}_ref/{stem}_ref_rgb_anon.png").is_file()
            for suffix in ("_gt_labelTrainIds.png", "_gt_labelIds.png"):
                assert (root / f"target/gt/{split}/night/{seq}/{stem}{suffix}").is_file()
    # The manifest lists exactly the files on disk (besides itself).
    on_disk = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()} - {"manifest.json"}
    assert on_disk == set(manifest["files"])
    assert manifest["generator"] == "toycity" and manifest["size"] == list(SIZE) and manifest["seed"] == 0
    assert manifest["counts"] == {"source_train": 3, "source_val": 2, "target_train_pairs": 3,
                                  "target_val": 2, "target_test": 2}
    assert json.loads((root / "manifest.json").read_text()) == manifest
    assert not (root / PARTIAL).exists()


def test_corresp_rows_point_at_existing_frames(toy):
    root, _ = toy
    with open(root / "target/corresp/train/night/TOY0002.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) == COUNTS["n_train"]
    for night, day in rows:
        assert night.startswith("train/night/TOY0002/") and day.startswith("train/day/TOY0001/")
        assert (root / "target/rgb_anon" / f"{night}_rgb_anon.png").is_file()
        assert (root / "target/rgb_anon" / f"{day}_rgb_anon.png").is_file()


def test_images_and_labels_are_well_formed(toy):
    root, manifest = toy
    for relpath, digest in manifest["files"].items():
        path = root / relpath
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
        if not relpath.endswith(".png"):
            continue
        with Image.open(path) as image:
            mode, pixels = image.mode, np.asarray(image)
        assert pixels.shape[:2] == SIZE
        if "labelTrainIds" in relpath:
            assert mode == "L"
            values = set(np.unique(pixels).tolist())
            assert values <= KNOWN_TRAIN_IDS and len(values) > 3
            label_ids_path = path.with_name(path.name.replace("labelTrainIds", "labelIds"))
            if label_ids_path.exists():
                with Image.open(label_ids_path) as label_ids:
                    np.testing.assert_array_equal(label_ids_to_train_ids(np.asarray(label_ids)), pixels)
        elif "labelIds" in relpath:
            assert mode == "L"
        else:
            assert mode == "RGB"


def test_true_night_is_darker_than_day_and_pixel_aligned(toy):
    root, _ = toy
    for day_path in _files(root, "source/leftImg8bit/train/toysource/*.png"):
        night_path = root / "source/leftImg8bit_night/train/toysource" / day_path.name
        day, night = np.asarray(Image.open(day_path)), np.asarray(Image.open(night_path))
        assert night.mean() < 0.75 * day.mean()


def test_same_seed_gives_identical_files_and_other_seed_differs(toy, tmp_path):
    _, manifest = toy
    again = _generate(tmp_path / "again", seed=0, workers=1)
    assert again["files"] == manifest["files"]
    other = _generate(tmp_path / "other", seed=1)
    assert set(other["files"]) == set(manifest["files"])
    images = [path for path in manifest["files"] if "rgb_anon" in path or "leftImg8bit" in path]
    assert all(other["files"][path] != manifest["files"][path] for path in images)


def test_existing_toycity_is_reused_refused_or_regenerated(toy, tmp_path):
    root = tmp_path / "toycity"
    first = _generate(root)
    stamp = (root / "manifest.json").stat().st_mtime_ns
    assert _generate(root) == first and (root / "manifest.json").stat().st_mtime_ns == stamp
    with pytest.raises(DataError, match="seed"):
        _generate(root, seed=5)
    regenerated = _generate(root, seed=5, force=True)
    assert regenerated["seed"] == 5 and regenerated["files"] != first["files"]


def test_refuses_foreign_folder_unless_forced_and_writes_only_inside_root(tmp_path):
    parent = tmp_path / "parent"
    root = parent / "data"
    root.mkdir(parents=True)
    (root / "notes.txt").write_text("mine")
    with pytest.raises(DataError, match="not a ToyCity folder"):
        _generate(root)
    assert sorted(p.name for p in root.iterdir()) == ["notes.txt"]
    manifest = _generate(root, force=True)
    assert (root / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in parent.iterdir()) == ["data"]
    assert sorted(p.name for p in root.iterdir()) == ["manifest.json", "notes.txt", "source", "target"]
    assert len(manifest["files"]) > 0


def test_argument_errors(tmp_path):
    with pytest.raises(InputError, match="n_train"):
        _generate(tmp_path / "a", n_train=0)
    with pytest.raises(InputError, match="size"):
        generate_toycity(tmp_path / "b", size=(8, 300), progress=False)
    (tmp_path / "file").write_text("x")
    with pytest.raises(DataError, match="not a folder"):
        _generate(tmp_path / "file")


def _cli(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    register_toy(parser.add_subparsers(dest="data_command"))
    return parser.parse_args(argv)


def test_cli_generates_and_rejects_a_bad_size(tmp_path, capsys):
    assert parse_size("64x128") == (64, 128) and parse_size(" 32 X 48 ") == (32, 48)
    with pytest.raises(InputError, match="256x512"):
        parse_size("64by128")
    args = _cli(["toy", "--root", str(tmp_path / "cli"), "--size", "32x64", "--n-train", "1", "--n-val", "1",
                 "--n-test", "1", "--seed", "3", "--quiet"])
    assert args.func(args) == 0
    manifest = json.loads((tmp_path / "cli/manifest.json").read_text())
    assert manifest["size"] == [32, 64] and manifest["seed"] == 3
    assert "ToyCity" in capsys.readouterr().out
    bad = _cli(["toy", "--root", str(tmp_path / "bad"), "--size", "64"])
    with pytest.raises(InputError, match="HEIGHTxWIDTH"):
        bad.func(bad)
    assert not (tmp_path / "bad").exists()
