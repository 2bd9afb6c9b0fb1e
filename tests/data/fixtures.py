"""Tiny dataset trees with the REAL file-name patterns (docs/DATA.md, Part 2), written into a tmp folder.

Every image is a block scene: each 8×8 block has one trainId and is painted in that class's
palette colour, so a test can check that an image and its label still coincide after loading
and augmentation. Night images are the day scene divided by NIGHT_DIMMING.
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import numpy as np
from PIL import Image

from ccdistill.labels import IGNORE_INDEX, NUM_CLASSES, PALETTE, train_ids_to_label_ids

SIZE = (32, 64)  # (H, W) of every fixture image
BLOCK = 8
NIGHT_DIMMING = 4
IGNORED_BLOCK_EVERY = 7  # every 7th block is ignored (255), to exercise the ignore value
SPLIT_SEED_OFFSET = {"train": 0, "val": 1000, "test": 2000}


def write_png(path: Path, array: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path


def block_scene(seed: int = 0, size: tuple[int, int] = SIZE) -> tuple[np.ndarray, np.ndarray]:
    """(H×W×3 uint8 image, H×W uint8 trainIds): random class per 8×8 block, image = palette colour."""
    rng = np.random.default_rng(seed)
    blocks = (-(-size[0] // BLOCK), -(-size[1] // BLOCK))
    classes = rng.integers(0, NUM_CLASSES, blocks).astype(np.uint8)
    classes.ravel()[::IGNORED_BLOCK_EVERY] = IGNORE_INDEX
    train_ids = np.kron(classes, np.ones((BLOCK, BLOCK), np.uint8))[: size[0], : size[1]]
    lut = np.zeros((256, 3), np.uint8)
    lut[:NUM_CLASSES] = PALETTE
    lut[IGNORE_INDEX] = (255, 255, 255)
    return lut[train_ids], np.ascontiguousarray(train_ids)


def night_of(image: np.ndarray) -> np.ndarray:
    return (image // NIGHT_DIMMING).astype(np.uint8)


def interior(label: np.ndarray, radius: int = 2) -> np.ndarray:
    """Pixels whose (2r+1)² neighbourhood holds one labelled class (away from block borders)."""
    height, width = label.shape
    padded = np.pad(label.astype(np.int32), radius, constant_values=-1)
    same = np.ones_like(label, dtype=bool)
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            window = padded[radius + dy : radius + dy + height, radius + dx : radius + dx + width]
            same &= window == label
    return same & (label != IGNORE_INDEX)


def assert_aligned(image: np.ndarray, night: np.ndarray, label: np.ndarray) -> None:
    """Image colour = palette[label] inside blocks, and night = image / NIGHT_DIMMING everywhere."""
    inside = interior(label)
    assert inside.sum() > 20, "too few interior pixels to check alignment"
    colour_error = np.abs(image[inside].astype(int) - PALETTE[label[inside]].astype(int)).max()
    assert colour_error <= 2, f"image and label are misaligned (colour error {colour_error})"
    night_error = np.abs(night.astype(int) - image.astype(int) // NIGHT_DIMMING).max()
    # Two resamplings round twice; a one-pixel shift would give errors of tens at block edges.
    assert night_error <= 3, f"day and night images are misaligned (error {night_error})"


def _write_label(folder: Path, stem: str, train_ids: np.ndarray, kinds: tuple[str, ...], trainids_suffix: str, labelids_suffix: str) -> None:
    if "trainIds" in kinds:
        write_png(folder / f"{stem}{trainids_suffix}", train_ids)
    if "labelIds" in kinds:
        write_png(folder / f"{stem}{labelids_suffix}", train_ids_to_label_ids(train_ids))


def make_cityscapes(
    root: Path,
    counts: dict[str, int] | None = None,
    cities: tuple[str, ...] = ("aachen", "bochum"),
    label_kinds: tuple[str, ...] = ("labelIds",),
    size: tuple[int, int] = SIZE,
    night_folder: str | None = None,
) -> Path:
    """leftImg8bit/<split>/<city>/<city>_<seq>_<frame>_leftImg8bit.png and gtFine labels.

    `counts` images per split, spread over `cities`; `night_folder` (e.g. "leftImg8bit_night")
    also writes the true night image of each scene under the same file name (ToyCity's oracle)."""
    counts = counts if counts is not None else {"train": 3, "val": 2}
    for split, count in counts.items():
        for index in range(count):
            city = cities[index % len(cities)]
            stem = f"{city}_{index:06d}_{19 + index:06d}"
            image, train_ids = block_scene(SPLIT_SEED_OFFSET[split] + index, size)
            write_png(root / "leftImg8bit" / split / city / f"{stem}_leftImg8bit.png", image)
            if night_folder:
                write_png(root / night_folder / split / city / f"{stem}_leftImg8bit.png", night_of(image))
            if split != "test":
                _write_label(root / "gtFine" / split / city, stem, train_ids, label_kinds,
                             "_gtFine_labelTrainIds.png", "_gtFine_labelIds.png")
    return root


DZ_NIGHT_SEQ, DZ_DAY_SEQ, DZ_VAL_SEQ, DZ_TEST_SEQ = "GOPR0351", "GOPR0348", "GOPR0356", "GOPR0364"


def dz_pair_rows(pairs: int) -> list[tuple[str, str]]:
    """Corresp rows 'train/night/<SEQ>/<stem>,train/day/<SEQ>/<stem>'; night i -> day i // 2
    (several night frames share a day frame, as in the real release)."""
    return [
        (f"train/night/{DZ_NIGHT_SEQ}/{DZ_NIGHT_SEQ}_frame_{100 + i:06d}",
         f"train/day/{DZ_DAY_SEQ}/{DZ_DAY_SEQ}_frame_{200 + i // 2:06d}")
        for i in range(pairs)
    ]


def write_pair_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def make_darkzurich(
    root: Path,
    pairs: int = 3,
    val: int = 2,
    test: int = 2,
    size: tuple[int, int] = SIZE,
    train_labels: bool = False,
    test_labels: bool = False,
    corresp: bool = True,
) -> Path:
    """rgb_anon/train/{day,night}, corresp/train/night/<SEQ>.csv, val/test night + _ref day, gt/val.

    `train_labels`/`test_labels` add the labels only ToyCity has; `corresp=False` leaves the
    correspondence folder out (for the single pair-list CSV)."""
    rows = dz_pair_rows(pairs)
    for i, (night, day) in enumerate(rows):
        # Night frames that share a day frame show its scene (the real pairs are GPS matches).
        image, train_ids = block_scene(100 + i // 2, size)
        write_png(root / "rgb_anon" / f"{night}_rgb_anon.png", night_of(image))
        write_png(root / "rgb_anon" / f"{day}_rgb_anon.png", image)
        if train_labels:
            write_png(root / "gt" / f"{night}_gt_labelTrainIds.png", train_ids)
    if corresp:
        write_pair_csv(root / "corresp" / "train" / "night" / f"{DZ_NIGHT_SEQ}.csv", rows)
    for split, count, seq, labelled in (("val", val, DZ_VAL_SEQ, True), ("test", test, DZ_TEST_SEQ, test_labels)):
        for i in range(count):
            stem = f"{seq}_frame_{300 + i:06d}"
            image, train_ids = block_scene(300 + i, size)
            write_png(root / "rgb_anon" / split / "night" / seq / f"{stem}_rgb_anon.png", night_of(image))
            write_png(root / "rgb_anon" / f"{split}_ref" / "day" / f"{seq}_ref" / f"{stem}_ref_rgb_anon.png", image)
            if labelled:
                _write_label(root / "gt" / split / "night" / seq, stem, train_ids, ("trainIds", "labelIds"),
                             "_gt_labelTrainIds.png", "_gt_labelIds.png")
    return root


def make_acdc(root: Path, counts: dict[str, int] | None = None, size: tuple[int, int] = SIZE) -> Path:
    """rgb_anon/night/<split>/<SEQ>/<stem>_rgb_anon.png, <split>_ref/..._rgb_ref_anon.png, gt/night/{train,val}."""
    counts = counts if counts is not None else {"train": 3, "val": 2, "test": 2}
    for split, count in counts.items():
        for i in range(count):
            seq = f"GOPR0{351 + i % 2}"
            stem = f"{seq}_frame_{400 + i:06d}"
            image, train_ids = block_scene(400 + i, size)
            write_png(root / "rgb_anon" / "night" / split / seq / f"{stem}_rgb_anon.png", night_of(image))
            write_png(root / "rgb_anon" / "night" / f"{split}_ref" / seq / f"{stem}_rgb_ref_anon.png", image)
            if split != "test":
                write_png(root / "gt" / "night" / split / seq / f"{stem}_gt_labelTrainIds.png", train_ids)
    return root


def make_nightdriving(root: Path, count: int = 2, size: tuple[int, int] = SIZE) -> Path:
    """leftImg8bit/test/night/<NN>_frame_<4d>_leftImg8bit.png + gtCoarse_..._gtCoarse_labelTrainIds.png."""
    for i in range(count):
        stem = f"{i}_frame_{i + 1:04d}"
        image, train_ids = block_scene(500 + i, size)
        write_png(root / "leftImg8bit" / "test" / "night" / f"{stem}_leftImg8bit.png", night_of(image))
        write_png(root / "gtCoarse_daytime_trainvaltest" / "test" / "night" / f"{stem}_gtCoarse_labelTrainIds.png", train_ids)
    return root


def make_toycity_like(root: Path, size: tuple[int, int] = SIZE) -> Path:
    """ToyCity's on-disk layout: root/source (Cityscapes, city 'toysource', with
    leftImg8bit_night) and root/target (Dark Zurich, with train and test labels)."""
    make_cityscapes(root / "source", {"train": 4, "val": 2}, cities=("toysource",),
                    label_kinds=("labelIds", "trainIds"), size=size, night_folder="leftImg8bit_night")
    make_darkzurich(root / "target", pairs=4, val=2, test=2, size=size, train_labels=True, test_labels=True)
    write_toycity_manifest(root)
    return root


def write_toycity_manifest(root: Path) -> Path:
    """The manifest.json a ToyCity loader checks (files and their sizes), for a hand-built tree."""
    from ccdistill.toycity.generate import GENERATOR, MANIFEST, VERSION

    files = sorted(p for p in root.rglob("*") if p.is_file() and p.name != MANIFEST)
    relpaths = [p.relative_to(root).as_posix() for p in files]
    manifest = {"generator": GENERATOR, "version": VERSION,
                "files": {rel: hashlib.sha256(p.read_bytes()).hexdigest() for rel, p in zip(relpaths, files)},
                "sizes": {rel: p.stat().st_size for rel, p in zip(relpaths, files)}}
    (root / MANIFEST).write_text(json.dumps(manifest))
    return root / MANIFEST


def truncate(path: Path, keep_bytes: int = 60) -> Path:
    """Cut a PNG short, as an interrupted extraction would."""
    path.write_bytes(path.read_bytes()[:keep_bytes])
    return path
