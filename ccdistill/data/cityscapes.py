"""Cityscapes (S_d, the labelled source day stream) read from the official archive layout:

    <root>/leftImg8bit/{train,val,test}/<city>/<city>_<seq>_<frame>_leftImg8bit.png
    <root>/gtFine/{train,val}/<city>/<city>_<seq>_<frame>_gtFine_labelIds.png
                                                       (and _gtFine_labelTrainIds.png when generated)

labelTrainIds files are used when present, otherwise labelIds are mapped to trainIds on the fly.
ToyCity's source city is written in this layout too.
"""

from __future__ import annotations

from pathlib import Path

from ccdistill.data.io import (
    FileKind, PathLike, SampleDataset, SampleFiles, Transform, require_all, sample_files, strip_suffix,
)
from ccdistill.errors import InputError

SPLITS: tuple[str, ...] = ("train", "val", "test")
LABELLED_SPLITS: tuple[str, ...] = ("train", "val")  # test labels are withheld (placeholders in the archive)
IMAGES_ARCHIVE = "leftImg8bit_trainvaltest.zip"
LABELS_ARCHIVE = "gtFine_trainvaltest.zip"
DOWNLOAD_HINT = "register and download at https://www.cityscapes-dataset.com/downloads/"
EXPECTED_IMAGES: dict[str, int] = {"train": 2975, "val": 500, "test": 1525}

IMAGE_SUFFIX = "_leftImg8bit.png"
TRAIN_IDS_SUFFIX = "_gtFine_labelTrainIds.png"
LABEL_IDS_SUFFIX = "_gtFine_labelIds.png"


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise InputError(f"Cityscapes split must be one of {SPLITS}, got {split!r}")


def image_kind(split: str) -> FileKind:
    return FileKind(
        what=f"Cityscapes {split} images",
        folder=f"leftImg8bit/{split}",
        glob=f"*/*{IMAGE_SUFFIX}",
        pattern=f"leftImg8bit/{split}/<city>/<city>_<seq>_<frame>{IMAGE_SUFFIX}",
        archive=IMAGES_ARCHIVE,
        hint=DOWNLOAD_HINT,
    )


def label_kind(split: str) -> FileKind:
    return FileKind(
        what=f"Cityscapes {split} labels",
        folder=f"gtFine/{split}",
        glob=f"*/*{LABEL_IDS_SUFFIX}",
        pattern=f"gtFine/{split}/<city>/<city>_<seq>_<frame>{LABEL_IDS_SUFFIX} (or {TRAIN_IDS_SUFFIX})",
        archive=LABELS_ARCHIVE,
        hint=DOWNLOAD_HINT,
    )


def label_path(root: PathLike, split: str, image: Path, suffix: str = LABEL_IDS_SUFFIX) -> Path:
    """The label file of `image` (same city folder and stem under gtFine/)."""
    stem = strip_suffix(image.name, IMAGE_SUFFIX)
    return Path(root) / "gtFine" / split / image.parent.name / f"{stem}{suffix}"


def find_samples(root: PathLike, split: str = "train") -> list[SampleFiles]:
    """Every image of `split`, sorted, with its label where one exists (None otherwise).

    DataError if the image folder is missing or empty."""
    _check_split(split)
    samples = []
    for image in image_kind(split).list(root):
        candidates = [(label_path(root, split, image, TRAIN_IDS_SUFFIX), "trainIds"),
                      (label_path(root, split, image), "labelIds")] if split in LABELLED_SPLITS else []
        samples.append(sample_files(image, candidates))
    return samples


def require_labels(root: PathLike, split: str, samples: list[SampleFiles]) -> None:
    """DataError naming the first image of a labelled split whose label file is missing."""
    require_all(samples, "label", label_kind(split), lambda files: label_path(root, split, files.image))


class CityscapesDataset(SampleDataset):
    """Cityscapes images (S_d) with trainId labels: dicts with `image` (3×H×W float, normalised),
    `label` (H×W int64, 255 ignored; not for split="test") and `name` (the image file stem,
    e.g. 'aachen_000000_000019_leftImg8bit').

    Args:
        root: folder holding leftImg8bit/ and gtFine/.
        split: "train", "val" or "test".
        transform: joint transform called as transform(sample, rng); default: tensors at native size.
    """

    def __init__(self, root: PathLike, split: str = "train", transform: Transform | None = None) -> None:
        self.root, self.split = Path(root), split
        samples = find_samples(root, split)
        if split in LABELLED_SPLITS:
            require_labels(root, split, samples)
        super().__init__(samples, transform)
