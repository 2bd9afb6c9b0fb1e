"""ACDC night (T_n and T_d for the Cityscapes -> ACDC setting; night val/test for evaluation),
read from the official archives rgb_anon_trainvaltest.zip and gt_trainval.zip:

    <root>/rgb_anon/night/{train,val,test}/<SEQ>/<stem>_rgb_anon.png          T_n
    <root>/rgb_anon/night/{train,val,test}_ref/<SEQ>/<stem>_rgb_ref_anon.png  T_d (day reference)
    <root>/gt/night/{train,val}/<SEQ>/<stem>_gt_labelTrainIds.png             (test labels withheld)
"""

from __future__ import annotations

from pathlib import Path

from ccdistill.data.io import (
    FileKind, PathLike, SampleDataset, SampleFiles, Transform, require_all, sample_files, strip_suffix,
)
from ccdistill.errors import InputError

SPLITS: tuple[str, ...] = ("train", "val", "test")
LABELLED_SPLITS: tuple[str, ...] = ("train", "val")
IMAGES_ARCHIVE = "rgb_anon_trainvaltest.zip"
LABELS_ARCHIVE = "gt_trainval.zip"
DOWNLOAD_HINT = "register and download at https://acdc.vision.ee.ethz.ch/download"
EXPECTED_IMAGES: dict[str, int] = {"train": 400, "val": 106, "test": 500}

IMAGE_SUFFIX = "_rgb_anon.png"
REF_SUFFIX = "_rgb_ref_anon.png"
TRAIN_IDS_SUFFIX = "_gt_labelTrainIds.png"
LABEL_IDS_SUFFIX = "_gt_labelIds.png"


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise InputError(f"ACDC split must be one of {SPLITS}, got {split!r}")


def image_kind(split: str) -> FileKind:
    return FileKind(
        what=f"ACDC night {split} images",
        folder=f"rgb_anon/night/{split}",
        glob=f"*/*{IMAGE_SUFFIX}",
        pattern=f"rgb_anon/night/{split}/<SEQ>/<stem>{IMAGE_SUFFIX}",
        archive=IMAGES_ARCHIVE,
        hint=DOWNLOAD_HINT,
    )


def ref_kind(split: str) -> FileKind:
    return FileKind(
        what=f"ACDC night {split} day references",
        folder=f"rgb_anon/night/{split}_ref",
        glob=f"*/*{REF_SUFFIX}",
        pattern=f"rgb_anon/night/{split}_ref/<SEQ>/<stem>{REF_SUFFIX}",
        archive=IMAGES_ARCHIVE,
        hint=DOWNLOAD_HINT,
    )


def label_kind(split: str) -> FileKind:
    return FileKind(
        what=f"ACDC night {split} labels",
        folder=f"gt/night/{split}",
        glob=f"*/*{TRAIN_IDS_SUFFIX}",
        pattern=f"gt/night/{split}/<SEQ>/<stem>{TRAIN_IDS_SUFFIX} (or {LABEL_IDS_SUFFIX})",
        archive=LABELS_ARCHIVE,
        hint=DOWNLOAD_HINT,
    )


def ref_path(root: PathLike, split: str, image: Path) -> Path:
    stem = strip_suffix(image.name, IMAGE_SUFFIX)
    return Path(root) / "rgb_anon" / "night" / f"{split}_ref" / image.parent.name / f"{stem}{REF_SUFFIX}"


def label_path(root: PathLike, split: str, image: Path, suffix: str = TRAIN_IDS_SUFFIX) -> Path:
    stem = strip_suffix(image.name, IMAGE_SUFFIX)
    return Path(root) / "gt" / "night" / split / image.parent.name / f"{stem}{suffix}"


def find_samples(root: PathLike, split: str = "train") -> list[SampleFiles]:
    """Night images of `split`, sorted, with day references and labels where they exist."""
    _check_split(split)
    samples = []
    for image in image_kind(split).list(root):
        ref = ref_path(root, split, image)
        candidates = [(label_path(root, split, image), "trainIds"),
                      (label_path(root, split, image, LABEL_IDS_SUFFIX), "labelIds")]
        samples.append(sample_files(image, candidates, image_ref=ref if ref.is_file() else None))
    return samples


class ACDCNight(SampleDataset):
    """ACDC night images: dicts with `image` (night), `image_ref` (the day reference, when the
    split's _ref folder exists), `label` (when gt/night/<split>/ exists: train and val; test
    labels are withheld) and `name` (image file stem).

    Args:
        root: folder holding rgb_anon/ and gt/.
        split: "train" (T_n with T_d), "val" or "test".
        transform: joint transform called as transform(sample, rng); default: tensors at native size.
        images_only: list the night images alone, without references or labels, and require
            neither (server submissions need nothing else).
    """

    def __init__(self, root: PathLike, split: str = "train", transform: Transform | None = None,
                 images_only: bool = False) -> None:
        self.root, self.split = Path(root), split
        samples = find_samples(root, split)
        if images_only:
            super().__init__([SampleFiles(files.name, files.image) for files in samples], transform)
            return
        if ref_kind(split).exists(root):
            require_all(samples, "image_ref", ref_kind(split), lambda f: ref_path(self.root, split, f.image))
        if label_kind(split).exists(root):
            require_all(samples, "label", label_kind(split), lambda f: label_path(self.root, split, f.image))
        super().__init__(samples, transform)
